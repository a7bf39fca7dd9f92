/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fixture simulator's cgroup filesystem: what the kernel shows after a
 * controller is enabled, a cgroup is created or removed, a task is moved. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>

#include "backend.h"
#include "build-config.h"
#include "fixture-cgroup.h"
#include "fixture-files.h"
#include "fs.h"

/* The kernel prints an empty controller list as an empty file, not "\n". */
static int write_controllers(const Host *h, const char *path, const char *list) {
        _cleanup_free_ char *content = list[0] ? xasprintf("%s\n", list) : xstrdup("");
        return fixture_write(h, path, content);
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
                        r = fixture_unlink(h, f, 0);
                        if (r < 0 && r != -ENOENT)
                                return r;
                        continue;
                }
                _cleanup_free_ char *content = NULL;
                if (streq(v2_cpuset_files[i], "cpuset.cpus.partition"))
                        content = xstrdup("member\n");
                else if (endswith(v2_cpuset_files[i], ".effective")) {
                        _cleanup_free_ char *pf = xasprintf("%s/%s", parent, v2_cpuset_files[i]), *pv = NULL;
                        content = xasprintf("%s\n", read_attr(h->root_fd, pf, &pv) >= 0 ? pv : "");
                } else
                        content = xstrdup("\n");
                r = fixture_write(h, f, content);
                if (r < 0)
                        return r;
        }
        return 0;
}

