/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The commands that plan and converge: plan, apply, revert, activate,
 * deactivate, and the two that run them for libvirt (hook, watch). */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>

#include "apply.h"
#include "commands.h"
#include "domain-check.h"
#include "output.h"
#include "pipeline.h"
#include "session.h"

typedef enum Reconcile { RECONCILE_APPLY, RECONCILE_REVERT, RECONCILE_ACTIVATE, RECONCILE_DEACTIVATE } Reconcile;

static void add_all(StrList *dst, const StrList *src) {
        for (size_t i = 0; i < src->n; i++)
                strlist_add(dst, src->v[i]);
}

/* What a command prints of its plan beyond the summary line: the changes
 * and what is left alone (JSON, --diff, --verbose, a check), with names.
 * Without any, the plan goes without what only a report shows. */
static bool shows_plan(const Options *o, bool check) {
        return o->output == OUTPUT_JSON || o->diff || o->verbosity > 0 || (check && o->verbosity >= 0);
}

static int plan_session(Session *s, const StrList *active, bool brief, Plan *ret) {
        PipelineInput in = { .backend = s->backend, .host = &s->host, .cfg = &s->cfg, .active = active,
                             .journal = s->have_journal ? &s->journal : NULL, .force = s->o->force,
                             .learned_devices = &s->journal.devices, .brief = brief };
        return pipeline_plan(&in, &s->obs, ret);
}

int cmd_plan(const Options *o) {
        _cleanup_session_ Session s = SESSION_NULL;
        StrList active = {}, warnings = {};
        Plan p = {};
        int r, ret = 1;

        if (o->n_args > 0)
                return fprintf(stderr, "cpushield: plan takes no arguments (use --activate NAME)\n"), 1;
        if (session_open(&s, o, SESSION_NEED_CONFIG) < 0 || session_peek(&s) < 0 ||
            session_active(&s, NULL, &active, &warnings) < 0)
                goto out;
        /* plan shows what apply would do: journaled originals count. */
        r = plan_session(&s, &active, false, &p);
        add_all(&p.warnings, &warnings);
        if (o->output == OUTPUT_JSON)
                output_plan_json(stdout, &p, NULL);
        else if (o->verbosity >= 0 || r < 0)
                output_plan_text(stdout, &p, "plan", o->verbosity > 0);
        ret = r < 0 ? 1 : (o->detailed_exitcodes && plan_count_actionable(&p) > 0) ? 2 : 0;
out:
        plan_free(&p);
        strlist_free(&active);
        strlist_free(&warnings);
        return ret;
}

static void print_result(const Options *o, const Plan *p, const ApplyResult *res, const char *title) {
        if (o->output == OUTPUT_JSON) {
                output_plan_json(stdout, p, &res->errors);
                return;
        }
        if (o->verbosity < 0) {
                for (size_t i = 0; i < res->errors.n; i++)
                        fprintf(stderr, "cpushield: %s\n", res->errors.v[i]);
                return;
        }
        if (o->diff || o->verbosity > 0)
                output_plan_text(stdout, p, title, o->verbosity > 0);
        else {
                printf("%s: ", title);
                if (p->active.n == 0)
                        printf("no VM active");
                for (size_t i = 0; i < p->active.n; i++)
                        printf("%s%s", i ? ", " : "active: ", p->active.v[i]);
                printf("; %zu change%s\n", res->changed, res->changed == 1 ? "" : "s");
                for (size_t i = 0; i < p->warnings.n; i++)
                        printf("warning: %s\n", p->warnings.v[i]);
        }
        for (size_t i = 0; o->verbosity > 0 && i < res->notes.n; i++)
                printf("note: %s\n", res->notes.v[i]);
        for (size_t i = 0; i < res->errors.n; i++)
                fprintf(stderr, "cpushield: %s\n", res->errors.v[i]);
}

/* What the journal's list of VMs activated by hand becomes. */
static void mark_active(Journal *j, Reconcile what, const char *name) {
        if (what == RECONCILE_ACTIVATE && !strlist_contains(&j->active, name))
                strlist_add(&j->active, name);
        if (what == RECONCILE_DEACTIVATE) {
                StrList keep = {};
                for (size_t i = 0; i < j->active.n; i++)
                        if (!streq(j->active.v[i], name))
                                strlist_add(&keep, j->active.v[i]);
                strlist_free(&j->active);
                j->active = keep;
        }
        if (what == RECONCILE_REVERT)
                strlist_free(&j->active);
}

/* The devices learned from domain XML ("VM ADDR"), kept while the VM runs:
 * the hook's at its start replace the VM's earlier ones; a stop forgets
 * them. */
