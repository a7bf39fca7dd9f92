/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tasks as procfs shows them: /proc/PID/stat, status and cgroup of every
 * process and thread, and the one parser of each of those files. */
#include <limits.h>
#include <sched.h>
#include <stdio.h>

#include "fs.h"
#include "host.h"

static void index_tasks(Host *h);
static int task_mask(Host *h, int tid, const char *dir, CpuSet *ret);


/* "pid (comm with spaces) S ppid ..." -> fields after the comm. */
int procfs_parse_stat(const char *stat, Task *t) {
        const char *open = strchr(stat, '('), *close = strrchr(stat, ')');
        unsigned long long f[64] = {};
        char state;
        size_t n = 0;
        const char *p;

        if (!open || !close || close < open)
                return -EINVAL;
        free(t->comm);
        t->comm = xstrndup(open + 1, (size_t) (close - open - 1));
        p = close + 1;
        while (*p == ' ')
                p++;
        state = *p++;
        (void) state;
        /* f[0] is field 4 (ppid). */
        while (*p && n < ELEMENTSOF(f)) {
                char *end;
                while (*p == ' ')
                        p++;
                if (!*p)
                        break;
                f[n++] = strtoull(p, &end, 10);
                if (end == p)
                        break;
                p = end;
        }
        if (n < 19)
                return -EINVAL;
        t->flags = (unsigned) f[9 - 4];
        t->cputime = f[14 - 4] + f[15 - 4];
        t->start_time = f[22 - 4];
        t->last_cpu = n > 39 - 4 ? (int) f[39 - 4] : -1;
        if (n > 41 - 4)
                t->rt_priority = (int) f[40 - 4];
        if (n > 42 - 4)
                t->policy = (int) f[41 - 4];
        return 0;
}

/* "run_ns wait_ns timeslices" (CONFIG_SCHED_INFO, counted with schedstats off). */
int procfs_parse_schedstat(const char *schedstat, TaskSchedstat *ret) {
        unsigned long long run, wait, slices;
        int end = 0;

        if (sscanf(schedstat, "%llu %llu %llu%n", &run, &wait, &slices, &end) != 3)
                return -EINVAL;
        if (schedstat[end] == '\n')
                end++;
        if (schedstat[end])
                return -EINVAL; /* more than the one line of three */
        *ret = (TaskSchedstat) { .run_ns = run, .wait_ns = wait, .timeslices = slices };
        return 0;
}

static char *cgroup_of(const char *content, CgroupMode mode) {
        _cleanup_free_ char *copy = xstrdup(content);
        char *save = NULL;

        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *c1 = strchr(line, ':'), *c2;
                if (!c1 || !(c2 = strchr(c1 + 1, ':')))
                        continue;
                *c2 = 0;
                if (mode == CGROUP_V2 && streq(c1 + 1, ""))
                        return xstrdup(c2 + 1);
                if (mode == CGROUP_V1) {
                        char *save2 = NULL;
                        for (char *ctl = strtok_r(c1 + 1, ",", &save2); ctl; ctl = strtok_r(NULL, ",", &save2))
                                if (streq(ctl, "cpuset"))
                                        return xstrdup(c2 + 1);
                }
        }
        return NULL;
}

/* cgroup v2, only the root cgroup's tasks read: a kernel thread the kernel
 * pins (PF_NO_SETAFFINITY) is never planned, its mask only counted for a
 * report (HOST_REPORT), so without one its status is not read. */
static bool kthread_mask_unneeded(const Host *h, const Task *t) {
        return h->tasks_partial && !(h->loaded & HOST_REPORT) && task_is_kthread(t) && !task_is_movable_kthread(t);
}

void host_load_kthread_masks(Host *h) {
        char dir[64];

        for (size_t i = 0; i < h->n_tasks; i++) {
                Task *t = &h->tasks[i];
                if (!t->allowed_unread)
                        continue;
                snprintf(dir, sizeof dir, "/proc/%d", t->pid); /* a kernel thread: its own process */
                (void) task_mask(h, t->pid, dir, &t->allowed);
                t->allowed_unread = false;
        }
}

