/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <signal.h>
#include <stdio.h>

#include "apply.h"
#include "kernel.h"

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

int apply_plan(const Host *h, Journal *j, const Plan *p, int crash_after_writes, ApplyResult *ret) {
        ApplyResult res = {};
        unsigned writes = 0;
        int r;

        if (crash_after_writes == 0) /* test hook: killed before any write */
                raise(SIGKILL);

        for (size_t i = 0; i < p->n_changes; i++) {
                const Change *c = &p->changes[i];
                _cleanup_free_ char *cur = NULL, *back = NULL, *detail = NULL, *ident = ident_of(c), *kind = NULL;
                const JournalItem *it;

                if (change_is_pending(c)) {
                        strlist_addf(&res.notes, "%s: not applied (libvirt not consulted or domain not running)", c->target);
                        continue;
                }
                if (c->forget_only) {
                        r = journal_forget(j, c->target);
                        if (r < 0)
                                err_add(&res, c, "journal", r, NULL);
                        continue;
                }
                if (c->op != OP_MOVE_TASKS) {
                        r = kernel_read(h, c->op, c->target, ident, &cur);
                        if (r == -ESRCH) {
                                strlist_addf(&res.notes, "%s: %s", c->target,
                                             c->op == OP_LIBVIRT_PIN ? "domain not running: nothing to pin"
                                                                     : "the task is gone: nothing to do");
                                (void) journal_forget(j, c->target);
                                continue;
                        }
                        if (r < 0) {
                                err_add(&res, c, "cannot read", r, NULL);
                                continue;
                        }
                        if (value_equal(c->op, c->target, cur, c->to)) {
                                it = journal_find(j, c->target);
                                if (c->restore || (it && value_equal(c->op, c->target, cur, it->original)))
                                        (void) journal_forget(j, c->target);
                                continue;
                        }
                }

                if (!c->restore) {
                        kind = change_journal_kind(c);
                        /* The original is what the plan observed under the lock,
                         * before this run wrote anything: a side effect of an
                         * earlier step of this run (a partition narrowing the
                         * workqueue mask) is not the host's original. */
                        r = journal_record(j, kind, c->target, ident,
                                           c->op == OP_MKDIR ? "(absent)" : c->from ? c->from : cur, c->to, c->vm);
                        if (r < 0) {
                                /* Without the original on disk, no write. */
                                err_add(&res, c, "cannot journal the original value, not changed", r, NULL);
                                continue;
                        }
                }

                r = kernel_apply(h, c, c->to, &detail);
                if (crash_after_writes > 0 && ++writes == (unsigned) crash_after_writes)
                        raise(SIGKILL);
                /* Managed, per-CPU and no-balancing IRQs: EIO on 6.1, EPERM on 6.12. */
                if ((r == -EIO || r == -EPERM) && is_irq_affinity(c)) {
                        strlist_addf(&res.notes, "%s%s%s: the kernel refuses to move this interrupt (managed, per-CPU "
                                     "or no-balancing IRQ); left where it is", c->target, c->name ? " " : "",
                                     strempty(c->name));
                        it = journal_find(j, c->target);
                        if (it && !c->restore && value_equal(c->op, c->target, cur, it->original))
                                (void) journal_forget(j, c->target);
                        (void) journal_refused(j, c->target);
                        continue;
                }
                if (r < 0) {
                        err_add(&res, c, c->restore ? "cannot restore" : "cannot change", r, detail);
                        continue;
                }
                if (detail)
                        strlist_addf(&res.errors, "%s: %s", c->target, detail);
                res.changed++;

                if (c->op == OP_MOVE_TASKS) {
                        if (c->restore)
                                (void) journal_forget(j, c->target);
                        continue;
                }
                r = kernel_read(h, c->op, c->target, ident, &back);
                if (r < 0) {
                        err_add(&res, c, "cannot read back", r, NULL);
                        continue;
                }
                if (!value_equal(c->op, c->target, back, c->to))
                        strlist_addf(&res.errors, "%s: wrote '%s' but it reads back '%s'%s", c->target, c->to, back,
                                     strstr(back, "invalid") ? " (the kernel rejected the partition)" : "");
                if (c->restore) {
                        if (value_equal(c->op, c->target, back, c->to))
                                (void) journal_forget(j, c->target);
                        continue;
                }
                r = journal_applied(j, c->target, back);
                if (r < 0)
                        err_add(&res, c, "journal", r, NULL);
                it = journal_find(j, c->target);
                if (it && value_equal(c->op, c->target, back, it->original))
                        (void) journal_forget(j, c->target);
        }
        for (size_t i = 0; i < p->forget.n; i++)
                (void) journal_forget(j, p->forget.v[i]);
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
