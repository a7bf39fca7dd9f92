/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <criterion/criterion.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

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
                { "host: {cpus: 0}\nvms:\n  w: {cpus: 1, devices: [\"0000:01:00\"]}\n", ":3:26: devices: '0000:01:00' is not a PCI address" },
                { "host: {cpus: 0}\nvms:\n  w: {cpus: 1, devices: [01:00.0, \"0000:01:00.0\"]}\n", ":3:35: device 0000:01:00.0 is listed twice (first at line 3, column 26)" },
                { "host: {cpus: 0}\nvms:\n  w: {cpus: 1, devices: {a: 1}}\n", ":3:25: devices must be a list of PCI addresses" },
                { "host: {cpus: 0}\nvms:\n  w: {cpus: 1, device_irqs: 2}\n", ":3:29: VM 'w' steers its device interrupts to CPU 2, outside the VM's CPUs 1" },
                { "host: {cpus: 0}\nvms:\n  w: {cpus: 1, device_irqs: guest}\n", ":3:29: device_irqs must be 'vm'" },
                { "host: {cpus: 0}\nvms:\n  w: {cpus: 1, devices: [01:00.0]}\n  v: {cpus: 2, devices: [0000:01:00.0]}\n", ":4:26: device 0000:01:00.0 of VM 'v' is already given to VM 'w'" },
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

/* ---- hostile input (issue 10) ------------------------------------------- */

static char *err_of(const char *text) {
        Config c;
        char *err = NULL;

        cr_assert_lt(load(text, &c, &err), 0, "accepted:\n%s", text);
        cr_assert_not_null(err);
        return err;
}

Test(config, duplicate_iothread_ids, .init = desktop, .fini = teardown) {
        char *err = err_of("host: {cpus: \"0,4\"}\nvms:\n  w:\n    cpus: 1-3\n    iothread_pins: {1: \"1\", 01: \"2\"}\n");
        cr_assert(strstr(err, ":5:29: IOThread 1 is pinned twice (first at line 5, column 21)"), "%s", err);
        free(err);
}

Test(config, host_in_two_files, .init = desktop, .fini = teardown) {
        char *a = tmp_config("host: {cpus: \"0,4\"}\n");
        char *b = tmp_config("host: {cpus: \"0\"}\n");
        char *files[] = { a, b };
        Config c;
        char *err = NULL;

        cr_assert_lt(config_load(files, 2, &host, &c, &err), 0);
        cr_assert(strstr(err, b) && strstr(err, ":1:7: 'host' is already defined at ") && strstr(err, a), "%s", err);
        free(err);
        unlink(a);
        unlink(b);
        free(a);
        free(b);
}

Test(config, names_that_cannot_be_files, .init = desktop, .fini = teardown) {
        char name[80];
        memset(name, 'v', 65);
        name[65] = 0;
        char *text = xasprintf("host: {cpus: \"0,4\"}\nvms:\n  %s: {cpus: 1}\n", name);
        char *err = err_of(text);
        cr_assert(strstr(err, ":3:3: VM name") && strstr(err, "at most 64 characters"), "%s", err);
        free(err);
        free(text);
        name[64] = 0; /* 64 is fine */
        text = xasprintf("host: {cpus: \"0,4\"}\nvms:\n  %s: {cpus: 1}\n", name);
        Config c;
        cr_assert_eq(load(text, &c, &err), 0, "%s", err);
        config_free(&c);
        free(text);
        err = err_of("host: {cpus: \"0,4\"}\nvms:\n  .hidden: {cpus: 1}\n");
        free(err);
        err = err_of("host: {cpus: \"0,4\"}\nvms:\n  a/b: {cpus: 1}\n");
        free(err);
        err = err_of("host: {cpus: \"0,4\"}\nvms:\n  w: {cpus: 1, libvirt: {domain: \"a/b\"}}\n");
        cr_assert(strstr(err, "libvirt domain name 'a/b'"), "%s", err);
        free(err);
        err = err_of("host: {cpus: \"0,4\", partition: \"../etc\"}\n");
        free(err);
        err = err_of("host: {cpus: \"0,4\", partition: \"a/./b\"}\n");
        free(err);
}