/* cgroup: the task's cgroup when known already (the root cgroup's
 * cgroup.procs lists it), else read from procfs. */
static void load_task(Host *h, const char *dir, int tgid, const char *cgroup) {
        _cleanup_free_ char *stat = NULL, *cg = NULL;
        char path[512];
        Task t = {};

        snprintf(path, sizeof path, "%s/stat", dir);
        if (read_small_attr(h->root_fd, path, &stat) < 0 || procfs_parse_stat(stat, &t) < 0) {
                free(t.comm);
                return; /* vanished or unreadable: not ours to report */
        }
        t.pid = atoi(strrchr(dir, '/') + 1);
        t.tgid = tgid;
        if (kthread_mask_unneeded(h, &t))
                t.allowed_unread = true;
        else
                (void) task_mask(h, t.pid, dir, &t.allowed); /* the real kernel: sched_getaffinity, no file */
        /* A kernel thread's cgroup decides nothing (no plan moves one by
         * its cgroup, and a tenant is a user process): not read. */
        snprintf(path, sizeof path, "%s/cgroup", dir);
        if (cgroup)
                t.cgroup = xstrdup(cgroup);
        else if (!task_is_kthread(&t) && read_small_attr(h->root_fd, path, &cg) >= 0)
                t.cgroup = cgroup_of(cg, h->cg.mode);
        *(Task *) array_push(&h->tasks, &h->n_tasks, sizeof(Task)) = t;
}

void host_free_tasks(Host *h) {
        for (size_t i = 0; i < h->n_tasks; i++) {
                free(h->tasks[i].comm);
                free(h->tasks[i].cgroup);
                cpuset_free(&h->tasks[i].allowed);
        }
        free(h->tasks);
        h->tasks = NULL;
        h->n_tasks = 0;
        free(h->task_index);
        h->task_index = NULL;
}

/* One process and its threads; a kernel thread has none besides itself. */
static void load_process(Host *h, int pid, const char *cgroup) {
        StrList tids = {};
        char path[256];
        size_t n = h->n_tasks;

        snprintf(path, sizeof path, "/proc/%d", pid);
        load_task(h, path, pid, cgroup);
        if (h->n_tasks > n && task_is_kthread(&h->tasks[n]))
                return;
        snprintf(path, sizeof path, "/proc/%d/task", pid);
        if (list_numeric(h->root_fd, path, &tids) < 0)
                return;
        for (size_t j = 0; j < tids.n; j++) {
                if (atoi(tids.v[j]) == pid)
                        continue;
                snprintf(path, sizeof path, "/proc/%d/task/%s", pid, tids.v[j]);
                load_task(h, path, pid, NULL);
        }
        strlist_free(&tids);
}

/* The PIDs of the root cgroup's processes, in numeric order. */
static int root_cgroup_pids(Host *h, StrList *ret) {
        _cleanup_free_ char *file = xasprintf("%s/cgroup.procs", h->cg.v2_mount), *s = NULL;
        char *save = NULL;
        int r = read_attr(h->root_fd, file, &s);

        if (r < 0)
                return r;
        for (char *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                unsigned v;
                if (safe_atou(l, &v) >= 0)
                        strlist_add(ret, l);
        }
        return 0;
}

/* "/proc/TID" of a process, "/proc/TGID/task/TID" of a thread. */
static void task_dir(char *buf, size_t size, int tgid, int tid) {
        if (tgid > 0 && tgid != tid)
                snprintf(buf, size, "/proc/%d/task/%d", tgid, tid);
        else
                snprintf(buf, size, "/proc/%d", tid);
}

int procfs_read_thread_file(const Host *h, int tgid, int tid, const char *name, char **ret) {
        char dir[64];
        _cleanup_free_ char *path = xasprintf("/proc/%d/task/%d/%s", tgid, tid, name);
        int r = read_small_attr(h->root_fd, path, ret);

        if (!errno_is_absent(r) || tgid != tid)
                return r;
        task_dir(dir, sizeof dir, tgid, tid);
        free(path);
        path = xasprintf("%s/%s", dir, name);
        return read_small_attr(h->root_fd, path, ret);
}

