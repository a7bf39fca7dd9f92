/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The planner: every resource of the registry plans in apply order, then
 * every journaled item no resource wants any more goes back to its
 * original. Pure: the host, the observed items and the journal in, the
 * plan out. */
#include <stdio.h>

#include "planner.h"
#include "resource.h"

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
/* The cgroup directories cpushield created that this plan removes again. */
static void removed_dirs(const Journal *j, const Plan *p, StrList *ret) {
        for (size_t i = 0; j && i < j->n_items; i++) {
                const JournalItem *d = &j->items[i];
                if (strstr(d->kind, "/mkdir") && streq(d->original, "(absent)") && !claimed(p, d->target))
                        strlist_add(ret, d->target);
        }
}

static bool inside_removed_dir(const StrList *dirs, const JournalItem *it) {
        static const char partition[] = "/cpuset.cpus.partition";
        size_t len = strlen(it->target);

        if (len >= sizeof partition - 1 && streq(it->target + len - (sizeof partition - 1), partition))
                return false;
        for (size_t i = 0; i < dirs->n; i++) {
                size_t n = strlen(dirs->v[i]);
                if (strncmp(it->target, dirs->v[i], n) == 0 && it->target[n] == '/')
                        return true;
        }
        return false;
}

/* Every journaled item no module wants any more goes back to its original,
 * newest first (a cgroup is emptied before it is removed). */
void plan_restores(const PlanInput *in, Plan *p) {
        const Journal *j = in->journal;
        Plan r = {};

        if (!j || j->n_items == 0)
                return;
        _cleanup_free_ const JournalItem **items = xcalloc(j->n_items, sizeof(JournalItem *));
        for (size_t i = 0; i < j->n_items; i++)
                items[i] = &j->items[i];
        qsort(items, j->n_items, sizeof(JournalItem *), cmp_seq_desc);
        StrList dirs = {};
        removed_dirs(j, p, &dirs);

        for (size_t i = 0; i < j->n_items; i++) {
                const JournalItem *it = items[i];
                ChangeKind kind;
                ChangeOp op;
                const char *cur;
                int k;

                if (claimed(p, it->target))
                        continue;
                if (journal_kind_parse(it->kind, &kind, &op) < 0) {
                        strlist_addf(&p->errors, "%s: journal record of unknown kind '%s'", it->target, it->kind);
                        continue;
                }
                if (inside_removed_dir(&dirs, it)) {
                        Change *c = plan_add(&r, kind, op, it->target, it->applied, it->original);
                        c->restore = c->forget_only = true;
                        c->vm = xstrdup(it->vm);
                        c->name = xstrdup("inside a cgroup that is removed");
                        continue;
                }
                k = observed_get(in->obs, it->target, &cur);
                if (k == -ENODATA) {
                        strlist_addf(&p->errors, "%s: its current value was not observed", it->target);
                        continue;
                }
                if (k == -ESRCH || k == -ENOENT || k == -ENOTDIR) {
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
                Change *c = plan_add(&r, kind, op, it->target, cur, it->original);
                c->restore = true;
                c->vm = xstrdup(it->vm);
                if (op == OP_AFFINITY)
                        c->start_time = strtoull(it->ident, NULL, 10);
                else if (op == OP_LIBVIRT_PIN)
                        c->uri = xstrdup(it->ident);
        }
        /* Restores first, then the forward changes. */
        r.changes = xrealloc(r.changes, (r.n_changes + p->n_changes) * sizeof(Change));
        if (p->n_changes)
                memcpy(r.changes + r.n_changes, p->changes, p->n_changes * sizeof(Change));
        free(p->changes);
        p->changes = r.changes;
        p->n_changes += r.n_changes;
        strlist_free(&r.claimed);
        strlist_free(&dirs);
}

void plan_forward(const PlanInput *in, Plan *p) {
        for (size_t i = 0; i < in->cfg->warnings.n; i++)
                strlist_add(&p->warnings, in->cfg->warnings.v[i]);
        REGISTRY_FOREACH(res)
                res->plan(in, p);
        if (p->claimed.n > 1)
                qsort(p->claimed.v, p->claimed.n, sizeof(char *), cmp_str);
}

void plan_restore_needs(const PlanInput *in, const Plan *p, const JournalItem ***ret, size_t *ret_n) {
        const Journal *j = in->journal;
        const JournalItem **v = NULL;
        size_t n = 0;

        StrList dirs = {};

        removed_dirs(j, p, &dirs);
        for (size_t i = 0; j && i < j->n_items; i++) {
                const JournalItem *it = &j->items[i];
                if (claimed(p, it->target) || inside_removed_dir(&dirs, it))
                        continue;
                v = xrealloc(v, (n + 1) * sizeof(*v));
                v[n++] = it;
        }
        strlist_free(&dirs);
        *ret = v;
        *ret_n = n;
}
