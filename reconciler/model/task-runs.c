/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tasks that ran on the VMs' CPUs during verify --sample: counting their
 * runs, and naming the per-CPU kernel threads among them. */
#include "task-runs.h"

static bool ran_since(const TaskRun *before, const TaskRun *now) {
        if (before->has_slices && now->has_slices)
                return now->slices > before->slices;
        return now->cputime > before->cputime;
}

void task_watch_update(TaskWatch *w, const TaskRun *now, const char *comm, const CpuSet *cpus) {
        if (!w->read) {
                w->first = w->last = *now;
                w->read = true;
                return;
        }
        if (ran_since(&w->last, now) && now->cpu >= 0 && cpuset_isset(cpus, (unsigned) now->cpu)) {
                w->ran = true;
                w->cpu = now->cpu;
                if (comm && !strlist_contains(&w->comms, comm))
                        strlist_add(&w->comms, comm);
        }
        w->last = *now;
}

long long task_watch_runs(const TaskWatch *w) {
        if (!w->read || !w->first.has_slices || !w->last.has_slices || w->last.slices < w->first.slices)
                return -1;
        return (long long) (w->last.slices - w->first.slices);
}

void task_watch_free(TaskWatch *w) {
        strlist_free(&w->comms);
}

void kthread_comm_split(const char *comm, char **ret_thread, char **ret_wq) {
        const char *dash = startswith(comm, "kworker/") ? strchr(comm, '-') : NULL;

        *ret_thread = dash ? xstrndup(comm, (size_t) (dash - comm)) : xstrdup(comm);
        *ret_wq = dash && dash[1] ? xstrdup(dash + 1) : NULL;
}

#define EVENTS_HINT                                                                                                   \
        "work queued on this CPU before it was shielded or by something running there (psi averaging, neighbour "    \
        "tables, RCU batches...): it re-arms on the same CPU; offlining and onlining the CPU before the VM starts "   \
        "moves it to the host (then run apply: drivers reset their IRQs' masks on hotplug); for psi's, "          \
        "defaults.pressure: move moves it as the shield forms, psi=0 at boot stops it"

const char *percpu_kthread_hint(const char *thread, const char *wq) {
        /* First match: a thread-name prefix, and a workqueue unless NULL. */
        static const struct {
                const char *thread, *wq, *hint;
        } hints[] = {
                { "kworker/u", NULL, "an unbound workqueue's worker: the workqueue cpumask keeps those off these CPUs" },
                { "kworker/", "mm_percpu_wq",
                  "vmstat refresh, every vm.stat_interval (cpushield's quiet resource sets 120 s while shielded)" },
                { "kworker/", "events", EVENTS_HINT },
                { "kworker/", "events_power_efficient",
                  "power-efficient work queued on this CPU (the neighbour tables' managed-entry probes and garbage "
                  "collection, ...): it re-arms on the same CPU; the probes come every "
                  "defaults.neigh_probe_interval (120 s) while shielded; workqueue.power_efficient=1 at boot makes "
                  "the queue unbound, and cpushield's workqueue mask then keeps it on the host's CPUs" },
                { "kworker/", "events_freezable", EVENTS_HINT },
                { "kworker/", NULL, "work queued on this CPU" },
                { "ksoftirqd/", NULL, "softirq work deferred to the thread (timers, RCU)" },
                { "migration/", NULL, "the CPU stopper: a task moved, the watchdog" },
                { "rcuc/", NULL, "RCU callbacks: boot with rcu_nocbs=" },
                { "rcuop/", NULL, "RCU callbacks" },
        };

        for (size_t i = 0; i < ELEMENTSOF(hints); i++)
                if (startswith(thread, hints[i].thread) && (!hints[i].wq || streq_ptr(wq, hints[i].wq)))
                        return hints[i].hint;
        return "";
}
