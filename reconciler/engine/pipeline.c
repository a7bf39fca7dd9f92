/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <limits.h>
#include <stdio.h>

#include "pipeline.h"
#include "ops.h"
#include "planner.h"
#include "resource.h"

HostParts pipeline_host_parts(void) {
        HostParts parts = 0;

        REGISTRY_FOREACH(res)
                parts |= res->needs;
        return parts;
}

/* Power files only of the CPUs the power resource plans: those of active
 * VMs with a power profile (journaled ones come back through the restores,
 * which read each item on their own), and of those only what the profiles
 * set: a profile with a governor alone reads no frequency or EPP file. */
static void scope_power(const PipelineInput *in) {
        CpuSet cpus = {};
        unsigned floor = UINT_MAX; /* the lowest latency limit: faster states stay enabled */
        unsigned needs = 0;        /* what the profiles set (resources/power.c) */

        for (size_t i = 0; i < in->active->n; i++) {
                const Vm *vm = config_find_vm(in->cfg, in->active->v[i]);
                const PowerProfile *pp = vm && vm->power ? config_find_profile(in->cfg, vm->power) : NULL;
                if (!vm || !vm->power)
                        continue;
                cpuset_or(&cpus, &vm->cpus);
                if (!pp) {
                        needs = POWER_NEEDS_ALL;
                        continue;
                }
                if (pp->has_max_latency) {
                        needs |= POWER_LATENCY;
                        if (pp->max_wakeup_latency_us < floor)
                                floor = pp->max_wakeup_latency_us;
                }
                if (pp->governor)
                        needs |= POWER_GOVERNOR;
                if (pp->min_freq != MIN_FREQ_UNSET)
                        needs |= POWER_MIN_FREQ;
                if (pp->epp)
                        needs |= POWER_EPP;
        }
        host_scope_power_needs(in->host, &cpus, floor, needs);
        cpuset_free(&cpus);
}

static void add_irq(unsigned **v, size_t *n, const char *target) {
        unsigned irq;

        if (irq_target_parse(target, &irq) >= 0)
                *(unsigned *) array_push(v, n, sizeof(unsigned)) = irq;
}

/* An IRQ's flags (which the kernel will not let move) and name matter only
 * where a plan changes or reports it: a first plan without them names those
 * IRQs, and their details are read (true when anything was read). A
 * movable-looking IRQ the first plan leaves alone stays alone whatever its
 * flags. */
static bool irq_details(Host *h, const Plan *p) {
        _cleanup_free_ unsigned *v = NULL;
        size_t n = 0;

        for (size_t i = 0; i < p->n_changes; i++)
                if (p->changes[i].kind == KIND_IRQ)
                        add_irq(&v, &n, p->changes[i].target);
        for (size_t i = 0; i < p->n_skipped; i++)
                if (p->skipped[i].kind == KIND_IRQ)
                        add_irq(&v, &n, p->skipped[i].target);
        return host_load_irq_details(h, v, n);
}

/* The IRQs on the active VMs' CPUs are the ones a first plan without flags
 * names (it would move each, or leaves it alone for a refusal on record):
 * their details are read before it, so that the usual run plans once. The
 * plan made again after irq_details stays for the others (an IRQ that
 * drifted from its journaled target, a VM's device vector). */
static void irq_details_ahead(Host *h, const PlanInput *pin) {
        _cleanup_free_ unsigned *v = NULL;
        size_t n = 0;

        if (pin->cfg->irqs == MODE_LEAVE || cpuset_is_empty(&pin->vm_cpus))
                return;
        for (size_t i = 0; i < h->n_irqs; i++) {
                const Irq *q = &h->irqs[i];
                if (q->has_affinity && !q->details && cpuset_intersects(&q->affinity, &pin->vm_cpus) &&
                    !device_irq_steered(pin->devices, pin->active, q->number))
                        *(unsigned *) array_push(&v, &n, sizeof(unsigned)) = q->number;
        }
        (void) host_load_irq_details(h, v, n);
}

/* With no VM active, every resource plans nothing but restores, which read
 * their items themselves; carrying them out needs the cgroup layout, the
 * workqueue files and, on cgroup v1, the kernel threads. IRQs, power and
 * v2's kernel threads are not read; with nothing journaled, only the
 * cgroup layout. */
