/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/stat.h>

#include "build-config.h"
#include "fs.h"
#include "kernel.h"
#include "libvirt.h"

#if HAVE_SYSTEMD
#include <systemd/sd-bus.h>
#endif

static const char *const op_names[] = {
        [OP_WRITE] = "write", [OP_SUBTREE] = "subtree", [OP_MKDIR] = "mkdir", [OP_AFFINITY] = "affinity",
        [OP_UNIT] = "unit", [OP_MOVE_TASKS] = "move-tasks", [OP_LIBVIRT_PIN] = "libvirt-pin",
};

const char *change_op_to_string(ChangeOp op) {
        return op_names[op];
}

ChangeOp change_op_from_string(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(op_names); i++)
                if (streq(s, op_names[i]))
                        return (ChangeOp) i;
        return OP_WRITE;
}

static bool ends_with(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && streq(s + a - b, suffix);
}

/* Which files hold hex masks, which CPU lists; the rest compare as text. */
static bool is_mask_file(const char *target) {
        return ends_with(target, "/cpumask") || ends_with(target, "/smp_affinity") ||
               ends_with(target, "/default_smp_affinity") || ends_with(target, "/cpumask_requested");
}

static bool is_list_target(ChangeOp op, const char *target) {
        return op == OP_AFFINITY || op == OP_UNIT || op == OP_LIBVIRT_PIN || ends_with(target, "_list") ||
               ends_with(target, "/cpuset.cpus") || ends_with(target, "/cpuset.mems");
}

bool cpulist_equal_str(const char *a, const char *b) {
        CpuSet x = {}, y = {};
        bool eq;

        if (cpuset_parse_list(a, &x) < 0 || cpuset_parse_list(b, &y) < 0)
                eq = streq(a, b);
        else
                eq = cpuset_equal(&x, &y);
        cpuset_free(&x);
        cpuset_free(&y);
        return eq;
}

bool value_equal(ChangeOp op, const char *target, const char *a, const char *b) {
        CpuSet x = {}, y = {};
        bool eq;
        int r1, r2;

        if (!a || !b)
                return a == b;
        if (is_list_target(op, target))
                return cpulist_equal_str(a, b);
        if (is_mask_file(target)) {
                r1 = cpuset_parse_mask(a, &x);
                r2 = cpuset_parse_mask(b, &y);
        } else if (op == OP_SUBTREE) {
                /* Only whether cpuset is among the controllers matters. */
                return (strstr(a, "cpuset") != NULL) == (strstr(b, "cpuset") != NULL);
        } else
                return streq(a, b);
        eq = r1 >= 0 && r2 >= 0 ? cpuset_equal(&x, &y) : streq(a, b);
        cpuset_free(&x);
        cpuset_free(&y);
        return eq;
}

/* ---- fixture emulation helpers ---------------------------------------- */

static char *parent_of(const char *path) {
        char *p = xstrdup(path), *slash = strrchr(p, '/');

        if (slash == p)
                p[1] = 0; /* "/run" -> "/" */
        else if (slash)
                *slash = 0;
        return p;
}


static int write_new_file(const Host *h, const char *path, const char *content) {
        int fd = root_openat(h->root_fd, path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644);
        size_t len = strlen(content);
        int r = 0;

        if (fd < 0)
                return fd;
        if (write(fd, content, len) != (ssize_t) len)
                r = -EIO;
        close(fd);
        return r;
}

/* The kernel prints an empty controller list as an empty file, not "\n". */
static int write_controllers(const Host *h, const char *path, const char *list) {
        _cleanup_free_ char *content = list[0] ? xasprintf("%s\n", list) : xstrdup("");
        return write_new_file(h, path, content);
}

static int unlink_in_root(const Host *h, const char *path, int flags) {
        _cleanup_free_ char *dir = parent_of(path);
        const char *base = strrchr(path, '/') + 1;
        int dfd = root_openat(h->root_fd, dir, O_RDONLY | O_DIRECTORY, 0), r = 0;

        if (dfd < 0)
                return dfd;
        if (unlinkat(dfd, base, flags) < 0)
                r = -errno;
        close(dfd);
        return r;
}