/* The real kernel: the thread group /proc/TID/status names (any TID has
 * one there), or the TID itself where it cannot say. */
static int status_tgid(const Host *h, int tid) {
        _cleanup_free_ char *status = NULL;
        const char *line;
        char path[64];
        int tgid = 0;

        snprintf(path, sizeof path, "/proc/%d/status", tid);
        if (read_small_attr(h->root_fd, path, &status) >= 0 && (line = strstr(status, "\nTgid:")))
                tgid = atoi(line + strlen("\nTgid:"));
        return tgid > 0 ? tgid : tid;
}

/* Every kernel thread but kthreadd is a child of kthreadd (PID 2), and
 * /proc/2/task/2/children lists them in one read (CONFIG_PROC_CHILDREN,
 * on in Debian's kernels). Sorted PIDs, or -ENOENT where it cannot say. */
static int kthread_pids(Host *h, int **ret, size_t *ret_n) {
        _cleanup_free_ char *s = NULL;
        int *v = NULL;
        size_t n = 0;
        char *save = NULL;
        int r = read_attr(h->root_fd, "/proc/2/task/2/children", &s);

        if (r < 0)
                return r;
        *(int *) array_push(&v, &n, sizeof(int)) = 2;
        for (char *tok = strtok_r(s, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
                unsigned pid;
                if (safe_atou(tok, &pid) >= 0 && pid > 2 && pid <= INT_MAX)
                        *(int *) array_push(&v, &n, sizeof(int)) = (int) pid;
        }
        qsort(v, n, sizeof(int), cmp_int);
        *ret = v;
        *ret_n = n;
        return 0;
}

/* The kernel threads in full, from kthreadd's children (their PIDs in
 * *ret, sorted): on cgroup v1 with no VM active all a run needs (restores
 * read their own items). -ENOENT where kthreadd does not say. */
static int load_kthreads(Host *h, int **ret, size_t *ret_n) {
        _cleanup_free_ int *k = NULL;
        size_t n;
        char path[64];
        int r = kthread_pids(h, &k, &n);

        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                snprintf(path, sizeof path, "/proc/%d", k[i]);
                load_task(h, path, k[i], NULL);
        }
        h->tasks_partial = true;
        if (ret) {
                *ret = TAKE_PTR(k);
                *ret_n = n;
        }
        return 0;
}

/* A task's own CPU mask: the real kernel answers sched_getaffinity for any
 * TID (one syscall, no file); below --root a tree has the status file of a
 * process at /proc/PID and of a thread at /proc/TGID/task/TID. */
static int task_mask(Host *h, int tid, const char *dir, CpuSet *ret) {
        _cleanup_free_ char *status = NULL, *l = NULL;
        char path[128];

        if (h->real_root) {
                /* as wide as the kernel's masks (nr_cpu_ids), a word at a time */
                unsigned long words[CPUSET_MAX_CPUS / (8 * sizeof(unsigned long))];
                size_t bits = 8 * sizeof(unsigned long), n = (h->nr_cpu_ids + bits - 1) / bits;

                if (n == 0 || n > ELEMENTSOF(words))
                        n = ELEMENTSOF(words);
                if (sched_getaffinity(tid, n * sizeof(unsigned long), (cpu_set_t *) words) < 0) {
                        if (errno != EINVAL || n == ELEMENTSOF(words))
                                return -errno;
                        n = ELEMENTSOF(words); /* narrower than the kernel's: ask with room for all */
                        if (sched_getaffinity(tid, sizeof words, (cpu_set_t *) words) < 0)
                                return -errno;
                }
                for (size_t w = 0; w < n; w++)
                        for (unsigned long m = words[w]; m; m &= m - 1)
                                (void) cpuset_add(ret, (unsigned) (w * bits + (size_t) __builtin_ctzl(m)));
                return 0;
        }
        snprintf(path, sizeof path, "%s/status", dir);
        if (read_small_attr(h->root_fd, path, &status) < 0 || procfs_allowed_list(status, &l) < 0)
                return -ESRCH;
        return cpuset_parse_list(l, ret);
}

