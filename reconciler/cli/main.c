/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The command-line layer: the only place that prints and exits. */
#include <getopt.h>
#include <stdio.h>

#include "build-config.h"
#include "commands.h"
#include "options.h"
#include "util.h"

enum {
        ARG_CONFIG = 0x100,
        ARG_ROOT,
        ARG_STATE_DIR,
        ARG_OUTPUT,
        ARG_DETAILED,
        ARG_LIBVIRT,
        ARG_ACTIVATE,
        ARG_CHECK,
        ARG_DIFF,
        ARG_FORCE,
        ARG_VERSION,
        ARG_WAIT,
        ARG_INTERVAL,
        ARG_SAMPLE,
        ARG_THRESHOLD,
};

static void help(FILE *f) {
        fputs("Usage: cpushield [OPTIONS] COMMAND [ARGS]\n"
              "\n"
              "Gives virtual machines exclusive CPUs while they run, and gives everything\n"
              "back, exactly, when they stop.\n"
              "\n"
              "Commands:\n"
              "  plan [--activate NAME]...  show what apply would change (nothing is written)\n"
              "  apply [--check] [--diff]   converge the host; --check only plans\n"
              "  revert [--force] [--check] restore every journaled item; --force also drifted ones\n"
              "  activate NAME              mark VM NAME active, then apply\n"
              "  deactivate NAME            mark VM NAME inactive, then apply\n"
              "  status                     topology map: who owns each CPU\n"
              "  xml NAME                   the libvirt <cputune> block for VM NAME\n"
              "  doctor                     lint host and configuration (exit 1 on errors)\n"
              "  verify [--activate NAME] [--sample SECONDS [--threshold N]]\n"
              "                             what can still run on the active VMs' CPUs (exit 1 if anything);\n"
              "                             --sample: what did run there, from the kernel's counters\n"
              "  hook qemu DOMAIN OP SUBOP  libvirt hook entry point; never calls libvirt\n"
              "  watch [--interval S]       reconcile on libvirt lifecycle events and every S seconds\n"
              "\n"
              "Options:\n"
              "  --config FILE          configuration file (repeatable; default\n"
              "                         " CONFIG_DEFAULT_FILE " then " CONFIG_DEFAULT_DIR "/*.yaml)\n"
              "  --root DIR             read and change the host below DIR (default /)\n"
              "  --state-dir DIR        journal and lock directory (default /run/cpushield)\n"
              "  --output text|json     output format (default text)\n"
              "  --detailed-exitcodes   plan, apply, revert, activate, deactivate exit 2 on changes\n"
              "  --libvirt auto|yes|no  consult libvirt (auto: only when --root is /)\n"
              "  --wait SECONDS         how long to wait for another run's lock (default 60)\n"
              "  -q, --quiet            print errors only\n"
              "  -v, --verbose          print more detail\n"
              "  -h, --help             this text\n"
              "  --version              version and built-in features\n",
              f);
}

static void version(void) {
        printf("cpushield %s\n", CPUSHIELD_VERSION);
        printf("features: +yaml %clibvirt %cudev %csystemd %clibxml2\n", HAVE_LIBVIRT ? '+' : '-',
               HAVE_UDEV ? '+' : '-', HAVE_SYSTEMD ? '+' : '-', HAVE_LIBXML2 ? '+' : '-');
}

/* The options that take a value and check it: each returns -EINVAL after
 * saying what it takes. */
static int parse_output(const char *arg, Options *o) {
        if (streq(arg, "text"))
                o->output = OUTPUT_TEXT;
        else if (streq(arg, "json"))
                o->output = OUTPUT_JSON;
        else {
                fprintf(stderr, "cpushield: --output takes text or json, not '%s'\n", arg);
                return -EINVAL;
        }
        return 0;
}

static int parse_libvirt(const char *arg, Options *o) {
        if (streq(arg, "auto"))
                o->libvirt = LIBVIRT_AUTO;
        else if (streq(arg, "yes"))
                o->libvirt = LIBVIRT_YES;
        else if (streq(arg, "no"))
                o->libvirt = LIBVIRT_NO;
        else {
                fprintf(stderr, "cpushield: --libvirt takes auto, yes or no, not '%s'\n", arg);
                return -EINVAL;
        }
        return 0;
}

static int parse_interval(const char *arg, Options *o) {
        if (safe_atou(arg, &o->interval_s) < 0 || o->interval_s == 0) {
                fprintf(stderr, "cpushield: --interval takes a positive number of seconds, not '%s'\n", arg);
                return -EINVAL;
        }
        return 0;
}

