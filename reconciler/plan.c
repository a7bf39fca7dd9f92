/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>

#include "plan.h"

const char *change_kind_to_string(ChangeKind k) {
        static const char *const names[_KIND_MAX] = {
                [KIND_CPUSET] = "cpuset", [KIND_KTHREAD] = "kthread", [KIND_IRQ] = "irq",
                [KIND_WORKQUEUE] = "workqueue", [KIND_POWER] = "power", [KIND_LIBVIRT] = "libvirt",
        };
        return names[k];
}

Change *plan_add(Plan *p, ChangeKind kind, ChangeOp op, const char *target, const char *from, const char *to) {
        Change *c = array_push(&p->changes, &p->n_changes, sizeof(Change));

        c->kind = kind;
        c->op = op;
        c->target = xstrdup(target);
        c->from = from ? xstrdup(from) : NULL;
        c->to = xstrdup(to);
        return c;
}

void plan_skip(Plan *p, ChangeKind kind, const char *target, const char *fmt, ...) {
        Skipped *s = array_push(&p->skipped, &p->n_skipped, sizeof(Skipped));
        va_list ap;

        s->kind = kind;
        s->target = xstrdup(target);
        va_start(ap, fmt);
        if (vasprintf(&s->reason, fmt, ap) < 0)
                abort();
        va_end(ap);
}

const char *plan_baseline(const PlanInput *in, const char *target, const char *observed) {
        const char *o = in->original ? in->original(in->userdata, target) : NULL;
        return o ? o : observed;
}

char *plan_vms_touching(const PlanInput *in, const CpuSet *set) {
        char *out = xstrdup("");

        for (size_t i = 0; i < in->active->n; i++) {
                const Vm *vm = config_find_vm(in->cfg, in->active->v[i]);
                if (!vm || !cpuset_intersects(&vm->cpus, set))
                        continue;
                char *n = xasprintf("%s%s%s", out, out[0] ? "," : "", vm->name);
                free(out);
                out = n;
        }
        return out;
}

void plan_host_affinity(const PlanInput *in, const CpuSet *baseline, CpuSet *ret) {
        CpuSet s = cpuset_dup(baseline);

        cpuset_andnot(&s, &in->vm_cpus);
        if (!cpuset_intersects(&s, &in->host->online))
                cpuset_copy(&s, &in->housekeeping);
        cpuset_free(ret);
        *ret = s;
}

int plan_build(const Host *h, const Config *c, const StrList *active, OriginalLookup original, void *userdata,
               bool use_libvirt, Plan *ret) {
        PlanInput in = { .host = h, .cfg = c, .active = active, .original = original, .userdata = userdata,
                         .libvirt = use_libvirt };
        Plan p = {};

        for (size_t i = 0; i < active->n; i++) {
                const Vm *vm = config_find_vm(c, active->v[i]);
                if (!vm) {
                        strlist_addf(&p.errors, "VM '%s' is not in the configuration", active->v[i]);
                        continue;
                }
                strlist_add(&p.active, vm->name);
                cpuset_or(&in.vm_cpus, &vm->cpus);
        }
        cpuset_copy(&in.housekeeping, &h->online);
        cpuset_andnot(&in.housekeeping, &in.vm_cpus);
        for (size_t i = 0; i < c->warnings.n; i++)
                strlist_add(&p.warnings, c->warnings.v[i]);

        cpuset_plan(&in, &p);
        kthread_plan(&in, &p);
        irq_plan(&in, &p);
        workqueue_plan(&in, &p);
        power_plan(&in, &p);
        libvirt_plan(&in, &p);

        cpuset_free(&in.vm_cpus);
        cpuset_free(&in.housekeeping);
        *ret = p;
        return p.errors.n ? -EINVAL : 0;
}

void plan_free(Plan *p) {
        for (size_t i = 0; i < p->n_changes; i++) {
                Change *c = &p->changes[i];
                free(c->target);
                free(c->from);
                free(c->to);
                free(c->vm);
                free(c->name);
                free(c->unit);
                free(c->pids);
                free(c->uri);
                free(c->domain);
        }
        free(p->changes);
        for (size_t i = 0; i < p->n_skipped; i++) {
                free(p->skipped[i].target);
                free(p->skipped[i].reason);
        }
        free(p->skipped);
        strlist_free(&p->active);
        strlist_free(&p->warnings);
        strlist_free(&p->errors);
        memset(p, 0, sizeof *p);
}