static int mkdir_in_root(const Host *h, const char *path) {
        _cleanup_free_ char *dir = parent_of(path);
        const char *base = strrchr(path, '/') + 1;
        int dfd = root_openat(h->root_fd, dir, O_RDONLY | O_DIRECTORY, 0), r = 0;

        if (dfd < 0)
                return dfd;
        if (mkdirat(dfd, base, 0755) < 0)
                r = -errno;
        close(dfd);
        return r;
}

static bool is_v1_path(const Host *h, const char *path) {
        return h->cg.v1_cpuset_mount && startswith(path, h->cg.v1_cpuset_mount);
}

/* Controllers in the order the kernel prints them. */
static const char *const controller_order[] = { "cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc" };

static char *controllers_with(const char *cur, const char *ctl, bool enable) {
        StrList words = {};
        _cleanup_free_ char *copy = xstrdup(cur);
        char *save = NULL, *out = xstrdup("");

        for (char *w = strtok_r(copy, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save))
                if (!streq(w, ctl))
                        strlist_add(&words, w);
        if (enable)
                strlist_add(&words, ctl);
        for (size_t k = 0; k < ELEMENTSOF(controller_order); k++)
                if (strlist_contains(&words, controller_order[k])) {
                        char *n = xasprintf("%s%s%s", out, out[0] ? " " : "", controller_order[k]);
                        free(out);
                        out = n;
                }
        for (size_t i = 0; i < words.n; i++) {
                bool known = false;
                for (size_t k = 0; k < ELEMENTSOF(controller_order); k++)
                        known |= streq(words.v[i], controller_order[k]);
                if (!known) {
                        char *n = xasprintf("%s%s%s", out, out[0] ? " " : "", words.v[i]);
                        free(out);
                        out = n;
                }
        }
        strlist_free(&words);
        return out;
}

static const char *const v2_cpuset_files[] = { "cpuset.cpus", "cpuset.cpus.effective", "cpuset.cpus.partition",
                                               "cpuset.mems", "cpuset.mems.effective" };

