/* SPDX-License-Identifier: GPL-2.0-or-later */
/* doctor: lint the host and the configuration together. Findings that make
 * isolation fail are errors; ones that weaken it are warnings; notes explain. */
#include <stdio.h>

#include "backend.h"
#include "fs.h"
#include "report.h"
#include "resource.h"

static bool cmdline_has(const Host *h, const char *key, char **ret_value) {
        _cleanup_free_ char *copy = xstrdup(strempty(h->cmdline));
        char *save = NULL;
        size_t n = strlen(key);

        for (char *w = strtok_r(copy, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save))
                if (strncmp(w, key, n) == 0 && (w[n] == '=' || w[n] == 0)) {
                        if (ret_value)
                                *ret_value = xstrdup(w[n] == '=' ? w + n + 1 : "");
                        return true;
                }
        return false;
}

static void domains(const Host *h, const Vm *vm, Doctor *d) {
        StrList seen = {};

        /* A VM spread over L3 domains or NUMA nodes pays cross-cache and
         * remote-memory latency on every vCPU migration. */
        CPUSET_FOREACH(c, &vm->cpus) {
                const Cpu *cpu = &h->cpus[c];
                char key[32];
                snprintf(key, sizeof key, "l3:%d", cpu->l3);
                if (cpu->l3 >= 0 && !strlist_contains(&seen, key))
                        strlist_add(&seen, key);
        }
        if (seen.n > 1)
                strlist_addf(&d->warnings, "VM '%s' (%s:%u:%u) spans %zu L3 domains: its vCPUs share no last-level "
                             "cache; keep a VM inside one L3 domain (see 'cpushield status')", vm->name,
                             vm->cpus_loc.file, vm->cpus_loc.line, vm->cpus_loc.column, seen.n);
        strlist_free(&seen);
        CPUSET_FOREACH(c, &vm->cpus) {
                char key[32];
                snprintf(key, sizeof key, "node:%d", h->cpus[c].node);
                if (h->cpus[c].node >= 0 && !strlist_contains(&seen, key))
                        strlist_add(&seen, key);
        }
        if (seen.n > 1)
                strlist_addf(&d->warnings, "VM '%s' spans %zu NUMA nodes: its memory is remote for some vCPUs; "
                             "keep it on one node", vm->name, seen.n);
        strlist_free(&seen);
}

/* system_power_efficient_wq (the neighbour tables' periodic work, among
 * others) is per-CPU unless workqueue.power_efficient is set at boot (its
 * parameter is read-only at runtime); then it is unbound and the workqueue
 * cpumask cpushield sets keeps it on the host's CPUs. Per-CPU, a delayed work
 * re-arms on the CPU it ran on: the noise benchmark found it on VM CPUs. */
static void power_efficient_wq(const Host *h, Doctor *d) {
        _cleanup_free_ char *v = NULL;

        if (read_small_attr(h->root_fd, "/sys/module/workqueue/parameters/power_efficient", &v) < 0 || !v[0] ||
            strchr("Yy1", v[0]))
                return; /* absent, unreadable or on: nothing to say */
        strlist_add(&d->notes, "workqueue.power_efficient is off: power-efficient kernel work (the neighbour "
                    "tables' periodic work, ...) stays on whichever CPU queued it, a VM's included; "
                    "workqueue.power_efficient=1 on the kernel command line makes it unbound, and cpushield's "
                    "workqueue mask then keeps it on the host's CPUs (at the cost of a reboot)");
}

