/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The running kernel (root "/"): its files, sched_setaffinity, cgroup
 * mkdir/rmdir and task moves; unit CPUs through systemd, pins through
 * libvirt. */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "backend.h"
#include "cgroup2-mount.h"
#include "fs.h"
#include "irqbalance.h"
#include "libvirt.h"
#include "systemd.h"

static int kernel_cgroup2_root(const Host *h) {
        return cgroup2_root_open(h->root_fd);
}

static int kernel_write_file(const Host *h, const char *path, const char *value) {
        if (startswith(path, CGROUP2_UNMOUNTED)) {
                _cleanup_close_ int fd = kernel_cgroup2_root(h);
                return fd < 0 ? fd : write_attr(fd, path + strlen(CGROUP2_UNMOUNTED), value);
        }
        return write_attr(h->root_fd, path, value);
}

static int kernel_enable_cpuset(const Host *h, const char *file, bool enable) {
        return write_attr(h->root_fd, file, enable ? "+cpuset" : "-cpuset");
}

/* mkdirat/unlinkat on the parent, opened below the root. */
static int at_parent(const Host *h, const char *path, bool make) {
        _cleanup_free_ char *dir = xstrdup(path);
        char *slash = strrchr(dir, '/');
        _cleanup_close_ int dfd = -1;

        if (!slash || !slash[1])
                return -EINVAL;
        *slash = 0;
        dfd = root_openat(h->root_fd, dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY, 0);
        if (dfd < 0)
                return dfd;
        if ((make ? mkdirat(dfd, slash + 1, 0755) : unlinkat(dfd, slash + 1, AT_REMOVEDIR)) < 0)
                return -errno;
        return 0;
}

static int kernel_mkdir_cgroup(const Host *h, const char *dir) {
        return at_parent(h, dir, true);
}

static int kernel_rmdir_cgroup(const Host *h, const char *dir) {
        return at_parent(h, dir, false);
}

/* One ID into a cgroup's task list: one write(2), 0 or -errno. */
static int write_id(int fd, int id) {
        char buf[32];
        int len = snprintf(buf, sizeof buf, "%d", id);
        ssize_t w;

        do
                w = write(fd, buf, (size_t) len);
        while (w < 0 && errno == EINTR);
        return w < 0 ? -errno : 0;
}

static void kernel_move_tasks(const Host *h, const char *src_dir, const char *dst_dir, const int *tids, size_t n,
                              size_t *ret_refused, int *ret_first_err) {
        _cleanup_free_ char *file = xasprintf("%s/%s", dst_dir, is_v1_path(h, dst_dir) ? "tasks" : "cgroup.procs");
        _cleanup_close_ int fd = root_openat(h->root_fd, file, O_WRONLY | O_NOCTTY, 0);

        if (fd < 0) {
                *ret_refused = n;
                *ret_first_err = fd;
                return;
        }
        for (size_t i = 0; i < n; i++) {
                int r = write_id(fd, tids[i]);
                if (r < 0 && r != -ESRCH) {
                        if (!*ret_first_err)
                                *ret_first_err = r;
                        (*ret_refused)++;
                }
        }
}

/* v1 cgroup.procs takes a TGID and moves the whole thread group, all or
 * nothing (EINVAL when one thread may not move, e.g. an io_uring worker). */
static void kernel_move_processes(const Host *h, const char *src_dir, const char *dst_dir, const int *tgids, size_t n,
                                  int *ret_err) {
        _cleanup_free_ char *file = xasprintf("%s/cgroup.procs", dst_dir);
        _cleanup_close_ int fd = root_openat(h->root_fd, file, O_WRONLY | O_NOCTTY, 0);

        for (size_t i = 0; i < n; i++)
                ret_err[i] = fd < 0 ? fd : write_id(fd, tgids[i]);
}

static int kernel_set_affinity(const Host *h, int pid, const CpuSet *cpus) {
        size_t sz = CPU_ALLOC_SIZE(CPUSET_MAX_CPUS);
        cpu_set_t *set = CPU_ALLOC(CPUSET_MAX_CPUS);
        int r;

        if (!set)
                return -ENOMEM;
        CPU_ZERO_S(sz, set);
        CPUSET_FOREACH(c, cpus)
                CPU_SET_S((size_t) c, sz, set);
        r = sched_setaffinity(pid, sz, set) < 0 ? -errno : 0;
        CPU_FREE(set);
        return r;
}

/* The run itself moves to the host's CPUs first: what the kernel restarts
 * on the writer's CPU when the bounce changes go back stays there. */
static void kernel_pause(const Host *h, const CpuSet *cpus, unsigned ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };

        if (!cpuset_is_empty(cpus))
                (void) kernel_set_affinity(NULL, 0, cpus);
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static int kernel_unit_read(const Host *h, const char *unit, char **ret) {
        return systemd_unit_cpus_read(unit, ret);
}

/* An empty list is a restore to "no AllowedCPUs": systemd records even
 * that in a runtime drop-in, which would outlive the revert. */
static int kernel_unit_write(const Host *h, const char *unit, const CpuSet *cpus, const char *value, char **ret_detail) {
        int r = systemd_unit_cpus_write(unit, cpus, value, ret_detail);

        if (r >= 0 && !value[0]) {
                r = systemd_unit_dropin_forget(h->root_fd, unit);
                if (r < 0)
                        *ret_detail = xasprintf("cannot remove the runtime drop-in of %s/AllowedCPUs: %s", unit,
                                                strerror(-r));
        }
        return r;
}

static int kernel_finish(const Host *h, char **ret_detail) {
        return systemd_reload_if_needed(ret_detail);
}

const Backend backend_kernel = {
        .name = "kernel",
        .write_file = kernel_write_file,
        .cgroup2_root = kernel_cgroup2_root,
        .enable_cpuset = kernel_enable_cpuset,
        .mkdir_cgroup = kernel_mkdir_cgroup,
        .rmdir_cgroup = kernel_rmdir_cgroup,
        .move_tasks = kernel_move_tasks,
        .move_processes = kernel_move_processes,
        .set_affinity = kernel_set_affinity,
        .unit_read = kernel_unit_read,
        .unit_write = kernel_unit_write,
        .finish = kernel_finish,
        .pause = kernel_pause,
        .pin_read = libvirt_observe,
        .pin_write = libvirt_pin,
        .irqbalance_read = irqbalance_read,
        .irqbalance_write = irqbalance_write,
};
