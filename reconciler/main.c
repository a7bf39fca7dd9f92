/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The command-line layer: the only place that prints and exits. */
#include <getopt.h>
#include <stdio.h>

#include "apply.h"
#include "config.h"
#include "doctor.h"
#include "host.h"
#include "journal.h"
#include "libvirt.h"
#include "output.h"
#include "plan.h"
#include "verify.h"

#include "build-config.h"

#include "options.h"

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
              "  revert [--force]           restore every journaled item; --force also drifted ones\n"
              "  activate NAME              mark VM NAME active, then apply\n"
              "  deactivate NAME            mark VM NAME inactive, then apply\n"
              "  status                     topology map: who owns each CPU\n"
              "  xml NAME                   the libvirt <cputune> block for VM NAME\n"
              "  doctor                     lint host and configuration (exit 1 on errors)\n"
              "  verify [--activate NAME]   what can still run on the active VMs' CPUs (exit 1 if anything)\n"
              "  hook qemu DOMAIN OP SUBOP  libvirt hook entry point; never calls libvirt\n"
              "  watch [--interval S]       reconcile on libvirt lifecycle events and every S seconds\n"
              "\n"
              "Options:\n"
              "  --config FILE          configuration file (repeatable; default\n"
              "                         " CONFIG_DEFAULT_FILE " then " CONFIG_DEFAULT_DIR "/*.yaml)\n"
              "  --root DIR             read and change the host below DIR (default /)\n"
              "  --state-dir DIR        journal and lock directory (default /run/cpushield)\n"
              "  --output text|json     output format (default text)\n"
              "  --detailed-exitcodes   plan/apply exit 2 when there are changes\n"
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
        printf("features: +yaml %clibvirt %cudev %csystemd\n", HAVE_LIBVIRT ? '+' : '-', HAVE_UDEV ? '+' : '-',
               HAVE_SYSTEMD ? '+' : '-');
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
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "qvh", longopts, NULL)) >= 0)
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
                        if (streq(optarg, "text"))
                                o->output = OUTPUT_TEXT;
                        else if (streq(optarg, "json"))
                                o->output = OUTPUT_JSON;
                        else {
                                fprintf(stderr, "cpushield: --output takes text or json, not '%s'\n", optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_DETAILED:
                        o->detailed_exitcodes = true;
                        break;
                case ARG_LIBVIRT:
                        if (streq(optarg, "auto"))
                                o->libvirt = LIBVIRT_AUTO;
                        else if (streq(optarg, "yes"))
                                o->libvirt = LIBVIRT_YES;
                        else if (streq(optarg, "no"))
                                o->libvirt = LIBVIRT_NO;
                        else {
                                fprintf(stderr, "cpushield: --libvirt takes auto, yes or no, not '%s'\n", optarg);
                                return -EINVAL;
                        }
                        break;
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
                        if (safe_atou(optarg, &o->interval_s) < 0 || o->interval_s == 0) {
                                fprintf(stderr, "cpushield: --interval takes a positive number of seconds, not '%s'\n",
                                        optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_WAIT:
                        if (safe_atou(optarg, &o->wait_s) < 0) {
                                fprintf(stderr, "cpushield: --wait takes a number of seconds, not '%s'\n", optarg);
                                return -EINVAL;
                        }
                        break;
                default:
                        fputs("Try 'cpushield --help'.\n", stderr);
                        return -EINVAL;
                }
        if (optind >= argc) {
                help(stderr);
                return -EINVAL;
        }
        o->command = argv[optind];
        o->args = argv + optind + 1;
        o->n_args = argc - optind - 1;
        return 0;
}

/* Prints a fatal error the way the output format wants it. */
static int fatal(const Options *o, const char *msg) {
        if (o->output == OUTPUT_JSON) {
                Plan empty = {};
                StrList e = {};
                strlist_add(&e, msg);
                output_plan_json(stdout, &empty, &e);
                strlist_free(&e);
        }
        fprintf(stderr, "%s\n", msg);
        return 1;
}

static int load_all(const Options *o, HostParts parts, bool need_config, Host *h, Config *c, bool *ret_have_config) {
        _cleanup_free_ char *err = NULL;
        StrList files = {};
        int r;

        r = host_load(o->root, parts, h, &err);
        if (r < 0)
                return fatal(o, err), -1;
        if (o->configs.n == 0) {
                config_default_files(&files);
                if (!need_config && access(files.v[0], F_OK) < 0) {
                        strlist_free(&files);
                        *ret_have_config = false;
                        return 0;
                }
        } else
                for (size_t i = 0; i < o->configs.n; i++)
                        strlist_add(&files, o->configs.v[i]);
        r = config_load(files.v, files.n, h, c, &err);
        strlist_free(&files);
        if (r < 0) {
                host_free(h);
                return fatal(o, err), -1;
        }
        *ret_have_config = true;
        return 0;
}

static bool use_libvirt(const Options *o, const Host *h) {
        return o->libvirt == LIBVIRT_YES || (o->libvirt == LIBVIRT_AUTO && h->real_root);
}

/* Which VMs are active: "always" ones; ones activated by hand or by the hook
 * (journaled); libvirt ones whose domain runs or is paused, when libvirt can
 * be asked (its answer then beats the journal, except for the VM the
 * command itself (de)activates); and the plan's --activate names. */
static int active_set(const Options *o, const Host *h, const Config *c, const Journal *j, const char *except,
                      StrList *ret, StrList *warnings) {
        StrList a = {};

        for (size_t i = 0; i < o->activate.n; i++)
                if (!config_find_vm(c, o->activate.v[i])) {
                        _cleanup_free_ char *msg = xasprintf("cpushield: --activate %s: no VM of that name in the "
                                                             "configuration", o->activate.v[i]);
                        return fatal(o, msg), -1;
                }
        for (size_t i = 0; i < c->n_vms; i++) {
                const Vm *vm = &c->vms[i];
                bool on = vm->activation == ACTIVATION_ALWAYS || (j && strlist_contains(&j->active, vm->name));

                if (vm->activation == ACTIVATION_LIBVIRT && use_libvirt(o, h) && !streq_ptr(except, vm->name)) {
                        DomainPins d = {};
                        _cleanup_free_ char *lerr = NULL;
                        if (libvirt_observe(vm->uri, vm->domain, &d, &lerr) >= 0)
                                on = d.running;
                        else
                                strlist_addf(warnings, "VM '%s': %s; its activation is taken from the journal",
                                             vm->name, lerr);
                        domain_pins_free(&d);
                }
                if (on || strlist_contains(&o->activate, vm->name))
                        strlist_add(&a, vm->name);
        }
        *ret = a;
        return 0;
}

static int cmd_plan(const Options *o) {
        Host h;
        Config c;
        StrList active = {};
        Plan p;
        bool have;
        int r, ret;

        if (o->n_args > 0)
                return fprintf(stderr, "cpushield: plan takes no arguments (use --activate NAME)\n"), 1;
        if (load_all(o, HOST_ALL, true, &h, &c, &have) < 0)
                return 1;
        Journal j;
        (void) journal_peek(o->state_dir, h.boot_id, &j);
        StrList warnings = {};
        if (active_set(o, &h, &c, &j, NULL, &active, &warnings) < 0) {
                journal_close(&j);
                config_free(&c);
                host_free(&h);
                return 1;
        }
        /* plan shows what apply would do: journaled originals count. */
        PlanOptions po = { .journal = &j, .libvirt = use_libvirt(o, &h) };
        r = plan_build(&h, &c, &active, &po, &p);
        for (size_t i = 0; i < warnings.n; i++)
                strlist_add(&p.warnings, warnings.v[i]);
        strlist_free(&warnings);
        journal_close(&j);
        if (o->output == OUTPUT_JSON)
                output_plan_json(stdout, &p, NULL);
        else if (o->verbosity >= 0 || r < 0)
                output_plan_text(stdout, &p, "plan", o->verbosity > 0);
        ret = r < 0 ? 1 : (o->detailed_exitcodes && plan_count_actionable(&p) > 0) ? 2 : 0;
        plan_free(&p);
        strlist_free(&active);
        config_free(&c);
        host_free(&h);
        return ret;
}

typedef enum Reconcile { RECONCILE_APPLY, RECONCILE_REVERT, RECONCILE_ACTIVATE, RECONCILE_DEACTIVATE } Reconcile;

static void print_result(const Options *o, const Plan *p, const ApplyResult *res, const char *title) {
        if (o->output == OUTPUT_JSON) {
                output_plan_json(stdout, p, &res->errors);
                return;
        }
        if (o->verbosity < 0) {
                for (size_t i = 0; i < res->errors.n; i++)
                        fprintf(stderr, "cpushield: %s\n", res->errors.v[i]);
                return;
        }
        if (o->diff || o->verbosity > 0)
                output_plan_text(stdout, p, title, o->verbosity > 0);
        else {
                printf("%s: ", title);
                if (p->active.n == 0)
                        printf("no VM active");
                for (size_t i = 0; i < p->active.n; i++)
                        printf("%s%s", i ? ", " : "active: ", p->active.v[i]);
                printf("; %zu change%s\n", res->changed, res->changed == 1 ? "" : "s");
                for (size_t i = 0; i < p->warnings.n; i++)
                        printf("warning: %s\n", p->warnings.v[i]);
        }
        for (size_t i = 0; o->verbosity > 0 && i < res->notes.n; i++)
                printf("note: %s\n", res->notes.v[i]);
        for (size_t i = 0; i < res->errors.n; i++)
                fprintf(stderr, "cpushield: %s\n", res->errors.v[i]);
}

static int reconcile(const Options *o, Reconcile what) {
        _cleanup_free_ char *err = NULL, *warning = NULL;
        _cleanup_close_ int lock_fd = -1;
        Host h;
        Config c;
        Journal j;
        StrList active = {}, lv_warnings = {};
        Plan p = {};
        ApplyResult res = {};
        bool have;
        int r, ret = 1;
        const char *name = o->n_args > 0 ? o->args[0] : NULL;
        int crash = -1;

        if ((what == RECONCILE_ACTIVATE || what == RECONCILE_DEACTIVATE) ? o->n_args != 1 : o->n_args != 0) {
                fprintf(stderr, "cpushield: usage: cpushield %s%s\n", o->command,
                        what == RECONCILE_ACTIVATE || what == RECONCILE_DEACTIVATE ? " NAME" : "");
                return 1;
        }
        /* Everything that can be wrong with the input is found before the
         * lock is taken and anything is written. */
        if (load_all(o, HOST_ALL, true, &h, &c, &have) < 0)
                return 1;
        if (name && !config_find_vm(&c, name)) {
                fprintf(stderr, "cpushield: %s %s: no VM of that name in the configuration\n", o->command, name);
                goto out_config;
        }
        if (!o->check || what != RECONCILE_APPLY) {
                r = state_lock(o->state_dir, o->wait_s, &lock_fd, &err);
                if (r < 0) {
                        fatal(o, err);
                        goto out_config;
                }
                /* Observe again under the lock: another run may have changed
                 * the host while we waited. */
                Host fresh;
                r = host_load(o->root, HOST_ALL, &fresh, &err);
                if (r < 0) {
                        fatal(o, err);
                        goto out_config;
                }
                host_free(&h);
                h = fresh;
        }
        r = journal_open(o->state_dir, h.boot_id, &j, &warning, &err);
        if (r == -ENOENT && o->check) {
                j = (Journal) { .fd = -1, .dir_fd = -1 };
                r = 0;
        }
        if (r < 0) {
                fatal(o, err);
                goto out_config;
        }
        if (warning)
                fprintf(stderr, "cpushield: warning: %s\n", warning);

        if (what == RECONCILE_ACTIVATE && !strlist_contains(&j.active, name))
                strlist_add(&j.active, name);
        if (what == RECONCILE_DEACTIVATE) {
                StrList keep = {};
                for (size_t i = 0; i < j.active.n; i++)
                        if (!streq(j.active.v[i], name))
                                strlist_add(&keep, j.active.v[i]);
                strlist_free(&j.active);
                j.active = keep;
        }
        if (what == RECONCILE_REVERT)
                strlist_free(&j.active);

        if (what != RECONCILE_REVERT && active_set(o, &h, &c, &j, name, &active, &lv_warnings) < 0)
                goto out_journal;

        PlanOptions po = { .journal = &j, .libvirt = use_libvirt(o, &h), .force = o->force };
        r = plan_build(&h, &c, &active, &po, &p);
        for (size_t i = 0; i < lv_warnings.n; i++)
                strlist_add(&p.warnings, lv_warnings.v[i]);
        strlist_free(&lv_warnings);
        for (size_t i = 0; i < p.drifted.n; i++)
                strlist_add(&p.warnings, p.drifted.v[i]);
        if (r < 0) {
                if (o->output == OUTPUT_JSON)
                        output_plan_json(stdout, &p, NULL);
                for (size_t i = 0; i < p.errors.n; i++)
                        fprintf(stderr, "cpushield: %s\n", p.errors.v[i]);
                goto out_journal;
        }
        if (o->check) {
                if (o->output == OUTPUT_JSON)
                        output_plan_json(stdout, &p, NULL);
                else if (o->verbosity >= 0)
                        output_plan_text(stdout, &p, "apply --check", o->verbosity > 0);
                ret = o->detailed_exitcodes && plan_count_actionable(&p) > 0 ? 2 : 0;
                goto out_journal;
        }
        if (what != RECONCILE_APPLY) {
                r = active_save(&j);
                if (r < 0) {
                        fprintf(stderr, "cpushield: %s/active: %s\n", o->state_dir, strerror(-r));
                        goto out_journal;
                }
        }
        {
                /* Test hook for the crash-safety tests: SIGKILL after N writes. */
                const char *e = getenv("CPUSHIELD_TEST_CRASH_AFTER_WRITES");
                unsigned n;
                if (e && safe_atou(e, &n) >= 0)
                        crash = (int) n;
        }
        r = apply_plan(&h, &j, &p, crash, &res);
        print_result(o, &p, &res, o->command);
        ret = r < 0 ? 1 : (o->detailed_exitcodes && res.changed > 0) ? 2 : 0;
        apply_result_free(&res);
out_journal:
        plan_free(&p);
        strlist_free(&active);
        journal_close(&j);
out_config:
        config_free(&c);
        host_free(&h);
        return ret;
}

static int cmd_apply(const Options *o) {
        return reconcile(o, RECONCILE_APPLY);
}

static int cmd_revert(const Options *o) {
        return reconcile(o, RECONCILE_REVERT);
}

static int cmd_activate(const Options *o) {
        return reconcile(o, RECONCILE_ACTIVATE);
}

static int cmd_deactivate(const Options *o) {
        return reconcile(o, RECONCILE_DEACTIVATE);
}

/* libvirt's hook: /etc/libvirt/hooks/qemu.d/cpushield calls
 * "cpushield hook qemu DOMAIN OP SUBOP". libvirtd waits for the hook, so it
 * must never call back into libvirt: everything runs with libvirt off, and
 * pins come from the domain's <cputune> (cpushield xml) or the watcher. */
static int cmd_hook(const Options *o) {
        Options ho = *o;
        Host h;
        Config c;
        bool have;
        const Vm *vm = NULL;
        char *vm_name[1];
        const char *domain, *op, *subop;
        int r;

        if (o->n_args < 4 || !streq(o->args[0], "qemu")) {
                fprintf(stderr, "cpushield: usage: cpushield hook qemu DOMAIN OPERATION SUB-OPERATION\n");
                return 1;
        }
        domain = o->args[1];
        op = o->args[2];
        subop = o->args[3];
        bool start = streq(op, "prepare") && streq(subop, "begin");
        bool stop = streq(op, "release") && streq(subop, "end");
        if (!start && !stop)
                return 0; /* every other event is none of our business */

        ho.libvirt = LIBVIRT_NO;
        if (load_all(&ho, HOST_TOPOLOGY, true, &h, &c, &have) < 0)
                return 1;
        for (size_t i = 0; i < c.n_vms; i++)
                if (streq(c.vms[i].domain, domain))
                        vm = &c.vms[i];
        if (!vm) {
                config_free(&c);
                host_free(&h);
                return 0; /* a domain cpushield does not manage */
        }
        vm_name[0] = xstrdup(vm->name);
        config_free(&c);
        host_free(&h);

        ho.command = start ? "activate" : "deactivate";
        ho.args = vm_name;
        ho.n_args = 1;
        r = reconcile(&ho, start ? RECONCILE_ACTIVATE : RECONCILE_DEACTIVATE);
        free(vm_name[0]);
        /* A failed isolation must not keep the VM from starting or its
         * resources from being released: report it (libvirt logs stderr). */
        if (r == 1)
                fprintf(stderr, "cpushield: hook %s %s %s: isolation incomplete, see above\n", domain, op, subop);
        return 0;
}

static int watch_reconcile(const Options *o) {
        return reconcile(o, RECONCILE_APPLY);
}

static int cmd_watch(const Options *o) {
        Options wo = *o;

        wo.libvirt = LIBVIRT_YES;
        return watch_run(&wo, watch_reconcile);
}

static int cmd_status(const Options *o) {
        Host h;
        Config c = {};
        StrList active = {};
        bool have = false;

        if (load_all(o, HOST_TOPOLOGY | HOST_CGROUPS, false, &h, &c, &have) < 0)
                return 1;
        Journal j;
        (void) journal_peek(o->state_dir, h.boot_id, &j);
        StrList warnings = {};
        if (have && active_set(o, &h, &c, &j, NULL, &active, &warnings) < 0)
                active = (StrList) {};
        for (size_t i = 0; i < warnings.n; i++)
                fprintf(stderr, "cpushield: warning: %s\n", warnings.v[i]);
        strlist_free(&warnings);
        status_print(stdout, &h, have ? &c : NULL, &active, &j, o->output);
        journal_close(&j);
        strlist_free(&active);
        if (have)
                config_free(&c);
        host_free(&h);
        return 0;
}

static int cmd_doctor(const Options *o) {
        Host h;
        Config c;
        Doctor d = {};
        bool have;
        int ret;

        if (load_all(o, HOST_ALL, true, &h, &c, &have) < 0)
                return 1;
        doctor_run(&h, &c, &d);
        if (o->output == OUTPUT_JSON) {
                fputs("{\"errors\": ", stdout);
                json_strlist(stdout, &d.errors);
                fputs(", \"warnings\": ", stdout);
                json_strlist(stdout, &d.warnings);
                fputs(", \"notes\": ", stdout);
                json_strlist(stdout, &d.notes);
                fputs("}\n", stdout);
        } else {
                for (size_t i = 0; i < d.errors.n; i++)
                        printf("error: %s\n", d.errors.v[i]);
                for (size_t i = 0; i < d.warnings.n; i++)
                        printf("warning: %s\n", d.warnings.v[i]);
                for (size_t i = 0; o->verbosity >= 0 && i < d.notes.n; i++)
                        printf("note: %s\n", d.notes.v[i]);
                printf("%zu error%s, %zu warning%s\n", d.errors.n, d.errors.n == 1 ? "" : "s", d.warnings.n,
                       d.warnings.n == 1 ? "" : "s");
        }
        ret = d.errors.n ? 1 : 0;
        doctor_free(&d);
        config_free(&c);
        host_free(&h);
        return ret;
}

static int cmd_verify(const Options *o) {
        Host h;
        Config c;
        StrList active = {}, warnings = {};
        CpuSet vm_cpus = {};
        Verify v = {};
        bool have;
        int ret;

        if (load_all(o, HOST_ALL, true, &h, &c, &have) < 0)
                return 1;
        Journal j;
        (void) journal_peek(o->state_dir, h.boot_id, &j);
        ret = active_set(o, &h, &c, &j, NULL, &active, &warnings);
        if (ret < 0) {
                journal_close(&j);
                config_free(&c);
                host_free(&h);
                return 1;
        }
        for (size_t i = 0; i < active.n; i++)
                cpuset_or(&vm_cpus, &config_find_vm(&c, active.v[i])->cpus);
        verify_run(&h, &c, &vm_cpus, &j.refused, &v);
        journal_close(&j);
        if (o->output == OUTPUT_JSON) {
                fputs("{\"active\": ", stdout);
                json_strlist(stdout, &active);
                fputs(", \"noise\": ", stdout);
                json_strlist(stdout, &v.noise);
                printf(", \"percpu_kthreads\": %zu, \"unmovable_irqs\": %zu}\n", v.percpu_kthreads, v.unmovable_irqs);
        } else {
                for (size_t i = 0; i < warnings.n; i++)
                        printf("warning: %s\n", warnings.v[i]);
                _cleanup_free_ char *l = cpuset_format_list(&vm_cpus);
                if (active.n == 0)
                        printf("verify: no VM active, nothing to audit\n");
                else {
                        for (size_t i = 0; i < v.noise.n; i++)
                                printf("noise: %s\n", v.noise.v[i]);
                        printf("verify: CPUs %s: %zu source%s of noise; %zu per-CPU kernel threads and %zu managed or "
                               "per-CPU IRQs stay by the kernel's rules\n", l, v.noise.n, v.noise.n == 1 ? "" : "s",
                               v.percpu_kthreads, v.unmovable_irqs);
                }
        }
        ret = v.noise.n ? 1 : 0;
        verify_free(&v);
        cpuset_free(&vm_cpus);
        strlist_free(&active);
        strlist_free(&warnings);
        config_free(&c);
        host_free(&h);
        return ret;
}

static int cmd_xml(const Options *o) {
        Host h;
        Config c;
        bool have;
        const Vm *vm;

        if (o->n_args != 1)
                return fprintf(stderr, "cpushield: usage: cpushield xml NAME\n"), 1;
        if (load_all(o, HOST_TOPOLOGY, true, &h, &c, &have) < 0)
                return 1;
        vm = config_find_vm(&c, o->args[0]);
        if (!vm) {
                fprintf(stderr, "cpushield: xml %s: no VM of that name in the configuration\n", o->args[0]);
                config_free(&c);
                host_free(&h);
                return 1;
        }
        _cleanup_free_ char *xml = vm_cputune_xml(vm);
        fputs(xml, stdout);
        config_free(&c);
        host_free(&h);
        return 0;
}

int main(int argc, char **argv) {
        Options o = { .root = "/", .state_dir = "/run/cpushield", .wait_s = 60, .interval_s = 60 };
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