static int cmp_thread_group(const void *a, const void *b) {
        return cmp_int(&((const ThreadGroup *) a)->tid, &((const ThreadGroup *) b)->tid);
}

void procfs_thread_groups(int root_fd, ThreadGroup **ret, size_t *ret_n) {
        StrList procs = {};
        ThreadGroup *v = NULL;
        size_t n = 0;

        if (list_numeric(root_fd, "/proc", &procs) >= 0)
                for (size_t i = 0; i < procs.n; i++) {
                        StrList tids = {};
                        char path[64];
                        snprintf(path, sizeof path, "/proc/%s/task", procs.v[i]);
                        if (list_numeric(root_fd, path, &tids) < 0)
                                continue;
                        for (size_t j = 0; j < tids.n; j++)
                                *(ThreadGroup *) array_push(&v, &n, sizeof(ThreadGroup)) =
                                        (ThreadGroup) { atoi(tids.v[j]), atoi(procs.v[i]) };
                        strlist_free(&tids);
                }
        strlist_free(&procs);
        if (n > 1)
                qsort(v, n, sizeof(ThreadGroup), cmp_thread_group);
        *ret = v;
        *ret_n = n;
}

int procfs_tgid_of(int tid, const ThreadGroup *v, size_t n) {
        ThreadGroup key = { .tid = tid };
        const ThreadGroup *g = n ? bsearch(&key, v, n, sizeof(ThreadGroup), cmp_thread_group) : NULL;

        return g ? g->tgid : tid;
}

static int tree_tgid(const Host *h, int tid);

/* One user TID: its mask only (one sched_getaffinity on the real kernel),
 * or in full where the mask is narrower than the host (named and
 * journaled by the tasks step: few). tgid 0: not known yet. cgroup: "/"
 * for the v1 root set, NULL to read it where it matters. */
static void add_masked(Host *h, int tid, int tgid, const char *cgroup) {
        Task t = { .pid = tid, .tgid = tgid };
        char dir[96];

        task_dir(dir, sizeof dir, tgid, tid);
        if (task_mask(h, tid, dir, &t.allowed) < 0) {
                cpuset_free(&t.allowed);
                return; /* gone */
        }
        if (cpuset_is_subset(&h->online, &t.allowed)) {
                t.cgroup = cgroup ? xstrdup(cgroup) : NULL;
                *(Task *) array_push(&h->tasks, &h->n_tasks, sizeof(Task)) = t;
                return;
        }
        cpuset_free(&t.allowed);
        if (tgid <= 0) {
                tgid = status_tgid(h, tid); /* the real kernel */
                task_dir(dir, sizeof dir, tgid, tid);
        }
        load_task(h, dir, tgid, cgroup);
}

/* With a VM active, where the kernel forgets a task's own mask when its
 * cpuset narrows it (6.1) or the v1 move narrows it: every user task's
 * mask, in full only the few narrower than the host (add_masked), so the
 * cost per host thread is one sched_getaffinity and a shield costs about
 * what its writes cost. On v1 the tasks are the root set's (what the
 * cgroup step moves: cgroup "/"), on v2 every process's threads. Kernel
 * threads in full, from kthreadd's children, or kept from HOST_KTHREADS.
 * -ENOENT when kthreadd's children cannot be read (then everything is). */
