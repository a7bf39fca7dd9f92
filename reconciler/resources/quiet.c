/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Runtime knobs that keep periodic kernel work off the VMs' CPUs while they
 * are shielded: the soft-lockup/NMI watchdog runs only on the host's CPUs
 * (kernel.watchdog_cpumask), and the per-CPU vmstat refresh comes less often
 * (vm.stat_interval: 120 s, or what defaults.vmstat_interval says; a larger
 * value already set is kept). Measured in the guests (bench/noise.sh), the
 * refresh was the one preemption left on every VM CPU at tuned's 10 s: once
 * per interval on each CPU with counters to fold. The cost of a longer one
 * is /proc/vmstat and meminfo lagging by up to the per-CPU thresholds for
 * longer; the kernel's watermark checks read exact values when they matter. Each
 * is switched off with `leave` in defaults (watchdog, vmstat_interval). What
 * only a reboot can change (nohz_full, rcu_nocbs, isolcpus=managed_irq) is
 * doctor's. */
#include <stdio.h>

#include "resource.h"

#define WATCHDOG "/proc/sys/kernel/watchdog_cpumask"
#define STAT_INTERVAL "/proc/sys/vm/stat_interval"
#define QUIET_STAT_INTERVAL 120u /* seconds, unless defaults.vmstat_interval says */

static void quiet_observe(const ObserveInput *in, Observed *obs) {
        if (in->active->n == 0)
                return;
        observe_item(in->reader, obs, OP_WRITE, WATCHDOG, NULL);
        observe_item(in->reader, obs, OP_WRITE, STAT_INTERVAL, NULL);
}

static void plan_watchdog(const PlanInput *in, Plan *p) {
        const char *cur = observed_or_empty(in->obs, WATCHDOG);
        CpuSet b = {}, want = {};

        if (in->cfg->watchdog == MODE_LEAVE)
                return; /* a value journaled before goes back */
        plan_claim(p, WATCHDOG);
        if (!cur[0] || cpuset_parse_list(plan_baseline(in, WATCHDOG, cur), &b) < 0)
                return; /* no watchdog in this kernel */
        plan_host_affinity(in, &b, &want);
        _cleanup_free_ char *to = cpuset_format_list(&want);
        if (!cpulist_equal_str(cur, to)) {
                Change *c = plan_add(p, KIND_QUIET, OP_WRITE, WATCHDOG, cur, to);
                c->name = xstrdup("soft-lockup and NMI watchdog on the host's CPUs only");
                c->vm = plan_vms_touching(in, &b);
        }
        cpuset_free(&b);
        cpuset_free(&want);
}

static void plan_stat_interval(const PlanInput *in, Plan *p, const char *vms) {
        const char *cur = observed_or_empty(in->obs, STAT_INTERVAL);
        unsigned base;
        unsigned want = in->cfg->vmstat_interval ? in->cfg->vmstat_interval : QUIET_STAT_INTERVAL;

        if (in->cfg->vmstat == MODE_LEAVE)
                return; /* a value journaled before goes back */
        plan_claim(p, STAT_INTERVAL);
        if (!cur[0] ||
            safe_atou(plan_baseline(in, STAT_INTERVAL, cur), &base) < 0 || base >= want)
                return;
        _cleanup_free_ char *to = xasprintf("%u", want);
        if (!streq(cur, to)) {
                Change *c = plan_add(p, KIND_QUIET, OP_WRITE, STAT_INTERVAL, cur, to);
                c->name = base == 1 ? xasprintf("vmstat refresh every %u s instead of every second", want)
                                    : xasprintf("vmstat refresh every %u s instead of every %u s", want, base);
                c->vm = xstrdup(vms);
        }
}

static void quiet_plan(const PlanInput *in, Plan *p) {
        if (cpuset_is_empty(&in->vm_cpus))
                return;
        _cleanup_free_ char *vms = plan_active_names(in);
        plan_watchdog(in, p);
        plan_stat_interval(in, p, vms);
}

const Resource resource_quiet = {
        .name = "quiet",
        .kind = KIND_QUIET,
        .needs = HOST_TOPOLOGY,
        .observe = quiet_observe,
        .plan = quiet_plan,
};
