/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>

#include "fs.h"
#include "kernel.h"
#include "plan.h"

const char *change_kind_to_string(ChangeKind k) {
        static const char *const names[_KIND_MAX] = {
                [KIND_CPUSET] = "cpuset", [KIND_KTHREAD] = "kthread", [KIND_IRQ] = "irq",
                [KIND_WORKQUEUE] = "workqueue", [KIND_POWER] = "power", [KIND_LIBVIRT] = "libvirt",
        };
        return names[k];
}

ChangeKind change_kind_from_string(const char *s) {
        for (int k = 0; k < _KIND_MAX; k++)
                if (strncmp(s, change_kind_to_string((ChangeKind) k), strlen(change_kind_to_string((ChangeKind) k))) == 0)
                        return (ChangeKind) k;
        return KIND_CPUSET;
}

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

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static bool claimed(const Plan *p, const char *target) {
        return p->claimed.n && bsearch(&target, p->claimed.v, p->claimed.n, sizeof(char *), cmp_str);
}

static int cmp_seq_desc(const void *a, const void *b) {
        const JournalItem *x = *(JournalItem *const *) a, *y = *(JournalItem *const *) b;
        return (x->seq < y->seq) - (x->seq > y->seq);
}

/* Is target inside a cgroup directory that this plan removes again? Its
 * files need no restoring, except the partition state: an isolated
 * partition goes back to "member" before rmdir, because the kernel hands
 * the CPUs back to the parent only asynchronously after rmdir (6.1), and
 * the affinities restored after it would be clipped meanwhile. */
static bool inside_removed_dir(const Journal *j, const Plan *p, const JournalItem *it) {
        static const char partition[] = "/cpuset.cpus.partition";
        size_t len = strlen(it->target);

        if (len >= sizeof partition - 1 && streq(it->target + len - (sizeof partition - 1), partition))
                return false;
        for (size_t i = 0; i < j->n_items; i++) {
                const JournalItem *d = &j->items[i];
                size_t n = strlen(d->target);

                if (!strstr(d->kind, "/mkdir") || !streq(d->original, "(absent)") || d == it)
                        continue;
                if (strncmp(it->target, d->target, n) == 0 && it->target[n] == '/' && !claimed(p, d->target))
                        return true;
        }
        return false;
}

/* Every journaled item no module wants any more goes back to its original,
 * newest first (a cgroup is emptied before it is removed). */
static void plan_restores(const PlanInput *in, Plan *p) {
        const Journal *j = in->journal;
        Plan r = {};

        if (!j || j->n_items == 0)
                return;
        _cleanup_free_ const JournalItem **items = xcalloc(j->n_items, sizeof(JournalItem *));
        for (size_t i = 0; i < j->n_items; i++)
                items[i] = &j->items[i];
        qsort(items, j->n_items, sizeof(JournalItem *), cmp_seq_desc);

        for (size_t i = 0; i < j->n_items; i++) {
                const JournalItem *it = items[i];
                const char *slash = strchr(it->kind, '/');
                ChangeOp op = change_op_from_string(slash ? slash + 1 : "write");
                _cleanup_free_ char *cur = NULL;
                int k;

                if (claimed(p, it->target))
                        continue;
                if (inside_removed_dir(j, p, it)) {
                        Change *c = plan_add(&r, change_kind_from_string(it->kind), op, it->target, it->applied, it->original);
                        c->restore = c->forget_only = true;
                        c->vm = xstrdup(it->vm);
                        c->name = xstrdup("inside a cgroup that is removed");
                        continue;
                }
                k = kernel_read(in->host, op, it->target, it->ident, &cur);
                if (k == -ESRCH || (k < 0 && errno_is_absent(k))) {
                        /* the task exited, the domain stopped: nothing to give back */
                        strlist_add(&p->forget, it->target);
                        continue;
                }
                if (k < 0) {
                        strlist_addf(&p->errors, "%s: cannot read the current value: %s", it->target, strerror(-k));
                        continue;
                }
                if (op != OP_MOVE_TASKS && value_equal(op, it->target, cur, it->original)) {
                        strlist_add(&p->forget, it->target);
                        continue;
                }
                if (op != OP_MOVE_TASKS && !in->force && !value_equal(op, it->target, cur, it->intended) &&
                    !(it->applied && value_equal(op, it->target, cur, it->applied))) {
                        strlist_addf(&p->drifted, "%s is %s now: neither what cpushield set (%s) nor the original (%s); "
                                     "someone else changed it, so it is left alone (revert --force restores it)",
                                     it->target, cur[0] ? cur : "(empty)", it->intended[0] ? it->intended : "(empty)",
                                     it->original[0] ? it->original : "(empty)");
                        continue;
                }
                Change *c = plan_add(&r, change_kind_from_string(it->kind), op, it->target, cur, it->original);
                c->restore = true;
                c->vm = xstrdup(it->vm);
                if (op == OP_AFFINITY) {
                        c->pid = atoi(it->target + strlen("/proc/"));
                        c->start_time = strtoull(it->ident, NULL, 10);
                } else if (op == OP_LIBVIRT_PIN) {
                        c->uri = xstrdup(it->ident);
                        (void) parse_libvirt_target(it->target, c);
                } else if (op == OP_UNIT) {
                        const char *u = it->target + strlen("systemd:");
                        c->unit = xstrndup(u, (size_t) (strrchr(u, '/') - u));
                }
        }
        /* Restores first, then the forward changes. */
        r.changes = xrealloc(r.changes, (r.n_changes + p->n_changes) * sizeof(Change));
        if (p->n_changes)
                memcpy(r.changes + r.n_changes, p->changes, p->n_changes * sizeof(Change));
        free(p->changes);
        p->changes = r.changes;
        p->n_changes += r.n_changes;
        strlist_free(&r.claimed);
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
                c->pid = t->pid;
                c->start_time = t->start_time;
                c->vm = plan_vms_touching(in, &b);
        }
        cpuset_free(&b);
        cpuset_free(&want);
}

int plan_build(const Host *h, const Config *c, const StrList *active, const PlanOptions *opts, Plan *ret) {
        PlanInput in = { .host = h, .cfg = c, .active = active, .journal = opts->journal, .libvirt = opts->libvirt,
                         .force = opts->force };
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

        /* Affinities first: journaled before the cgroup step, so restored
         * after it (a task mask can only come back once its cgroup allows it). */
        task_affinity_plan(&in, &p);
        kthread_plan(&in, &p);
        cpuset_plan(&in, &p);
        irq_plan(&in, &p);
        workqueue_plan(&in, &p);
        power_plan(&in, &p);
        libvirt_plan(&in, &p);
        if (p.claimed.n > 1)
                qsort(p.claimed.v, p.claimed.n, sizeof(char *), cmp_str);
        plan_restores(&in, &p);

        cpuset_free(&in.vm_cpus);
        cpuset_free(&in.housekeeping);
        *ret = p;
        return p.errors.n ? -EINVAL : 0;
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
        strlist_free(&p->claimed);
        strlist_free(&p->forget);
        strlist_free(&p->drifted);
        memset(p, 0, sizeof *p);
}
