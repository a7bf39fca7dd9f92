/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "config.h"
#include "host.h"
#include "observed.h"
#include "plan.h"

/* One resource, one file, one table: what of the host it observes, how it
 * plans (pure: config + activity + observed state + journal in, changes
 * out, no I/O), what it counts as noise on the VMs' CPUs (verify) and what it
 * lints (doctor). The registry lists them in apply order. */

typedef struct Verify {
        StrList noise;          /* one line per thing that may run on VM CPUs */
        size_t percpu_kthreads; /* bound to their CPU: cannot move, not noise */
        size_t unmovable_irqs;  /* managed / per-CPU: the kernel keeps them */
} Verify;

typedef struct VerifyInput {
        const Host *host;
        const Config *cfg;
        const CpuSet *vm_cpus;   /* the active VMs' CPUs */
        const StrList *active;   /* the active VMs */
        const StrSet *refused;   /* IRQ targets the kernel refused this boot */
        const Devices *devices;  /* the active VMs' passed-through devices */
} VerifyInput;

typedef struct Doctor {
        StrList errors, warnings, notes;
} Doctor;

typedef struct LintInput {
        const Host *host;
        const Config *cfg;
        const CpuSet *vm_cpus;   /* every configured VM's CPUs */
        const Reader *reader;    /* items beyond the Host model (irqbalance's socket); may be NULL */
        const Devices *devices;  /* every configured VM's passed-through devices */
} LintInput;

typedef struct ObserveInput {
        const Host *host;
        const Config *cfg;
        const StrList *active;
        const Reader *reader;
} ObserveInput;

typedef struct Resource {
        const char *name;
        ChangeKind kind;
        HostParts needs;   /* parts of the Host model its plan reads */
        /* Items beyond the Host model that plan looks up (optional). */
        void (*observe)(const ObserveInput *in, Observed *obs);
        /* Parts its plan reads only in some states, decided from what was
         * observed (optional): e.g. every task only while a partition forms. */
        HostParts (*needs_now)(const ObserveInput *in, const Observed *obs);
        void (*plan)(const PlanInput *in, Plan *p);
        void (*verify)(const VerifyInput *in, Verify *v);  /* optional */
        void (*lint)(const LintInput *in, Doctor *d);      /* optional */
} Resource;

/* In apply order: host tasks' own masks before the cgroup step (so they are
 * restored after it), kernel threads, cgroups, IRQs (then the VMs' devices'), workqueues, runtime
 * quieting, power, libvirt pins. irqbalance right after the IRQs: its ban
 * keeps them where the irq step put them. */
extern const Resource *const resource_registry[];
extern const size_t resource_registry_size;

#define REGISTRY_FOREACH(r) \
        for (const Resource *const *_rp = resource_registry, *r; \
             _rp < resource_registry + resource_registry_size && (r = *_rp); _rp++)

extern const Resource resource_tasks, resource_kthread, resource_cgroup, resource_irq, resource_device_irq,
        resource_workqueue, resource_irqbalance, resource_quiet, resource_power, resource_pins;

/* cgroup v2: the partition is isolated with exactly the active VMs' CPUs,
 * as observed (resources/cgroup.c). */
bool cgroup_partition_formed(const Host *h, const Config *c, const StrList *active, const Observed *obs);

/* The device of an active VM whose vector irq is, when its policy keeps it
 * off the host (resources/device-irq.c plans it; the irq resource leaves
 * it alone and verify does not count it as noise). */
const PciDevice *device_irq_steered(const Devices *d, const StrList *active, unsigned irq);

void verify_free(Verify *v);
void doctor_free(Doctor *d);
