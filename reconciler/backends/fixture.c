/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fixture simulator: a copy of a machine's files below --root has no
 * kernel and no systemd behind it, so each operation also records its effect
 * the way they would show it (a written smp_affinity_list updates
 * smp_affinity; an affinity change rewrites /proc/PID/status; a unit
 * property becomes a runtime drop-in), and the next observe reads it back.
 * Selected for every root other than "/" (backend_select), never mixed
 * with the real kernel's operations. irqbalance is asked through its socket
 * below the root, as on the real host: a test serves one there. */
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <sys/stat.h>

#include "backend.h"
#include "build-config.h"
#include "fixture-cgroup.h"
#include "fixture-files.h"
#include "fs.h"
#include "irqbalance.h"
#include "libvirt.h"
#include "systemd.h"

static int write_line(const Host *h, const char *path, const char *value) {
        _cleanup_free_ char *content = xasprintf("%s\n", value);
        return fixture_write(h, path, content);
}

/* The IRQ's flags as the run read them, else from the tree's debugfs (an
 * IRQ the plan did not look at closely, or a run that read no IRQs: a
 * restore). A tree without irq debugfs (as Debian's kernels) may keep them
 * in /.fixture/irq-flags/N, which only this backend reads: the kernel knows
 * an IRQ is managed whether or not debugfs says so. */
static bool irq_unmovable(const Host *h, unsigned irq) {
        const Irq *q = host_find_irq(h, irq);
        Irq flags = {};

        if (!q || !q->flags_known) {
                _cleanup_free_ char *path = xasprintf("/sys/kernel/debug/irq/irqs/%u", irq), *dbg = NULL,
                                    *hidden = xasprintf("/.fixture/irq-flags/%u", irq);
                if (read_attr(h->root_fd, path, &dbg) >= 0 || read_attr(h->root_fd, hidden, &dbg) >= 0)
                        irq_parse_debugfs(dbg, &flags);
                q = &flags;
        }
        return q && (q->managed || q->per_cpu || q->no_balancing);
}

/* An IRQ's list and mask files show the same CPUs; managed, per-CPU and
 * no-balancing IRQs refuse with EIO, as the kernel does. Both files through
 * one lookup of the IRQ's directory. */
static int write_irq_affinity(const Host *h, const char *path, const char *value) {
        unsigned irq;
        _cleanup_free_ char *num = xstrndup(path + strlen("/proc/irq/"), strcspn(path + strlen("/proc/irq/"), "/"));
        _cleanup_free_ char *dir = NULL, *list = xasprintf("%s\n", value);
        _cleanup_close_ int dfd = -1;
        struct stat st;
        int r;

        if (safe_atou(num, &irq) < 0)
                return -EINVAL;
        if (irq_unmovable(h, irq))
                return -EIO;
        dir = xasprintf("/proc/irq/%u", irq);
        dfd = root_openat(h->root_fd, dir, O_RDONLY | O_DIRECTORY, 0);
        if (dfd < 0)
                return dfd;
        r = fixture_write_at(dfd, "smp_affinity_list", list);
        if (r >= 0 && fstatat(dfd, "smp_affinity", &st, AT_SYMLINK_NOFOLLOW) == 0) {
                CpuSet s = {};
                if (cpuset_parse_list(value, &s) >= 0) {
                        _cleanup_free_ char *m = cpuset_format_mask(&s, h->nr_cpu_ids);
                        _cleanup_free_ char *line = xasprintf("%s\n", m);
                        r = fixture_write_at(dfd, "smp_affinity", line);
                }
                cpuset_free(&s);
        }
        return r;
}

/* A fixture tree does not wait. Test hook: CPUSHIELD_TEST_PAUSE_RMDIR=DIR
 * removes that leaf cgroup meanwhile, as a job's scope ending then would
 * (builds with -Dtest_hooks=false ignore it). */
static void fixture_pause(const Host *h, const CpuSet *cpus, unsigned ms) {
        const char *dir = HAVE_TEST_HOOKS ? getenv("CPUSHIELD_TEST_PAUSE_RMDIR") : NULL;

        if (dir)
                (void) fixture_rmdir_cgroup(h, dir);
}

/* The cgroup2 hierarchy's root where the tree mounts no cgroup2, as a
 * mount of it would show (the kernel backend's is a mount only the run
 * sees): only this backend reads it. */
#define FIXTURE_CGROUP2 "/.fixture/cgroup2"

static int fixture_cgroup2_root(const Host *h) {
        return root_openat(h->root_fd, FIXTURE_CGROUP2, O_RDONLY | O_DIRECTORY, 0);
}

static int fixture_write_file(const Host *h, const char *path, const char *value) {
        if (startswith(path, CGROUP2_UNMOUNTED)) {
                _cleanup_free_ char *p = xasprintf(FIXTURE_CGROUP2 "%s", path + strlen(CGROUP2_UNMOUNTED));
                return write_line(h, p, value);
        }
        if (startswith(path, "/proc/irq/") && endswith(path, "/smp_affinity_list"))
                return write_irq_affinity(h, path, value);
        if (streq(path, WQ_MASK) && h->has_wq_requested) {
                /* the kernel keeps the request and shows request minus isolated CPUs */
                int r = write_line(h, WQ_REQUESTED, value);
                if (r < 0)
                        return r;
        }
        return write_line(h, path, value);
}

