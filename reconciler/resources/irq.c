/* SPDX-License-Identifier: GPL-2.0-or-later */
/* IRQs: every interrupt that may be moved goes onto the host's CPUs while a
 * VM runs, except the vectors of a running VM's passed-through devices,
 * which resources/device-irq.c steers. The kernel refuses (EIO) managed, per-CPU and no-balancing IRQs;
 * where debugfs tells us which those are, they are reported, not planned. */
#include <stdio.h>

#include "resource.h"

static bool irq_refused(const StrSet *refused, unsigned number) {
        char target[IRQ_TARGET_SIZE];

        return refused && strset_contains(refused, irq_target(target, number));
}

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

static void irq_plan(const PlanInput *in, Plan *p) {
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

                if (!q->has_affinity || device_irq_steered(in->devices, in->active, q->number))
                        continue;
                irq_target(target, q->number);
                plan_claim(p, target);
                /* The baseline: the journaled original, else the affinity
                 * itself (formatted only for a change: one per IRQ adds up). */
                const char *base = plan_baseline(in, target, NULL);
                if (!base)
                        cpuset_copy(&b, &q->affinity);
                else if (cpuset_parse_list(base, &b) < 0)
                        continue;
                if (!why && in->journal && strset_contains(&in->journal->refused, target))
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
                        _cleanup_free_ char *to = cpuset_format_list(&want), *obs = cpuset_format_list(&q->affinity);
                        Change *c = plan_add(p, KIND_IRQ, OP_WRITE, target, obs, to);
                        c->name = q->name ? xstrdup(q->name) : NULL;
                        c->vm = plan_vms_touching(in, &b);
                }
                cpuset_free(&b);
                cpuset_free(&want);
        }
}

static void irq_verify(const VerifyInput *in, Verify *v) {
        const Host *h = in->host;

        for (size_t i = 0; i < h->n_irqs; i++) {
                const Irq *q = &h->irqs[i];

                /* No action in /proc/interrupts: nothing handles it, it does not fire. */
                if (!q->has_affinity || !q->name || !q->name[0] || !cpuset_intersects(&q->affinity, in->vm_cpus) ||
                    device_irq_steered(in->devices, in->active, q->number))
                        continue; /* a VM's own device: meant to be there */
                if (q->managed || q->per_cpu || q->no_balancing || irq_refused(in->refused, q->number))
                        v->unmovable_irqs++;
                else {
                        _cleanup_free_ char *l = cpuset_format_list(&q->affinity);
                        strlist_addf(&v->noise, "IRQ %u (%s) may fire on CPUs %s", q->number, strempty(q->name), l);
                }
        }
}

static void irq_lint(const LintInput *in, Doctor *d) {
        const Host *h = in->host;
        size_t managed = 0;

        /* irqbalance, which would move them back, is the irqbalance resource's. */
        /* Interrupts the kernel will not let go of. */
        for (size_t i = 0; i < h->n_irqs; i++)
                if (h->irqs[i].managed && cpuset_intersects(&h->irqs[i].affinity, in->vm_cpus))
                        managed++;
        if (managed)
                strlist_addf(&d->notes, "%zu managed IRQs (multi-queue devices: NVMe, virtio-blk...) have a queue "
                             "on the VMs' CPUs; the kernel does not let them move, but they fire only when "
                             "something on those CPUs does I/O on that device; only isolcpus=managed_irq,<VM CPUs> on the "
                             "kernel command line (a reboot) keeps them off", managed);
}

const Resource resource_irq = {
        .name = "irq",
        .kind = KIND_IRQ,
        .needs = HOST_TOPOLOGY | HOST_IRQS,
        .plan = irq_plan,
        .verify = irq_verify,
        .lint = irq_lint,
};
