/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Low-latency power policy on the active VMs' CPUs only: per-CPU PM QoS
 * resume latency, idle states deeper than the limit disabled, cpufreq
 * governor, minimum frequency and energy-performance preference per policy.
 * /dev/cpu_dma_latency is not used: it is global and lasts only while a
 * process holds it open. */
#include <stdio.h>

#include "resource.h"

static void add_write(const PlanInput *in, Plan *p, const char *target, const char *cur, const char *to,
                      const char *vm, const char *name) {
        plan_claim(p, target);
        if (streq(cur, to))
                return;
        Change *c = plan_add(p, KIND_POWER, OP_WRITE, target, cur, to);
        c->vm = xstrdup(vm);
        c->name = name ? xstrdup(name) : NULL;
}

static bool word_in(const char *list, const char *w) {
        _cleanup_free_ char *copy = xstrdup(strempty(list));
        char *save = NULL;

        for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
                if (streq(t, w))
                        return true;
        return false;
}

static void plan_cpu_latency(const PlanInput *in, Plan *p, const Vm *vm, const PowerProfile *pp, unsigned cpu) {
        const CpuPower *pw = &in->host->power[cpu];
        char target[160];

        if (pw->has_pm_qos) {
                /* The file reads "0" for "no constraint" and "n/a" for "no
                 * latency at all": a limit of 0 is written as "n/a". */
                _cleanup_free_ char *to = pp->max_wakeup_latency_us == 0 ? xstrdup("n/a")
                                                                           : xasprintf("%u", pp->max_wakeup_latency_us);
                snprintf(target, sizeof target, "/sys/devices/system/cpu/cpu%u/power/pm_qos_resume_latency_us", cpu);
                add_write(in, p, target, pw->pm_qos, to, vm->name, "PM QoS resume latency limit");
        }
        for (size_t k = 0; k < pw->n_idle; k++) {
                const IdleState *st = &pw->idle[k];

                if (st->latency_us <= pp->max_wakeup_latency_us)
                        continue;
                snprintf(target, sizeof target, "/sys/devices/system/cpu/cpu%u/cpuidle/state%u/disable", cpu, st->index);
                /* the name is read for a report only (HOST_REPORT) */
                _cleanup_free_ char *name = xasprintf("idle state %s (exit latency %u us)", strempty(st->name),
                                                      st->latency_us);
                add_write(in, p, target, st->disabled ? "1" : "0", "1", vm->name, name);
        }
}

static void plan_policy(const PlanInput *in, Plan *p, const Vm *vm, const PowerProfile *pp, const FreqPolicy *pol) {
        char target[160];
        const char *base = "/sys/devices/system/cpu/cpufreq";

        if (!cpuset_is_subset(&pol->related, &vm->cpus)) {
                _cleanup_free_ char *rel = cpuset_format_list(&pol->related);
                strlist_addf(&p->warnings, "%s/%s covers CPUs %s, not all of them VM '%s''s: its frequency settings "
                             "would also apply to other CPUs, so they are left alone", base, pol->name, rel, vm->name);
                return;
        }
        if (pp->governor && pol->governor) {
                if (pol->available_governors && !word_in(pol->available_governors, pp->governor))
                        strlist_addf(&p->warnings, "power profile '%s' (%s:%u:%u): governor '%s' is not offered by %s "
                                     "(available: %s); governor left alone", pp->name, pp->governor_loc.file,
                                     pp->governor_loc.line, pp->governor_loc.column, pp->governor, pol->name,
                                     pol->available_governors);
                else {
                        snprintf(target, sizeof target, "%s/%s/scaling_governor", base, pol->name);
                        add_write(in, p, target, pol->governor, pp->governor, vm->name, "cpufreq governor");
                }
        }
        if (pp->min_freq != MIN_FREQ_UNSET && pol->cpuinfo_max) {
                unsigned long want = pp->min_freq == MIN_FREQ_MAX ? pol->cpuinfo_max : pp->min_freq_khz;
                if (want > pol->cpuinfo_max)
                        want = pol->cpuinfo_max;
                if (want < pol->cpuinfo_min)
                        want = pol->cpuinfo_min;
                _cleanup_free_ char *cur = xasprintf("%lu", pol->scaling_min);
                _cleanup_free_ char *to = xasprintf("%lu", want);
                /* The kernel refuses a minimum above the maximum: raise the
                 * maximum first (and revert lowers it after the minimum). */
                if (pol->scaling_max && want > pol->scaling_max) {
                        _cleanup_free_ char *cmax = xasprintf("%lu", pol->scaling_max);
                        _cleanup_free_ char *tmax = xasprintf("%lu", want);
                        snprintf(target, sizeof target, "%s/%s/scaling_max_freq", base, pol->name);
                        add_write(in, p, target, cmax, tmax, vm->name, "maximum frequency (kHz), raised for the minimum");
                }
                snprintf(target, sizeof target, "%s/%s/scaling_min_freq", base, pol->name);
                add_write(in, p, target, cur, to, vm->name, "minimum frequency (kHz)");
        }
        if (pp->epp) {
                const char *gov = pp->governor ? pp->governor : pol->governor;

                if (!pol->has_epp)
                        plan_skip(p, KIND_POWER, pol->name, "driver %s has no energy_performance_preference",
                                  strempty(pol->driver));
                else if (streq_ptr(pol->driver, "intel_pstate") && streq_ptr(gov, "performance") &&
                         !streq(pp->epp, "performance"))
                        strlist_addf(&p->warnings, "power profile '%s' (%s:%u:%u): intel_pstate refuses an "
                                     "energy_performance_preference other than 'performance' under the performance "
                                     "governor (EBUSY); '%s' is not applied to %s", pp->name, pp->epp_loc.file,
                                     pp->epp_loc.line, pp->epp_loc.column, pp->epp, pol->name);
                else {
                        snprintf(target, sizeof target, "%s/%s/energy_performance_preference", base, pol->name);
                        add_write(in, p, target, pol->epp, pp->epp, vm->name, "energy-performance preference");
                }
        }
}

