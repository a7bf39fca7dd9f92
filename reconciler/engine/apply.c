/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>

#include "apply.h"

typedef struct Run {
        const Backend *b;
        const Host *h;
        Journal *j;
        ApplyResult *res;
        unsigned writes;
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

static void apply_one(Run *run, const Change *c) {
        _cleanup_free_ char *cur = NULL, *detail = NULL, *ident = ident_of(c), *kind = NULL;
        int r;

        if (change_is_pending(c)) {
                strlist_addf(&run->res->notes, "%s: not applied (libvirt not consulted or domain not running)",
                             c->target);
                return;
        }
        if (c->forget_only) {
                r = journal_forget(run->j, c->target);
                if (r < 0)
                        err_add(run->res, c, "journal", r, NULL);
                return;
        }
        if (c->op != OP_MOVE_TASKS && check_current(run, c, ident, &cur) != 0)
                return;
        if (!c->restore) {
                kind = change_journal_kind(c);
                /* The original is what the plan observed under the lock, before
                 * this run wrote anything: a side effect of an earlier step of
                 * this run (a partition narrowing the workqueue mask) is not the
                 * host's original. */
                r = journal_record(run->j, kind, c->target, ident,
                                   c->op == OP_MKDIR ? "(absent)" : c->from ? c->from : cur, c->to, c->vm);
                if (r < 0) {
                        /* Without the original on disk, no write. */
                        err_add(run->res, c, "cannot journal the original value, not changed", r, NULL);
                        return;
                }
        }
        /* The original is on disk before the write (one flush for the record
         * and the previous change's read-back). */
        r = journal_sync(run->j);
        if (r < 0) {
                err_add(run->res, c, "cannot flush the journal, not changed", r, NULL);
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
}

int apply_plan(const Backend *b, const Host *h, Journal *j, const Plan *p, ApplyResult *ret) {
        ApplyResult res = {};
        Run run = { .b = b, .h = h, .j = j, .res = &res };
        int r;

        if (b->checkpoint)
                b->checkpoint(0);
        j->lazy_sync = true;
        for (size_t i = 0; i < p->n_changes; i++)
                apply_one(&run, &p->changes[i]);
        for (size_t i = 0; i < p->forget.n; i++)
                (void) journal_forget(j, p->forget.v[i]);
        if (b->finish) {
                _cleanup_free_ char *detail = NULL;
                r = b->finish(h, &detail);
                if (r < 0)
                        strlist_addf(&res.errors, "%s", detail ? detail : strerror(-r));
        }
        (void) journal_sync(j);
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
