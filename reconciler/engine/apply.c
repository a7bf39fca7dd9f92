/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>

#include "apply.h"

typedef struct Run {
        const Backend *b;
        const Host *h;
        Journal *j;
        ApplyResult *res;
        unsigned writes;
        const Change **bounced; /* written bounce changes, to go back at the end */
        size_t n_bounced;
} Run;

static char *ident_of(const Change *c) {
        if (c->op == OP_AFFINITY)
                return xasprintf("%llu", c->start_time);
        if (c->op == OP_LIBVIRT_PIN)
                return xstrdup(strempty(c->uri));
        return xstrdup("");
}

static bool is_irq_affinity(const Change *c) {
        return c->kind == KIND_IRQ && startswith(c->target, "/proc/irq/");
}

static void err_add(ApplyResult *res, const Change *c, const char *what, int r, const char *detail) {
        if (detail)
                strlist_addf(&res->errors, "%s: %s: %s", c->target, what, detail);
        else
                strlist_addf(&res->errors, "%s: %s: %s", c->target, what, strerror(-r));
}

/* Forgets the item when it is back at its original. */
static void forget_if_original(Run *run, const Change *c, const char *value) {
        const JournalItem *it = journal_find(run->j, c->target);

        if (it && value_equal(c->op, c->target, value, it->original))
                (void) journal_forget(run->j, c->target);
}

/* Before writing: 1 when nothing is left to do, 0 to go on, < 0 on error. */
static int check_current(Run *run, const Change *c, const char *ident, char **ret_cur) {
        int r = effect_read(run->b, run->h, c->op, c->target, ident, ret_cur);

        if (r == -ESRCH) {
                strlist_addf(&run->res->notes, "%s: %s", c->target,
                             c->op == OP_LIBVIRT_PIN ? "domain not running: nothing to pin"
                                                     : "the task is gone: nothing to do");
                (void) journal_forget(run->j, c->target);
                return 1;
        }
        if (r < 0) {
                err_add(run->res, c, "cannot read", r, NULL);
                return r;
        }
        if (!value_equal(c->op, c->target, *ret_cur, c->to))
                return 0;
        if (c->by_systemd && !journal_find(run->j, c->target))
                strlist_addf(&run->res->notes, "%s: done by systemd (a side effect of the AllowedCPUs above): "
                             "not recorded, systemd's to undo", c->target);
        if (c->restore)
                (void) journal_forget(run->j, c->target);
        else
                forget_if_original(run, c, *ret_cur);
        return 1;
}

/* After writing: read back, journal what the kernel shows. */
static void record_result(Run *run, const Change *c, const char *ident) {
        _cleanup_free_ char *back = NULL;
        int r;

        if (c->op == OP_MOVE_TASKS) {
                if (c->restore)
                        (void) journal_forget(run->j, c->target);
                return;
        }
        r = effect_read(run->b, run->h, c->op, c->target, ident, &back);
        if (r < 0) {
                err_add(run->res, c, "cannot read back", r, NULL);
                return;
        }
        if (!value_equal(c->op, c->target, back, c->to))
                strlist_addf(&run->res->errors, "%s: wrote '%s' but it reads back '%s'%s", c->target, c->to, back,
                             strstr(back, "invalid") ? " (the kernel rejected the partition)" : "");
        if (c->restore) {
                if (value_equal(c->op, c->target, back, c->to))
                        (void) journal_forget(run->j, c->target);
                return;
        }
        r = journal_applied(run->j, c->target, back);
        if (r < 0)
                err_add(run->res, c, "journal", r, NULL);
        forget_if_original(run, c, back);
}

/* The original is what the plan observed under the lock, before this run
 * wrote anything (a side effect of an earlier step of this run, such as a
 * partition narrowing the workqueue mask, is not the host's original), or
 * when the plan could not see it, what the run reads just before writing. */
static int record(Run *run, const Change *c, const char *cur) {
        _cleanup_free_ char *ident = ident_of(c), *kind = change_journal_kind(c);

        return journal_record(run->j, kind, c->target, ident, c->op == OP_MKDIR ? "(absent)" : c->from ? c->from : cur,
                              c->to, c->vm);
}

/* Journals a change's original before its step writes anything: 1 when it
 * made a new item (forgotten again if nothing gets written), 0 when the
 * item was journaled already, RECORD_LATE when only the current value can
 * be the original. */
#define RECORD_LATE 2
static int record_original(Run *run, const Change *c) {
        bool fresh = journal_find(run->j, c->target) == NULL;
        int r;

        if (!c->from && c->op != OP_MKDIR)
                return RECORD_LATE;
        r = record(run, c, NULL);
        return r < 0 ? r : fresh;
}

