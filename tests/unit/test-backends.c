/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fixture simulator, operation by operation, on a fresh copy of a
 * fixture host: what it writes is what the next observe reads back, and
 * what the kernel refuses it refuses. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>

#include "backend.h"
#include "fs.h"

static Host host;
static char tmp[] = "/tmp/cpushield-backend-XXXXXX";

static void setup(void) {
        char *err = NULL;
        cr_assert_not_null(mkdtemp(tmp));
        _cleanup_free_ char *cmd = xasprintf("cp -a %s/i7-4790k %s/root", FIXTURES_DIR, tmp);
        cr_assert_eq(system(cmd), 0);
        _cleanup_free_ char *root = xasprintf("%s/root", tmp);
        cr_assert_eq(host_load(root, HOST_ALL, &host, &err), 0, "%s", strempty(err));
}

static void teardown(void) {
        _cleanup_free_ char *cmd = xasprintf("rm -rf %s", tmp);
        host_free(&host);
        (void) system(cmd);
}

static char *rd(ChangeOp op, const char *target, const char *ident) {
        char *v = NULL;
        cr_assert_eq(effect_read(&backend_fixture, &host, op, target, ident, &v), 0, "read %s", target);
        return v;
}

/* No temporary file is left beside the written one. */
static void assert_no_tmp(const char *dir) {
        _cleanup_free_ char *path = xasprintf("%s/root%s", tmp, dir);
        DIR *d = opendir(path);
        struct dirent *de;
        cr_assert_not_null(d);
        while ((de = readdir(d)))
                cr_assert_null(strstr(de->d_name, "cpushield-tmp"), "%s left in %s", de->d_name, dir);
        closedir(d);
}

TestSuite(fixture, .init = setup, .fini = teardown);

Test(fixture, irq_list_write_updates_the_mask_file) {
        cr_assert_eq(backend_fixture.write_file(&host, "/proc/irq/16/smp_affinity_list", "0,4"), 0);
        _cleanup_free_ char *l = rd(OP_WRITE, "/proc/irq/16/smp_affinity_list", NULL);
        _cleanup_free_ char *m = rd(OP_WRITE, "/proc/irq/16/smp_affinity", NULL);
        cr_assert_str_eq(l, "0,4");
        cr_assert_str_eq(m, "11");
        assert_no_tmp("/proc/irq/16");
}

Test(fixture, managed_irq_refuses_like_the_kernel) {
        cr_assert_eq(backend_fixture.write_file(&host, "/proc/irq/36/smp_affinity_list", "0"), -EIO);
}

Test(fixture, affinity_rewrites_status_and_refuses_percpu_kthreads) {
        CpuSet s = {};
        cr_assert_eq(cpuset_parse_list("0,4", &s), 0);
        cr_assert_eq(backend_fixture.set_affinity(&host, 2, &s), 0);
        _cleanup_free_ char *v = rd(OP_AFFINITY, "/proc/2", NULL);
        cr_assert_str_eq(v, "0,4");
        for (size_t i = 0; i < host.n_tasks; i++)
                if (host.tasks[i].flags & PF_NO_SETAFFINITY) {
                        cr_assert_eq(backend_fixture.set_affinity(&host, host.tasks[i].pid, &s), -EINVAL);
                        break;
                }
        cpuset_free(&s);
}

Test(fixture, affinity_read_refuses_a_reused_pid) {
        char *v = NULL;
        cr_assert_eq(effect_read(&backend_fixture, &host, OP_AFFINITY, "/proc/2", "1", &v), -ESRCH);
        cr_assert_eq(effect_read(&backend_fixture, &host, OP_AFFINITY, "/proc/x", "", &v), -EINVAL);
}

Test(fixture, unit_property_round_trip_leaves_no_dropin) {
        CpuSet s = {}, none = {};
        char *d = NULL;
        cr_assert_eq(cpuset_parse_list("0,4", &s), 0);
        cr_assert_eq(backend_fixture.unit_write(&host, "system.slice", &s, "0,4", &d), 0);
        _cleanup_free_ char *v = rd(OP_UNIT, "systemd:system.slice/AllowedCPUs", NULL);
        cr_assert_str_eq(v, "0,4");
        cr_assert(path_exists(host.root_fd, "/run/systemd/system.control/system.slice.d/50-AllowedCPUs.conf"));
        cr_assert_eq(backend_fixture.unit_write(&host, "system.slice", &none, "", &d), 0);
        cr_assert_not(path_exists(host.root_fd, "/run/systemd/system.control"));
        _cleanup_free_ char *w = rd(OP_UNIT, "systemd:system.slice/AllowedCPUs", NULL);
        cr_assert_str_eq(w, "");
        cpuset_free(&s);
}

Test(fixture, cgroup_mkdir_gets_the_kernel_files_and_rmdir_removes_them) {
        const char *dir = "/sys/fs/cgroup/cpushield-test";
        _cleanup_free_ char *a = rd(OP_MKDIR, dir, NULL);
        cr_assert_str_eq(a, "(absent)");
        cr_assert_eq(backend_fixture.mkdir_cgroup(&host, dir), 0);
        _cleanup_free_ char *b = rd(OP_MKDIR, dir, NULL);
        cr_assert_str_eq(b, "(created)");
        cr_assert(path_exists(host.root_fd, "/sys/fs/cgroup/cpushield-test/cgroup.procs"));
        cr_assert_eq(backend_fixture.rmdir_cgroup(&host, dir), 0);
        _cleanup_free_ char *c = rd(OP_MKDIR, dir, NULL);
        cr_assert_str_eq(c, "(absent)");
}

Test(fixture, unknown_target_shapes_are_refused_not_guessed) {
        char *v = NULL;
        cr_assert_eq(effect_read(&backend_fixture, &host, OP_UNIT, "systemd:", NULL, &v), -EINVAL);
        cr_assert_eq(effect_read(&backend_fixture, &host, OP_LIBVIRT_PIN, "libvirt:", "", &v), -EINVAL);
        cr_assert_eq(effect_read(&backend_fixture, &host, OP_AFFINITY, "/proc/", "", &v), -EINVAL);
        cr_assert_eq(effect_read(&backend_fixture, &host, _OP_INVALID, "/proc/irq/16/smp_affinity_list", "", &v),
                     -EINVAL);
}

Test(fixture, chosen_for_any_root_but_slash) {
        cr_assert_eq(backend_select(&host), &backend_fixture);
        Host real = host;
        real.real_root = true;
        cr_assert_eq(backend_select(&real), &backend_kernel);
}