static int fixture_cpuset_files(const Host *h, const char *dir, const char *parent, bool create) {
        for (size_t i = 0; i < ELEMENTSOF(v2_cpuset_files); i++) {
                _cleanup_free_ char *f = xasprintf("%s/%s", dir, v2_cpuset_files[i]);
                int r;

                if (!create) {
                        r = unlink_in_root(h, f, 0);
                        if (r < 0 && r != -ENOENT)
                                return r;
                        continue;
                }
                _cleanup_free_ char *content = NULL;
                if (streq(v2_cpuset_files[i], "cpuset.cpus.partition"))
                        content = xstrdup("member\n");
                else if (ends_with(v2_cpuset_files[i], ".effective")) {
                        _cleanup_free_ char *pf = xasprintf("%s/%s", parent, v2_cpuset_files[i]), *pv = NULL;
                        content = xasprintf("%s\n", read_attr(h->root_fd, pf, &pv) >= 0 ? pv : "");
                } else
                        content = xstrdup("\n");
                r = write_new_file(h, f, content);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int fixture_subtree(const Host *h, const char *file, bool enable) {
        _cleanup_free_ char *cur = NULL, *next = NULL, *dir = parent_of(file);
        StrList kids = {};
        int r;

        r = read_attr(h->root_fd, file, &cur);
        if (r < 0)
                return r;
        next = controllers_with(cur, "cpuset", enable);
        r = write_controllers(h, file, next);
        if (r < 0)
                return r;
        if (list_dir(h->root_fd, dir, &kids) < 0)
                return 0;
        for (size_t i = 0; i < kids.n && r >= 0; i++) {
                _cleanup_free_ char *kid = xasprintf("%s/%s", dir, kids.v[i]);
                _cleanup_free_ char *ctl_file = xasprintf("%s/cgroup.controllers", kid);
                _cleanup_free_ char *ctl = NULL, *ctl_next = NULL;

                if (!is_dir(h->root_fd, kid) || read_attr(h->root_fd, ctl_file, &ctl) < 0)
                        continue;
                ctl_next = controllers_with(ctl, "cpuset", enable);
                r = write_controllers(h, ctl_file, ctl_next);
                if (r >= 0)
                        r = fixture_cpuset_files(h, kid, dir, enable);
        }
        strlist_free(&kids);
        return r;
}

static int fixture_mkdir_cgroup(const Host *h, const char *dir) {
        _cleanup_free_ char *parent = parent_of(dir);
        int r = mkdir_in_root(h, dir);

        if (r < 0)
                return r;
        if (is_v1_path(h, dir)) {
                static const char *const files[][2] = {
                        { "cpuset.cpus", "\n" }, { "cpuset.mems", "\n" }, { "cpuset.cpu_exclusive", "0\n" },
                        { "tasks", "" }, { "cgroup.procs", "" }, { "notify_on_release", "0\n" },
                };
                for (size_t i = 0; i < ELEMENTSOF(files) && r >= 0; i++) {
                        _cleanup_free_ char *f = xasprintf("%s/%s", dir, files[i][0]);
                        r = write_new_file(h, f, files[i][1]);
                }
                return r;
        }
        _cleanup_free_ char *psc = xasprintf("%s/cgroup.subtree_control", parent), *sc = NULL;
        (void) read_attr(h->root_fd, psc, &sc);
        static const char *const files[][2] = {
                { "cgroup.procs", "" }, { "cgroup.subtree_control", "" }, { "cgroup.type", "domain\n" },
                { "cgroup.events", "populated 0\nfrozen 0\n" },
        };
        for (size_t i = 0; i < ELEMENTSOF(files) && r >= 0; i++) {
                _cleanup_free_ char *f = xasprintf("%s/%s", dir, files[i][0]);
                r = write_new_file(h, f, files[i][1]);
        }
        if (r >= 0) {
                _cleanup_free_ char *f = xasprintf("%s/cgroup.controllers", dir);
                r = write_controllers(h, f, strempty(sc));
        }
        if (r >= 0 && sc && strstr(sc, "cpuset"))
                r = fixture_cpuset_files(h, dir, parent, true);
        return r;
}

static int fixture_rmdir_cgroup(const Host *h, const char *dir) {
        StrList files = {};
        int r = list_dir(h->root_fd, dir, &files);

        if (r < 0)
                return r;
        for (size_t i = 0; i < files.n && r >= 0; i++) {
                _cleanup_free_ char *f = xasprintf("%s/%s", dir, files.v[i]);
                if (is_dir(h->root_fd, f))
                        r = -EBUSY; /* a child cgroup: the kernel refuses too */
                else
                        r = unlink_in_root(h, f, 0);
        }
        strlist_free(&files);
        if (r >= 0)
                r = unlink_in_root(h, dir, AT_REMOVEDIR);
        return r;
}

/* Numeric lines of a tasks/cgroup.procs file. */
static void read_ids(const Host *h, const char *file, int **ret, size_t *n) {
        _cleanup_free_ char *s = NULL;
        char *save = NULL;

        *ret = NULL;
        *n = 0;
        if (read_attr(h->root_fd, file, &s) < 0)
                return;
        for (char *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                *ret = xrealloc(*ret, (*n + 1) * sizeof(int));
                (*ret)[(*n)++] = atoi(l);
        }
}

static int write_ids(const Host *h, const char *file, const int *ids, size_t n) {
        size_t cap = n * 12 + 1, len = 0;
        _cleanup_free_ char *buf = xmalloc(cap);

        buf[0] = 0;
        for (size_t i = 0; i < n; i++)
                len += (size_t) snprintf(buf + len, cap - len, "%d\n", ids[i]);
        return write_new_file(h, file, buf);
}

static int cmp_int(const void *a, const void *b) {
        return (*(const int *) a > *(const int *) b) - (*(const int *) a < *(const int *) b);
}

/* Moves one TID from src to dst the way the kernel shows it: both tasks
 * files (kept in numeric order), both cgroup.procs, /proc/TID/cgroup. */
static int fixture_move(const Host *h, const char *src_dir, const char *dst_dir, int tid) {
        const char *list = is_v1_path(h, dst_dir) ? "tasks" : "cgroup.procs";
        _cleanup_free_ char *sf = xasprintf("%s/%s", src_dir, list), *df = xasprintf("%s/%s", dst_dir, list);
        _cleanup_free_ int *s = NULL, *d = NULL;
        size_t ns, nd, k = 0;
        bool found = false;
        int r;

        read_ids(h, sf, &s, &ns);
        read_ids(h, df, &d, &nd);
        for (size_t i = 0; i < ns; i++) {
                if (s[i] == tid)
                        found = true;
                else
                        s[k++] = s[i];
        }
        if (!found)
                return -ESRCH;
        d = xrealloc(d, (nd + 1) * sizeof(int));
        d[nd++] = tid;
        qsort(d, nd, sizeof(int), cmp_int);
        if ((r = write_ids(h, sf, s, k)) < 0 || (r = write_ids(h, df, d, nd)) < 0)
                return r;

        if (is_v1_path(h, dst_dir)) {
                const Task *t = host_find_task(h, tid);
                int tgid = t ? t->tgid : tid;
                _cleanup_free_ char *sp = xasprintf("%s/cgroup.procs", src_dir), *dp = xasprintf("%s/cgroup.procs", dst_dir);
                _cleanup_free_ int *a = NULL, *b = NULL;
                size_t na, nb, m = 0;
                bool still = false;

                /* The process shows in every cgroup that holds one of its threads. */
                for (size_t i = 0; i < k; i++) {
                        const Task *o = host_find_task(h, s[i]);
                        if ((o ? o->tgid : s[i]) == tgid)
                                still = true;
                }
                read_ids(h, sp, &a, &na);
                read_ids(h, dp, &b, &nb);
                if (!still) {
                        for (size_t i = 0; i < na; i++)
                                if (a[i] != tgid)
                                        a[m++] = a[i];
                        if ((r = write_ids(h, sp, a, m)) < 0)
                                return r;
                }
                bool have = false;
                for (size_t i = 0; i < nb; i++)
                        have |= b[i] == tgid;
                if (!have) {
                        b = xrealloc(b, (nb + 1) * sizeof(int));
                        b[nb++] = tgid;
                        qsort(b, nb, sizeof(int), cmp_int);
                        if ((r = write_ids(h, dp, b, nb)) < 0)
                                return r;
                }
        }

        /* /proc/TID/cgroup: the cpuset line (v1) or the unified one (v2). */
        const Task *t = host_find_task(h, tid);
        _cleanup_free_ char *pf = t && t->tgid != tid ? xasprintf("/proc/%d/task/%d/cgroup", t->tgid, tid)
                                                      : xasprintf("/proc/%d/cgroup", tid);
        _cleanup_free_ char *content = NULL;
        const char *mount = is_v1_path(h, dst_dir) ? h->cg.v1_cpuset_mount : h->cg.v2_mount;
        const char *rel = dst_dir + strlen(mount);
        if (read_file(h->root_fd, pf, &content, NULL) >= 0) {
                size_t cap = strlen(content) + strlen(rel) + 16, len = 0;
                _cleanup_free_ char *out = xmalloc(cap);
                char *save = NULL;
                out[0] = 0;
                for (char *l = strtok_r(content, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                        bool mine = is_v1_path(h, dst_dir) ? strstr(l, ":cpuset:") != NULL : startswith(l, "0::");
                        if (mine) {
                                char *c2 = strchr(strchr(l, ':') + 1, ':');
                                *c2 = 0;
                                len += (size_t) snprintf(out + len, cap - len, "%s:%s\n", l, rel[0] ? rel : "/");
                        } else
                                len += (size_t) snprintf(out + len, cap - len, "%s\n", l);
                }
                r = write_new_file(h, pf, out);
        }
        return r < 0 ? r : 0;
}

/* ---- tasks and affinity ---------------------------------------------- */

static int task_dir(const Host *h, int pid, char **ret) {
        const Task *t = host_find_task(h, pid);

        *ret = t && t->tgid != pid ? xasprintf("/proc/%d/task/%d", t->tgid, pid) : xasprintf("/proc/%d", pid);
        return 0;
}

/* The task's start time, from /proc/PID/stat field 22; -ESRCH if gone. */
static int task_start_time(const Host *h, int pid, unsigned long long *ret) {
        _cleanup_free_ char *dir = NULL, *path = NULL, *stat = NULL;
        const char *p;

        task_dir(h, pid, &dir);
        path = xasprintf("%s/stat", dir);
        if (read_attr(h->root_fd, path, &stat) < 0)
                return -ESRCH;
        p = strrchr(stat, ')');
        if (!p)
                return -EINVAL;
        p += 2;
        /* p is at field 3 (state); skip to field 22 */
        for (int field = 3; field < 22; field++) {
                p = strchr(p, ' ');
                if (!p)
                        return -EINVAL;
                p++;
        }
        *ret = strtoull(p, NULL, 10);
        return 0;
}

static int read_affinity(const Host *h, int pid, char **ret) {
        _cleanup_free_ char *dir = NULL, *path = NULL, *status = NULL;
        char *l, *e;

        task_dir(h, pid, &dir);
        path = xasprintf("%s/status", dir);
        if (read_attr(h->root_fd, path, &status) < 0)
                return -ESRCH;
        l = strstr(status, "Cpus_allowed_list:");
        if (!l)
                return -EINVAL;
        l = strchr(l, ':') + 1;
        e = strchr(l, '\n');
        if (e)
                *e = 0;
        *ret = xstrdup(strstrip(l));
        return 0;
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
        return write_new_file(h, path, out);
}

static int set_affinity(const Host *h, int pid, unsigned long long start, const char *value) {
        unsigned long long now;
        CpuSet cpus = {};
        int r;

        r = task_start_time(h, pid, &now);
        if (r < 0)
                return r;
        if (start && now != start)
                return -ESRCH; /* the PID was reused: not the task we journaled */
        r = cpuset_parse_list(value, &cpus);
        if (r < 0)
                return r;
        if (h->real_root) {
                size_t sz = CPU_ALLOC_SIZE(CPUSET_MAX_CPUS);
                cpu_set_t *set = CPU_ALLOC(CPUSET_MAX_CPUS);
                CPU_ZERO_S(sz, set);
                CPUSET_FOREACH(c, &cpus)
                        CPU_SET_S((size_t) c, sz, set);
                r = sched_setaffinity(pid, sz, set) < 0 ? -errno : 0;
                CPU_FREE(set);
        } else {
                const Task *t = host_find_task(h, pid);
                _cleanup_free_ char *dir = NULL, *path = NULL, *alt = NULL;

                if (t && (t->flags & PF_NO_SETAFFINITY))
                        r = -EINVAL;
                else {
                        task_dir(h, pid, &dir);
                        path = xasprintf("%s/status", dir);
                        r = rewrite_status(h, path, &cpus);
                        alt = xasprintf("/proc/%d/task/%d/status", pid, pid);
                        if (r >= 0 && (!t || t->tgid == pid) && path_exists(h->root_fd, alt))
                                r = rewrite_status(h, alt, &cpus);
                }
        }
        cpuset_free(&cpus);
        return r;
}

/* ---- systemd units --------------------------------------------------- */

static char *unit_of(const char *target) {
        /* "systemd:UNIT/AllowedCPUs" */
        const char *u = target + strlen("systemd:");
        const char *slash = strrchr(u, '/');
        return xstrndup(u, slash ? (size_t) (slash - u) : strlen(u));
}

static char *dropin_path(const char *unit) {
        return xasprintf("/run/systemd/system.control/%s.d/50-AllowedCPUs.conf", unit);
}

static const char *unit_section(const char *unit) {
        return ends_with(unit, ".slice") ? "Slice" : ends_with(unit, ".scope") ? "Scope" : "Service";
}

#if HAVE_SYSTEMD
static int bus_unit_path(sd_bus *bus, const char *unit, char **ret) {
        sd_bus_error err = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *path;
        int r;

        r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "LoadUnit", &err, &reply, "s", unit);
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &path);
        if (r >= 0)
                *ret = xstrdup(path);
        sd_bus_message_unref(reply);
        sd_bus_error_free(&err);
        return r;
}
#endif

static int unit_read(const Host *h, const char *unit, char **ret) {
        if (!h->real_root) {
                _cleanup_free_ char *path = dropin_path(unit), *s = NULL;
                char *l;

                if (read_attr(h->root_fd, path, &s) < 0) {
                        *ret = xstrdup("");
                        return 0;
                }
                l = strstr(s, "AllowedCPUs=");
                if (!l) {
                        *ret = xstrdup("");
                        return 0;
                }
                l += strlen("AllowedCPUs=");
                char *e = strchr(l, '\n');
                if (e)
                        *e = 0;
                *ret = xstrdup(l);
                return 0;
        }
#if HAVE_SYSTEMD
        sd_bus *bus = NULL;
        sd_bus_error err = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        _cleanup_free_ char *path = NULL, *iface = xasprintf("org.freedesktop.systemd1.%s", unit_section(unit));
        const void *bytes;
        size_t n;
        int r;

        r = sd_bus_open_system(&bus);
        if (r >= 0)
                r = bus_unit_path(bus, unit, &path);
        if (r >= 0)
                r = sd_bus_get_property(bus, "org.freedesktop.systemd1", path, iface, "AllowedCPUs", &err, &reply, "ay");
        if (r >= 0)
                r = sd_bus_message_read_array(reply, 'y', &bytes, &n);
        if (r >= 0) {
                CpuSet s = {};
                for (size_t i = 0; i < n * 8; i++)
                        if (((const unsigned char *) bytes)[i / 8] & (1u << (i % 8)))
                                (void) cpuset_add(&s, (unsigned) i);
                *ret = cpuset_format_list(&s);
                cpuset_free(&s);
        }
        sd_bus_message_unref(reply);
        sd_bus_error_free(&err);
        sd_bus_flush_close_unref(bus);
        return r;
#else
        return -EOPNOTSUPP;
#endif
}

static int unit_write(const Host *h, const char *unit, const char *value, char **ret_detail) {
        CpuSet cpus = {};
        int r = cpuset_parse_list(value, &cpus);

        if (r < 0)
                return r;
        if (!h->real_root) {
                /* What systemd itself leaves for a runtime property: a drop-in
                 * in /run/systemd/system.control, and the cgroup's file. */
                _cleanup_free_ char *path = dropin_path(unit), *dir = parent_of(path);
                _cleanup_free_ char *cg = h->cg.v2_mount ? xasprintf("%s/%s/cpuset.cpus", h->cg.v2_mount, unit) : NULL;

                if (value[0]) {
                        const char *parts[] = { "/run", "/run/systemd", "/run/systemd/system.control", dir };
                        for (size_t i = 0; i < ELEMENTSOF(parts); i++)
                                if (!is_dir(h->root_fd, parts[i]) && (r = mkdir_in_root(h, parts[i])) < 0)
                                        goto out;
                        _cleanup_free_ char *content = xasprintf(
                                "# This is a drop-in unit file extension, created via \"systemctl set-property\"\n"
                                "# or an equivalent operation. Do not edit.\n[%s]\nAllowedCPUs=%s\n",
                                unit_section(unit), value);
                        r = write_new_file(h, path, content);
                } else {
                        r = unlink_in_root(h, path, 0);
                        if (r == -ENOENT)
                                r = 0;
                        const char *parts[] = { dir, "/run/systemd/system.control", "/run/systemd", "/run" };
                        for (size_t i = 0; i < ELEMENTSOF(parts) && r >= 0; i++)
                                if (unlink_in_root(h, parts[i], AT_REMOVEDIR) < 0)
                                        break; /* not empty: stop */
                }
                if (r >= 0 && cg && path_exists(h->root_fd, cg))
                        r = write_attr(h->root_fd, cg, value);
                goto out;
        }
#if HAVE_SYSTEMD
        {
                sd_bus *bus = NULL;
                sd_bus_message *m = NULL, *reply = NULL;
                sd_bus_error err = SD_BUS_ERROR_NULL;
                int last = cpuset_last(&cpus);
                size_t nbytes = last < 0 ? 0 : (size_t) last / 8 + 1;
                _cleanup_free_ unsigned char *bytes = xcalloc(nbytes + 1, 1);

                CPUSET_FOREACH(c, &cpus)
                        bytes[c / 8] |= (unsigned char) (1u << (c % 8));
                r = sd_bus_open_system(&bus);
                if (r >= 0)
                        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                                           "org.freedesktop.systemd1.Manager", "SetUnitProperties");
                if (r >= 0)
                        r = sd_bus_message_append(m, "sb", unit, 1);
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "(sv)");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'r', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "AllowedCPUs");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', "ay");
                if (r >= 0)
                        r = sd_bus_message_append_array(m, 'y', bytes, nbytes);
                for (int i = 0; i < 3 && r >= 0; i++)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_call(bus, m, 0, &err, &reply);
                if (r < 0 && sd_bus_error_is_set(&err))
                        *ret_detail = xasprintf("systemd SetUnitProperties(%s, AllowedCPUs=%s): %s", unit, value, err.message);
                sd_bus_message_unref(m);
                sd_bus_message_unref(reply);
                sd_bus_error_free(&err);
                sd_bus_flush_close_unref(bus);
        }
