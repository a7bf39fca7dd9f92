/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a change means, whatever carries it out: how each op reads its item
 * and which backend operations set it. The backend decides how; this file
 * decides what. */
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "fs.h"
#include "irqbalance.h"

const Backend *backend_select(const Host *h) {
        return backend_crash_wrap(h->real_root ? &backend_kernel : &backend_fixture);
}

/* Every written file is a one-record attribute (sysfs, /proc/irq, a
 * cgroup's cpuset files) except a cgroup's lists of IDs, seq_files read to
 * their end. */
static bool one_record(const char *target) {
        const char *base = strrchr(target, '/');

        base = base ? base + 1 : target;
        return !streq(base, "tasks") && !streq(base, "cgroup.procs") && !streq(base, "cgroup.threads");
}

/* The task's start time, from /proc/PID/stat; -ESRCH if gone. */
static int task_start_time(const Host *h, int pid, unsigned long long *ret) {
        _cleanup_free_ char *dir = procfs_task_dir(h, pid), *path = xasprintf("%s/stat", dir), *stat = NULL;
        Task t = {};
        int r;

        if (read_small_attr(h->root_fd, path, &stat) < 0)
                return -ESRCH;
        r = procfs_parse_stat(stat, &t);
        free(t.comm);
        if (r < 0)
                return r;
        *ret = t.start_time;
        return 0;
}

/* -ESRCH unless pid is still the task started at start (0: any). */
static int task_check(const Host *h, int pid, unsigned long long start) {
        unsigned long long now;
        int r = task_start_time(h, pid, &now);

        if (r < 0)
                return r;
        return start && now != start ? -ESRCH : 0; /* a reused PID is not the task we journaled */
}

static int read_affinity(const Host *h, int pid, char **ret) {
        _cleanup_free_ char *dir = procfs_task_dir(h, pid), *path = xasprintf("%s/status", dir), *status = NULL;

        if (read_small_attr(h->root_fd, path, &status) < 0)
                return -ESRCH;
        return procfs_allowed_list(status, ret);
}

static int read_pin(const Backend *b, const char *uri, const char *target, char **ret) {
        _cleanup_free_ char *domain = NULL, *err = NULL;
        DomainPins d = {};
        PinKind kind;
        unsigned id;
        int r = target_pin(target, &domain, &kind, &id);

        if (r < 0)
                return r;
        r = b->pin_read(uri, domain, &d, &err);
        if (r < 0)
                return r;
        if (!d.running)
                r = -ESRCH;
        else if (kind == PIN_VCPU && id < d.n_vcpu)
                *ret = cpuset_format_list(&d.vcpu[id]);
        else if (kind == PIN_EMULATOR && d.has_emulator)
                *ret = cpuset_format_list(&d.emulator);
        else {
                r = -ENOENT;
                for (size_t i = 0; kind == PIN_IOTHREAD && i < d.n_iothread; i++)
                        if (d.iothread_ids[i] == id) {
                                *ret = cpuset_format_list(&d.iothread[i]);
                                r = 0;
                        }
        }
        domain_pins_free(&d);
        return r;
}

int effect_read(const Backend *b, const Host *h, ChangeOp op, const char *target, const char *ident, char **ret) {
        char *s = NULL;
        int r, pid;

        switch (op) {
        case OP_WRITE:
        case OP_SUBTREE:
                /* 6.6+: cpumask shows the request minus isolated CPUs; the request is what we set */
                if (streq(target, WQ_MASK) && h->has_wq_requested)
                        target = WQ_REQUESTED;
                if (startswith(target, CGROUP2_UNMOUNTED)) {
                        _cleanup_close_ int fd = b->cgroup2_root ? b->cgroup2_root(h) : -ENOENT;
                        r = fd < 0 ? fd : read_small_attr(fd, target + strlen(CGROUP2_UNMOUNTED), &s);
                } else
                        r = one_record(target) ? read_small_attr(h->root_fd, target, &s)
                                               : read_attr(h->root_fd, target, &s);
                if (r >= 0) {
                        char *t = strstrip(s);
                        memmove(s, t, strlen(t) + 1);
                        *ret = s;
                } else if (errno_is_absent(r)) {
                        /* a cgroup's PSI switch is gone with its cgroup (a VM
                         * that stopped): nothing to give back */
                        if (endswith(target, "/" CGROUP_PRESSURE))
                                return -ENOENT;
                        *ret = xstrdup("");
                        r = 0;
                }
                return r;
        case OP_MKDIR:
                *ret = xstrdup(is_dir(h->root_fd, target) ? "(created)" : "(absent)");
                return 0;
        case OP_AFFINITY:
                r = target_task_pid(target, &pid);
                if (r >= 0)
                        r = task_check(h, pid, ident && ident[0] ? strtoull(ident, NULL, 10) : 0);
                return r < 0 ? r : read_affinity(h, pid, ret);
        case OP_UNIT: {
                _cleanup_free_ char *unit = NULL;
                r = target_unit(target, &unit);
                return r < 0 ? r : b->unit_read(h, unit, ret);
        }
        case OP_MOVE_TASKS: {
                /* target is DEST/tasks: "N tasks" says how many are there */
                _cleanup_free_ int *ids = NULL;
                size_t n;
                (void) read_id_list(h->root_fd, target, &ids, &n);
                *ret = xasprintf("%zu tasks", n);
                return 0;
        }
        case OP_LIBVIRT_PIN:
                return read_pin(b, strempty(ident), target, ret);
        case OP_IRQBALANCE:
                /* -ESRCH: irqbalance does not run (nothing to give back);
                 * -ENOENT: it runs without a socket we can reach */
                return streq(target, IRQBALANCE_TARGET) ? b->irqbalance_read(h, ret, &pid) : -EINVAL;
        default:
                return -EINVAL;
        }
}

