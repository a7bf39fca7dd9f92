/* SPDX-License-Identifier: GPL-2.0-or-later */
/* IRQs: every interrupt that may be moved goes onto the host's CPUs while a
 * VM runs. The kernel refuses (EIO) managed, per-CPU and no-balancing IRQs;
 * where debugfs tells us which those are, they are reported, not planned. */
#include <stdio.h>

#include "plan.h"

static const char *unmovable_reason(const Irq *q) {
        if (!q->flags_known)
                return NULL;
        if (q->managed)
                return "managed by the kernel (IRQD_AFFINITY_MANAGED): its affinity follows its queue's CPU";
        if (q->per_cpu)
                return "per-CPU interrupt (IRQD_PER_CPU)";
        if (q->no_balancing)
                return "the kernel does not allow moving it (IRQD_NO_BALANCING)";
        return NULL;
}

void irq_plan(const PlanInput *in, Plan *p) {
        const Host *h = in->host;
        char target[128];

        /* Nothing active: journaled IRQs go back through the restore path,
         * which knows about drift. */
        if (in->cfg->irqs == MODE_LEAVE || cpuset_is_empty(&in->vm_cpus))
                return;

        if (h->has_default_irq_affinity) {
                _cleanup_free_ char *obs = cpuset_format_mask(&h->default_irq_affinity, h->nr_cpu_ids);
                const char *base = plan_baseline(in, "/proc/irq/default_smp_affinity", obs);
                CpuSet b = {}, want = {};

                plan_claim(p, "/proc/irq/default_smp_affinity");
                if (cpuset_parse_mask(base, &b) >= 0) {
                        plan_host_affinity(in, &b, &want);
                        if (!cpuset_equal(&want, &h->default_irq_affinity)) {
                                _cleanup_free_ char *to = cpuset_format_mask(&want, h->nr_cpu_ids);
                                Change *c = plan_add(p, KIND_IRQ, OP_WRITE, "/proc/irq/default_smp_affinity", obs, to);
                                c->name = xstrdup("IRQs registered from now on");
                                c->vm = plan_vms_touching(in, &b);
                        }
                }
                cpuset_free(&b);
                cpuset_free(&want);
        }

        for (size_t i = 0; i < h->n_irqs; i++) {
                const Irq *q = &h->irqs[i];
                const char *why = unmovable_reason(q);
                CpuSet b = {}, want = {};

                if (!q->has_affinity)
                        continue;
                snprintf(target, sizeof target, "/proc/irq/%u/smp_affinity_list", q->number);
                plan_claim(p, target);
                _cleanup_free_ char *obs = cpuset_format_list(&q->affinity);
                const char *base = plan_baseline(in, target, obs);
                if (cpuset_parse_list(base, &b) < 0)
                        continue;
                if (!why && in->journal && strlist_contains(&in->journal->refused, target))
                        why = "the kernel refused to move it (EIO/EPERM: managed, per-CPU or no-balancing)";
                if (cpuset_intersects(&q->affinity, &in->vm_cpus) && why) {
                        plan_skip(p, KIND_IRQ, target, "%s%s%s", q->name ? q->name : "", q->name ? ": " : "", why);
                        cpuset_free(&b);
                        continue;
                }
                if (why) {
                        cpuset_free(&b);
                        continue;
                }
                plan_host_affinity(in, &b, &want);
                if (!cpuset_equal(&want, &q->affinity)) {
                        _cleanup_free_ char *to = cpuset_format_list(&want);
                        Change *c = plan_add(p, KIND_IRQ, OP_WRITE, target, obs, to);
                        c->name = q->name ? xstrdup(q->name) : NULL;
                        c->vm = plan_vms_touching(in, &b);
                }
                cpuset_free(&b);
                cpuset_free(&want);
        }
}