#else
        r = -EOPNOTSUPP;
#endif
out:
        cpuset_free(&cpus);
        return r;
}

/* ---- libvirt --------------------------------------------------------- */

static int pin_read(const Change *c, char **ret) {
        DomainPins d = {};
        _cleanup_free_ char *err = NULL;
        int r = libvirt_observe(c->uri, c->domain, &d, &err);

        if (r < 0)
                return r;
        if (!d.running)
                r = -ESRCH;
        else if (c->pin == PIN_VCPU && c->pin_id < d.n_vcpu)
                *ret = cpuset_format_list(&d.vcpu[c->pin_id]);
        else if (c->pin == PIN_EMULATOR && d.has_emulator)
                *ret = cpuset_format_list(&d.emulator);
        else if (c->pin == PIN_IOTHREAD) {
                r = -ENOENT;
                for (size_t i = 0; i < d.n_iothread; i++)
                        if (d.iothread_ids[i] == c->pin_id) {
                                *ret = cpuset_format_list(&d.iothread[i]);
                                r = 0;
                        }
        } else
                r = -ENOENT;
        domain_pins_free(&d);
        return r;
}

/* ---- the two entry points -------------------------------------------- */

int parse_libvirt_target(const char *target, Change *c) {
        /* libvirt:DOMAIN/vcpuN | emulator | iothreadN */
        const char *d = target + strlen("libvirt:"), *slash = strrchr(d, '/');

        if (!slash)
                return -EINVAL;
        c->domain = xstrndup(d, (size_t) (slash - d));
        if (startswith(slash + 1, "vcpu")) {
                c->pin = PIN_VCPU;
                c->pin_id = (unsigned) atoi(slash + 5);
        } else if (startswith(slash + 1, "iothread")) {
                c->pin = PIN_IOTHREAD;
                c->pin_id = (unsigned) atoi(slash + 9);
        } else
                c->pin = PIN_EMULATOR;
        return 0;
}