static int parse_sample(const char *arg, Options *o) {
        if (safe_atou(arg, &o->sample_s) < 0 || o->sample_s == 0 || o->sample_s > 3600) {
                fprintf(stderr, "cpushield: --sample takes 1 to 3600 seconds, not '%s'\n", arg);
                return -EINVAL;
        }
        return 0;
}

static int parse_threshold(const char *arg, Options *o) {
        char *end;

        errno = 0;
        o->threshold = strtod(arg, &end);
        if (errno || end == arg || *end || o->threshold < 0) {
                fprintf(stderr, "cpushield: --threshold takes events per second (>= 0), not '%s'\n", arg);
                return -EINVAL;
        }
        return 0;
}

static int parse_wait(const char *arg, Options *o) {
        if (safe_atou(arg, &o->wait_s) < 0) {
                fprintf(stderr, "cpushield: --wait takes a number of seconds, not '%s'\n", arg);
                return -EINVAL;
        }
        return 0;
}

/* One option of parse_options. */
static int parse_option(int c, Options *o) {
        switch (c) {
        case ARG_CONFIG:
                strlist_add(&o->configs, optarg);
                break;
        case ARG_ROOT:
                o->root = optarg;
                break;
        case ARG_STATE_DIR:
                o->state_dir = optarg;
                break;
        case ARG_OUTPUT:
                return parse_output(optarg, o);
        case ARG_DETAILED:
                o->detailed_exitcodes = true;
                break;
        case ARG_LIBVIRT:
                return parse_libvirt(optarg, o);
        case ARG_ACTIVATE:
                strlist_add(&o->activate, optarg);
                break;
        case ARG_CHECK:
                o->check = true;
                break;
        case ARG_DIFF:
                o->diff = true;
                break;
        case ARG_FORCE:
                o->force = true;
                break;
        case 'q':
                o->verbosity = -1;
                break;
        case 'v':
                o->verbosity = 1;
                break;
        case 'h':
                help(stdout);
                exit(0);
        case ARG_VERSION:
                version();
                exit(0);
        case ARG_INTERVAL:
                return parse_interval(optarg, o);
        case ARG_SAMPLE:
                return parse_sample(optarg, o);
        case ARG_THRESHOLD:
                return parse_threshold(optarg, o);
        case ARG_WAIT:
                return parse_wait(optarg, o);
        default:
                fputs("Try 'cpushield --help'.\n", stderr);
                return -EINVAL;
        }
        return 0;
}

static int parse_options(int argc, char **argv, Options *o) {
        static const struct option longopts[] = {
                { "config", required_argument, NULL, ARG_CONFIG },
                { "root", required_argument, NULL, ARG_ROOT },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "output", required_argument, NULL, ARG_OUTPUT },
                { "detailed-exitcodes", no_argument, NULL, ARG_DETAILED },
                { "libvirt", required_argument, NULL, ARG_LIBVIRT },
                { "activate", required_argument, NULL, ARG_ACTIVATE },
                { "check", no_argument, NULL, ARG_CHECK },
                { "diff", no_argument, NULL, ARG_DIFF },
                { "force", no_argument, NULL, ARG_FORCE },
                { "quiet", no_argument, NULL, 'q' },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "wait", required_argument, NULL, ARG_WAIT },
                { "interval", required_argument, NULL, ARG_INTERVAL },
                { "sample", required_argument, NULL, ARG_SAMPLE },
                { "threshold", required_argument, NULL, ARG_THRESHOLD },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "qvh", longopts, NULL)) >= 0)
                if (parse_option(c, o) < 0)
                        return -EINVAL;
        if (optind >= argc) {
                help(stderr);
                return -EINVAL;
        }
        o->command = argv[optind];
        o->args = argv + optind + 1;
        o->n_args = argc - optind - 1;
        return 0;
}

int main(int argc, char **argv) {
        Options o = { .root = "/", .state_dir = "/run/cpushield", .wait_s = 60, .interval_s = 60,
                      .threshold = 1.0 };
        static const struct {
                const char *name;
                int (*run)(const Options *);
        } commands[] = {
                { "plan", cmd_plan },
                { "apply", cmd_apply },
                { "revert", cmd_revert },
                { "activate", cmd_activate },
                { "deactivate", cmd_deactivate },
                { "status", cmd_status },
                { "xml", cmd_xml },
                { "doctor", cmd_doctor },
                { "verify", cmd_verify },
                { "hook", cmd_hook },
                { "watch", cmd_watch },
        };
        int r = 1;

        if (parse_options(argc, argv, &o) < 0)
                return 1;
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(o.command, commands[i].name)) {
                        r = commands[i].run(&o);
                        goto done;
                }
        fprintf(stderr, "cpushield: unknown command '%s'. Try 'cpushield --help'.\n", o.command);
done:
        strlist_free(&o.configs);
        strlist_free(&o.activate);
        return r;
}