Test(config, limits, .init = desktop, .fini = teardown) {
        size_t cap = 64 * 1024, len = 0;
        char *t = xmalloc(cap);

        /* 1025 vCPU pins */
        len = (size_t) snprintf(t, cap, "host: {cpus: \"0,4\"}\nvms:\n  w:\n    cpus: 1\n    vcpu_pins: [");
        for (int i = 0; i < 1025; i++)
                len += (size_t) snprintf(t + len, cap - len, "%s1", i ? "," : "");
        snprintf(t + len, cap - len, "]\n");
        char *err = err_of(t);
        cr_assert(strstr(err, "vcpu_pins has more than 1024 entries"), "%s", err);
        free(err);

        /* 257 VMs */
        len = (size_t) snprintf(t, cap, "host: {cpus: \"0\"}\nvms:\n");
        for (int i = 0; i < 257; i++)
                len += (size_t) snprintf(t + len, cap - len, "  v%d: {cpus: 1, activation: manual}\n", i);
        err = err_of(t);
        cr_assert(strstr(err, "more than 256 VMs"), "%s", err);
        free(err);

        /* nesting */
        len = (size_t) snprintf(t, cap, "host: {cpus: \"0,4\"}\nvms: ");
        for (int i = 0; i < 1000; i++)
                t[len++] = '[';
        t[len] = 0;
        err = err_of(t);
        cr_assert(strstr(err, "nested more than 32 levels deep"), "%s", err);
        free(err);
        free(t);

        /* bigger than 1 MiB, before any parsing */
        Config c;
        size_t big = CONFIG_FILE_MAX + 1;
        char *b = xmalloc(big);
        memset(b, '#', big);
        err = NULL;
        cr_assert_lt(config_load_data("big.yaml", b, big, &host, &c, &err), 0);
        cr_assert(strstr(err, "larger than"), "%s", err);
        free(err);
        free(b);
}

/* Seconds to load N VMs and a duplicate of the eighth (the best of three),
 * with the error checked. */
static double duplicate_key_secs(int n) {
        size_t cap = 1024 * 1024, len;
        char *t = xmalloc(cap);
        double best = 1e9;

        len = (size_t) snprintf(t, cap, "host: {cpus: \"0,4\"}\nvms:\n");
        for (int i = 0; i < n; i++)
                len += (size_t) snprintf(t + len, cap - len, "  k%d: {cpus: 1}\n", i);
        snprintf(t + len, cap - len, "  k7: {cpus: 1}\n");
        for (int round = 0; round < 3; round++) {
                struct timespec a, b;
                clock_gettime(CLOCK_MONOTONIC, &a);
                char *err = err_of(t);
                clock_gettime(CLOCK_MONOTONIC, &b);
                char *want = xasprintf(":%d:3: duplicate key 'k7' in vms (first at line 10)", n + 3);
                cr_assert(strstr(err, want), "%s", err);
                free(want);
                free(err);
                double s = (double) (b.tv_sec - a.tv_sec) + (double) (b.tv_nsec - a.tv_nsec) / 1e9;
                if (s < best)
                        best = s;
        }
        free(t);
        return best;
}

/* Ten times the keys must cost about ten times as much, not a hundred (the
 * quadratic check took ~70 s for 40,000). A ratio, not a time limit: a
 * sanitizer build on a busy machine is slow, but slow alike for both. */
Test(config, duplicate_keys_in_linear_time, .init = desktop, .fini = teardown) {
        double small = duplicate_key_secs(4000), big = duplicate_key_secs(40000);

        cr_assert_lt(big, 40 * small, "4,000 keys took %.3f s, 40,000 took %.3f s (%.0fx)", small, big, big / small);
}