void doctor_run(const Host *h, const Config *c, Doctor *d) {
        CpuSet vm_cpus = {};
        _cleanup_free_ char *isol = NULL, *nohz = NULL, *nocbs = NULL, *irqaff = NULL, *psi = NULL;

        for (size_t i = 0; i < c->warnings.n; i++)
                strlist_add(&d->warnings, c->warnings.v[i]);
        for (size_t i = 0; i < c->n_vms; i++) {
                cpuset_or(&vm_cpus, &c->vms[i].cpus);
                domains(h, &c->vms[i], d);
        }

        /* Boot parameters. */
        if (cmdline_has(h, "isolcpus", &isol))
                strlist_addf(&d->notes, "isolcpus=%s is on the kernel command line: those CPUs are reserved for "
                             "every boot, even while no VM runs; cpushield's partition does the same only while "
                             "a VM is active", isol);
        if (cmdline_has(h, "nohz_full", &nohz)) {
                CpuSet n = {};
                if (cpuset_parse_list(nohz, &n) >= 0 && !cpuset_is_subset(&n, &vm_cpus))
                        strlist_addf(&d->warnings, "nohz_full=%s covers CPUs that no VM owns: the host pays the "
                                     "tick-less overhead there for nothing", nohz);
                cpuset_free(&n);
                if (!cmdline_has(h, "rcu_nocbs", &nocbs))
                        strlist_add(&d->warnings, "nohz_full without rcu_nocbs=: RCU callbacks still run on the "
                                    "tick-less CPUs");
        } else if (!cpuset_is_empty(&vm_cpus))
                strlist_add(&d->notes, "no nohz_full= on the kernel command line: the scheduler tick still "
                            "interrupts the VMs' CPUs; add nohz_full= and rcu_nocbs= with the VMs' CPUs if that "
                            "matters, at the cost of a reboot");
        if (!cpuset_is_empty(&vm_cpus) && c->workqueues == MODE_MOVE)
                power_efficient_wq(h, d);
        if (!cpuset_is_empty(&vm_cpus) && !(cmdline_has(h, "psi", &psi) && streq(psi, "0"))) {
                if (host_has_v2_tree(h) && c->pressure == MODE_MOVE)
                        strlist_addf(&d->notes, "pressure stall information (PSI) is on: cpushield switches it off "
                                     "in the VMs' cgroup and those below it while they are shielded (on cgroup v1, "
                                     "in systemd's unified hierarchy) "
                                     "(cgroup.pressure, Linux 6.1+; defaults.pressure), whose averaging work would "
                                     "run on the VMs' CPUs%s; psi=0 on the kernel command line stops the rest (at "
                                     "the cost of a reboot, and of PSI for systemd-oomd)",
                                     config_pressure_moves(c)
                                             ? ", and moves the other cgroups' to the host's CPUs as the shield forms "
                                               "(off for 4.5 s, then on again)"
                                             : "; with defaults.pressure: disable the other cgroups' averaging work "
                                               "that ran on a VM's CPU before the shield stays there");
                else if (!host_has_v2_tree(h) && h->cg.mode == CGROUP_V1 && config_pressure_moves(c))
                        /* the host-wide group (psi_system) is switched only through cgroup2's root */
                        strlist_add(&d->notes, "pressure stall information (PSI) is on and no cgroup2 is mounted: "
                                    "the host-wide averaging work runs every 2 s on whichever CPU last queued it, "
                                    "a VM's included, and stays there while the host is busy (seen in the noise "
                                    "benchmark's cgroup v1 guest); cpushield moves it to the host's CPUs as the "
                                    "shield forms through cgroup2's root cgroup.pressure (cgroup2:/cgroup.pressure, "
                                    "off for 4.5 s, then on), which it reaches through a mount of cgroup2 that "
                                    "only its own run sees (Linux 5.2+); from then on /proc/PID/cgroup lists the "
                                    "cgroup2 hierarchy (0::/) as on a hybrid host. psi=0 on the kernel command "
                                    "line stops the work (at the cost of a reboot)");
                else
                        strlist_add(&d->notes, "pressure stall information (PSI) is on: a cgroup's averaging work "
                                    "runs every 2 s on the CPU whose task last woke it, a VM's own vCPU threads "
                                    "included, and stays there; psi=0 on the kernel command line stops it (at "
                                    "the cost of a reboot, and of PSI for systemd-oomd)");
        }
        if (cmdline_has(h, "irqaffinity", &irqaff))
                strlist_addf(&d->notes, "irqaffinity=%s sets where IRQs start at boot; cpushield moves them "
                             "while VMs run and puts them back", irqaff);

        /* Real-time tasks defeat isolation on tick-less CPUs. */
        for (size_t i = 0; i < h->n_tasks; i++) {
                const Task *t = &h->tasks[i];

                if (!task_is_kthread(t) && (t->policy == 1 || t->policy == 2) && !cpuset_is_empty(&h->nohz_full) &&
                    cpuset_intersects(&t->allowed, &h->nohz_full))
                        strlist_addf(&d->warnings, "task %d (%s) has real-time priority %d on nohz_full CPUs: a "
                                     "runnable RT task keeps the tick on and starves per-CPU kernel threads; "
                                     "cpushield never raises vCPU priorities", t->pid, t->comm, t->rt_priority);
        }

        /* Each resource's own rules. */
        Reader rd;
        backend_reader(backend_select(h), h, &rd);
        Devices devs = {};
        devices_load(h->root_fd, c, NULL, NULL, &devs);
        LintInput lin = { .host = h, .cfg = c, .vm_cpus = &vm_cpus, .reader = &rd, .devices = &devs };
        REGISTRY_FOREACH(res)
                if (res->lint)
                        res->lint(&lin, d);
        devices_free(&devs);
        cpuset_free(&vm_cpus);
}
