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
 * is switched off with `leave` in defaults (watchdog, vmstat_interval).
 * The neighbour tables' managed-entry probes (ARP's and IPv6's,
 * interval_probe_time_ms) come every 120 s instead of every 5 s
 * (defaults.neigh_probe_interval): their work runs every interval whether
 * or not any entry is managed, always on the CPU where the table was set
 * up at boot, measured on a VM's CPU in the 6.1 guests. Only entries added
 * with `ip neigh ... managed` are probed less often. Like the vmstat
 * refresh, each runs once more at the interval it had when it is changed,
 * so the value given back at revert applies within one longer interval.
 *
 * Pressure stall (PSI) accounting is switched off in the VMs' cgroup and
 * every cgroup below it (cgroup.pressure, Linux 6.1+): each cgroup's
 * averaging work runs every 2 s on the CPU whose task last woke it, and a
 * VM's cgroups have tasks only on the VMs' CPUs. Measured in the 6.1 guest
 * it was most of the preemptions left (bench/noise.sh). PSI follows the
 * cgroup v2 tree, which on cgroup v1 is systemd's unified hierarchy
 * (hybrid): there the VMs' cgroup is systemd's machine.slice of that tree,
 * which a VM's scope makes, never cpushield. The file is not hierarchical,
 * so each cgroup gets its own item; a VM's own cgroups appear when it
 * starts, so the apply after that (the watcher's, the timer's) switches
 * theirs off, and one that is gone when its VM stops has nothing to give
 * back. `defaults.pressure: move` also moves the averaging work of every
 * other cgroup (the root's, the host-wide one, included) when the shield
 * forms or changes shape: that work re-arms on the CPU it runs on for as
 * long as its group is busy, so a host group's that ran on a VM's CPU
 * before the shield stays there. Each such cgroup's PSI is switched off
 * (journaled), the run waits until the work has lapsed, moves itself to the
 * host's CPUs and switches it on again, which restarts the work on the
 * writer's CPU; then the item is forgotten. Meanwhile those cgroups show
 * no *.pressure files and count no stall time; `defaults.pressure:
 * disable` leaves them alone. On cgroup v1 with no cgroup2 mounted at all
 * (systemd's legacy mode, OpenRC's), the host-wide group is still switched
 * only through cgroup2's root: the run reaches that file as
 * cgroup2:/cgroup.pressure through a mount nobody else sees
 * (backends/cgroup2-mount.c); a busy host kept its work on a VM's CPU in
 * one boot of four in the 6.1 cgroup v1 guest. `defaults.pressure: leave`
 * keeps PSI. What only a
 * reboot can change (nohz_full, rcu_nocbs, isolcpus=managed_irq, psi=0) is
 * doctor's. */
#include <stdio.h>

#include "resource.h"

#define WATCHDOG "/proc/sys/kernel/watchdog_cpumask"
#define STAT_INTERVAL "/proc/sys/vm/stat_interval"
#define QUIET_STAT_INTERVAL 120u /* seconds, unless defaults.vmstat_interval says */
/* The neighbour tables' (ARP's, IPv6 neighbour discovery's) work that
 * probes managed entries (ip neigh ... managed), Linux 6.0+ */
static const char *const neigh_intervals[] = { "/proc/sys/net/ipv4/neigh/default/interval_probe_time_ms",
                                               "/proc/sys/net/ipv6/neigh/default/interval_probe_time_ms" };
#define QUIET_NEIGH_INTERVAL 120u /* seconds, unless defaults.neigh_probe_interval says */
/* Switched off, a group's averaging work runs at most twice more (2 s
 * apart) and stops: the wait before it is switched on again. */
#define PSI_LAPSE_MS 4500u

static char *pressure_target(const Host *h, const char *rel) {
        return xasprintf("%s/%s/" CGROUP_PRESSURE, h->cg.v2_mount, rel);
}

/* The root's: the host-wide PSI (on cgroup v1 without cgroup2 mounted,
 * through a mount of the run's own). */
static char *root_pressure_target(const Host *h) {
        if (!h->cg.v2_mount)
                return xstrdup(CGROUP2_UNMOUNTED "/" CGROUP_PRESSURE);
        return xasprintf("%s/" CGROUP_PRESSURE, h->cg.v2_mount);
}

static bool in_vms_tree(const char *rel, const char *partition) {
        size_t n = partition ? strlen(partition) : 0;

        return n && strncmp(rel, partition, n) == 0 && (rel[n] == '\0' || rel[n] == '/');
}

/* defaults.pressure: move: the cgroup.pressure of the root (i == 0) and of
 * the cgroup tree's i - 1th cgroup; NULL for one of the VMs' cgroups. */
static char *host_group_target(const Host *h, const Config *cfg, size_t i) {
        if (i == 0)
                return root_pressure_target(h);
        if (in_vms_tree(h->cg.tree.v[i - 1], cfg->partition))
                return NULL;
        return pressure_target(h, h->cg.tree.v[i - 1]);
}

static void quiet_observe(const ObserveInput *in, Observed *obs) {
        const Host *h = in->host;

        if (in->active->n == 0)
                return;
        observe_item(in->reader, obs, OP_WRITE, WATCHDOG, NULL);
        observe_item(in->reader, obs, OP_WRITE, STAT_INTERVAL, NULL);
        for (size_t i = 0; i < ELEMENTSOF(neigh_intervals); i++)
                observe_item(in->reader, obs, OP_WRITE, neigh_intervals[i], NULL);
        if (in->cfg->pressure == MODE_LEAVE)
                return;
        if (!host_has_v2_tree(h)) {
                /* cgroup v1 without cgroup2: the root's alone, to be bounced */
                if (host_v2_unmounted(h) && config_pressure_moves(in->cfg)) {
                        _cleanup_free_ char *t = root_pressure_target(h);
                        observe_item(in->reader, obs, OP_WRITE, t, NULL);
                }
                return;
        }
        for (size_t i = 0; i < h->cg.partition_tree.n; i++) {
                _cleanup_free_ char *t = pressure_target(h, h->cg.partition_tree.v[i]);
                observe_item(in->reader, obs, OP_WRITE, t, NULL);
        }
        if ((h->cg.partition_tree.n == 0 && h->cg.mode == CGROUP_V2) || config_pressure_moves(in->cfg)) {
                /* The root's: when the VMs' cgroup is made in this run, it
                 * says whether the kernel has the switch (read only); with
                 * defaults.pressure: move it is bounced like the others. */
                _cleanup_free_ char *t = root_pressure_target(h);
                observe_item(in->reader, obs, OP_WRITE, t, NULL);
        }
        for (size_t i = 1; config_pressure_moves(in->cfg) && i <= h->cg.tree.n; i++) {
                _cleanup_free_ char *t = host_group_target(h, in->cfg, i);
                if (t)
                        observe_item(in->reader, obs, OP_WRITE, t, NULL);
        }
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

/* A sysctl that sets how often some per-CPU work runs: at least want while
 * shielded, a larger value already set kept. The change (named by the
 * caller), or NULL when the file is absent or nothing is to change; base:
 * the value before cpushield's. */
static Change *plan_at_least(const PlanInput *in, Plan *p, const char *target, unsigned want, const char *vms,
                             unsigned *ret_base) {
        const char *cur = observed_or_empty(in->obs, target);

        plan_claim(p, target);
        if (!cur[0] || safe_atou(plan_baseline(in, target, cur), ret_base) < 0 || *ret_base >= want)
                return NULL;
        _cleanup_free_ char *to = xasprintf("%u", want);
        if (streq(cur, to))
                return NULL;
        Change *c = plan_add(p, KIND_QUIET, OP_WRITE, target, cur, to);
        c->vm = xstrdup(vms);
        return c;
}

static void plan_stat_interval(const PlanInput *in, Plan *p, const char *vms) {
        unsigned base, want = in->cfg->vmstat_interval ? in->cfg->vmstat_interval : QUIET_STAT_INTERVAL;
        Change *c;

        if (in->cfg->vmstat == MODE_LEAVE)
                return; /* a value journaled before goes back */
        if ((c = plan_at_least(in, p, STAT_INTERVAL, want, vms, &base)))
                c->name = base == 1 ? xasprintf("vmstat refresh every %u s instead of every second", want)
                                    : xasprintf("vmstat refresh every %u s instead of every %u s", want, base);
}

/* Each neighbour table's managed-entry work re-arms itself every
 * interval_probe_time_ms on the CPU it ran on, whether or not the table has
 * managed entries: a table initialised on a CPU that is now a VM's wakes a
 * kworker there twice every 10 s. Nothing moves it but CPU hotplug; a
 * longer interval makes it rare. */
static void plan_neigh_interval(const PlanInput *in, Plan *p, const char *vms) {
        unsigned base, secs = in->cfg->neigh_interval ? in->cfg->neigh_interval : QUIET_NEIGH_INTERVAL;
        Change *c;

        if (in->cfg->neigh == MODE_LEAVE)
                return; /* values journaled before go back */
        for (size_t i = 0; i < ELEMENTSOF(neigh_intervals); i++)
                if ((c = plan_at_least(in, p, neigh_intervals[i], secs * 1000u, vms, &base)))
                        c->name = xasprintf("%s neighbour table's managed-entry probes every %u s instead of "
                                            "every %u ms", i == 0 ? "IPv4 (ARP)" : "IPv6", secs, base);
}

static void pressure_off(Plan *p, const char *target, const char *from, const char *rel, const char *vms) {
        plan_claim(p, target);
        if (streq(from, "0"))
                return;
        Change *c = plan_add(p, KIND_QUIET, OP_WRITE, target, from, "0");
        c->name = xasprintf("pressure stall accounting off in %s (its averaging work runs where its tasks do)", rel);
        c->vm = xstrdup(vms);
}

/* "0" in the cgroup.pressure of the VMs' cgroup and each below it that has
 * one (none before 6.1, with psi=0 or cgroup_disable=pressure). */
static void plan_pressure(const PlanInput *in, Plan *p, const char *vms) {
        const Host *h = in->host;

        if (in->cfg->pressure == MODE_LEAVE || !host_has_v2_tree(h) || !in->cfg->partition)
                return; /* values journaled before go back */
        if (h->cg.partition_tree.n == 0 && h->cg.mode != CGROUP_V2)
                return; /* hybrid: made by the first VM's scope; the apply after it */
        if (h->cg.partition_tree.n == 0) {
                /* made in this run (cgroup resource), after which it has the
                 * switch, on, where the root has it */
                _cleanup_free_ char *root = root_pressure_target(h);
                _cleanup_free_ char *t = pressure_target(h, in->cfg->partition);
                const char *cur;

                if (observed_get(in->obs, root, &cur) >= 0 && cur[0])
                        pressure_off(p, t, "1", in->cfg->partition, vms);
                return;
        }
        for (size_t i = 0; i < h->cg.partition_tree.n; i++) {
                _cleanup_free_ char *t = pressure_target(h, h->cg.partition_tree.v[i]);
                const char *cur;

                if (observed_get(in->obs, t, &cur) >= 0 && cur[0])
                        pressure_off(p, t, cur, h->cg.partition_tree.v[i], vms);
        }
}

/* The CPUs the host may use change in this run: the partition or the
 * host's cpuset forms, grows or shrinks (planned by the cgroup resource,
 * before this one). */
static bool shield_reshaped(const Plan *p) {
        for (size_t i = 0; i < p->n_changes; i++) {
                const Change *c = &p->changes[i];

                if (c->restore || c->kind != KIND_CPUSET)
                        continue;
                if (c->op == OP_UNIT || c->op == OP_MKDIR || (c->op == OP_WRITE && endswith(c->target, "/cpuset.cpus")))
                        return true;
        }
        return false;
}

/* defaults.pressure: move: each other cgroup whose PSI is on is switched
 * off and, at the end of the run, on again from a host CPU (a bounce). One
 * still journaled (a run that stopped in between) is restored instead. */
static void plan_pressure_host(const PlanInput *in, Plan *p, const char *vms) {
        const Host *h = in->host;
        bool any = false;

        if (!config_pressure_moves(in->cfg) || !(host_has_v2_tree(h) || host_v2_unmounted(h)) ||
            !shield_reshaped(p))
                return;
        for (size_t i = 0; i <= h->cg.tree.n; i++) {
                _cleanup_free_ char *t = host_group_target(h, in->cfg, i);
                const char *cur;
                int r = t ? observed_get(in->obs, t, &cur) : -ENOENT;

                if (r < 0 && r != -ENOENT && startswith(t, CGROUP2_UNMOUNTED))
                        strlist_addf(&p->warnings, "the host-wide pressure stall averaging stays where it runs: "
                                     "no cgroup2 is mounted, and mounting it where only this run sees it failed "
                                     "(%s; cpushield's systemd units allow no mounts, the libvirt hook and "
                                     "cpushield activate do)", strerror(-r));
                if (r < 0 || !streq(cur, "1") || (in->journal && journal_find(in->journal, t)))
                        continue;
                Change *c = plan_add(p, KIND_QUIET, OP_WRITE, t, "1", "0");
                c->bounce = true;
                c->name = xasprintf("pressure stall averaging of %s moved to the host's CPUs (off for %u.%u s, then on)",
                                    i == 0 ? "the host (root cgroup)" : h->cg.tree.v[i - 1], PSI_LAPSE_MS / 1000,
                                    PSI_LAPSE_MS % 1000 / 100);
                c->vm = xstrdup(vms);
                any = true;
        }
        if (any) {
                cpuset_copy(&p->bounce_cpus, &in->housekeeping);
                p->bounce_ms = PSI_LAPSE_MS;
        }
}

static void quiet_plan(const PlanInput *in, Plan *p) {
        if (cpuset_is_empty(&in->vm_cpus))
                return;
        _cleanup_free_ char *vms = plan_active_names(in);
        plan_watchdog(in, p);
        plan_stat_interval(in, p, vms);
        plan_neigh_interval(in, p, vms);
        plan_pressure(in, p, vms);
        plan_pressure_host(in, p, vms);
}

const Resource resource_quiet = {
        .name = "quiet",
        .kind = KIND_QUIET,
        .needs = HOST_TOPOLOGY | HOST_PARTITION_TREE,
        .observe = quiet_observe,
        .plan = quiet_plan,
};
