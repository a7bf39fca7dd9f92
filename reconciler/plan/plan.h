/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "config.h"
#include "cpuset.h"
#include "devices.h"
#include "host.h"
#include "journal.h"
#include "observed.h"
#include "ops.h"
#include "util.h"

typedef struct Change {
        ChangeKind kind;
        ChangeOp op;
        char *target;
        char *from; /* NULL = unknown (libvirt domain not running or not consulted) */
        char *to;
        char *vm;   /* the active VM(s) this change serves, comma-separated */
        char *name; /* what the target is, for people: IRQ actions, thread name */
        /* What the target string does not say (the PID, unit, domain and
         * pinned thread are parsed from it where an op needs them). */
        /* OP_AFFINITY: the task's start time, so a reused PID is left alone */
        unsigned long long start_time;
        /* OP_MOVE_TASKS */
        int *pids;
        size_t n_pids;
        /* OP_LIBVIRT_PIN: the connection URI */
        char *uri;
        /* A journaled item going back to its original value. */
        bool restore;
        /* Inside a cgroup that a restore removes: forgotten, not written. */
        bool forget_only;
        /* systemd does this itself as a side effect of an earlier unit
         * change (a controller enabled, the slice's cgroup created): the
         * plan says so, and apply writes and records it only when systemd
         * did not. */
        bool by_systemd;
        /* Written back to `from` at the end of the run, after a pause in
         * which the kernel lets go of what it did (defaults.pressure: move),
         * and forgotten then. */
        bool bounce;
} Change;

typedef struct Skipped {
        ChangeKind kind;
        char *target;
        char *reason;
} Skipped;

typedef struct Plan {
        StrList active;
        Change *changes;
        size_t n_changes;
        Skipped *skipped;
        size_t n_skipped;
        StrList warnings;
        StrList errors;
        StrList claimed;   /* every target a module considered (sorted after build) */
        StrList forget;    /* journaled items already back at their original */
        StrList drifted;   /* journaled items changed by someone else: kept */
        /* cgroup v2: the partition type chosen ("isolated" or "root") and why. */
        char *partition_type, *partition_why;
        /* Where the run waits before writing back its bounce changes: the
         * host's CPUs, where what the kernel restarts then stays. */
        CpuSet bounce_cpus;
        unsigned bounce_ms;
} Plan;

typedef struct PlanInput {
        const Host *host;
        const Config *cfg;
        const StrList *active;    /* names of active VMs */
        CpuSet vm_cpus;           /* union of the active VMs' CPUs */
        CpuSet housekeeping;      /* online CPUs minus vm_cpus */
        /* Journaled originals: desired values are computed from what the
         * host had before cpushield touched it, so deactivating one VM gives
         * back exactly what only it needed. NULL = nothing journaled. */
        const Journal *journal;
        /* Items observed beyond the Host (cgroup files, unit CPUs, journaled
         * items' current values) and libvirt domains: planners only look up. */
        const Observed *obs;
        /* The active VMs' passed-through devices as sysfs shows them; NULL: none. */
        const Devices *devices;
        bool force;               /* restore drifted items too */
} PlanInput;

/* The inputs every planner shares: active VMs' CPUs and the housekeeping
 * CPUs (online minus those). Unknown active names go to p->errors. */
void plan_input_init(PlanInput *in, Plan *p);
void plan_input_done(PlanInput *in);
void plan_free(Plan *p);
/* Changes apply would make now: pins of a domain whose current pins are
 * unknown (libvirt not consulted) are shown but wait for the domain. */
size_t plan_count_actionable(const Plan *p);
bool change_is_pending(const Change *c);

Change *plan_add(Plan *p, ChangeKind kind, ChangeOp op, const char *target, const char *from, const char *to);
void plan_skip(Plan *p, ChangeKind kind, const char *target, const char *fmt, ...) _printf_(4, 5);
/* A module considered target: whatever the journal holds for it is not to be
 * restored behind the module's back. */
void plan_claim(Plan *p, const char *target);

/* "irq/write": how a change is journaled, so revert knows how to undo it. */
char *change_journal_kind(const Change *c);

/* The baseline of an item: its journaled original, else what we observe. */
const char *plan_baseline(const PlanInput *in, const char *target, const char *observed);
/* Comma-separated names of the active VMs whose CPUs intersect set. */
char *plan_vms_touching(const PlanInput *in, const CpuSet *set);
/* Desired affinity for a host-side item: the baseline without the active VMs'
 * CPUs, or all housekeeping CPUs when nothing would be left. */
void plan_host_affinity(const PlanInput *in, const CpuSet *baseline, CpuSet *ret);
/* Plans a task's affinity (target /proc/PID) onto plan_host_affinity of its
 * baseline, journaled with its start time. */
void plan_task_affinity(const PlanInput *in, Plan *p, const Task *t, ChangeKind kind, const char *name);

/* Is the task in the VMs' partition cgroup (v2) or a VM's v1 set? */
bool task_in_vm_cgroup(const Config *c, const Task *t);
/* A user task in the VMs' cgroup that belongs to no active VM: another
 * libvirt domain, a container. A VM's own tasks are in its libvirt machine
 * scope (machine-qemu\x2dN\x2dDOMAIN.scope) or its v1 set; while a VM
 * activated by other means is active, nothing in there is a tenant. */
bool task_is_tenant(const Config *c, const StrList *active, const Task *t);
/* "a,b": the names of the active VMs, comma-separated. */
char *plan_active_names(const PlanInput *in);