static int rewrite_status(const Host *h, const char *path, const CpuSet *cpus) {
        _cleanup_free_ char *status = NULL, *mask = cpuset_format_mask(cpus, h->nr_cpu_ids), *list = cpuset_format_list(cpus);
        size_t cap, len = 0;
        char *save = NULL;
        int r = read_file(h->root_fd, path, &status, NULL);

        if (r < 0)
                return r;
        cap = strlen(status) + strlen(mask) + strlen(list) + 64;
        _cleanup_free_ char *out = xmalloc(cap);
        out[0] = 0;
        for (char *l = strtok_r(status, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                if (startswith(l, "Cpus_allowed:"))
                        len += (size_t) snprintf(out + len, cap - len, "Cpus_allowed:\t%s\n", mask);
                else if (startswith(l, "Cpus_allowed_list:"))
                        len += (size_t) snprintf(out + len, cap - len, "Cpus_allowed_list:\t%s\n", list);
                else
                        len += (size_t) snprintf(out + len, cap - len, "%s\n", l);
        }
        return fixture_write(h, path, out);
}

static int fixture_set_affinity(const Host *h, int pid, const CpuSet *cpus) {
        const Task *t = host_find_task(h, pid);
        _cleanup_free_ char *dir = NULL, *path = NULL, *alt = NULL;
        int r;

        if (t && (t->flags & PF_NO_SETAFFINITY))
                return -EINVAL; /* what sched_setaffinity answers */
        dir = procfs_task_dir(h, pid);
        path = xasprintf("%s/status", dir);
        r = rewrite_status(h, path, cpus);
        alt = xasprintf("/proc/%d/task/%d/status", pid, pid);
        if (r >= 0 && (!t || t->tgid == pid) && path_exists(h->root_fd, alt))
                r = rewrite_status(h, alt, cpus);
        return r;
}

static char *dropin_path(const char *unit) {
        return xasprintf("/run/systemd/system.control/%s.d/50-AllowedCPUs.conf", unit);
}

static int fixture_unit_read(const Host *h, const char *unit, char **ret) {
        _cleanup_free_ char *path = dropin_path(unit), *s = NULL;
        char *l, *e;

        if (read_attr(h->root_fd, path, &s) < 0 || !(l = strstr(s, "AllowedCPUs="))) {
                *ret = xstrdup("");
                return 0;
        }
        l += strlen("AllowedCPUs=");
        e = strchr(l, '\n');
        if (e)
                *e = 0;
        *ret = xstrdup(l);
        return 0;
}

/* What systemd itself leaves for a runtime property: a drop-in in
 * /run/systemd/system.control, and the cgroup's file. */
static int fixture_unit_write(const Host *h, const char *unit, const CpuSet *cpus, const char *value,
                              char **ret_detail) {
        _cleanup_free_ char *path = dropin_path(unit), *dir = path_parent(path);
        _cleanup_free_ char *cg = h->cg.v2_mount ? xasprintf("%s/%s/cpuset.cpus", h->cg.v2_mount, unit) : NULL;
        int r = 0;

        if (value[0]) {
                const char *parts[] = { "/run", "/run/systemd", "/run/systemd/system.control", dir };
                for (size_t i = 0; i < ELEMENTSOF(parts); i++)
                        if (!is_dir(h->root_fd, parts[i]) && (r = fixture_mkdir(h, parts[i])) < 0)
                                return r;
                _cleanup_free_ char *content = xasprintf(
                        "# This is a drop-in unit file extension, created via \"systemctl set-property\"\n"
                        "# or an equivalent operation. Do not edit.\n[%s]\nAllowedCPUs=%s\n",
                        systemd_unit_section(unit), value);
                r = fixture_write(h, path, content);
        } else {
                r = fixture_unlink(h, path, 0);
                if (r == -ENOENT)
                        r = 0;
                const char *parts[] = { dir, "/run/systemd/system.control", "/run/systemd", "/run" };
                for (size_t i = 0; i < ELEMENTSOF(parts) && r >= 0; i++)
                        if (fixture_unlink(h, parts[i], AT_REMOVEDIR) < 0)
                                break; /* not empty: stop */
        }
        if (r >= 0 && cg && path_exists(h->root_fd, cg))
                r = write_line(h, cg, value);
        return r;
}

const Backend backend_fixture = {
        .name = "fixture",
        .write_file = fixture_write_file,
        .cgroup2_root = fixture_cgroup2_root,
        .enable_cpuset = fixture_enable_cpuset,
        .mkdir_cgroup = fixture_mkdir_cgroup,
        .rmdir_cgroup = fixture_rmdir_cgroup,
        .pause = fixture_pause,
        .move_task = fixture_move_task,
        .move_processes = fixture_move_processes,
        .set_affinity = fixture_set_affinity,
        .unit_read = fixture_unit_read,
        .unit_write = fixture_unit_write,
        .pin_read = libvirt_observe,
        .pin_write = libvirt_pin,
        .irqbalance_read = irqbalance_read,
        .irqbalance_write = irqbalance_write,
};
