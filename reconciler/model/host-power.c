/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Per-CPU power state (PM QoS resume latency, idle states) and cpufreq
 * policies, as the power resource plans them. */
#include <stdio.h>

#include "fs.h"
#include "host-internal.h"

void host_load_power(Host *h) {
        int fd = h->root_fd;
        char path[512];
        StrList pols = {};

        h->power = xcalloc(h->nr_cpu_ids, sizeof(CpuPower));
        h->cpuidle_driver = host_read_str_or_null(fd, "/sys/devices/system/cpu/cpuidle/current_driver");
        for (unsigned c = 0; c < h->nr_cpu_ids; c++) {
                CpuPower *p = &h->power[c];

                snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/power/pm_qos_resume_latency_us", c);
                p->pm_qos = host_read_str_or_null(fd, path);
                p->has_pm_qos = p->pm_qos != NULL;
                for (unsigned k = 0;; k++) {
                        _cleanup_free_ char *dis = NULL;
                        IdleState st = { .index = k };

                        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/cpuidle/state%u/name", c, k);
                        st.name = host_read_str_or_null(fd, path);
                        if (!st.name)
                                break;
                        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/cpuidle/state%u/latency", c, k);
                        st.latency_us = (unsigned) host_read_ulong_or(fd, path, 0);
                        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/cpuidle/state%u/disable", c, k);
                        st.disabled = read_attr(fd, path, &dis) >= 0 && streq(strstrip(dis), "1");
                        *(IdleState *) array_push(&p->idle, &p->n_idle, sizeof(IdleState)) = st;
                }
        }

        if (list_dir(fd, "/sys/devices/system/cpu/cpufreq", &pols) < 0)
                return;
        for (size_t i = 0; i < pols.n; i++) {
                const char *n = pols.v[i];
                char base[256];
                FreqPolicy pol = {};

                if (!startswith(n, "policy"))
                        continue;
                snprintf(base, sizeof base, "/sys/devices/system/cpu/cpufreq/%s", n);
                snprintf(path, sizeof path, "%s/related_cpus", base);
                {
                        _cleanup_free_ char *rel = NULL;
                        if (read_attr(fd, path, &rel) < 0)
                                continue;
                        /* related_cpus is a space-separated list: "0 1 2 3" */
                        for (char *p = rel; *p; p++)
                                if (*p == ' ')
                                        *p = ',';
                        if (cpuset_parse_list(strstrip(rel), &pol.related) < 0)
                                continue;
                }
                pol.name = xstrdup(n);
#define RD(field, file) (snprintf(path, sizeof path, "%s/" file, base), pol.field = host_read_str_or_null(fd, path))
#define RU(field, file) (snprintf(path, sizeof path, "%s/" file, base), pol.field = host_read_ulong_or(fd, path, 0))
                RD(driver, "scaling_driver");
                RD(governor, "scaling_governor");
                RD(available_governors, "scaling_available_governors");
                RD(epp, "energy_performance_preference");
                RD(available_epp, "energy_performance_available_preferences");
                RU(cpuinfo_min, "cpuinfo_min_freq");
                RU(cpuinfo_max, "cpuinfo_max_freq");
                RU(scaling_min, "scaling_min_freq");
                RU(scaling_max, "scaling_max_freq");
#undef RD
#undef RU
                pol.has_epp = pol.epp != NULL;
                if (!h->cpufreq_driver && pol.driver)
                        h->cpufreq_driver = xstrdup(pol.driver);
                *(FreqPolicy *) array_push(&h->policies, &h->n_policies, sizeof(FreqPolicy)) = pol;
        }
        strlist_free(&pols);
}
