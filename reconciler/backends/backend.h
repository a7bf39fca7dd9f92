/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "cpuset.h"
#include "host.h"
#include "observed.h"
#include "plan.h"

/* How a change reaches the system, chosen once per run (crun's cgroup
 * manager table): the running kernel with systemd's D-Bus API and libvirt,
 * or the fixture simulator for a copy of a machine's files below --root,
 * which records each operation's effect the way a kernel or systemd would
 * show it (atomically: a run killed at any instant never leaves an
 * attribute file empty). Everything above this table reads and changes the
 * host only through it. */
typedef struct Backend {
        const char *name;
        /* Files below the root; a path CGROUP2_UNMOUNTED "/FILE" is FILE in
         * the cgroup2 hierarchy's root where no cgroup2 is mounted (see
         * cgroup2_root). */
        int (*write_file)(const Host *h, const char *path, const char *value);
        /* A new descriptor of that root (the caller closes it), or -errno:
         * the kernel's through a mount nobody else sees, a fixture tree's
         * /.fixture/cgroup2. */
        int (*cgroup2_root)(const Host *h);
        int (*enable_cpuset)(const Host *h, const char *subtree_file, bool enable);
        int (*mkdir_cgroup)(const Host *h, const char *dir);
        int (*rmdir_cgroup)(const Host *h, const char *dir);
        /* One TID into dst_dir's task list (tasks on v1, cgroup.procs on v2);
         * used where move_tasks is NULL. */
        int (*move_task)(const Host *h, const char *src_dir, const char *dst_dir, int tid);
        /* Many TIDs, the way the kernel takes them: dst's list opened once,
         * one write(2) per TID (what a shield of 10,000 threads costs is
         * then what the kernel's own work costs). Counts the refusals, a
         * TID that exited meanwhile (ESRCH) not among them. NULL: move_task
         * per TID. A backend has one of the two. */
        void (*move_tasks)(const Host *h, const char *src_dir, const char *dst_dir, const int *tids, size_t n,
                           size_t *ret_refused, int *ret_first_err);
        /* cgroup v1: whole thread groups in one write each (the TGID into
         * dst's cgroup.procs: the kernel moves every thread), where the
         * caller found all of a process's threads in src_dir and moving.
         * ret_err[i]: 0 or the group's -errno (its threads are then moved
         * one by one). NULL: every thread one by one. */
        void (*move_processes)(const Host *h, const char *src_dir, const char *dst_dir, const int *tgids, size_t n,
                               int *ret_err);
        int (*set_affinity)(const Host *h, int pid, const CpuSet *cpus);
        int (*unit_read)(const Host *h, const char *unit, char **ret);
        int (*unit_write)(const Host *h, const char *unit, const CpuSet *cpus, const char *value, char **ret_detail);
        int (*pin_read)(const char *uri, const char *domain, DomainPins *ret, char **ret_error);
        int (*pin_write)(const char *uri, const char *domain, PinKind kind, unsigned id, const char *cpus,
                         char **ret_detail);
        /* irqbalance's banned CPUs through its socket (backends/irqbalance.c,
         * below the root for both: a fixture tree may hold a served socket). */
        int (*irqbalance_read)(const Host *h, char **ret_banned_list, int *ret_pid);
        int (*irqbalance_write)(const Host *h, const char *list, char **ret_detail);
        /* After the last change of a run (the kernel: one systemd reload
         * when unit drop-ins were removed). NULL when there is nothing to do. */
        int (*finish)(const Host *h, char **ret_detail);
        /* Test builds only (backends/crash.c): called before the first change
         * (writes = 0) and after each change written. NULL in the product. */
        void (*checkpoint)(unsigned writes);
        /* Waits ms milliseconds on these CPUs (the run stays there), before
         * the bounce changes go back; NULL: no wait (fixture trees). */
        void (*pause)(const Host *h, const CpuSet *cpus, unsigned ms);
} Backend;

extern const Backend backend_kernel;  /* backends/kernel.c: root "/" */
extern const Backend backend_fixture; /* backends/fixture.c: any other --root */

/* The backend for this host: the kernel for the real root, the simulator for
 * anything else; wrapped for crash injection when the test environment
 * asks for it (CPUSHIELD_TEST_CRASH_AFTER_WRITES=N). */
const Backend *backend_select(const Host *h);
/* Is path in the v1 cpuset hierarchy (tasks lists TIDs) rather than v2's? */
bool is_v1_path(const Host *h, const char *path);
/* Crash-injection wrapper of b when the environment asks for it, else b. */
const Backend *backend_crash_wrap(const Backend *b);

/* The current value of an item in the form of its plan values. */
int effect_read(const Backend *b, const Host *h, ChangeOp op, const char *target, const char *ident, char **ret);
/* Sets the item to value. */
int effect_apply(const Backend *b, const Host *h, const Change *c, const char *value, char **ret_detail);
/* A Reader over b for the observe step (r must outlive its use). */
void backend_reader(const Backend *b, const Host *h, Reader *ret);
