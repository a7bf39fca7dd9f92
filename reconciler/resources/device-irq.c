/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Device IRQs: the MSI/MSI-X vectors of a running VM's passed-through PCI
 * devices go where its device_irqs policy says (by default spread over its
 * vCPU pins), not onto the host with the other IRQs. They are IRQs like any
 * other for the journal: /proc/irq/N/smp_affinity_list, original recorded
 * before the first write, restored when the VM stops. Vectors appear when
 * the guest's driver enables MSI, after the domain started: each run reads
 * msi_irqs/ again, so the next apply (timer, watcher) plans the new ones.
 * Only devices bound to vfio-pci are the guest's: another driver's
 * interrupts are the host's and stay with them. Its doctor rules: a device
 * not bound to vfio-pci, or on another NUMA node than its VM's CPUs. */
#include <stdio.h>

#include "resource.h"

const PciDevice *device_irq_steered(const Devices *d, const StrList *active, unsigned irq) {
        const PciDevice *dev = devices_find_vector(d, irq);

        if (!dev || dev->vm->device_irqs == DEVICE_IRQS_HOST || !device_passed_through(dev) || !active ||
            !strlist_contains(active, dev->vm->name))
                return NULL;
        return dev;
}

static int cmp_irq_number(const void *a, const void *b) {
        unsigned x = ((const Irq *) a)->number, y = ((const Irq *) b)->number;
        return x < y ? -1 : x > y;
}

static const Irq *find_irq(const Host *h, unsigned number) {
        Irq key = { .number = number };
        return bsearch(&key, h->irqs, h->n_irqs, sizeof(Irq), cmp_irq_number);
}

static void plan_vector(const PlanInput *in, Plan *p, const PciDevice *dev, size_t k) {
        const Irq *q = find_irq(in->host, dev->vectors[k]);
        char target[64];
        CpuSet want = {};

        if (!q || !q->has_affinity || !device_vector_cpus(dev, k, &want))
                return;
        snprintf(target, sizeof target, "/proc/irq/%u/smp_affinity_list", q->number);
        plan_claim(p, target);
        if (in->journal && strset_contains(&in->journal->refused, target))
                plan_skip(p, KIND_IRQ, target, "%s: the kernel refused to move it (EIO/EPERM)", strempty(q->name));
        else if (!cpuset_equal(&want, &q->affinity)) {
                _cleanup_free_ char *obs = cpuset_format_list(&q->affinity), *to = cpuset_format_list(&want);
                Change *c = plan_add(p, KIND_IRQ, OP_WRITE, target, obs, to);
                /* vfio-pci names its vectors "vfio-msix[N](ADDR)": the address is in there */
                c->name = q->name && strstr(q->name, dev->addr) ? xstrdup(q->name)
                          : xasprintf("%s%sdevice %s", strempty(q->name), q->name ? ", " : "", dev->addr);
                c->vm = xstrdup(dev->vm->name);
        }
        cpuset_free(&want);
}

static void device_irq_plan(const PlanInput *in, Plan *p) {
        if (!in->devices || in->cfg->irqs == MODE_LEAVE)
                return;
        for (size_t i = 0; i < in->devices->n; i++) {
                const PciDevice *dev = &in->devices->v[i];

                if (dev->vm->device_irqs == DEVICE_IRQS_HOST || !strlist_contains(in->active, dev->vm->name))
                        continue;
                if (!device_passed_through(dev)) {
                        strlist_addf(&p->warnings, "VM '%s': PCI device %s is %s: its interrupts stay with the "
                                     "host's", dev->vm->name, dev->addr, !dev->present ? "not on this host"
                                     : dev->driver ? "not bound to vfio-pci" : "bound to no driver");
                        continue;
                }
                for (size_t k = 0; k < dev->n_vectors; k++)
                        plan_vector(in, p, dev, k);
        }
}

/* The NUMA node of a VM's CPUs, when they are all on one; else -1. */
static int vm_node(const Host *h, const Vm *vm) {
        int node = -2;

        CPUSET_FOREACH(c, &vm->cpus) {
                int n = (unsigned) c < h->nr_cpu_ids ? h->cpus[c].node : -1;
                if (n < 0 || (node != -2 && n != node))
                        return -1;
                node = n;
        }
        return node < 0 ? -1 : node;
}

static bool irqbalance_runs(const Host *h) {
        for (size_t i = 0; i < h->n_tasks; i++)
                if (h->tasks[i].pid == h->tasks[i].tgid && streq_ptr(h->tasks[i].comm, "irqbalance"))
                        return true;
        return false;
}

/* irqbalance bans CPUs, not these IRQs: it places the vectors it finds on
 * the CPUs it may use, the VM's excepted. */
static void lint_irqbalance(const LintInput *in, Doctor *d) {
        StrList args = {};

        for (size_t i = 0; in->devices && i < in->devices->n; i++)
                for (size_t k = 0; in->devices->v[i].vm->device_irqs != DEVICE_IRQS_HOST &&
                                   k < in->devices->v[i].n_vectors; k++)
                        strlist_addf(&args, "--banirq=%u", in->devices->v[i].vectors[k]);
        if (args.n > 0 && irqbalance_runs(in->host)) {
                _cleanup_free_ char *l = strlist_join(&args, " ");
                strlist_addf(&d->warnings, "irqbalance is running: it may move the passed-through devices' vectors "
                             "off their VM's CPUs (it places the interrupts it finds on the CPUs it may use); tell "
                             "it to leave them: IRQBALANCE_ARGS=\"%s\" for the vectors there are now", l);
        }
        strlist_free(&args);
}

static void device_irq_lint(const LintInput *in, Doctor *d) {
        lint_irqbalance(in, d);
        for (size_t i = 0; in->devices && i < in->devices->n; i++) {
                const PciDevice *dev = &in->devices->v[i];
                const Vm *vm = dev->vm;
                int node = vm_node(in->host, vm);

                if (!dev->present) {
                        strlist_addf(&d->warnings, "VM '%s': PCI device %s does not exist on this host "
                                     "(/sys/bus/pci/devices/%s)", vm->name, dev->addr, dev->addr);
                        continue;
                }
                if (!device_passed_through(dev))
                        strlist_addf(&d->warnings, "VM '%s': PCI device %s is bound to %s, not vfio-pci: it is not "
                                     "passed through (yet), so its interrupts stay with the host's",
                                     vm->name, dev->addr, dev->driver ? dev->driver : "no driver");
                if (dev->numa_node >= 0 && node >= 0 && dev->numa_node != node) {
                        _cleanup_free_ char *l = cpuset_format_list(&vm->cpus);
                        strlist_addf(&d->warnings, "VM '%s': PCI device %s is on NUMA node %d, the VM's CPUs %s on "
                                     "node %d: every DMA and interrupt crosses the interconnect; give the VM CPUs "
                                     "of node %d, or pass through a device of node %d", vm->name, dev->addr,
                                     dev->numa_node, l, node, dev->numa_node, node);
                }
        }
}

const Resource resource_device_irq = {
        .name = "device-irq",
        .kind = KIND_IRQ,
        .needs = HOST_TOPOLOGY | HOST_IRQS,
        .plan = device_irq_plan,
        .lint = device_irq_lint,
};
