/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Per-CPU power state (PM QoS resume latency, idle states) and cpufreq
 * policies, as the power resource plans them. A plan needs them only for
 * the CPUs of active VMs with a power profile (host_scope_power): then the
 * per-CPU files of other CPUs, the settings of policies not covering a
 * scoped CPU, the name and whether an idle state within every profile's
 * latency limit is disabled are not read, nor what no profile sets
 * (host_scope_power_needs); doctor and status read all. */
#include <stdio.h>

#include "fs.h"
#include "host-internal.h"

void host_free_power(Host *h) {
        for (unsigned c = 0; h->power && c < h->nr_cpu_ids; c++) {
                free(h->power[c].pm_qos);
                for (size_t k = 0; k < h->power[c].n_idle; k++)
                        free(h->power[c].idle[k].name);
                free(h->power[c].idle);
        }
        free(h->power);
        h->power = NULL;
        for (size_t i = 0; i < h->n_policies; i++) {
                FreqPolicy *p = &h->policies[i];
                free(p->name);
                free(p->driver);
                free(p->governor);
                free(p->available_governors);
                free(p->epp);
                free(p->available_epp);
                cpuset_free(&p->related);
        }
        free(h->policies);
        h->policies = NULL;
        h->n_policies = 0;
        free(h->cpufreq_driver);
        free(h->cpuidle_driver);
        h->cpufreq_driver = h->cpuidle_driver = NULL;
}

void host_unscope_power(Host *h) {
        if (!h->power_scoped)
                return;
        host_free_power(h);
        h->loaded &= ~(unsigned) HOST_POWER;
        h->power_scoped = false;
        cpuset_free(&h->power_scope);
}

void host_scope_power_needs(Host *h, const CpuSet *cpus, unsigned idle_floor_us, unsigned needs) {
        if (h->loaded & HOST_POWER) {
                /* Read already: enough unless this scope is wider (another
                 * plan on the same host); then read again. */
                if (!h->power_scoped ||
                    (cpuset_is_subset(cpus, &h->power_scope) && idle_floor_us >= h->power_idle_floor_us &&
                     (needs & ~h->power_needs) == 0))
                        return;
                host_free_power(h);
                h->loaded &= ~(unsigned) HOST_POWER;
                cpuset_or(&h->power_scope, cpus);
                if (idle_floor_us < h->power_idle_floor_us)
                        h->power_idle_floor_us = idle_floor_us;
                h->power_needs |= needs;
                return;
        }
        h->power_scoped = true;
        cpuset_copy(&h->power_scope, cpus);
        h->power_idle_floor_us = idle_floor_us;
        h->power_needs = needs;
}

void host_scope_power(Host *h, const CpuSet *cpus, unsigned idle_floor_us) {
        host_scope_power_needs(h, cpus, idle_floor_us, POWER_NEEDS_ALL);
}

/* Unscoped (doctor, status): everything. */
static bool needed(const Host *h, unsigned what) {
        return !h->power_scoped || (h->power_needs & what);
}

static bool in_scope(const Host *h, unsigned c) {
        return !h->power_scoped || cpuset_isset(&h->power_scope, c);
}

/* An idle state's exit latency: -ENOENT when the file is absent; 0 when it
 * does not parse (as host_read_ulong_or). */
static int read_idle_latency(int fd, unsigned c, unsigned k, unsigned *ret) {
        _cleanup_free_ char *s = NULL;
        unsigned long v;
        char path[128];
        int r;

        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/cpuidle/state%u/latency", c, k);
        r = read_small_attr(fd, path, &s);
        if (r < 0)
                return r;
        *ret = safe_atolu(strstrip(s), &v) < 0 ? 0 : (unsigned) v;
        return 0;
}

static char *read_idle_name(int fd, unsigned c, unsigned k) {
        char path[128];

        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/cpuidle/state%u/name", c, k);
        return host_read_str_or_null(fd, path);
}

