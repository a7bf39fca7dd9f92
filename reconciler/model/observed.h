/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "cpuset.h"
#include "ops.h"
#include "util.h"

/* What was observed beyond the Host model, for the planners: the current
 * value of single items (a cgroup file, a unit's AllowedCPUs, a journaled
 * item), keyed by target, and the live pins of libvirt domains. Filled by
 * the engine through a Reader before planning; planners only look up. */

typedef struct DomainPins {
        bool running;
        CpuSet *vcpu;
        size_t n_vcpu;
        bool has_emulator;
        CpuSet emulator;
        unsigned *iothread_ids;
        CpuSet *iothread;
        size_t n_iothread;
} DomainPins;

void domain_pins_free(DomainPins *d);

typedef struct ObservedValue {
        char *key;
        char *value; /* NULL when err < 0 */
        int err;     /* 0, or the negative errno of the read (-ESRCH: the task is gone) */
} ObservedValue;

typedef struct ObservedDomain {
        char *uri, *domain;
        int err;      /* < 0: libvirt could not be asked */
        char *error;  /* its message */
        DomainPins pins;
} ObservedDomain;

typedef struct Observed {
        ObservedValue *values; /* open-addressing hash table, n_slots a power of two */
        size_t n_slots, n_used;
        ObservedDomain *domains;
        size_t n_domains;
        bool libvirt; /* domains were asked (libvirt consulted) */
} Observed;

void observed_put(Observed *o, const char *key, const char *value, int err);
/* 0 and *ret_value, the stored error, or -ENODATA when key was not observed. */
int observed_get(const Observed *o, const char *key, const char **ret_value);
/* The value, or "" when absent or unreadable. */
const char *observed_or_empty(const Observed *o, const char *key);
const ObservedDomain *observed_domain(const Observed *o, const char *uri, const char *domain);
void observed_free(Observed *o);

/* How the observe step reads an item: a backend behind one function. */
typedef struct Reader {
        int (*read)(const struct Reader *rd, ChangeOp op, const char *target, const char *ident, char **ret);
        int (*domain)(const struct Reader *rd, const char *uri, const char *domain, DomainPins *ret, char **ret_error);
        const void *backend;
        const void *host;
} Reader;

/* Reads target through rd into o unless o has it already. */
void observe_item(const Reader *rd, Observed *o, ChangeOp op, const char *target, const char *ident);
/* Asks libvirt for a domain once per run. */
void observe_domain(const Reader *rd, Observed *o, const char *uri, const char *domain);