static HostParts host_parts(const PipelineInput *in) {
        if (in->active->n > 0) {
                host_set_partition(in->host, in->cfg->partition);
                return pipeline_host_parts() | (in->brief ? 0 : HOST_REPORT) |
                       (config_pressure_moves(in->cfg) ? HOST_CGROUP_TREE : 0);
        }
        host_load_parts(in->host, HOST_CGROUPS);
        if (!in->journal || in->journal->n_items == in->journal->holes)
                return HOST_CGROUPS; /* nothing to restore either (a revert after the last deactivate) */
        return HOST_CGROUPS | HOST_WORKQUEUES | (in->host->cg.mode == CGROUP_V2 ? 0 : HOST_KTHREADS);
}

/* Where only the root set's tasks were read (cgroup v1), the tasks an
 * earlier run narrowed have left it for the host set: they are read too, so
 * the plan keeps them (and their journaled masks) while their VMs run. */
static void journaled_tasks(const PipelineInput *in) {
        _cleanup_free_ int *pids = NULL;
        size_t n = 0;

        if (!in->journal || !(in->host->loaded & HOST_TASK_MASKS) || !in->host->tasks_partial)
                return;
        for (size_t i = 0; i < in->journal->n_items; i++) {
                const JournalItem *it = &in->journal->items[i];
                int pid;
                if (streq(it->kind, "cpuset/affinity") && target_task_pid(it->target, &pid) >= 0)
                        *(int *) array_push(&pids, &n, sizeof(int)) = pid;
        }
        host_load_tids(in->host, pids, n);
}

int pipeline_plan(const PipelineInput *in, Observed *obs, Plan *ret) {
        Reader rd;
        Plan p = {};
        PlanInput pin = { .host = in->host, .cfg = in->cfg, .active = in->active, .journal = in->journal,
                          .obs = obs, .force = in->force };
        const JournalItem **need = NULL;
        size_t n_need = 0;

        scope_power(in);
        host_load_parts(in->host, host_parts(in));
        backend_reader(in->backend, in->host, &rd);
        ObserveInput oin = { .host = in->host, .cfg = in->cfg, .active = in->active, .reader = &rd };
        REGISTRY_FOREACH(res)
                if (res->observe)
                        res->observe(&oin, obs);
        HostParts more = 0;
        REGISTRY_FOREACH(res)
                if (res->needs_now)
                        more |= res->needs_now(&oin, obs);
        host_load_parts(in->host, more);
        journaled_tasks(in);
        Devices devs = {};
        devices_load(in->host->root_fd, in->cfg, in->learned_devices, in->active, &devs);
        pin.devices = &devs;

        plan_input_init(&pin, &p);
        irq_details_ahead(in->host, &pin);
        plan_forward(&pin, &p);
        if (irq_details(in->host, &p)) {
                /* the same plan, now with those IRQs' flags and names */
                plan_input_done(&pin);
                plan_free(&p);
                p = (Plan) {};
                plan_input_init(&pin, &p);
                plan_forward(&pin, &p);
        }
        plan_restore_needs(&pin, &p, &need, &n_need);
        for (size_t i = 0; i < n_need; i++) {
                ChangeKind kind;
                ChangeOp op;
                if (journal_kind_parse(need[i]->kind, &kind, &op) >= 0)
                        observe_item(&rd, obs, op, need[i]->target, need[i]->ident);
        }
        free(need);
        plan_restores(&pin, &p);
        plan_input_done(&pin);
        devices_free(&devs);
        *ret = p;
        return p.errors.n ? -EINVAL : 0;
}

int pipeline_plan_once(Host *h, const Config *c, const StrList *active, const Journal *j, bool force, Plan *ret) {
        PipelineInput in = { .backend = backend_select(h), .host = h, .cfg = c, .active = active, .journal = j,
                             .force = force, .learned_devices = j ? &j->devices : NULL };
        Observed obs = {};
        int r = pipeline_plan(&in, &obs, ret);

        observed_free(&obs);
        return r;
}