static void load_cpu_power(Host *h, unsigned c) {
        CpuPower *p = &h->power[c];
        int fd = h->root_fd;
        char path[512];

        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/power/pm_qos_resume_latency_us", c);
        p->pm_qos = host_read_str_or_null(fd, path);
        p->has_pm_qos = p->pm_qos != NULL;
        for (unsigned k = 0;; k++) {
                _cleanup_free_ char *dis = NULL;
                IdleState st = { .index = k };

                if (h->power_scoped) {
                        /* A plan looks at the states it may disable: the
                         * latency first; the name is for a report of those
                         * (HOST_REPORT), or tells a state without latency
                         * from the end of the list. */
                        if (read_idle_latency(fd, c, k, &st.latency_us) < 0 && !(st.name = read_idle_name(fd, c, k)))
                                break;
                        if (st.latency_us <= h->power_idle_floor_us) {
                                /* within every limit: never disabled, not looked at */
                                *(IdleState *) array_push(&p->idle, &p->n_idle, sizeof(IdleState)) = st;
                                continue;
                        }
                        if (!st.name && (h->loaded & HOST_REPORT))
                                st.name = read_idle_name(fd, c, k);
                } else {
                        if (!(st.name = read_idle_name(fd, c, k)))
                                break;
                        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/cpuidle/state%u/latency", c, k);
                        st.latency_us = (unsigned) host_read_ulong_or(fd, path, 0);
                }
                snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/cpuidle/state%u/disable", c, k);
                st.disabled = read_small_attr(fd, path, &dis) >= 0 && streq(strstrip(dis), "1");
                *(IdleState *) array_push(&p->idle, &p->n_idle, sizeof(IdleState)) = st;
        }
}

/* HOST_REPORT after a scoped read: the names of the states a plan may disable. */
void host_load_idle_names(Host *h) {
        for (unsigned c = 0; h->power && c < h->nr_cpu_ids; c++)
                for (size_t k = 0; k < h->power[c].n_idle; k++) {
                        IdleState *st = &h->power[c].idle[k];
                        if (!st->name && st->latency_us > h->power_idle_floor_us)
                                st->name = read_idle_name(h->root_fd, c, st->index);
                }
}

/* related_cpus is a space-separated list: "0 1 2 3" */
static int read_related(int fd, const char *base, CpuSet *ret) {
        _cleanup_free_ char *path = xasprintf("%s/related_cpus", base), *rel = NULL;

        if (read_small_attr(fd, path, &rel) < 0)
                return -ENOENT;
        for (char *p = rel; *p; p++)
                if (*p == ' ')
                        *p = ',';
        return cpuset_parse_list(strstrip(rel), ret);
}

/* One policy: its CPUs always, its settings where they are in scope (and
 * the driver of the first one, the host's cpufreq driver). */
static void load_policy(Host *h, const char *n) {
        int fd = h->root_fd;
        char base[256], path[512];
        FreqPolicy pol = {};

        snprintf(base, sizeof base, "/sys/devices/system/cpu/cpufreq/%s", n);
        if (read_related(fd, base, &pol.related) < 0) {
                cpuset_free(&pol.related);
                return;
        }
        pol.name = xstrdup(n);
        bool wanted = !h->power_scoped || cpuset_intersects(&pol.related, &h->power_scope);
#define RD(field, file) (snprintf(path, sizeof path, "%s/" file, base), pol.field = host_read_str_or_null(fd, path))
#define RU(field, file) (snprintf(path, sizeof path, "%s/" file, base), pol.field = host_read_ulong_or(fd, path, 0))
        /* Of a policy in scope, the settings its plan looks at (needed). */
        if ((wanted && needed(h, POWER_EPP)) || !h->cpufreq_driver)
                RD(driver, "scaling_driver");
        if (wanted && needed(h, POWER_GOVERNOR | POWER_EPP))
                RD(governor, "scaling_governor");
        if (wanted && needed(h, POWER_GOVERNOR))
                RD(available_governors, "scaling_available_governors");
        if (wanted && needed(h, POWER_EPP)) {
                RD(epp, "energy_performance_preference");
                RD(available_epp, "energy_performance_available_preferences");
        }
        if (wanted && needed(h, POWER_MIN_FREQ)) {
                RU(cpuinfo_min, "cpuinfo_min_freq");
                RU(cpuinfo_max, "cpuinfo_max_freq");
                RU(scaling_min, "scaling_min_freq");
                RU(scaling_max, "scaling_max_freq");
        }
#undef RD
#undef RU
        pol.has_epp = pol.epp != NULL;
        if (!h->cpufreq_driver && pol.driver)
                h->cpufreq_driver = xstrdup(pol.driver);
        *(FreqPolicy *) array_push(&h->policies, &h->n_policies, sizeof(FreqPolicy)) = pol;
}

void host_load_power(Host *h) {
        StrList pols = {};

        h->power = xcalloc(h->nr_cpu_ids, sizeof(CpuPower));
        h->cpuidle_driver = host_read_str_or_null(h->root_fd, "/sys/devices/system/cpu/cpuidle/current_driver");
        for (unsigned c = 0; c < h->nr_cpu_ids; c++)
                if (in_scope(h, c) && needed(h, POWER_LATENCY))
                        load_cpu_power(h, c);

        if (list_dir(h->root_fd, "/sys/devices/system/cpu/cpufreq", &pols) < 0)
                return;
        for (size_t i = 0; i < pols.n; i++)
                if (startswith(pols.v[i], "policy"))
                        load_policy(h, pols.v[i]);
        strlist_free(&pols);
}
