/* SPDX-License-Identifier: GPL-2.0-or-later */
/* irqbalance: every ten seconds it may move interrupts back onto the VMs'
 * CPUs, undoing the irq step. While VMs are active their CPUs are added to
 * irqbalance's banned CPUs through its runtime socket (no restart, nothing
 * in /etc); the original list is journaled and given back like any item.
 * irqbalance not running: nothing to do. A restarted irqbalance (new PID)
 * starts from its configuration again: its banned list differs from what
 * is wanted, so the next reconcile bans the CPUs again. Without a socket
 * (irqbalance older than 1.2, or built without it) only its configuration
 * can ban them: plan and doctor say what to set. */
#include <stdio.h>

#include "resource.h"

#define CONFIG_HINT "in /etc/default/irqbalance (/etc/sysconfig/irqbalance on Fedora and RHEL) and restart irqbalance"

static void irqbalance_observe(const ObserveInput *in, Observed *obs) {
        if (in->active->n == 0)
                return;
        observe_item(in->reader, obs, OP_IRQBALANCE, IRQBALANCE_TARGET, NULL);
}

static void irqbalance_plan(const PlanInput *in, Plan *p) {
        const char *cur;
        CpuSet base = {}, want = {};
        int r;

        /* Nothing active: a journaled ban goes back through the restore path. */
        if (cpuset_is_empty(&in->vm_cpus))
                return;
        _cleanup_free_ char *vm = cpuset_format_list(&in->vm_cpus);
        r = observed_get(in->obs, IRQBALANCE_TARGET, &cur);
        if (r == -ESRCH || r == -ENODATA)
                return; /* irqbalance does not run */
        if (r == -ENOENT) {
                /* Not claimed: a ban journaled for an earlier irqbalance is gone with it. */
                strlist_addf(&p->warnings, "irqbalance is running without its runtime socket "
                             "(/run/irqbalance/irqbalance<PID>.sock; older than 1.2 or built without it): "
                             "it may move IRQs back onto CPUs %s; set IRQBALANCE_BANNED_CPULIST=%s " CONFIG_HINT,
                             vm, vm);
                return;
        }
        plan_claim(p, IRQBALANCE_TARGET);
        if (r < 0) {
                /* Kept journaled for a later run; the other resources go on. */
                strlist_addf(&p->warnings, "irqbalance is running but its socket did not answer (%s): its banned "
                             "CPUs are left as they are, and it may move IRQs back onto CPUs %s", strerror(-r), vm);
                return;
        }
        if (cpuset_parse_list(plan_baseline(in, IRQBALANCE_TARGET, cur), &base) < 0) {
                strlist_addf(&p->warnings, "%s: '%s' is not a CPU list; irqbalance's banned CPUs are left alone",
                             IRQBALANCE_TARGET, plan_baseline(in, IRQBALANCE_TARGET, cur));
                return;
        }
        cpuset_copy(&want, &base);
        cpuset_or(&want, &in->vm_cpus);
        _cleanup_free_ char *to = cpuset_format_list(&want);
        if (!cpulist_equal_str(cur, to)) {
                Change *c = plan_add(p, KIND_IRQBALANCE, OP_IRQBALANCE, IRQBALANCE_TARGET, cur, to);
                c->name = xstrdup("irqbalance places no IRQ on banned CPUs");
                c->vm = plan_active_names(in);
        }
        cpuset_free(&base);
        cpuset_free(&want);
}

static void irqbalance_lint(const LintInput *in, Doctor *d) {
        _cleanup_free_ char *cur = NULL, *vm = NULL, *pid = NULL;
        int r;

        if (!in->reader || cpuset_is_empty(in->vm_cpus))
                return;
        r = in->reader->read(in->reader, OP_IRQBALANCE, IRQBALANCE_TARGET, NULL, &cur);
        if (r == -ESRCH)
                return;
        vm = cpuset_format_list(in->vm_cpus);
        /* Its PID where the tasks were read, for the socket's name. */
        for (size_t i = 0; i < in->host->n_tasks && !pid; i++) {
                const Task *t = &in->host->tasks[i];
                if (t->pid == t->tgid && streq_ptr(t->comm, "irqbalance"))
                        pid = xasprintf("%d", t->pid);
        }
        if (!pid)
                pid = xstrdup("<PID>");
        if (r == -ENOENT)
                strlist_addf(&d->warnings, "irqbalance is running without its runtime socket "
                             "(/run/irqbalance/irqbalance%s.sock; older than 1.2 or built without it), so "
                             "cpushield cannot ban the VMs' CPUs while they run and irqbalance moves IRQs back onto "
                             "them (revert then reports those as drifted): set IRQBALANCE_BANNED_CPULIST=%s "
                             CONFIG_HINT " (they stay banned while no VM runs), or update irqbalance", pid, vm);
        else if (r < 0)
                strlist_addf(&d->warnings, "irqbalance is running but its socket does not answer (%s): cpushield "
                             "cannot ban the VMs' CPUs while they run; if that persists, set "
                             "IRQBALANCE_BANNED_CPULIST=%s " CONFIG_HINT, strerror(-r), vm);
        else
                strlist_addf(&d->notes, "irqbalance is running (banned CPUs now: %s): while VMs are active cpushield "
                             "adds their CPUs to its banned CPUs through its socket and gives the list back after",
                             cur[0] ? cur : "none");
}

const Resource resource_irqbalance = {
        .name = "irqbalance",
        .kind = KIND_IRQBALANCE,
        .needs = HOST_TOPOLOGY,
        .observe = irqbalance_observe,
        .plan = irqbalance_plan,
        .lint = irqbalance_lint,
};