static void power_plan(const PlanInput *in, Plan *p) {
        const Host *h = in->host;

        for (size_t i = 0; i < in->active->n; i++) {
                const Vm *vm = config_find_vm(in->cfg, in->active->v[i]);
                const PowerProfile *pp = vm && vm->power ? config_find_profile(in->cfg, vm->power) : NULL;
                bool any_policy = false;

                if (!pp)
                        continue;
                if (pp->has_max_latency)
                        CPUSET_FOREACH(cpu, &vm->cpus)
                                if ((unsigned) cpu < h->nr_cpu_ids)
                                        plan_cpu_latency(in, p, vm, pp, (unsigned) cpu);
                for (size_t k = 0; k < h->n_policies; k++)
                        if (cpuset_intersects(&h->policies[k].related, &vm->cpus)) {
                                any_policy = true;
                                plan_policy(in, p, vm, pp, &h->policies[k]);
                        }
                if (!any_policy && (pp->governor || pp->min_freq != MIN_FREQ_UNSET || pp->epp))
                        plan_skip(p, KIND_POWER, "/sys/devices/system/cpu/cpufreq",
                                  "this host has no cpufreq: governor and frequency settings of profile '%s' skipped",
                                  pp->name);
                if (pp->has_max_latency && h->cpuidle_driver == NULL) {
                        bool any_idle = false;
                        CPUSET_FOREACH(cpu, &vm->cpus)
                                if ((unsigned) cpu < h->nr_cpu_ids && h->power[cpu].n_idle)
                                        any_idle = true;
                        if (!any_idle)
                                plan_skip(p, KIND_POWER, "/sys/devices/system/cpu/cpuidle",
                                          "this host has no cpuidle states: only the PM QoS limit applies");
                }
        }
}

/* What can only be global here. */
static void power_lint(const LintInput *in, Doctor *d) {
        const Host *h = in->host;

        for (size_t i = 0; i < h->n_policies; i++) {
                const FreqPolicy *p = &h->policies[i];
                if (cpuset_intersects(&p->related, in->vm_cpus) && !cpuset_is_subset(&p->related, in->vm_cpus)) {
                        _cleanup_free_ char *rel = cpuset_format_list(&p->related);
                        strlist_addf(&d->warnings, "cpufreq %s covers CPUs %s, VM and host together: a governor "
                                     "or minimum frequency could only be set for all of them, so cpushield leaves "
                                     "it alone", p->name, rel);
                }
        }
        if (h->cpufreq_driver && streq(h->cpufreq_driver, "intel_pstate"))
                strlist_add(&d->notes, "intel_pstate: turbo (intel_pstate/no_turbo) and the status file are global; "
                            "cpushield never writes them (writing status resets every policy)");
        strlist_add(&d->notes, "/dev/cpu_dma_latency is not used: it limits idle states on every CPU and only "
                    "while a process keeps it open; cpushield sets power/pm_qos_resume_latency_us and cpuidle "
                    "stateN/disable on the VMs' CPUs only, and they stay until revert");
}

const Resource resource_power = {
        .name = "power",
        .kind = KIND_POWER,
        .needs = HOST_TOPOLOGY | HOST_POWER,
        .plan = power_plan,
        .lint = power_lint,
};
