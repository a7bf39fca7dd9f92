/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <criterion/criterion.h>
#include <stdio.h>

#include "config.h"
#include "host.h"

static Host host;

static void load_host(const char *name) {
        char *err = NULL;
        char *root = xasprintf("%s/%s", FIXTURES_DIR, name);

        cr_assert_eq(host_load(root, HOST_TOPOLOGY, &host, &err), 0, "%s", err ? err : "");
        free(root);
}

static void desktop(void) { load_host("i7-4790k"); }
static void teardown(void) { host_free(&host); }

/* Writes text to a temporary file; returns its path. */
static char *tmp_config(const char *text) {
        char *path = xstrdup("/tmp/cpushield-test-XXXXXX.yaml");
        int fd = mkstemps(path, 5);

        cr_assert(fd >= 0);
        cr_assert_eq(write(fd, text, strlen(text)), (ssize_t) strlen(text));
        close(fd);
        return path;
}

static int load(const char *text, Config *c, char **err) {
        char *path = tmp_config(text);
        char *files[] = { path };
        int r = config_load(files, 1, &host, c, err);

        unlink(path);
        free(path);
        return r;
}

Test(config, cores_resolve_to_smt_threads, .init = desktop, .fini = teardown) {
        Config c;
        char *err = NULL;

        cr_assert_eq(load("version: 1\nhost: {cores: [0]}\nvms:\n  w: {cores: [1, 2, 3]}\n", &c, &err), 0, "%s", err);
        char *h = cpuset_format_list(&c.host_cpus), *v = cpuset_format_list(&c.vms[0].cpus);
        cr_assert_str_eq(h, "0,4");
        cr_assert_str_eq(v, "1-3,5-7");
        cr_assert_eq(c.warnings.n, 0);
        cr_assert_str_eq(c.partition, "machine.slice");
        cr_assert_str_eq(c.vms[0].domain, "w");
        cr_assert_str_eq(c.vms[0].uri, "qemu:///system");
        cr_assert_eq(c.vms[0].activation, ACTIVATION_LIBVIRT);
        free(h);
        free(v);
        config_free(&c);
}

Test(config, split_siblings_warn, .init = desktop, .fini = teardown) {
        Config c;
        char *err = NULL;

        cr_assert_eq(load("host: {cpus: 0-1}\nvms:\n  w: {cpus: 4-5}\n", &c, &err), 0, "%s", err);
        cr_assert_eq(c.warnings.n, 2);
        cr_assert(strstr(c.warnings.v[0], "core 0") && strstr(c.warnings.v[0], "CPU 4: w"), "%s", c.warnings.v[0]);
        cr_assert(strstr(c.warnings.v[1], "core 1"), "%s", c.warnings.v[1]);
        config_free(&c);
}

Test(config, pins_and_profiles, .init = desktop, .fini = teardown) {
        Config c;
        char *err = NULL;

        cr_assert_eq(load("host: {cpus: \"0,4\"}\n"
                          "power_profiles:\n  ll: {governor: performance, max_wakeup_latency_us: 0, min_frequency: max}\n"
                          "vms:\n  w:\n    cpus: 1-3,5-7\n    vcpu_pins: [1, \"2\", 3-3]\n    emulator_pin: 5-7\n"
                          "    iothread_pins: {1: 5, 2: \"6-7\"}\n    power: ll\n    activation: always\n",
                          &c, &err),
                     0, "%s", err);
        const Vm *vm = config_find_vm(&c, "w");
        cr_assert_not_null(vm);
        cr_assert_eq(vm->n_vcpu_pins, 3);
        cr_assert_eq(vm->vcpu_pins[2].id, 2);
        cr_assert(cpuset_isset(&vm->vcpu_pins[2].cpus, 3));
        cr_assert_eq(vm->n_iothread_pins, 2);
        cr_assert_eq(vm->iothread_pins[1].id, 2);
        cr_assert_eq(vm->activation, ACTIVATION_ALWAYS);
        const PowerProfile *pp = config_find_profile(&c, "ll");
        cr_assert_not_null(pp);
        cr_assert(pp->has_max_latency);
        cr_assert_eq(pp->max_wakeup_latency_us, 0);
        cr_assert_eq(pp->min_freq, MIN_FREQ_MAX);
        config_free(&c);
}

