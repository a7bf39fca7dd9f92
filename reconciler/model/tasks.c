/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tasks as procfs shows them: /proc/PID/stat, status and cgroup of every
 * process and thread, and the one parser of each of those files. */
#include <stdio.h>

#include "fs.h"
#include "host.h"

static void index_tasks(Host *h);

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
        t->start_time = f[22 - 4];
        if (n > 41 - 4)
                t->rt_priority = (int) f[40 - 4];
        if (n > 42 - 4)
                t->policy = (int) f[41 - 4];
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

static void load_allowed(Host *h, const char *dir, Task *t) {
        _cleanup_free_ char *status = NULL, *l = NULL;
        char path[512];

        snprintf(path, sizeof path, "%s/status", dir);
        if (read_small_attr(h->root_fd, path, &status) >= 0 && procfs_allowed_list(status, &l) >= 0)
                (void) cpuset_parse_list(l, &t->allowed);
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
                load_allowed(h, dir, t);
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
                load_allowed(h, dir, &t);
        snprintf(path, sizeof path, "%s/cgroup", dir);
        if (cgroup)
                t.cgroup = xstrdup(cgroup);
        else if (read_small_attr(h->root_fd, path, &cg) >= 0)
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

static int cmp_int(const void *a, const void *b) {
        int x = *(const int *) a, y = *(const int *) b;
        return (x > y) - (x < y);
}

/* The cgroup directory dir and every one below it: their processes. */
static void subtree_pids(Host *h, const char *dir, int **pids, size_t *n) {
        _cleanup_free_ char *procs = xasprintf("%s/cgroup.procs", dir);
        _cleanup_free_ int *ids = NULL;
        StrList subs = {};
        size_t k = 0;

        (void) read_id_list(h->root_fd, procs, &ids, &k); /* a threaded cgroup has none */
        for (size_t i = 0; i < k; i++)
                *(int *) array_push(pids, n, sizeof(int)) = ids[i];
        if (list_subdirs(h->root_fd, dir, &subs) < 0)
                return;
        for (size_t i = 0; i < subs.n; i++) {
                _cleanup_free_ char *sub = xasprintf("%s/%s", dir, subs.v[i]);
                subtree_pids(h, sub, pids, n);
        }
        strlist_free(&subs);
}

void host_load_subtree_procs(Host *h, const char *rel) {
        _cleanup_free_ char *dir = xasprintf("%s/%s", h->cg.v2_mount, rel);
        _cleanup_free_ int *pids = NULL;
        char path[64];
        size_t n = 0;

        subtree_pids(h, dir, &pids, &n);
        if (n > 1)
                qsort(pids, n, sizeof(int), cmp_int);
        for (size_t i = 0; i < n; i++)
                if ((i == 0 || pids[i] != pids[i - 1]) && !host_find_task(h, pids[i])) {
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

char *procfs_task_dir(const Host *h, int pid) {
        const Task *t = host_find_task(h, pid);

        return t && t->tgid != pid ? xasprintf("/proc/%d/task/%d", t->tgid, pid) : xasprintf("/proc/%d", pid);
}
