/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verify: what can still run on the active VMs' CPUs, as the kernel shows
 * it now: host tasks, movable kernel threads, IRQs, unbound workqueues. */
#include <stdio.h>

#include "plan.h"
#include "verify.h"

void verify_run(const Host *h, const Config *c, const CpuSet *vm_cpus, const StrList *refused, Verify *v) {
        for (size_t i = 0; i < h->n_tasks; i++) {
                const Task *t = &h->tasks[i];
                _cleanup_free_ char *l = NULL;

                if (!cpuset_intersects(&t->allowed, vm_cpus))
                        continue;
                l = cpuset_format_list(&t->allowed);
                if (!task_is_kthread(t)) {
                        if (!task_in_vm_cgroup(c, t))
                                strlist_addf(&v->noise, "task %d (%s) may run on CPUs %s", t->pid, t->comm, l);
                } else if (task_is_movable_kthread(t))
                        strlist_addf(&v->noise, "kernel thread %d (%s) may run on CPUs %s", t->pid, t->comm, l);
                else
                        v->percpu_kthreads++;
        }
        for (size_t i = 0; i < h->n_irqs; i++) {
                const Irq *q = &h->irqs[i];

                /* No action in /proc/interrupts: nothing handles it, it does not fire. */
                if (!q->has_affinity || !q->name || !q->name[0] || !cpuset_intersects(&q->affinity, vm_cpus))
                        continue;
                char target[64];
                snprintf(target, sizeof target, "/proc/irq/%u/smp_affinity_list", q->number);
                if (q->managed || q->per_cpu || q->no_balancing || (refused && strlist_contains(refused, target)))
                        v->unmovable_irqs++;
                else {
                        _cleanup_free_ char *l = cpuset_format_list(&q->affinity);
                        strlist_addf(&v->noise, "IRQ %u (%s) may fire on CPUs %s", q->number, strempty(q->name), l);
                }
        }
        for (size_t i = 0; i < h->n_wqs; i++)
                if (cpuset_intersects(&h->wqs[i].mask, vm_cpus))
                        strlist_addf(&v->noise, "workqueue %s may run on the VMs' CPUs (mask %s)",
                                     h->wqs[i].name ? h->wqs[i].name : "(global unbound mask)", h->wqs[i].raw);
}

void verify_free(Verify *v) {
        strlist_free(&v->noise);
}