bool is_v1_path(const Host *h, const char *path) {
        return h->cg.v1_cpuset_mount && startswith(path, h->cg.v1_cpuset_mount);
}

/* cgroup v1: the processes all of whose threads are in pids (sorted), each
 * moved with one write of its TGID, and their TIDs taken out of pids (*n
 * shrinks). A process with a thread elsewhere (another cpuset, or born
 * since the plan) keeps its TIDs in pids: the kernel would move that thread
 * too. Worth it where processes have threads: src's cgroup.procs says how
 * many processes the TIDs belong to, and each candidate costs a listing of
 * its task/ directory instead of a write per thread. */
static void move_whole_processes(const Backend *b, const Host *h, const char *src_dir, const char *dst_dir, int *pids,
                                 size_t *n) {
        _cleanup_free_ char *procs_file = xasprintf("%s/cgroup.procs", src_dir);
        _cleanup_free_ int *procs = NULL, *tgids = NULL, *err = NULL, *tids = NULL;
        _cleanup_free_ size_t *ends = NULL; /* group i's TIDs: tids[ends[i-1]..ends[i]) */
        size_t n_procs = 0, n_tgids = 0, n_ends = 0, n_tids = 0, k = 0;

        if (!b->move_processes || *n < 2 || read_id_list(h->root_fd, procs_file, &procs, &n_procs) < 0)
                return;
        /* the processes whose leader moves; the rest of pids are their
         * other threads: fewer than as many again, and per thread is cheaper */
        for (size_t i = 0; i < n_procs; i++)
                if (sorted_has_int(pids, *n, procs[i]))
                        procs[k++] = procs[i];
        n_procs = k;
        if (n_procs == 0 || *n < 2 * n_procs)
                return;
        for (size_t i = 0; i < n_procs; i++) {
                StrList listed = {};
                char dir[64];
                size_t first = n_tids;
                bool whole = true;

                snprintf(dir, sizeof dir, "/proc/%d/task", procs[i]);
                if (list_numeric(h->root_fd, dir, &listed) >= 0 && listed.n >= 2)
                        for (size_t j = 0; j < listed.n && whole; j++) {
                                int tid = atoi(listed.v[j]);
                                whole = sorted_has_int(pids, *n, tid);
                                *(int *) array_push(&tids, &n_tids, sizeof(int)) = tid;
                        }
                else
                        whole = false;
                strlist_free(&listed);
                if (!whole) {
                        n_tids = first;
                        continue;
                }
                *(int *) array_push(&tgids, &n_tgids, sizeof(int)) = procs[i];
                *(size_t *) array_push(&ends, &n_ends, sizeof(size_t)) = n_tids;
        }
        if (n_tgids == 0)
                return;
        err = xcalloc(n_tgids, sizeof(int));
        b->move_processes(h, src_dir, dst_dir, tgids, n_tgids, err);
        /* the moved groups' TIDs leave pids; a refused group's stay */
        k = 0;
        for (size_t g = 0, from = 0; g < n_tgids; from = ends[g++])
                if (err[g] == 0)
                        for (size_t j = from; j < ends[g]; j++)
                                tids[k++] = tids[j];
        n_tids = k;
        if (n_tids > 1)
                qsort(tids, n_tids, sizeof(int), cmp_int);
        k = 0;
        for (size_t i = 0; i < *n; i++)
                if (!sorted_has_int(tids, n_tids, pids[i]))
                        pids[k++] = pids[i];
        *n = k;
}

