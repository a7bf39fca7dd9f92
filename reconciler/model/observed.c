/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdint.h>

#include "observed.h"

void domain_pins_free(DomainPins *d) {
        for (size_t i = 0; i < d->n_vcpu; i++)
                cpuset_free(&d->vcpu[i]);
        free(d->vcpu);
        for (size_t i = 0; i < d->n_iothread; i++)
                cpuset_free(&d->iothread[i]);
        free(d->iothread);
        free(d->iothread_ids);
        cpuset_free(&d->emulator);
        memset(d, 0, sizeof *d);
}

static ObservedValue *slot(const Observed *o, const char *key) {
        if (!o->n_slots)
                return NULL;
        for (size_t i = hash_string(key) & (o->n_slots - 1);; i = (i + 1) & (o->n_slots - 1))
                if (!o->values[i].key || streq(o->values[i].key, key))
                        return &o->values[i];
}

static void grow(Observed *o) {
        Observed n = { .n_slots = o->n_slots ? o->n_slots * 2 : 64 };

        n.values = xcalloc(n.n_slots, sizeof(ObservedValue));
        for (size_t i = 0; i < o->n_slots; i++)
                if (o->values[i].key)
                        *slot(&n, o->values[i].key) = o->values[i];
        free(o->values);
        o->values = n.values;
        o->n_slots = n.n_slots;
}

void observed_put(Observed *o, const char *key, const char *value, int err) {
        ObservedValue *v;

        if ((o->n_used + 1) * 2 > o->n_slots)
                grow(o);
        v = slot(o, key);
        if (v->key) {
                free(v->value);
        } else {
                v->key = xstrdup(key);
                o->n_used++;
        }
        v->value = err < 0 ? NULL : xstrdup(strempty(value));
        v->err = err < 0 ? err : 0;
}

int observed_get(const Observed *o, const char *key, const char **ret_value) {
        const ObservedValue *v = slot(o, key);

        if (!v || !v->key)
                return -ENODATA;
        if (v->err < 0)
                return v->err;
        *ret_value = v->value;
        return 0;
}

const char *observed_or_empty(const Observed *o, const char *key) {
        const char *v;

        return observed_get(o, key, &v) >= 0 ? v : "";
}

const ObservedDomain *observed_domain(const Observed *o, const char *uri, const char *domain) {
        for (size_t i = 0; i < o->n_domains; i++)
                if (streq(o->domains[i].uri, uri) && streq(o->domains[i].domain, domain))
                        return &o->domains[i];
        return NULL;
}

void observed_free(Observed *o) {
        for (size_t i = 0; i < o->n_slots; i++) {
                free(o->values[i].key);
                free(o->values[i].value);
        }
        free(o->values);
        for (size_t i = 0; i < o->n_domains; i++) {
                free(o->domains[i].uri);
                free(o->domains[i].domain);
                free(o->domains[i].error);
                domain_pins_free(&o->domains[i].pins);
        }
        free(o->domains);
        memset(o, 0, sizeof *o);
}

void observe_item(const Reader *rd, Observed *o, ChangeOp op, const char *target, const char *ident) {
        _cleanup_free_ char *v = NULL;
        const char *dummy;
        int r;

        if (observed_get(o, target, &dummy) != -ENODATA)
                return;
        r = rd->read(rd, op, target, ident, &v);
        observed_put(o, target, v, r);
}

void observe_domain(const Reader *rd, Observed *o, const char *uri, const char *domain) {
        ObservedDomain *d;

        if (observed_domain(o, uri, domain))
                return;
        d = array_push(&o->domains, &o->n_domains, sizeof(ObservedDomain));
        d->uri = xstrdup(uri);
        d->domain = xstrdup(domain);
        d->err = rd->domain(rd, uri, domain, &d->pins, &d->error);
}
