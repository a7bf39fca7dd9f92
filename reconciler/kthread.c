/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Kernel threads: the movable ones (no PF_NO_SETAFFINITY: kthreadd, kswapd,
 * khugepaged, rcu_preempt...) go onto the host's CPUs. Per-CPU threads and
 * every kworker are PF_NO_SETAFFINITY: sched_setaffinity fails with EINVAL,
 * so they are counted, not planned. */
#include <stdio.h>

#include "plan.h"

void kthread_plan(const PlanInput *in, Plan *p) {
        const Host *h = in->host;
        size_t pinned = 0;

        if (in->cfg->kthreads == MODE_LEAVE || cpuset_is_empty(&in->vm_cpus))
                return;
        for (size_t i = 0; i < h->n_tasks; i++) {
                const Task *t = &h->tasks[i];
                char target[64];
                CpuSet b = {}, want = {};

                if (!task_is_kthread(t) || t->pid != t->tgid)
                        continue;
                if (!task_is_movable_kthread(t)) {
                        if (cpuset_intersects(&t->allowed, &in->vm_cpus))
                                pinned++;
                        continue;
                }
                snprintf(target, sizeof target, "/proc/%d", t->pid);
                plan_claim(p, target);
                _cleanup_free_ char *obs = cpuset_format_list(&t->allowed);
                if (cpuset_parse_list(plan_baseline(in, target, obs), &b) < 0)
                        continue;
                plan_host_affinity(in, &b, &want);
                if (!cpuset_equal(&want, &t->allowed)) {
                        _cleanup_free_ char *to = cpuset_format_list(&want);
                        Change *c = plan_add(p, KIND_KTHREAD, OP_AFFINITY, target, obs, to);
                        c->name = xstrdup(t->comm);
                        c->pid = t->pid;
                        c->start_time = t->start_time;
                        c->vm = plan_vms_touching(in, &b);
                }
                cpuset_free(&b);
                cpuset_free(&want);
        }
        if (pinned > 0)
                plan_skip(p, KIND_KTHREAD, "/proc", "%zu per-CPU kernel threads on the VMs' CPUs cannot be moved "
                          "(PF_NO_SETAFFINITY: ksoftirqd, kworkers, migration...); they stay idle while nothing "
                          "queues work there", pinned);
}