int kernel_read(const Host *h, ChangeOp op, const char *target, const char *ident, char **ret) {
        char *s = NULL;
        int r;

        switch (op) {
        case OP_WRITE:
        case OP_SUBTREE:
                if (streq(target, "/sys/devices/virtual/workqueue/cpumask") && h->has_wq_requested)
                        target = "/sys/devices/virtual/workqueue/cpumask_requested";
                r = read_attr(h->root_fd, target, &s);
                if (r >= 0) {
                        char *t = strstrip(s);
                        memmove(s, t, strlen(t) + 1);
                        *ret = s;
                } else if (errno_is_absent(r)) {
                        *ret = xstrdup("");
                        r = 0;
                }
                return r;
        case OP_MKDIR:
                *ret = xstrdup(is_dir(h->root_fd, target) ? "(created)" : "(absent)");
                return 0;
        case OP_AFFINITY: {
                int pid = atoi(target + strlen("/proc/"));
                unsigned long long now, start = ident && ident[0] ? strtoull(ident, NULL, 10) : 0;
                r = task_start_time(h, pid, &now);
                if (r < 0)
                        return r;
                if (start && now != start)
                        return -ESRCH;
                return read_affinity(h, pid, ret);
        }
        case OP_UNIT: {
                _cleanup_free_ char *unit = unit_of(target);
                return unit_read(h, unit, ret);
        }
        case OP_MOVE_TASKS: {
                /* target is DEST/tasks: "(N tasks)" says how many are there */
                _cleanup_free_ int *ids = NULL;
                size_t n;
                read_ids(h, target, &ids, &n);
                *ret = xasprintf("%zu tasks", n);
                return 0;
        }
        case OP_LIBVIRT_PIN: {
                Change c = { .uri = (char *) ident };
                r = parse_libvirt_target(target, &c);
                if (r >= 0)
                        r = pin_read(&c, ret);
                free(c.domain);
                return r;
        }
        }
        return -EINVAL;
}