int fixture_enable_cpuset(const Host *h, const char *file, bool enable) {
        _cleanup_free_ char *cur = NULL, *next = NULL, *dir = path_parent(file);
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

int fixture_mkdir_cgroup(const Host *h, const char *dir) {
        _cleanup_free_ char *parent = path_parent(dir);
        int r = fixture_mkdir(h, dir);

        if (r < 0)
                return r;
        if (is_v1_path(h, dir)) {
                static const char *const files[][2] = {
                        { "cpuset.cpus", "\n" }, { "cpuset.mems", "\n" }, { "cpuset.cpu_exclusive", "0\n" },
                        { "tasks", "" }, { "cgroup.procs", "" }, { "notify_on_release", "0\n" },
                };
                for (size_t i = 0; i < ELEMENTSOF(files) && r >= 0; i++) {
                        _cleanup_free_ char *f = xasprintf("%s/%s", dir, files[i][0]);
                        r = fixture_write(h, f, files[i][1]);
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
                r = fixture_write(h, f, files[i][1]);
        }
        if (r >= 0) {
                _cleanup_free_ char *f = xasprintf("%s/cgroup.controllers", dir);
                r = write_controllers(h, f, strempty(sc));
        }
        if (r >= 0 && sc && strstr(sc, "cpuset"))
                r = fixture_cpuset_files(h, dir, parent, true);
        /* PSI's switch (6.1+) in every cgroup where the parent has one, on */
        _cleanup_free_ char *ppsi = xasprintf("%s/" CGROUP_PRESSURE, parent);
        if (r >= 0 && path_exists(h->root_fd, ppsi)) {
                _cleanup_free_ char *f = xasprintf("%s/" CGROUP_PRESSURE, dir);
                r = fixture_write(h, f, "1\n");
        }
        return r;
}

/* Whether a cgroup has tasks: the kernel refuses to remove one that has. */
static bool populated(const Host *h, const char *dir) {
        _cleanup_free_ char *f = xasprintf("%s/%s", dir, is_v1_path(h, dir) ? "tasks" : "cgroup.procs");
        _cleanup_free_ int *ids = NULL;
        size_t n = 0;

        return read_id_list(h->root_fd, f, &ids, &n) >= 0 && n > 0;
}

int fixture_rmdir_cgroup(const Host *h, const char *dir) {
        StrList files = {};
        int r;

        if (populated(h, dir))
                return -EBUSY;
        r = list_dir(h->root_fd, dir, &files);
        if (r < 0)
                return r;
        for (size_t i = 0; i < files.n && r >= 0; i++) {
                _cleanup_free_ char *f = xasprintf("%s/%s", dir, files.v[i]);
                if (is_dir(h->root_fd, f))
                        r = -EBUSY; /* a child cgroup: the kernel refuses too */
                else
                        r = fixture_unlink(h, f, 0);
        }
        strlist_free(&files);
        if (r >= 0)
                r = fixture_unlink(h, dir, AT_REMOVEDIR);
        return r;
}

static int write_ids(const Host *h, const char *file, const int *ids, size_t n) {
        size_t cap = n * 12 + 1, len = 0;
        _cleanup_free_ char *buf = xmalloc(cap);

        buf[0] = 0;
        for (size_t i = 0; i < n; i++)
                len += (size_t) snprintf(buf + len, cap - len, "%d\n", ids[i]);
        return fixture_write(h, file, buf);
}


/* Moves one TID from src to dst the way the kernel shows it: both tasks
 * files (kept in numeric order), both cgroup.procs, /proc/TID/cgroup. */
/* v1: the process shows in every cgroup that holds one of its threads;
 * s[0..k) are the TIDs left in the source. */
static int fixture_move_procs(const Host *h, const char *src_dir, const char *dst_dir, int tid, const int *s, size_t k) {
        int r;

        int tgid = procfs_tgid(h, tid);
        _cleanup_free_ char *sp = xasprintf("%s/cgroup.procs", src_dir), *dp = xasprintf("%s/cgroup.procs", dst_dir);
        _cleanup_free_ int *a = NULL, *b = NULL;
        size_t na, nb, m = 0;
        bool still = false;

        /* The process shows in every cgroup that holds one of its threads. */
        for (size_t i = 0; i < k; i++) {
                if (procfs_tgid(h, s[i]) == tgid)
                        still = true;
        }
        (void) read_id_list(h->root_fd, sp, &a, &na);
        (void) read_id_list(h->root_fd, dp, &b, &nb);
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
        return 0;
}

/* Test hook: CPUSHIELD_TEST_FORK_DURING_MOVE=DIR:TID: the first task moved
 * out of DIR in a run leaves a child TID behind in DIR, as a fork between
 * the read of DIR's task list and the parent's move does on a busy host;
 * that child, moved in turn, leaves TID + 1, and so on: FORK_CHAIN
 * children, each born after the pass that could have taken it (builds with
 * -Dtest_hooks=false ignore it). */
#define FORK_CHAIN 3
static int fork_hook(const Host *h, const char *src_dir, int moved) {
        static int born;
        const char *e = HAVE_TEST_HOOKS ? getenv("CPUSHIELD_TEST_FORK_DURING_MOVE") : NULL;
        const char *colon = e ? strrchr(e, ':') : NULL;
        int r = 0, base = colon ? atoi(colon + 1) : 0;

        if (!colon || born == FORK_CHAIN || strlen(src_dir) != (size_t) (colon - e) ||
            strncmp(e, src_dir, strlen(src_dir)) != 0 || (born > 0 && moved != base + born - 1))
                return 0;
        const char *lists[] = { is_v1_path(h, src_dir) ? "tasks" : "cgroup.procs", "cgroup.procs" };
        for (size_t i = 0; i < (is_v1_path(h, src_dir) ? 2u : 1u) && r >= 0; i++) {
                _cleanup_free_ char *f = xasprintf("%s/%s", src_dir, lists[i]);
                _cleanup_free_ int *ids = NULL;
                size_t n = 0;
                (void) read_id_list(h->root_fd, f, &ids, &n);
                ids = xrealloc(ids, (n + 1) * sizeof(int));
                ids[n++] = base + born;
                qsort(ids, n, sizeof(int), cmp_int);
                r = write_ids(h, f, ids, n);
        }
        born++;
        return r;
}

int fixture_move_task(const Host *h, const char *src_dir, const char *dst_dir, int tid) {
        const char *list = is_v1_path(h, dst_dir) ? "tasks" : "cgroup.procs";
        _cleanup_free_ char *sf = xasprintf("%s/%s", src_dir, list), *df = xasprintf("%s/%s", dst_dir, list);
        _cleanup_free_ int *s = NULL, *d = NULL;
        size_t ns, nd, k = 0;
        bool found = false;
        int r;

        (void) read_id_list(h->root_fd, sf, &s, &ns);
        (void) read_id_list(h->root_fd, df, &d, &nd);
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

        if (is_v1_path(h, dst_dir) && (r = fixture_move_procs(h, src_dir, dst_dir, tid, s, k)) < 0)
                return r;

        /* /proc/TID/cgroup: the cpuset line (v1) or the unified one (v2). */
        _cleanup_free_ char *dir = procfs_task_dir(h, tid), *pf = xasprintf("%s/cgroup", dir);
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
                r = fixture_write(h, pf, out);
        }
        if (r >= 0)
                r = fork_hook(h, src_dir, tid);
        return r < 0 ? r : 0;
}

/* The v1 cpuset directory a TID is in, or NULL when its cgroup file does
 * not say. */
static char *v1_cpuset_of(const Host *h, int tid) {
        _cleanup_free_ char *cg = procfs_task_cgroup(h, tid);

        if (!cg)
                return NULL;
        return xasprintf("%s%s", h->cg.v1_cpuset_mount, streq(cg, "/") ? "" : cg);
}

/* v1 cgroup.procs: every thread of the group, from whichever cpuset it is
 * in, as the kernel does (the caller meant only groups wholly in src_dir;
 * a thread elsewhere shows the mistake). */
void fixture_move_processes(const Host *h, const char *src_dir, const char *dst_dir, const int *tgids, size_t n,
                            int *ret_err) {
        for (size_t i = 0; i < n; i++) {
                StrList tids = {};
                char dir[64];
                int r;

                snprintf(dir, sizeof dir, "/proc/%d/task", tgids[i]);
                r = list_numeric(h->root_fd, dir, &tids);
                for (size_t j = 0; r >= 0 && j < tids.n; j++) {
                        _cleanup_free_ char *from = v1_cpuset_of(h, atoi(tids.v[j]));
                        r = fixture_move_task(h, from ? from : src_dir, dst_dir, atoi(tids.v[j]));
                        if (r == -ESRCH)
                                r = 0; /* gone meanwhile */
                }
                strlist_free(&tids);
                ret_err[i] = r < 0 ? r : 0;
        }
}
