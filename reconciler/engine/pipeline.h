/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "backend.h"
#include "config.h"
#include "host.h"
#include "journal.h"
#include "observed.h"
#include "plan.h"

/* observe -> plan, the reading half of a run: the Host parts every resource
 * needs (each read once), the items beyond the Host the resources look up,
 * and the current values of the journaled items the restore step needs,
 * all through backend b. */
typedef struct PipelineInput {
        const Backend *backend;
        Host *host;               /* parts are loaded as needed */
        const Config *cfg;
        const StrList *active;
        const Journal *journal;   /* NULL: nothing journaled */
        /* Devices learned from domain XML: "VM ADDR" (NULL: none). */
        const StrList *learned_devices;
        bool force;
        /* The output shows no detail of the plan (apply's summary line, the
         * hook): what only a report shows (HOST_REPORT: IRQ and idle state
         * names, the count of pinned kernel threads) is not read, and the
         * plan goes without it. */
        bool brief;
} PipelineInput;

/* The union of every resource's needs. */
HostParts pipeline_host_parts(void);
/* Plans into *ret (valid on return either way); -EINVAL when the plan has errors. */
int pipeline_plan(const PipelineInput *in, Observed *obs, Plan *ret);

/* For tests and fuzzers: the backend this host gets, and one Observed for
 * one plan (freed before returning). */
int pipeline_plan_once(Host *h, const Config *c, const StrList *active, const Journal *j, bool force, Plan *ret);
