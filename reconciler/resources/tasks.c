/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Host tasks: the cgroup step (resources/cgroup.c) keeps them off the VMs'
 * CPUs as a whole; this room handles the ones with a CPU mask of their own,
 * and counts any host task that may still run on the VMs' CPUs as noise. */
#include <stdio.h>

#include "resource.h"

/* Host tasks that someone pinned (taskset, a service's CPUAffinity=) onto
 * CPUs a VM now takes. The partition or the v1 move would narrow them
 * anyway, but 6.1 then forgets their own mask for good (6.12 remembers it):
 * narrowing them ourselves, before the cgroup step, journals the mask so
 * revert gives it back after the partition is gone. Since Linux 6.2 the
 * kernel keeps the mask a task asked for (sched_setaffinity's
 * user_cpus_ptr) and applies it again when its cpuset widens, so on cgroup
 * v2 there the tasks are not read for it (tasks_needs_now). */
static void tasks_plan(const PlanInput *in, Plan *p) {
        const Host *h = in->host;

        if (cpuset_is_empty(&in->vm_cpus) || h->cg.mode == CGROUP_NONE)
                return;
        if (h->tasks_partial && !(h->loaded & HOST_TASK_MASKS)) {
                /* The partition stands, or the kernel keeps the tasks' own
                 * masks (tasks_needs_now): nothing to narrow; the ones
                 * narrowed when it formed stay so. (v1 reads the root set's
                 * tasks, all this step can narrow.) */
                for (size_t i = 0; in->journal && i < in->journal->n_items; i++)
                        if (streq(in->journal->items[i].kind, "cpuset/affinity"))
                                plan_claim(p, in->journal->items[i].target);
                return;
        }
        for (size_t i = 0; i < h->n_tasks; i++) {
                const Task *t = &h->tasks[i];

                if (task_is_kthread(t) || cpuset_is_subset(&h->online, &t->allowed) || task_in_vm_cgroup(in->cfg, t))
                        continue;
                _cleanup_free_ char *name = xasprintf("%s: its own CPU mask (pinned), kept for revert", t->comm);
                plan_task_affinity(in, p, t, KIND_CPUSET, name);
        }
}

/* Linux before 6.2 forgets a task's own mask when its cpuset narrows it
 * (an unknown version counts as such). */
static bool kernel_forgets_masks(const Host *h) {
        unsigned major, minor;

        return host_kernel_version(h, &major, &minor) < 0 || major < 6 || (major == 6 && minor < 2);
}

/* Every user task's own mask (in full only where narrower than the host:
 * HOST_TASK_MASKS), except while the v2 partition stands as it should or
 * where the kernel keeps it (v2, 6.2+): then no task is read at all. */
static HostParts tasks_needs_now(const ObserveInput *in, const Observed *obs) {
        const Host *h = in->host;

        if (in->active->n == 0 || h->cg.mode == CGROUP_NONE)
                return 0;
        if (h->cg.mode == CGROUP_V2 && !kernel_forgets_masks(h))
                return 0;
        if (h->cg.mode == CGROUP_V1)
                return HOST_TASK_MASKS; /* what the v1 move narrows: the root set's tasks */
        return cgroup_partition_formed(h, in->cfg, in->active, obs) ? 0 : HOST_TASK_MASKS;
}

static void tasks_verify(const VerifyInput *in, Verify *v) {
        const Host *h = in->host;

        for (size_t i = 0; i < h->n_tasks; i++) {
                const Task *t = &h->tasks[i];

                if (task_is_kthread(t) || !cpuset_intersects(&t->allowed, in->vm_cpus))
                        continue;
                if (task_in_vm_cgroup(in->cfg, t) && !task_is_tenant(in->cfg, in->active, t))
                        continue;
                _cleanup_free_ char *l = cpuset_format_list(&t->allowed);
                strlist_addf(&v->noise, "task %d (%s) may run on CPUs %s", t->pid, t->comm, l);
        }
}

const Resource resource_tasks = {
        .name = "tasks",
        .kind = KIND_CPUSET,
        .needs = HOST_TOPOLOGY | HOST_CGROUPS,
        .needs_now = tasks_needs_now,
        .plan = tasks_plan,
        .verify = tasks_verify,
};