/* One TID per write: the kernel takes one at a time, and a task that exited
 * meanwhile (ESRCH) is no error; on v1 whole processes first, one write
 * each (move_whole_processes). pids NULL: every task of src_dir. */
static int move_all(const Backend *b, const Host *h, const char *src_dir, const char *dst_dir, const int *want,
                    size_t n_want, char **ret_detail) {
        const char *list = is_v1_path(h, dst_dir) ? "tasks" : "cgroup.procs";
        _cleanup_free_ char *src_file = xasprintf("%s/%s", src_dir, list);
        _cleanup_free_ char *dst_file = xasprintf("%s/%s", dst_dir, list);
        _cleanup_free_ int *pids = NULL;
        size_t n_pids = 0, n_total, refused = 0;
        int first_err = 0;

        if (!want)
                (void) read_id_list(h->root_fd, src_file, &pids, &n_pids);
        else {
                pids = xcalloc(n_want + 1, sizeof(int));
                memcpy(pids, want, n_want * sizeof(int));
                n_pids = n_want;
        }
        n_total = n_pids;
        if (is_v1_path(h, dst_dir) && is_v1_path(h, src_dir)) {
                if (n_pids > 1)
                        qsort(pids, n_pids, sizeof(int), cmp_int);
                move_whole_processes(b, h, src_dir, dst_dir, pids, &n_pids);
        }
        if (b->move_tasks)
                b->move_tasks(h, src_dir, dst_dir, pids, n_pids, &refused, &first_err);
        else
                for (size_t i = 0; i < n_pids; i++) {
                        int r = b->move_task(h, src_dir, dst_dir, pids[i]);
                        if (r < 0 && r != -ESRCH) {
                                refused++;
                                if (!first_err)
                                        first_err = r;
                        }
                }
        if (refused)
                *ret_detail = xasprintf("%zu of %zu tasks could not be moved to %s (first error: %s)", refused,
                                        n_total, dst_file, strerror(-first_err));
        return 0;
}

/* Rounds of moving the tasks left in a cgroup out before its rmdir, and of
 * moving the user tasks born in the root set while it was emptied. */
#define RMDIR_ROUNDS 20
#define BORN_ROUNDS 20

/* A user task the host read did not list: born since (a fork by a task not
 * moved yet, or after the read). A new kernel thread stays: v1 cannot
 * attach the per-CPU ones, and the kthread module places the others. */
static bool born_user_task(const Host *h, int tid) {
        _cleanup_free_ char *dir = NULL, *path = NULL, *stat = NULL;
        Task t = {};
        bool user;

        if (host_find_task(h, tid))
                return false;
        dir = procfs_task_dir(h, tid);
        path = xasprintf("%s/stat", dir);
        if (read_small_attr(h->root_fd, path, &stat) < 0 || procfs_parse_stat(stat, &t) < 0) {
                free(t.comm);
                return false; /* gone already */
        }
        user = !task_is_kthread(&t);
        free(t.comm);
        return user;
}

/* cgroup v1, after the root set's user tasks moved to the host set: a
 * child forked by one of them before it moved was born in the root set,
 * on every CPU, the VMs' included, until the next run (seen beside a
 * forking loop in the 6.1 guest). Each round moves those born since the
 * last, so a chain of forks is followed until none is left. */
static void move_born(const Backend *b, const Host *h, const char *src_dir, const char *dst_dir, char **ret_detail) {
        _cleanup_free_ char *src_file = xasprintf("%s/tasks", src_dir);
        _cleanup_free_ int *tried = NULL;
        size_t n_tried = 0;

        for (unsigned round = 0; round < BORN_ROUNDS; round++) {
                _cleanup_free_ int *ids = NULL;
                _cleanup_free_ char *detail = NULL;
                size_t n = 0, k = 0;

                if (read_id_list(h->root_fd, src_file, &ids, &n) < 0)
                        return;
                for (size_t i = 0; i < n; i++) {
                        bool seen = false;
                        for (size_t j = 0; j < n_tried && !seen; j++)
                                seen = tried[j] == ids[i];
                        if (!seen && born_user_task(h, ids[i]))
                                ids[k++] = ids[i];
                }
                if (k == 0)
                        return;
                tried = xrealloc(tried, (n_tried + k) * sizeof(int));
                memcpy(tried + n_tried, ids, k * sizeof(int));
                n_tried += k;
                (void) move_all(b, h, src_dir, dst_dir, ids, k, &detail);
                if (detail && !*ret_detail)
                        *ret_detail = TAKE_PTR(detail);
        }
}