/* A change whose original is on disk (or a restore): read, write, read back. */
static void apply_one(Run *run, const Change *c, int recorded) {
        _cleanup_free_ char *cur = NULL, *detail = NULL, *ident = ident_of(c);
        int r;

        if (c->op != OP_MOVE_TASKS && (r = check_current(run, c, ident, &cur)) != 0) {
                if (recorded == 1)
                        (void) journal_forget(run->j, c->target); /* new, and nothing written */
                return;
        }
        if (recorded == RECORD_LATE && ((r = record(run, c, cur)) < 0 || (r = journal_sync(run->j)) < 0)) {
                err_add(run->res, c, "cannot journal the original value, not changed", r, NULL);
                return;
        }
        r = effect_apply(run->b, run->h, c, c->to, &detail);
        if (run->b->checkpoint)
                run->b->checkpoint(++run->writes);
        /* Managed, per-CPU and no-balancing IRQs: EIO on 6.1, EPERM on 6.12. */
        if ((r == -EIO || r == -EPERM) && is_irq_affinity(c)) {
                strlist_addf(&run->res->notes, "%s%s%s: the kernel refuses to move this interrupt (managed, per-CPU "
                             "or no-balancing IRQ); left where it is", c->target, c->name ? " " : "", strempty(c->name));
                if (!c->restore)
                        forget_if_original(run, c, cur);
                (void) journal_refused(run->j, c->target);
                return;
        }
        if (r < 0) {
                err_add(run->res, c, c->restore ? "cannot restore" : "cannot change", r, detail);
                return;
        }
        if (detail)
                strlist_addf(&run->res->errors, "%s: %s", c->target, detail);
        run->res->changed++;
        record_result(run, c, ident);
        if (c->bounce)
                *(const Change **) array_push(&run->bounced, &run->n_bounced, sizeof(Change *)) = c;
}

/* The bounce changes go back to what they were after the plan's pause,
 * which lets the kernel let go of what it did on the VMs' CPUs, and are
 * forgotten. A crash before, or one that cannot go back, stays journaled:
 * the next run restores it. */
static void bounce_back(Run *run, const Plan *p) {
        if (run->n_bounced == 0)
                return;
        if (run->b->pause)
                run->b->pause(run->h, &p->bounce_cpus, p->bounce_ms);
        for (size_t i = 0; i < run->n_bounced; i++) {
                const Change *c = run->bounced[i];
                _cleanup_free_ char *detail = NULL, *ident = ident_of(c);
                int r = effect_apply(run->b, run->h, c, c->from, &detail);

                if (run->b->checkpoint)
                        run->b->checkpoint(++run->writes);
                if (r == -ENOENT) { /* the cgroup ended meanwhile (a job's scope): nothing to give back */
                        (void) journal_forget(run->j, c->target);
                        continue;
                }
                if (r < 0) {
                        err_add(run->res, c, "cannot switch back", r, detail);
                        continue;
                }
                /* read back and forgotten as a restore to `from` is */
                Change back = *c;
                back.to = c->from;
                back.restore = true;
                record_result(run, &back, ident);
        }
        free(run->bounced);
}

static bool skipped_here(Run *run, const Change *c) {
        if (change_is_pending(c)) {
                strlist_addf(&run->res->notes, "%s: not applied (libvirt not consulted or domain not running)",
                             c->target);
                return true;
        }
        if (c->forget_only) {
                int r = journal_forget(run->j, c->target);
                if (r < 0)
                        err_add(run->res, c, "journal", r, NULL);
                return true;
        }
        return false;
}

/* One step: the changes of one kind in a row. The originals of all of them
 * go to the journal and reach the disk with one flush, then the writes
 * follow: each original is still on disk before the write that changes it,
 * one fdatasync per step instead of one per change. Restores journal no
 * original: a crash before their "forget" is caught up by the next run. */
static size_t apply_step(Run *run, const Plan *p, size_t first) {
        const Change *c0 = &p->changes[first];
        size_t end = first + 1;

        while (end < p->n_changes && p->changes[end].kind == c0->kind && p->changes[end].restore == c0->restore)
                end++;
        _cleanup_free_ int *state = xcalloc(end - first, sizeof(int)); /* record_original's, < 0: no write */
        for (size_t i = first; i < end; i++) {
                const Change *c = &p->changes[i];
                int *st = &state[i - first];

                if (skipped_here(run, c))
                        *st = -ECANCELED;
                else if (!c->restore && (*st = record_original(run, c)) < 0)
                        /* Without the original on disk, no write. */
                        err_add(run->res, c, "cannot journal the original value, not changed", *st, NULL);
        }
        int r = c0->restore ? 0 : journal_sync(run->j);
        for (size_t i = first; i < end; i++) {
                const Change *c = &p->changes[i];

                if (state[i - first] < 0)
                        continue;
                if (r < 0)
                        err_add(run->res, c, "cannot flush the journal, not changed", r, NULL);
                else
                        apply_one(run, c, state[i - first]);
        }
        return end;
}

int apply_plan(const Backend *b, const Host *h, Journal *j, const Plan *p, ApplyResult *ret) {
        ApplyResult res = {};
        Run run = { .b = b, .h = h, .j = j, .res = &res };
        int r;

        if (b->checkpoint)
                b->checkpoint(0);
        j->lazy_sync = true;
        for (size_t i = 0; i < p->n_changes;)
                i = apply_step(&run, p, i);
        bounce_back(&run, p);
        for (size_t i = 0; i < p->forget.n; i++)
                (void) journal_forget(j, p->forget.v[i]);
        if (b->finish) {
                _cleanup_free_ char *detail = NULL;
                r = b->finish(h, &detail);
                if (r < 0)
                        strlist_addf(&res.errors, "%s", detail ? detail : strerror(-r));
        }
        (void) journal_sync(j);
        journal_items_pack(j);
        j->lazy_sync = false;
        r = journal_compact(j);
        if (r < 0)
                strlist_addf(&res.errors, "%s/journal: cannot compact: %s", j->dir, strerror(-r));
        *ret = res;
        return res.errors.n ? -EIO : 0;
}

void apply_result_free(ApplyResult *r) {
        strlist_free(&r->errors);
        strlist_free(&r->notes);
}