static void mark_devices(Session *s, Reconcile what, const char *name) {
        StrList keep = {};
        _cleanup_free_ char *prefix = name ? xasprintf("%s ", name) : NULL;

        if (what == RECONCILE_APPLY || (what == RECONCILE_ACTIVATE && !s->have_hook_devices))
                return;
        for (size_t i = 0; what != RECONCILE_REVERT && i < s->journal.devices.n; i++)
                if (!startswith(s->journal.devices.v[i], prefix))
                        strlist_add(&keep, s->journal.devices.v[i]);
        for (size_t i = 0; what == RECONCILE_ACTIVATE && i < s->hook_devices.n; i++)
                strlist_addf(&keep, "%s%s", prefix, s->hook_devices.v[i]);
        strlist_free(&s->journal.devices);
        s->journal.devices = keep;
}

/* Converges the host of an open session: the lock, the journal, then
 * everything else is read once, planned, and applied. */
static int reconcile_session(Session *s, Reconcile what, const char *name) {
        const Options *o = s->o;
        StrList active = {}, warnings = {};
        Plan p = {};
        ApplyResult res = {};
        int r, ret = 1;

        if (o->check && what == RECONCILE_APPLY) {
                if (session_peek(s) < 0)
                        return 1;
        } else if (session_lock(s, what == RECONCILE_REVERT && o->force) < 0)
                return 1;
        mark_active(&s->journal, what, name);
        mark_devices(s, what, name);
        if (what != RECONCILE_REVERT && session_active(s, name, &active, &warnings) < 0)
                goto out;
        r = plan_session(s, &active, !shows_plan(o, o->check), &p);
        add_all(&p.warnings, &warnings);
        add_all(&p.warnings, &p.drifted);
        if (r < 0) {
                if (o->output == OUTPUT_JSON)
                        output_plan_json(stdout, &p, NULL);
                for (size_t i = 0; i < p.errors.n; i++)
                        fprintf(stderr, "cpushield: %s\n", p.errors.v[i]);
                goto out;
        }
        if (o->check) {
                if (o->output == OUTPUT_JSON)
                        output_plan_json(stdout, &p, NULL);
                else if (o->verbosity >= 0)
                        output_plan_text(stdout, &p, "apply --check", o->verbosity > 0);
                ret = o->detailed_exitcodes && plan_count_actionable(&p) > 0 ? 2 : 0;
                goto out;
        }
        if (what != RECONCILE_APPLY && (r = active_save(&s->journal)) < 0) {
                fprintf(stderr, "cpushield: %s/active: %s\n", o->state_dir, strerror(-r));
                goto out;
        }
        if (what != RECONCILE_APPLY && (r = devices_save(&s->journal)) < 0) {
                fprintf(stderr, "cpushield: %s/devices: %s\n", o->state_dir, strerror(-r));
                goto out;
        }
        r = apply_plan(s->backend, &s->host, &s->journal, &p, &res);
        print_result(o, &p, &res, o->command);
        ret = r < 0 ? 1 : (o->detailed_exitcodes && res.changed > 0) ? 2 : 0;
        if (session_journal_damaged(s))
                ret = 1; /* revert --force: the readable items are back, the rest is kept */
        apply_result_free(&res);
out:
        plan_free(&p);
        strlist_free(&active);
        strlist_free(&warnings);
        return ret;
}

static int reconcile(const Options *o, Reconcile what) {
        _cleanup_session_ Session s = SESSION_NULL;
        bool named = what == RECONCILE_ACTIVATE || what == RECONCILE_DEACTIVATE;
        const char *name = o->n_args > 0 ? o->args[0] : NULL;

        if (named ? o->n_args != 1 : o->n_args != 0) {
                fprintf(stderr, "cpushield: usage: cpushield %s%s\n", o->command, named ? " NAME" : "");
                return 1;
        }
        if (o->activate.n > 0) {
                /* It would hold for this one run, and the next apply undo it. */
                fprintf(stderr, "cpushield: %s: --activate is for plan and verify; to mark a VM active, use "
                        "'cpushield activate NAME'\n", o->command);
                return 1;
        }
        /* Everything that can be wrong with the input is found before the
         * lock is taken and anything is written. */
        if (session_open(&s, o, SESSION_NEED_CONFIG) < 0)
                return 1;
        if (name && !config_find_vm(&s.cfg, name)) {
                fprintf(stderr, "cpushield: %s %s: no VM of that name in the configuration\n", o->command, name);
                return 1;
        }
        return reconcile_session(&s, what, name);
}