static int apply_mkdir(const Backend *b, const Host *h, const Change *c, const char *value, char **ret_detail) {
        _cleanup_free_ char *parent = NULL;
        int r;

        if (streq(value, "(created)"))
                return b->mkdir_cgroup(h, c->target);
        /* Give the tasks still inside back to the parent first. A task
         * forked meanwhile by one not moved yet is born inside, and rmdir
         * then fails with EBUSY: on a busy host (a shell loop, a build)
         * that was most reverts of a cgroup v1 host set. So again with the
         * tasks that are left, each round taking the children of the last. */
        parent = path_parent(c->target);
        for (unsigned round = 1;; round++) {
                free(*ret_detail);
                *ret_detail = NULL;
                r = move_all(b, h, c->target, parent, NULL, 0, ret_detail);
                if (r < 0)
                        return r;
                r = b->rmdir_cgroup(h, c->target);
                if (r != -EBUSY || round == RMDIR_ROUNDS)
                        return r;
        }
}

static int apply_affinity(const Backend *b, const Host *h, const Change *c, const char *value) {
        CpuSet cpus = {};
        int pid, r = target_task_pid(c->target, &pid);

        if (r >= 0)
                r = task_check(h, pid, c->start_time);
        if (r >= 0)
                r = cpuset_parse_list(value, &cpus);
        if (r >= 0)
                r = b->set_affinity(h, pid, &cpus);
        cpuset_free(&cpus);
        return r;
}

static int apply_unit(const Backend *b, const Host *h, const Change *c, const char *value, char **ret_detail) {
        _cleanup_free_ char *unit = NULL;
        CpuSet cpus = {};
        int r = target_unit(c->target, &unit);

        if (r >= 0)
                r = cpuset_parse_list(value, &cpus);
        if (r >= 0)
                r = b->unit_write(h, unit, &cpus, value, ret_detail);
        cpuset_free(&cpus);
        return r;
}

static int apply_pin(const Backend *b, const Change *c, const char *value, char **ret_detail) {
        _cleanup_free_ char *domain = NULL;
        PinKind kind;
        unsigned id;
        int r = target_pin(c->target, &domain, &kind, &id);

        return r < 0 ? r : b->pin_write(strempty(c->uri), domain, kind, id, value, ret_detail);
}

int effect_apply(const Backend *b, const Host *h, const Change *c, const char *value, char **ret_detail) {
        _cleanup_free_ char *dest = NULL;

        switch (c->op) {
        case OP_WRITE:
                return b->write_file(h, c->target, value);
        case OP_SUBTREE:
                return b->enable_cpuset(h, c->target, strstr(value, "cpuset") != NULL);
        case OP_MKDIR:
                return apply_mkdir(b, h, c, value, ret_detail);
        case OP_AFFINITY:
                return apply_affinity(b, h, c, value);
        case OP_UNIT:
                return apply_unit(b, h, c, value, ret_detail);
        case OP_MOVE_TASKS:
                /* target DEST/tasks; value: the cgroup the tasks go to */
                dest = path_parent(c->target);
                if (streq(value, dest)) {
                        int r = move_all(b, h, c->from ? c->from : "", dest, c->pids, c->n_pids, ret_detail);
                        if (r >= 0 && c->from && is_v1_path(h, dest) && is_v1_path(h, c->from))
                                move_born(b, h, c->from, dest, ret_detail);
                        return r;
                }
                return move_all(b, h, dest, value, NULL, 0, ret_detail); /* back: every task of DEST */
        case OP_LIBVIRT_PIN:
                return apply_pin(b, c, value, ret_detail);
        case OP_IRQBALANCE:
                return streq(c->target, IRQBALANCE_TARGET) ? b->irqbalance_write(h, value, ret_detail) : -EINVAL;
        default:
                return -EINVAL;
        }
}

static int reader_read(const Reader *rd, ChangeOp op, const char *target, const char *ident, char **ret) {
        return effect_read(rd->backend, rd->host, op, target, ident, ret);
}

static int reader_domain(const Reader *rd, const char *uri, const char *domain, DomainPins *ret, char **ret_error) {
        return ((const Backend *) rd->backend)->pin_read(uri, domain, ret, ret_error);
}

void backend_reader(const Backend *b, const Host *h, Reader *ret) {
        *ret = (Reader) { .read = reader_read, .domain = reader_domain, .backend = b, .host = h };
}
