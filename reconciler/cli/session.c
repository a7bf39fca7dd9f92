/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>

#include "output.h"
#include "session.h"

int session_fatal(const Options *o, const char *msg) {
        if (o->output == OUTPUT_JSON) {
                Plan empty = {};
                StrList e = {};
                strlist_add(&e, msg);
                output_plan_json(stdout, &empty, &e);
                strlist_free(&e);
        }
        fprintf(stderr, "%s\n", msg);
        return 1;
}

int session_open(Session *s, const Options *o, SessionFlags flags) {
        _cleanup_free_ char *err = NULL;
        StrList files = {};
        int r;

        *s = (Session) { .o = o, .lock_fd = -1, .host = { .root_fd = -1 },
                         .journal = { .fd = -1, .dir_fd = -1 } };
        r = host_open(o->root, &s->host, &err);
        if (r < 0)
                return session_fatal(o, err), r;
        s->backend = backend_select(&s->host);
        if (o->configs.n == 0) {
                config_default_files(&files);
                if (!(flags & SESSION_NEED_CONFIG) && access(files.v[0], F_OK) < 0) {
                        strlist_free(&files);
                        return 0;
                }
        } else
                for (size_t i = 0; i < o->configs.n; i++)
                        strlist_add(&files, o->configs.v[i]);
        r = config_load(files.v, files.n, &s->host, &s->cfg, &err);
        strlist_free(&files);
        if (r < 0)
                return session_fatal(o, err), r;
        s->have_config = true;
        return 0;
}

/* The damaged lines of a journal, one error each. */
static void print_damaged(const Journal *j) {
        for (size_t i = 0; i < j->damaged.n; i++)
                fprintf(stderr, "cpushield: %s\n", j->damaged.v[i]);
}

int session_peek(Session *s) {
        _cleanup_free_ char *err = NULL;
        int r = journal_peek_full(s->o->state_dir, s->host.boot_id, &s->journal, &err);

        if (r < 0) {
                /* an unreadable journal is an error naming each bad line, never "empty" */
                print_damaged(&s->journal);
                if (s->journal.damaged.n == 0)
                        session_fatal(s->o, err ? err : "cpushield: the journal cannot be read");
                else
                        fprintf(stderr, "cpushield: nothing was changed; 'revert --force' restores the readable "
                                        "items and keeps the unreadable ones\n");
                return r;
        }
        s->have_journal = true;
        return 0;
}

bool session_journal_damaged(const Session *s) {
        if (!s->have_journal || !journal_is_damaged(&s->journal))
                return false;
        for (size_t i = 0; i < s->journal.damaged.n; i++)
                fprintf(stderr, "cpushield: %s: kept, not restored (copy in %s/%s)\n", s->journal.damaged.v[i],
                        s->o->state_dir, JOURNAL_UNREADABLE_FILE);
        return true;
}

int session_lock(Session *s, bool allow_damaged) {
        _cleanup_free_ char *err = NULL, *warning = NULL;
        int r = state_lock(s->o->state_dir, s->o->wait_s, &s->lock_fd, &err);

        if (r < 0)
                return session_fatal(s->o, err), r;
        r = journal_open_full(s->o->state_dir, s->host.boot_id, allow_damaged ? JOURNAL_ALLOW_DAMAGED : 0,
                              &s->journal, &warning, &err);
        if (r < 0)
                return session_fatal(s->o, err), r;
        s->have_journal = true;
        if (warning)
                fprintf(stderr, "cpushield: warning: %s\n", warning);
        for (size_t i = 0; i < s->journal.torn.n; i++)
                fprintf(stderr, "cpushield: warning: %s\n", s->journal.torn.v[i]);
        return 0;
}

bool session_uses_libvirt(const Session *s) {
        return s->o->libvirt == LIBVIRT_YES || (s->o->libvirt == LIBVIRT_AUTO && s->host.real_root);
}

int session_active(Session *s, const char *except, StrList *ret, StrList *warnings) {
        const Options *o = s->o;
        StrList a = {};
        Reader rd;

        for (size_t i = 0; i < o->activate.n; i++)
                if (!config_find_vm(&s->cfg, o->activate.v[i])) {
                        _cleanup_free_ char *msg = xasprintf("cpushield: --activate %s: no VM of that name in the "
                                                             "configuration", o->activate.v[i]);
                        return session_fatal(o, msg), -EINVAL;
                }
        s->obs.libvirt = session_uses_libvirt(s);
        backend_reader(s->backend, &s->host, &rd);
        for (size_t i = 0; i < s->cfg.n_vms; i++) {
                const Vm *vm = &s->cfg.vms[i];
                bool on = vm->activation == ACTIVATION_ALWAYS ||
                          (s->have_journal && strlist_contains(&s->journal.active, vm->name));

                if (vm->activation == ACTIVATION_LIBVIRT && s->obs.libvirt && !streq_ptr(except, vm->name)) {
                        observe_domain(&rd, &s->obs, vm->uri, vm->domain);
                        const ObservedDomain *d = observed_domain(&s->obs, vm->uri, vm->domain);
                        if (d->err >= 0)
                                on = d->pins.running;
                        else
                                strlist_addf(warnings, "VM '%s': %s; its activation is taken from the journal",
                                             vm->name, strempty(d->error));
                }
                if (on || strlist_contains(&o->activate, vm->name))
                        strlist_add(&a, vm->name);
        }
        *ret = a;
        return 0;
}

void session_close(Session *s) {
        observed_free(&s->obs);
        strlist_free(&s->hook_devices);
        journal_close(&s->journal);
        if (s->lock_fd >= 0)
                close(s->lock_fd);
        s->lock_fd = -1;
        if (s->have_config)
                config_free(&s->cfg);
        s->have_config = false;
        host_free(&s->host);
}
