/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Kernel threads: the movable ones (no PF_NO_SETAFFINITY: kthreadd, kswapd,
 * khugepaged, rcu_preempt...) go onto the host's CPUs. Per-CPU threads and
 * every kworker are PF_NO_SETAFFINITY: sched_setaffinity fails with EINVAL,
 * so they are counted, not planned. */

#include <stdio.h>

#include "resource.h"

static void kthread_plan(const PlanInput *in, Plan *p) {
        const Host *h = in->host;
        size_t pinned = 0;

        if (in->cfg->kthreads == MODE_LEAVE || cpuset_is_empty(&in->vm_cpus))
                return;
        for (size_t i = 0; i < h->n_tasks; i++) {
                const Task *t = &h->tasks[i];

                if (!task_is_kthread(t) || t->pid != t->tgid)
                        continue;
                if (!task_is_movable_kthread(t)) {
                        /* Only a report shows the count: without one (no
                         * HOST_REPORT) their masks were not read. */
                        if (!t->allowed_unread && cpuset_intersects(&t->allowed, &in->vm_cpus))
                                pinned++;
                        continue;
                }
                plan_task_affinity(in, p, t, KIND_KTHREAD, t->comm);
        }
        if (pinned > 0)
                plan_skip(p, KIND_KTHREAD, "/proc", "%zu per-CPU kernel threads on the VMs' CPUs cannot be moved "
                          "(PF_NO_SETAFFINITY: ksoftirqd, kworkers, migration...); they stay idle while nothing "
                          "queues work there", pinned);
}

static void kthread_verify(const VerifyInput *in, Verify *v) {
        const Host *h = in->host;

        for (size_t i = 0; i < h->n_tasks; i++) {
                const Task *t = &h->tasks[i];

                if (!task_is_kthread(t) || !cpuset_intersects(&t->allowed, in->vm_cpus))
                        continue;
                if (!task_is_movable_kthread(t)) {
                        v->percpu_kthreads++;
                        continue;
                }
                _cleanup_free_ char *l = cpuset_format_list(&t->allowed);
                strlist_addf(&v->noise, "kernel thread %d (%s) may run on CPUs %s", t->pid, t->comm, l);
        }
}

const Resource resource_kthread = {
        .name = "kthread",
        .kind = KIND_KTHREAD,
        .needs = HOST_TOPOLOGY | HOST_KTHREADS,
        .plan = kthread_plan,
        .verify = kthread_verify,
};