static int move_all(const Host *h, const char *src_dir, const char *dst_dir, const int *pids, size_t n_pids,
                    char **ret_detail) {
        const char *list = is_v1_path(h, dst_dir) ? "tasks" : "cgroup.procs";
        _cleanup_free_ char *src_file = xasprintf("%s/%s", src_dir, list);
        _cleanup_free_ char *dst_file = xasprintf("%s/%s", dst_dir, list);
        _cleanup_free_ int *all = NULL;
        size_t n_all, moved = 0, gone = 0, refused = 0;
        int first_err = 0;

        if (!pids) {
                read_ids(h, src_file, &all, &n_all);
                pids = all;
                n_pids = n_all;
        }
        /* One TID per write: the kernel takes one at a time, and a task that
         * exited meanwhile (ESRCH) is no error. */
        for (size_t i = 0; i < n_pids; i++) {
                char id[32];
                int r;

                snprintf(id, sizeof id, "%d", pids[i]);
                r = h->real_root ? write_attr(h->root_fd, dst_file, id) : fixture_move(h, src_dir, dst_dir, pids[i]);
                if (r >= 0)
                        moved++;
                else if (r == -ESRCH)
                        gone++;
                else {
                        refused++;
                        if (!first_err)
                                first_err = r;
                }
        }
        if (refused)
                *ret_detail = xasprintf("%zu of %zu tasks could not be moved to %s (first error: %s)", refused,
                                        n_pids, dst_file, strerror(-first_err));
        (void) moved;
        (void) gone;
        return 0;
}