static int load_task_masks(Host *h, bool keep) {
        _cleanup_free_ int *ids = NULL, *k = NULL;
        size_t n = 0, nk;
        char dir[64];
        int r;

        /* v1: the root set first: a kernel thread born between the two
         * reads is then in kthreadd's list, never taken for a user task */
        if (h->cg.mode == CGROUP_V1) {
                _cleanup_free_ char *file = xasprintf("%s/tasks", h->cg.v1_cpuset_mount);
                if ((r = read_id_list(h->root_fd, file, &ids, &n)) < 0)
                        return r;
        }
        if (keep) {
                /* read already (kernel threads; on v2 the root cgroup's tasks) */
                nk = h->n_tasks;
                k = xcalloc(nk + 1, sizeof(int));
                for (size_t i = 0; i < nk; i++)
                        k[i] = h->tasks[i].pid;
                qsort(k, nk, sizeof(int), cmp_int);
        } else if ((r = load_kthreads(h, &k, &nk)) < 0)
                return r;
        if (h->cg.mode == CGROUP_V1) {
                for (size_t i = 0; i < n; i++)
                        if (ids[i] > 0 && !sorted_has_int(k, nk, ids[i]))
                                add_masked(h, ids[i], h->real_root ? 0 : tree_tgid(h, ids[i]), "/");
        } else {
                StrList procs = {};
                if (list_numeric(h->root_fd, "/proc", &procs) < 0)
                        return -ENOENT;
                for (size_t i = 0; i < procs.n; i++) {
                        int pid = atoi(procs.v[i]);
                        StrList tids = {};
                        if (pid <= 0 || sorted_has_int(k, nk, pid))
                                continue;
                        snprintf(dir, sizeof dir, "/proc/%d/task", pid);
                        if (list_numeric(h->root_fd, dir, &tids) < 0)
                                strlist_add(&tids, procs.v[i]); /* a tree's single-threaded process */
                        for (size_t j = 0; j < tids.n; j++)
                                add_masked(h, atoi(tids.v[j]), pid, NULL);
                        strlist_free(&tids);
                }
                strlist_free(&procs);
        }
        h->tasks_partial = true;
        return 0;
}

void host_load_tids(Host *h, const int *tids, size_t n) {
        _cleanup_free_ int *tgids = xcalloc(n + 1, sizeof(int));
        char dir[64];
        bool added = false;

        /* looked up first: loading moves the tasks the index points to */
        for (size_t i = 0; i < n; i++)
                tgids[i] = tids[i] > 0 && !host_find_task(h, tids[i]) ? procfs_tgid(h, tids[i]) : 0;
        for (size_t i = 0; i < n; i++) {
                if (tgids[i] <= 0)
                        continue;
                task_dir(dir, sizeof dir, tgids[i], tids[i]);
                load_task(h, dir, tgids[i], NULL);
                added = true;
        }
        if (added)
                index_tasks(h);
}

void host_load_v1_kthreads(Host *h) {
        host_free_tasks(h);
        h->tasks_partial = false;
        if (h->cg.mode == CGROUP_V1 && load_kthreads(h, NULL, NULL) >= 0) {
                index_tasks(h);
                return;
        }
        host_load_tasks(h, false);
}

void host_load_task_masks(Host *h) {
        /* what HOST_KTHREADS read stays (kernel threads; v2: the root cgroup's) */
        bool keep = h->tasks_partial && h->n_tasks > 0 && (h->loaded & HOST_KTHREADS);

        if (!keep)
                host_free_tasks(h);
        h->tasks_partial = false;
        if (h->cg.mode != CGROUP_NONE && load_task_masks(h, keep) >= 0) {
                index_tasks(h);
                return;
        }
        host_load_tasks(h, false);
}

void host_load_tasks(Host *h, bool only_root) {
        StrList pids = {};

        host_free_tasks(h);
        h->tasks_partial = false;
        if (only_root && h->cg.v2_mount && root_cgroup_pids(h, &pids) >= 0)
                h->tasks_partial = true;
        else if (list_numeric(h->root_fd, "/proc", &pids) < 0)
                return;
        /* The root cgroup's tasks are in "/" (v2's path), no need to ask each. */
        for (size_t i = 0; i < pids.n; i++)
                load_process(h, atoi(pids.v[i]), h->tasks_partial ? "/" : NULL);
        strlist_free(&pids);
        index_tasks(h);
}