Test(config, files_merge_in_order, .init = desktop, .fini = teardown) {
        char *a = tmp_config("version: 1\nhost: {cpus: \"0,4\"}\ndefaults: {irqs: leave}\nvms:\n  a: {cpus: \"1,5\"}\n");
        char *b = tmp_config("defaults: {kthreads: leave}\nvms:\n  b: {cpus: \"2,6\"}\n");
        char *files[] = { a, b };
        Config c;
        char *err = NULL;

        cr_assert_eq(config_load(files, 2, &host, &c, &err), 0, "%s", err);
        cr_assert_eq(c.n_vms, 2);
        cr_assert_eq(c.irqs, MODE_LEAVE);
        cr_assert_eq(c.kthreads, MODE_LEAVE);
        cr_assert_eq(c.workqueues, MODE_MOVE);
        config_free(&c);

        /* The same VM in two files is an error naming both places. */
        char *d = tmp_config("vms:\n  a: {cpus: \"3,7\"}\n");
        char *files2[] = { a, d };
        cr_assert_lt(config_load(files2, 2, &host, &c, &err), 0);
        cr_assert(strstr(err, d) && strstr(err, ":2:3: VM 'a' is already defined at ") && strstr(err, a), "%s", err);
        free(err);
        unlink(a);
        unlink(b);
        unlink(d);
        free(a);
        free(b);
        free(d);
}

Test(config, unknown_key_suggests, .init = desktop, .fini = teardown) {
        Config c;
        char *err = NULL;

        cr_assert_lt(load("host: {cpus: \"0,4\"}\nvms:\n  w:\n    cpus: 1-3\n    vcpu_pin: [1]\n", &c, &err), 0);
        cr_assert(strstr(err, ":5:5: unknown key 'vcpu_pin' in VM 'w'; did you mean 'vcpu_pins'?"), "%s", err);
        free(err);
}

Test(config, errors_carry_position, .init = desktop, .fini = teardown) {
        static const struct {
                const char *text, *want;
        } cases[] = {
                { "host: {cpus: \"0,4\"}\nvms:\n  w: {cpus: 99}\n", ":3:13: CPU 99 does not exist on this host (it has CPUs 0-7)" },
                { "host: {cpus: \"0,4\"}\nvms:\n  w: {cpus: 3-1}\n", ":3:13: cpus: '3-1' is not a CPU list" },
                { "host: {cpus: \"\"}\n", ":1:14: cpus is empty" },
                { "host: {cores: [4]}\n", ":1:16: core 4 does not exist on this host (it has cores 0-3)" },
                { "host: {cpus: \"0,4\"}\nvms:\n  w: {cpus: 4}\n", ":3:13: VM 'w' CPUs overlap the host's CPUs" },
                { "version: 2\n", ":1:10: unsupported configuration version 2" },
                { "host: {cpus: 0}\nvms:\n  w: {cpus: 1, vcpu_pins: [2]}\n", ":3:28: VM 'w' pins vCPU 0 to CPU 2, outside" },
                { "host: {cpus: 0}\nvms:\n  w: {cpus: 1, activation: sometimes}\n", "activation must be one of libvirt, manual, always" },
                { "host: {cpus: 0}\nhost: {cpus: 1}\n", ":2:1: duplicate key 'host'" },
                { "host: [0]\n", ":1:7: host must be a mapping, got a list" },
                { "host: {cpus: 0}\nvms: {w: {cpus: 1, power: fast}}\n", "names power profile 'fast', which is not defined" },
                { "vms: {}\n", "no 'host:' section" },
                { "host: {cpus: 0\n", "YAML syntax error" },
                { "host: {cpus: 0}\n---\nhost: {cpus: 1}\n", ":3:1: only one YAML document per file" },
        };

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                Config c;
                char *err = NULL;

                cr_assert_lt(load(cases[i].text, &c, &err), 0, "case %zu accepted", i);
                cr_assert(strstr(err, cases[i].want), "case %zu: got '%s', want '%s'", i, err, cases[i].want);
                cr_assert_null(strchr(err, '\n'), "one line: %s", err);
                free(err);
        }
}