int cmd_apply(const Options *o) {
        return reconcile(o, RECONCILE_APPLY);
}

int cmd_revert(const Options *o) {
        return reconcile(o, RECONCILE_REVERT);
}

int cmd_activate(const Options *o) {
        return reconcile(o, RECONCILE_ACTIVATE);
}

int cmd_deactivate(const Options *o) {
        return reconcile(o, RECONCILE_DEACTIVATE);
}

/* The domain XML libvirt writes on the hook's standard input: read to
 * the end (so libvirt's write never fails) but never waited for longer than
 * a second, nor beyond 4 MiB, whatever stdin is (a terminal, a pipe nobody
 * closes). */
static char *read_stdin_bounded(void) {
        size_t cap = 4u << 20, len = 0;
        _cleanup_free_ char *buf = xmalloc(cap + 1);
        int flags = fcntl(STDIN_FILENO, F_GETFL);

        if (flags < 0 || isatty(STDIN_FILENO))
                return NULL;
        (void) fcntl(STDIN_FILENO, F_SETFL, flags | O_NONBLOCK);
        for (int waited_ms = 0; len < cap && waited_ms < 1000;) {
                struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
                ssize_t n;

                if (poll(&pfd, 1, 100) == 0) {
                        waited_ms += 100;
                        continue;
                }
                n = read(STDIN_FILENO, buf + len, cap - len);
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        continue;
                if (n <= 0)
                        break;
                len += (size_t) n;
        }
        (void) fcntl(STDIN_FILENO, F_SETFL, flags);
        buf[len] = 0;
        return TAKE_PTR(buf);
}

/* libvirt's hook: /etc/libvirt/hooks/qemu.d/cpushield calls
 * "cpushield hook qemu DOMAIN OP SUBOP". libvirtd waits for the hook, so it
 * must never call back into libvirt: everything runs with libvirt off, and
 * pins come from the domain's <cputune> (cpushield xml) or the watcher. One
 * session maps the domain to its VM and reconciles. libvirt takes the
 * hook's standard output as domain XML for some operations and kills QEMU
 * when the hook fails on others: the hook prints nothing on stdout, logs
 * to stderr (which libvirt records) and exits 0 whatever happens. */
int cmd_hook(const Options *o) {
        _cleanup_session_ Session s = SESSION_NULL;
        _cleanup_free_ char *xml = NULL;
        Options ho = *o;
        const Vm *vm = NULL;

        if (o->n_args < 4 || !streq(o->args[0], "qemu")) {
                fprintf(stderr, "cpushield: usage: cpushield hook qemu DOMAIN OPERATION SUB-OPERATION\n");
                return 0;
        }
        const char *domain = o->args[1], *op = o->args[2], *subop = o->args[3];
        bool start = streq(op, "prepare") && streq(subop, "begin");
        bool stop = streq(op, "release") && streq(subop, "end");
        if (!start && !stop)
                return 0; /* migrate, restore, reconnect, attach...: none of our business, at once */
        xml = read_stdin_bounded();

        ho.libvirt = LIBVIRT_NO;
        ho.output = OUTPUT_TEXT;
        ho.verbosity = -1; /* errors only, on stderr */
        ho.command = start ? "activate" : "deactivate";
        if (session_open(&s, &ho, SESSION_NEED_CONFIG) < 0) {
                fprintf(stderr, "cpushield: hook %s %s %s: configuration unusable, host not changed\n", domain, op,
                        subop);
                return 0;
        }
        for (size_t i = 0; i < s.cfg.n_vms; i++)
                if (streq(s.cfg.vms[i].domain, domain))
                        vm = &s.cfg.vms[i];
        if (!vm)
                return 0; /* a domain cpushield does not manage */
        if (start) {
                _cleanup_free_ char *who = xasprintf("hook %s %s %s", domain, op, subop);
                domain_check(who, vm, xml, xml ? strlen(xml) : 0, &s.hook_devices);
                s.have_hook_devices = xml && xml[0];
        }
        /* A failed isolation must not keep the VM from starting or its
         * resources from being released: report it (libvirt logs stderr). */
        if (reconcile_session(&s, start ? RECONCILE_ACTIVATE : RECONCILE_DEACTIVATE, vm->name) == 1)
                fprintf(stderr, "cpushield: hook %s %s %s: isolation incomplete, see above\n", domain, op, subop);
        return 0;
}

static int watch_reconcile(const Options *o) {
        return reconcile(o, RECONCILE_APPLY);
}

int cmd_watch(const Options *o) {
        Options wo = *o;

        wo.libvirt = LIBVIRT_YES;
        return watch_run(&wo, watch_reconcile);
}