/* The kernel bounds a hierarchy only where cgroup.max.depth says; a walk
 * stops far below anything libvirt or systemd make (4 levels), so that no
 * tree, below --root either, can exhaust the stack. */
#define CGROUP_SUBTREE_DEPTH 256

static void subtree_walk(const Host *h, const char *rel, unsigned depth, StrList *ret) {
        _cleanup_free_ char *dir = xasprintf("%s/%s", h->cg.v2_mount, rel);
        StrList subs = {};

        if (list_subdirs(h->root_fd, dir, &subs) < 0)
                return;
        strlist_add(ret, rel);
        for (size_t i = 0; depth < CGROUP_SUBTREE_DEPTH && i < subs.n; i++) {
                _cleanup_free_ char *sub = xasprintf("%s/%s", rel, subs.v[i]);
                subtree_walk(h, sub, depth + 1, ret);
        }
        strlist_free(&subs);
}

void host_cgroup_subtree(const Host *h, const char *rel, StrList *ret) {
        if (h->cg.v2_mount && rel && rel[0])
                subtree_walk(h, rel, 0, ret);
}

void host_cgroup_tree(const Host *h, StrList *ret) {
        _cleanup_free_ char *psi = NULL;
        StrList top = {};

        if (!h->cg.v2_mount)
                return;
        /* listed for PSI's switch alone: none anywhere when the root has none */
        psi = xasprintf("%s/cgroup.pressure", h->cg.v2_mount);
        if (!path_exists(h->root_fd, psi) || list_subdirs(h->root_fd, h->cg.v2_mount, &top) < 0)
                return;
        for (size_t i = 0; i < top.n; i++)
                subtree_walk(h, top.v[i], 1, ret);
        strlist_free(&top);
}

void host_cgroup_tree_below(const StrList *tree, const char *rel, StrList *ret) {
        size_t n = rel ? strlen(rel) : 0;

        if (!n)
                return;
        for (size_t i = 0; i < tree->n; i++) /* parents first in both */
                if (startswith(tree->v[i], rel) && (tree->v[i][n] == '\0' || tree->v[i][n] == '/'))
                        strlist_add(ret, tree->v[i]);
}

/* The cgroup rel and every one below it: their processes. */
static void subtree_pids(Host *h, const char *rel, int **pids, size_t *n) {
        StrList dirs = {};
        const StrList *tree = &h->cg.partition_tree; /* listed already (HOST_PARTITION_TREE) */

        if (!tree->n || !streq(tree->v[0], rel)) {
                host_cgroup_subtree(h, rel, &dirs);
                tree = &dirs;
        }
        for (size_t d = 0; d < tree->n; d++) {
                _cleanup_free_ char *procs = xasprintf("%s/%s/cgroup.procs", h->cg.v2_mount, tree->v[d]);
                _cleanup_free_ int *ids = NULL;
                size_t k = 0;

                (void) read_id_list(h->root_fd, procs, &ids, &k); /* a threaded cgroup has none */
                for (size_t i = 0; i < k; i++)
                        *(int *) array_push(pids, n, sizeof(int)) = ids[i];
        }
        strlist_free(&dirs);
}

/* Removes the task of this TID (indexes rebuilt by the caller). */
static void drop_task(Host *h, int tid) {
        for (size_t i = 0; i < h->n_tasks; i++)
                if (h->tasks[i].pid == tid) {
                        free(h->tasks[i].comm);
                        free(h->tasks[i].cgroup);
                        cpuset_free(&h->tasks[i].allowed);
                        memmove(&h->tasks[i], &h->tasks[i + 1], (h->n_tasks - i - 1) * sizeof(Task));
                        h->n_tasks--;
                        return;
                }
}