Test(config, position_of_invalid_utf8, .init = desktop, .fini = teardown) {
        char *err = err_of("host: {cpus: \"0,4\"}\nvms:\n  w\xc3\xa9: {cpus: 1}\n  x: {cpus: 2\xff}\n");
        cr_assert(strstr(err, ":4:14: not valid UTF-8"), "%s", err);
        free(err);
}

Test(config, untrusted_files, .init = desktop, .fini = teardown) {
        char dir[] = "/tmp/cpushield-cfg-XXXXXX";
        Config c;
        char *err = NULL;

        cr_assert_not_null(mkdtemp(dir));
        char *good = xasprintf("%s/good.yaml", dir), *fifo = xasprintf("%s/fifo.yaml", dir);
        FILE *f = fopen(good, "we");
        fputs("host: {cpus: \"0,4\"}\n", f);
        fclose(f);
        chmod(good, 0644);
        char *files[] = { good };
        cr_assert_eq(config_load(files, 1, &host, &c, &err), 0, "%s", err);
        config_free(&c);

        /* a FIFO is refused at once instead of waiting for a writer */
        cr_assert_eq(mkfifo(fifo, 0600), 0);
        char *ff[] = { fifo };
        cr_assert_lt(config_load(ff, 1, &host, &c, &err), 0);
        cr_assert(strstr(err, "not a regular file (a FIFO)"), "%s", err);
        free(err);
        err = NULL;

        /* writable by others, by the group */
        chmod(good, 0646);
        cr_assert_lt(config_load(files, 1, &host, &c, &err), 0);
        cr_assert(strstr(err, "writable by others (mode 0646)") && strstr(err, good), "%s", err);
        free(err);
        err = NULL;
        chmod(good, 0664);
        cr_assert_lt(config_load(files, 1, &host, &c, &err), 0);
        cr_assert(strstr(err, "writable by its group (mode 0664)"), "%s", err);
        free(err);
        err = NULL;
        chmod(good, 0644);

        /* a conf.d anyone can write to */
        chmod(dir, 0777);
        cr_assert_lt(config_load(files, 1, &host, &c, &err), 0);
        cr_assert(strstr(err, "its directory is writable by others"), "%s", err);
        free(err);
        err = NULL;
        chmod(dir, 0700);

        /* owned by another user (only root can make such a file here) */
        if (geteuid() == 0) {
                cr_assert_eq(chown(good, 65534, 65534), 0);
                cr_assert_lt(config_load(files, 1, &host, &c, &err), 0);
                cr_assert(strstr(err, "owned by uid 65534"), "%s", err);
                free(err);
        }
        unlink(good);
        unlink(fifo);
        rmdir(dir);
        free(good);
        free(fifo);
}

Test(config, devices_and_policy, .init = desktop, .fini = teardown) {
        Config c;
        char *err = NULL;

        cr_assert_eq(load("host: {cpus: 0}\nvms:\n  w: {cpus: 1-3, devices: [0A:1f.7, \"0001:02:00.0\"], device_irqs: 2-3}\n"
                          "  v: {cpus: 5, device_irqs: host}\n", &c, &err), 0, "%s", strempty(err));
        const Vm *w = config_find_vm(&c, "w"), *v = config_find_vm(&c, "v");
        cr_assert_eq(w->devices.n, 2);
        cr_assert_str_eq(w->devices.v[0], "0000:0a:1f.7");
        cr_assert_str_eq(w->devices.v[1], "0001:02:00.0");
        cr_assert_eq(w->device_irqs, DEVICE_IRQS_CPUS);
        _cleanup_free_ char *l = cpuset_format_list(&w->device_irq_cpus);
        cr_assert_str_eq(l, "2-3");
        cr_assert_eq(v->device_irqs, DEVICE_IRQS_HOST);
        cr_assert_eq(v->devices.n, 0);
        config_free(&c);
}
