/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>

#include "plan.h"

char *change_journal_kind(const Change *c) {
        return xasprintf("%s/%s", change_kind_to_string(c->kind), change_op_to_string(c->op));
}

void plan_claim(Plan *p, const char *target) {
        strlist_add(&p->claimed, target);
}

Change *plan_add(Plan *p, ChangeKind kind, ChangeOp op, const char *target, const char *from, const char *to) {
        Change *c = array_push(&p->changes, &p->n_changes, sizeof(Change));

        c->kind = kind;
        c->op = op;
        c->target = xstrdup(target);
        c->from = from ? xstrdup(from) : NULL;
        c->to = xstrdup(to);
        plan_claim(p, target);
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
        const JournalItem *it = in->journal ? journal_find(in->journal, target) : NULL;
        return it ? it->original : observed;
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

void plan_task_affinity(const PlanInput *in, Plan *p, const Task *t, ChangeKind kind, const char *name) {
        char target[64];
        CpuSet b = {}, want = {};

        snprintf(target, sizeof target, "/proc/%d", t->pid);
        plan_claim(p, target);
        _cleanup_free_ char *obs = cpuset_format_list(&t->allowed);
        if (cpuset_parse_list(plan_baseline(in, target, obs), &b) < 0)
                return;
        plan_host_affinity(in, &b, &want);
        if (!cpuset_equal(&want, &t->allowed)) {
                _cleanup_free_ char *to = cpuset_format_list(&want);
                Change *c = plan_add(p, kind, OP_AFFINITY, target, obs, to);
                c->name = xstrdup(name);
                c->start_time = t->start_time;
                c->vm = plan_vms_touching(in, &b);
        }
        cpuset_free(&b);
        cpuset_free(&want);
}

void plan_input_init(PlanInput *in, Plan *p) {
        for (size_t i = 0; i < in->active->n; i++) {
                const Vm *vm = config_find_vm(in->cfg, in->active->v[i]);
                if (!vm) {
                        strlist_addf(&p->errors, "VM '%s' is not in the configuration", in->active->v[i]);
                        continue;
                }
                strlist_add(&p->active, vm->name);
                cpuset_or(&in->vm_cpus, &vm->cpus);
        }
        cpuset_copy(&in->housekeeping, &in->host->online);
        cpuset_andnot(&in->housekeeping, &in->vm_cpus);
}

void plan_input_done(PlanInput *in) {
        cpuset_free(&in->vm_cpus);
        cpuset_free(&in->housekeeping);
}

char *plan_active_names(const PlanInput *in) {
        char *out = xstrdup("");

        for (size_t i = 0; i < in->active->n; i++) {
                char *n = xasprintf("%s%s%s", out, i ? "," : "", in->active->v[i]);
                free(out);
                out = n;
        }
        return out;
}

bool task_in_vm_cgroup(const Config *c, const Task *t) {
        _cleanup_free_ char *part = xasprintf("/%s", c->partition);
        size_t n = strlen(part);

        if (!t->cgroup)
                return false;
        if (strncmp(t->cgroup, part, n) == 0 && (t->cgroup[n] == 0 || t->cgroup[n] == '/'))
                return true;
        return startswith(t->cgroup, "/cpushield.") && !startswith(t->cgroup, "/cpushield.host");
}

/* systemd's unit-name escaping of a domain name ("win-10" -> "win\x2d10"),
 * as libvirt's machine scopes show it: machine-qemu\x2d1\x2dwin\x2d10.scope. */
static char *escape_unit_part(const char *s) {
        size_t cap = strlen(s) * 4 + 1, len = 0;
        char *out = xmalloc(cap);

        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    (c == '.' && len > 0) || c == ':')
                        out[len++] = (char) c;
                else
                        len += (size_t) snprintf(out + len, cap - len, "\\x%02x", c);
        }
        out[len] = 0;
        return out;
}

bool task_is_tenant(const Config *c, const StrList *active, const Task *t) {
        if (!t->cgroup || task_is_kthread(t) || !task_in_vm_cgroup(c, t))
                return false;
        for (size_t i = 0; i < active->n; i++) {
                const Vm *vm = config_find_vm(c, active->v[i]);
                if (vm && vm->activation != ACTIVATION_LIBVIRT)
                        return false; /* a VM started by other means may live anywhere in there */
        }
        for (size_t i = 0; i < active->n; i++) {
                const Vm *vm = config_find_vm(c, active->v[i]);
                if (!vm)
                        continue;
                _cleanup_free_ char *esc = escape_unit_part(vm->domain);
                _cleanup_free_ char *scope = xasprintf("\\x2d%s.scope", esc);
                _cleanup_free_ char *v1 = xasprintf("/cpushield.%s", vm->name);
                if (strstr(t->cgroup, scope) || startswith(t->cgroup, v1))
                        return false;
        }
        return true;
}

bool change_is_pending(const Change *c) {
        return c->op == OP_LIBVIRT_PIN && !c->from;
}

size_t plan_count_actionable(const Plan *p) {
        size_t n = 0;

        for (size_t i = 0; i < p->n_changes; i++)
                n += !change_is_pending(&p->changes[i]);
        return n;
}

void plan_free(Plan *p) {
        for (size_t i = 0; i < p->n_changes; i++) {
                Change *c = &p->changes[i];
                free(c->target);
                free(c->from);
                free(c->to);
                free(c->vm);
                free(c->name);
                free(c->pids);
                free(c->uri);
        }
        free(p->changes);
        cpuset_free(&p->bounce_cpus);
        for (size_t i = 0; i < p->n_skipped; i++) {
                free(p->skipped[i].target);
                free(p->skipped[i].reason);
        }
        free(p->skipped);
        strlist_free(&p->active);
        strlist_free(&p->warnings);
        strlist_free(&p->errors);
        strlist_free(&p->claimed);
        strlist_free(&p->forget);
        strlist_free(&p->drifted);
        free(p->partition_type);
        free(p->partition_why);
        memset(p, 0, sizeof *p);
}