void host_load_subtree_procs(Host *h, const char *rel) {
        _cleanup_free_ int *pids = NULL;
        char path[64];
        size_t n = 0;

        subtree_pids(h, rel, &pids, &n);
        if (n > 1)
                qsort(pids, n, sizeof(int), cmp_int);
        /* Looked up before any is added (adding moves the tasks the index
         * points to); one read with only its mask (HOST_TASK_MASKS) is
         * dropped and read again in full. */
        size_t m = 0, nd = 0;
        _cleanup_free_ int *drops = xcalloc(n + 1, sizeof(int));
        for (size_t i = 0; i < n; i++) {
                const Task *t;
                if (i > 0 && pids[i] == pids[i - 1])
                        continue;
                t = host_find_task(h, pids[i]);
                if (t && t->comm)
                        continue;
                if (t)
                        drops[nd++] = pids[i];
                pids[m++] = pids[i];
        }
        for (size_t i = 0; i < nd; i++)
                drop_task(h, drops[i]);
        for (size_t i = 0; i < m; i++) {
                snprintf(path, sizeof path, "/proc/%d", pids[i]);
                load_task(h, path, pids[i], NULL);
        }
        index_tasks(h);
}

bool task_is_kthread(const Task *t) {
        return t->flags & PF_KTHREAD;
}

bool task_is_movable_kthread(const Task *t) {
        return (t->flags & PF_KTHREAD) && !(t->flags & PF_NO_SETAFFINITY);
}

static int cmp_task_pid(const void *a, const void *b) {
        const Task *x = *(const Task *const *) a, *y = *(const Task *const *) b;
        return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Tasks by PID for host_find_task: a sorted index, built once. */
static void index_tasks(Host *h) {
        free(h->task_index);
        h->task_index = xcalloc(h->n_tasks + 1, sizeof(Task *));
        for (size_t i = 0; i < h->n_tasks; i++)
                h->task_index[i] = &h->tasks[i];
        qsort(h->task_index, h->n_tasks, sizeof(Task *), cmp_task_pid);
}

const Task *host_find_task(const Host *h, int pid) {
        Task key = { .pid = pid };
        const Task *kp = &key, *const *found;

        if (!h->task_index)
                return NULL;
        found = bsearch(&kp, h->task_index, h->n_tasks, sizeof(Task *), cmp_task_pid);
        return found ? *found : NULL;
}

int procfs_allowed_list(const char *status, char **ret) {
        const char *l = strstr(status, "Cpus_allowed_list:"), *e;

        if (!l)
                return -EINVAL;
        l += strlen("Cpus_allowed_list:");
        while (*l == ' ' || *l == '\t')
                l++;
        e = strchr(l, '\n');
        *ret = e ? xstrndup(l, (size_t) (e - l)) : xstrdup(l);
        strstrip(*ret);
        return 0;
}

/* Below --root: from the tree's task/ directories, listed once. A tree
 * lists every thread of a multi-threaded process in task/; a
 * single-threaded one has none and is its own group. */
static int tree_tgid(const Host *h, int tid) {
        if (!h->thread_groups)
                return tid;
        if (!h->thread_groups->listed) {
                procfs_thread_groups(h->root_fd, &h->thread_groups->v, &h->thread_groups->n);
                h->thread_groups->listed = true;
        }
        return procfs_tgid_of(tid, h->thread_groups->v, h->thread_groups->n);
}

int procfs_tgid(const Host *h, int tid) {
        const Task *t = host_find_task(h, tid);

        if (t && t->tgid > 0)
                return t->tgid;
        return h->real_root ? status_tgid(h, tid) : tree_tgid(h, tid);
}

char *procfs_task_cgroup(const Host *h, int pid) {
        _cleanup_free_ char *dir = procfs_task_dir(h, pid), *path = xasprintf("%s/cgroup", dir), *content = NULL;

        return read_small_attr(h->root_fd, path, &content) < 0 ? NULL : cgroup_of(content, h->cg.mode);
}

char *procfs_task_dir(const Host *h, int pid) {
        const Task *t = host_find_task(h, pid);
        int tgid = t && t->tgid > 0 ? t->tgid : h->real_root ? pid : procfs_tgid(h, pid);
        char dir[64];

        task_dir(dir, sizeof dir, tgid, pid);
        return xstrdup(dir);
}