int kernel_apply(const Host *h, const Change *c, const char *value, char **ret_detail) {
        switch (c->op) {
        case OP_WRITE:
                if (!h->real_root && startswith(c->target, "/proc/irq/") && ends_with(c->target, "/smp_affinity_list")) {
                        int irq = atoi(c->target + strlen("/proc/irq/"));
                        for (size_t i = 0; i < h->n_irqs; i++)
                                if (h->irqs[i].number == (unsigned) irq && (h->irqs[i].managed || h->irqs[i].per_cpu ||
                                                                            h->irqs[i].no_balancing))
                                        return -EIO; /* what the kernel answers */
                        int r = write_attr(h->root_fd, c->target, value);
                        _cleanup_free_ char *mask_file = xasprintf("/proc/irq/%d/smp_affinity", irq);
                        if (r >= 0 && path_exists(h->root_fd, mask_file)) {
                                CpuSet s = {};
                                if (cpuset_parse_list(value, &s) >= 0) {
                                        _cleanup_free_ char *m = cpuset_format_mask(&s, h->nr_cpu_ids);
                                        r = write_attr(h->root_fd, mask_file, m);
                                }
                                cpuset_free(&s);
                        }
                        return r;
                }
                if (!h->real_root && streq(c->target, "/sys/devices/virtual/workqueue/cpumask") && h->has_wq_requested) {
                        /* the kernel keeps the request and shows request minus isolated CPUs */
                        int r = write_attr(h->root_fd, "/sys/devices/virtual/workqueue/cpumask_requested", value);
                        if (r < 0)
                                return r;
                }
                return write_attr(h->root_fd, c->target, value);
        case OP_SUBTREE: {
                bool enable = strstr(value, "cpuset") != NULL;
                if (!h->real_root)
                        return fixture_subtree(h, c->target, enable);
                return write_attr(h->root_fd, c->target, enable ? "+cpuset" : "-cpuset");
        }
        case OP_MKDIR:
                if (streq(value, "(created)"))
                        return h->real_root ? mkdir_in_root(h, c->target) : fixture_mkdir_cgroup(h, c->target);
                else {
                        /* Give the tasks still inside back to the parent first. */
                        _cleanup_free_ char *parent = parent_of(c->target);
                        int r = move_all(h, c->target, parent, NULL, 0, ret_detail);
                        if (r < 0)
                                return r;
                        return h->real_root ? unlink_in_root(h, c->target, AT_REMOVEDIR) : fixture_rmdir_cgroup(h, c->target);
                }
        case OP_AFFINITY:
                return set_affinity(h, c->pid, c->start_time, value);
        case OP_UNIT: {
                _cleanup_free_ char *unit = c->unit ? xstrdup(c->unit) : unit_of(c->target);
                return unit_write(h, unit, value, ret_detail);
        }
        case OP_MOVE_TASKS: {
                /* target DEST/tasks; value: the cgroup the tasks go to */
                _cleanup_free_ char *dest = parent_of(c->target);
                if (streq(value, dest))
                        return move_all(h, c->from ? c->from : "", dest, c->pids, c->n_pids, ret_detail);
                /* back: every task of DEST returns to value */
                return move_all(h, dest, value, NULL, 0, ret_detail);
        }
        case OP_LIBVIRT_PIN:
                return libvirt_pin(c->uri, c->domain, c->pin, c->pin_id, value, ret_detail);
        }
        return -EINVAL;
}
