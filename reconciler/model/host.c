/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <stdio.h>

#include "fs.h"
#include "host.h"

static int read_cpuset_list(int root_fd, const char *path, CpuSet *ret) {
        _cleanup_free_ char *s = NULL;
        int r = read_attr(root_fd, path, &s);

        if (r < 0)
                return r;
        return cpuset_parse_list(s, ret);
}

static int read_int(int root_fd, const char *path, int *ret) {
        _cleanup_free_ char *s = NULL;
        char *end;
        long v;
        int r = read_attr(root_fd, path, &s);

        if (r < 0)
                return r;
        errno = 0;
        v = strtol(strstrip(s), &end, 10);
        if (errno || *end)
                return -EINVAL;
        *ret = (int) v;
        return 0;
}

static unsigned long read_ulong_or(int root_fd, const char *path, unsigned long dflt) {
        _cleanup_free_ char *s = NULL;
        unsigned long v;

        if (read_attr(root_fd, path, &s) < 0 || safe_atolu(strstrip(s), &v) < 0)
                return dflt;
        return v;
}

static char *read_str_or_null(int root_fd, const char *path) {
        char *s = NULL;

        if (read_attr(root_fd, path, &s) < 0)
                return NULL;
        return s;
}

static int add_unique_set(CpuSet **sets, size_t *n, const CpuSet *s) {
        for (size_t i = 0; i < *n; i++)
                if (cpuset_equal(&(*sets)[i], s))
                        return (int) i;
        CpuSet *slot = array_push(sets, n, sizeof(CpuSet));
        cpuset_copy(slot, s);
        return (int) (*n - 1);
}

/* One CPU's topology and its L3 domain. */
static void load_cpu(Host *h, unsigned c) {
        Cpu *cpu = &h->cpus[c];
        int fd = h->root_fd;
        char path[256];

        cpu->id = c;
        cpu->present = cpuset_isset(&h->present, c);
        cpu->online = cpuset_isset(&h->online, c);
        cpu->package = cpu->die = cpu->core_id = cpu->l3 = cpu->node = -1;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/topology/physical_package_id", c);
        (void) read_int(fd, path, &cpu->package);
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/topology/die_id", c);
        (void) read_int(fd, path, &cpu->die);
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/topology/core_id", c);
        (void) read_int(fd, path, &cpu->core_id);
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/topology/thread_siblings_list", c);
        if (read_cpuset_list(fd, path, &cpu->siblings) < 0 || !cpuset_isset(&cpu->siblings, c)) {
                cpuset_free(&cpu->siblings);
                (void) cpuset_add(&cpu->siblings, c);
        }

        for (unsigned idx = 0; idx < 16; idx++) {
                CpuSet shared = {};
                int level;

                snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/cache/index%u/level", c, idx);
                if (read_int(fd, path, &level) < 0)
                        break;
                if (level != 3)
                        continue;
                snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/cache/index%u/shared_cpu_list", c, idx);
                if (read_cpuset_list(fd, path, &shared) >= 0 && !cpuset_is_empty(&shared))
                        cpu->l3 = add_unique_set(&h->l3, &h->n_l3, &shared);
                cpuset_free(&shared);
                break;
        }
}

/* NUMA nodes and each CPU's node. */
static void load_nodes(Host *h) {
        int fd = h->root_fd;
        char path[256];
        StrList nodes = {};

        if (list_dir(fd, "/sys/devices/system/node", &nodes) >= 0) {
                for (size_t i = 0; i < nodes.n; i++) {
                        unsigned id;
                        CpuSet cpus = {};

                        if (!startswith(nodes.v[i], "node") || safe_atou(nodes.v[i] + 4, &id) < 0)
                                continue;
                        snprintf(path, sizeof path, "/sys/devices/system/node/node%u/cpulist", id);
                        if (read_cpuset_list(fd, path, &cpus) < 0)
                                continue;
                        while (h->n_nodes <= id)
                                array_push(&h->nodes, &h->n_nodes, sizeof(CpuSet));
                        cpuset_copy(&h->nodes[id], &cpus);
                        CPUSET_FOREACH(c, &cpus)
                                if ((unsigned) c < h->nr_cpu_ids)
                                        h->cpus[c].node = (int) id;
                        cpuset_free(&cpus);
                }
                strlist_free(&nodes);
        }
}

static int load_topology(Host *h, char **ret_error) {
        int fd = h->root_fd, r;

        r = read_cpuset_list(fd, "/sys/devices/system/cpu/possible", &h->possible);
        if (r < 0) {
                *ret_error = xasprintf("%s/sys/devices/system/cpu/possible: %s (is this a Linux root?)",
                                       h->real_root ? "" : h->root, strerror(-r));
                return r;
        }
        r = read_cpuset_list(fd, "/sys/devices/system/cpu/online", &h->online);
        if (r < 0) {
                *ret_error = xasprintf("%s/sys/devices/system/cpu/online: %s",
                                       h->real_root ? "" : h->root, strerror(-r));
                return r;
        }
        if (read_cpuset_list(fd, "/sys/devices/system/cpu/present", &h->present) < 0)
                cpuset_copy(&h->present, &h->possible);
        (void) read_cpuset_list(fd, "/sys/devices/system/cpu/isolated", &h->isolated);
        (void) read_cpuset_list(fd, "/sys/devices/system/cpu/nohz_full", &h->nohz_full);
        /* CPUs online but not in "possible" would be a broken tree; be lenient. */
        cpuset_or(&h->possible, &h->online);
        h->nr_cpu_ids = (unsigned) (cpuset_last(&h->possible) + 1);
        h->cpus = xcalloc(h->nr_cpu_ids, sizeof(Cpu));

        for (unsigned c = 0; c < h->nr_cpu_ids; c++)
                load_cpu(h, c);

        /* Cores, numbered in order of their lowest thread. */
        CPUSET_FOREACH(c, &h->possible) {
                Cpu *cpu = &h->cpus[c];
                size_t k;

                for (k = 0; k < h->n_cores; k++)
                        if (cpuset_equal(&h->cores[k].threads, &cpu->siblings))
                                break;
                if (k == h->n_cores) {
                        Core *core = array_push(&h->cores, &h->n_cores, sizeof(Core));
                        cpuset_copy(&core->threads, &cpu->siblings);
                        core->package = cpu->package;
                }
                cpu->core = (int) k;
        }

        load_nodes(h);

        _cleanup_free_ char *cpuinfo = NULL;
        if (read_attr(fd, "/proc/cpuinfo", &cpuinfo) >= 0) {
                char *m = strstr(cpuinfo, "model name");
                if (m && (m = strchr(m, ':'))) {
                        char *e = strchr(m, '\n');
                        h->model_name = xstrndup(m + 1, e ? (size_t) (e - m - 1) : strlen(m + 1));
                        char *s = strstrip(h->model_name);
                        memmove(h->model_name, s, strlen(s) + 1);
                }
        }
        return 0;
}

/* One line of /proc/interrupts: "  24:   0   5  IR-PCI-MSIX-0000:01:00.0  0-edge  nvme0q0".
 * The actions follow the "hwirq-type" token; older layouts end in the name. */
static int cmp_irq(const void *a, const void *b) {
        unsigned x = ((const Irq *) a)->number, y = ((const Irq *) b)->number;
        return (x > y) - (x < y);
}

static void parse_interrupt_line(Host *h, char *line, unsigned ncols) {
        char *colon = strchr(line, ':'), *p, *tok, *save = NULL;
        char *toks[512];
        size_t nt = 0, name_at = 0;
        unsigned irq;

        if (!colon)
                return;
        *colon = 0;
        if (safe_atou(strstrip(line), &irq) < 0)
                return;
        p = colon + 1;
        for (unsigned i = 0; i < ncols; i++) {
                while (*p == ' ')
                        p++;
                while (isdigit((unsigned char) *p))
                        p++;
        }
        for (tok = strtok_r(p, " \t", &save); tok && nt < ELEMENTSOF(toks); tok = strtok_r(NULL, " \t", &save))
                toks[nt++] = tok;
        for (size_t i = 0; i < nt; i++) {
                char *dash = strchr(toks[i], '-');
                if (dash && dash > toks[i] && isdigit((unsigned char) toks[i][0]) &&
                    strspn(toks[i], "0123456789") == (size_t) (dash - toks[i]))
                        name_at = i + 1;
        }
        if (name_at == 0 && nt > 1)
                name_at = nt - 1;

        /* h->irqs is in numeric order (list_numeric): one lookup per line. */
        Irq key = { .number = irq }, *q = bsearch(&key, h->irqs, h->n_irqs, sizeof(Irq), cmp_irq);
        if (q) {
                size_t len = 0;

                free(q->name);
                free(q->chip);
                for (size_t i = name_at; i < nt; i++)
                        len += strlen(toks[i]) + 1;
                q->name = xcalloc(len + 1, 1);
                for (size_t i = name_at; i < nt; i++) {
                        if (i > name_at)
                                strcat(q->name, " ");
                        strcat(q->name, toks[i]);
                }
                len = 0;
                for (size_t i = 0; i < name_at; i++)
                        len += strlen(toks[i]) + 1;
                q->chip = xcalloc(len + 1, 1);
                for (size_t i = 0; i < name_at; i++) {
                        if (i > 0)
                                strcat(q->chip, " ");
                        strcat(q->chip, toks[i]);
                }
        }
}

static void load_irqs(Host *h) {
        int fd = h->root_fd;
        StrList nums = {};
        char path[256];

        {
                _cleanup_free_ char *s = NULL;
                if (read_attr(fd, "/proc/irq/default_smp_affinity", &s) >= 0)
                        h->has_default_irq_affinity = cpuset_parse_mask(s, &h->default_irq_affinity) >= 0;
        }

        if (list_numeric(fd, "/proc/irq", &nums) < 0)
                return;
        /* Most kernels have no GENERIC_IRQ_DEBUGFS: one look, not one per IRQ. */
        bool debugfs = is_dir(fd, "/sys/kernel/debug/irq/irqs");
        for (size_t i = 0; i < nums.n; i++) {
                Irq *q = array_push(&h->irqs, &h->n_irqs, sizeof(Irq));
                _cleanup_free_ char *dbg = NULL;

                (void) safe_atou(nums.v[i], &q->number);
                snprintf(path, sizeof path, "/proc/irq/%u/smp_affinity_list", q->number);
                q->has_affinity = read_cpuset_list(fd, path, &q->affinity) >= 0;
                snprintf(path, sizeof path, "/sys/kernel/debug/irq/irqs/%u", q->number);
                if (debugfs && read_attr(fd, path, &dbg) >= 0) {
                        q->flags_known = true;
                        q->managed = strstr(dbg, "IRQD_AFFINITY_MANAGED") != NULL;
                        q->per_cpu = strstr(dbg, "IRQD_PER_CPU") != NULL;
                        q->no_balancing = strstr(dbg, "IRQD_NO_BALANCING") != NULL;
                }
        }
        strlist_free(&nums);

        _cleanup_free_ char *ints = NULL;
        if (read_attr(fd, "/proc/interrupts", &ints) < 0)
                return;
        char *save = NULL, *line = strtok_r(ints, "\n", &save);
        unsigned ncols = 0;
        if (line) {
                for (char *p = line; (p = strstr(p, "CPU")); p += 3)
                        ncols++;
                while ((line = strtok_r(NULL, "\n", &save)))
                        parse_interrupt_line(h, line, ncols);
        }
}

static void add_workqueue(Host *h, const char *name, const char *path, const char *shown) {
        _cleanup_free_ char *raw = NULL;
        CpuSet mask = {};

        if (read_attr(h->root_fd, path, &raw) < 0 || cpuset_parse_mask(raw, &mask) < 0)
                return;
        Workqueue *w = array_push(&h->wqs, &h->n_wqs, sizeof(Workqueue));
        w->name = name ? xstrdup(name) : NULL;
        w->path = xstrdup(shown);
        w->mask = mask;
        w->raw = TAKE_PTR(raw);
}

static void load_workqueues(Host *h) {
        const char *base = "/sys/devices/virtual/workqueue";
        StrList dirs = {};
        char path[512];

        /* The global unbound mask first, then each WQ_SYSFS workqueue. 6.6+:
         * "cpumask" is the effective mask, which an isolated partition
         * narrows by itself; what was asked for, and what must come back, is
         * cpumask_requested. */
        add_workqueue(h, NULL, WQ_REQUESTED, WQ_MASK);
        h->has_wq_requested = h->n_wqs > 0;
        if (h->has_wq_requested) {
                _cleanup_free_ char *eff = NULL;
                h->has_wq_effective = read_attr(h->root_fd, WQ_MASK, &eff) >= 0 &&
                                      cpuset_parse_mask(eff, &h->wq_effective) >= 0;
        }
        if (!h->has_wq_requested)
                add_workqueue(h, NULL, WQ_MASK, WQ_MASK);
        if (list_subdirs(h->root_fd, base, &dirs) < 0)
                return;
        for (size_t i = 0; i < dirs.n; i++) {
                snprintf(path, sizeof path, "%s/%s/cpumask", base, dirs.v[i]);
                add_workqueue(h, dirs.v[i], path, path);
        }
        strlist_free(&dirs);
}

static void split_words(const char *s, StrList *ret) {
        _cleanup_free_ char *copy = xstrdup(s);
        char *save = NULL;

        for (char *w = strtok_r(copy, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save))
                strlist_add(ret, w);
}

static void load_cgroups(Host *h) {
        _cleanup_free_ char *mounts = NULL, *comm = NULL;
        Cgroups *cg = &h->cg;
        char *save = NULL;

        if (read_attr(h->root_fd, "/proc/mounts", &mounts) >= 0)
                for (char *line = strtok_r(mounts, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                        char dev[256], dir[512], type[64], opts[1024];

                        if (sscanf(line, "%255s %511s %63s %1023s", dev, dir, type, opts) != 4)
                                continue;
                        if (streq(type, "cgroup2") && !cg->v2_mount)
                                cg->v2_mount = xstrdup(dir);
                        else if (streq(type, "cgroup") && !cg->v1_cpuset_mount) {
                                StrList o = {};
                                for (char *p = opts; *p; p++)
                                        if (*p == ',')
                                                *p = ' ';
                                split_words(opts, &o);
                                if (strlist_contains(&o, "cpuset"))
                                        cg->v1_cpuset_mount = xstrdup(dir);
                                strlist_free(&o);
                        }
                }

        if (cg->v1_cpuset_mount) {
                cg->mode = CGROUP_V1;
                cg->hybrid = cg->v2_mount != NULL;
        } else if (cg->v2_mount)
                cg->mode = CGROUP_V2;

        if (cg->v2_mount) {
                _cleanup_free_ char *p1 = xasprintf("%s/cgroup.controllers", cg->v2_mount);
                _cleanup_free_ char *p2 = xasprintf("%s/cgroup.subtree_control", cg->v2_mount);
                _cleanup_free_ char *s1 = NULL, *s2 = NULL;

                if (read_attr(h->root_fd, p1, &s1) >= 0)
                        split_words(s1, &cg->v2_controllers);
                if (read_attr(h->root_fd, p2, &s2) >= 0)
                        split_words(s2, &cg->v2_subtree_control);
        }

        cg->systemd = path_exists(h->root_fd, "/run/systemd/system") ||
                      (read_attr(h->root_fd, "/proc/1/comm", &comm) >= 0 && streq(comm, "systemd"));
        /* Without systemd, the root's children with CPU lists of their own
         * matter to the partition (resources/cgroup.c). */
        if (cg->mode == CGROUP_V2 && !cg->systemd)
                (void) list_subdirs(h->root_fd, cg->v2_mount, &cg->v2_children);
}

static void load_power(Host *h) {
        int fd = h->root_fd;
        char path[512];
        StrList pols = {};

        h->power = xcalloc(h->nr_cpu_ids, sizeof(CpuPower));
        h->cpuidle_driver = read_str_or_null(fd, "/sys/devices/system/cpu/cpuidle/current_driver");
        for (unsigned c = 0; c < h->nr_cpu_ids; c++) {
                CpuPower *p = &h->power[c];

                snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/power/pm_qos_resume_latency_us", c);
                p->pm_qos = read_str_or_null(fd, path);
                p->has_pm_qos = p->pm_qos != NULL;
                for (unsigned k = 0;; k++) {
                        _cleanup_free_ char *dis = NULL;
                        IdleState st = { .index = k };

                        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/cpuidle/state%u/name", c, k);
                        st.name = read_str_or_null(fd, path);
                        if (!st.name)
                                break;
                        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/cpuidle/state%u/latency", c, k);
                        st.latency_us = (unsigned) read_ulong_or(fd, path, 0);
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
#define RD(field, file) (snprintf(path, sizeof path, "%s/" file, base), pol.field = read_str_or_null(fd, path))
#define RU(field, file) (snprintf(path, sizeof path, "%s/" file, base), pol.field = read_ulong_or(fd, path, 0))
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

int host_open(const char *root, Host *ret, char **ret_error) {
        Host h = { .root_fd = -1 };
        int r;

        r = root_open(root, &h.root_fd);
        if (r < 0) {
                *ret_error = xasprintf("%s: %s", root, strerror(-r));
                return r;
        }
        h.root = xstrdup(root);
        {
                _cleanup_free_ char *rp = realpath(root, NULL);
                h.real_root = rp && streq(rp, "/");
        }

        r = load_topology(&h, ret_error);
        if (r < 0) {
                host_free(&h);
                return r;
        }
        h.cmdline = read_str_or_null(h.root_fd, "/proc/cmdline");
        h.boot_id = read_str_or_null(h.root_fd, "/proc/sys/kernel/random/boot_id");
        h.kernel = read_str_or_null(h.root_fd, "/proc/version");
        h.loaded = HOST_TOPOLOGY;
        *ret = h;
        return 0;
}

void host_load_parts(Host *h, HostParts parts) {
        HostParts todo = parts & ~h->loaded;

        if (todo & (HOST_TASKS | HOST_KTHREADS))
                todo |= HOST_CGROUPS & ~h->loaded; /* a task's cgroup path depends on the layout */
        if ((todo & HOST_TASKS) && (h->loaded & HOST_KTHREADS))
                todo &= ~HOST_KTHREADS; /* all tasks replace the root cgroup's */
        if (todo & HOST_CGROUPS)
                load_cgroups(h);
        if (todo & HOST_IRQS)
                load_irqs(h);
        if (todo & HOST_WORKQUEUES)
                load_workqueues(h);
        if (todo & HOST_TASKS)
                host_load_tasks(h, false);
        else if ((todo & HOST_KTHREADS) && !(h->loaded & HOST_TASKS))
                host_load_tasks(h, h->cg.mode == CGROUP_V2);
        if (todo & HOST_POWER)
                load_power(h);
        h->loaded |= todo;
        if (h->loaded & HOST_TASKS)
                h->loaded |= HOST_KTHREADS;
        else if ((h->loaded & HOST_KTHREADS) && !h->tasks_partial)
                h->loaded |= HOST_TASKS; /* not v2: every task was read */
}

int host_load(const char *root, HostParts parts, Host *ret, char **ret_error) {
        int r = host_open(root, ret, ret_error);

        if (r < 0)
                return r;
        host_load_parts(ret, parts);
        return 0;
}

void host_free(Host *h) {
        for (unsigned c = 0; h->cpus && c < h->nr_cpu_ids; c++)
                cpuset_free(&h->cpus[c].siblings);
        free(h->cpus);
        for (size_t i = 0; i < h->n_cores; i++)
                cpuset_free(&h->cores[i].threads);
        free(h->cores);
        for (size_t i = 0; i < h->n_l3; i++)
                cpuset_free(&h->l3[i]);
        free(h->l3);
        for (size_t i = 0; i < h->n_nodes; i++)
                cpuset_free(&h->nodes[i]);
        free(h->nodes);
        for (size_t i = 0; i < h->n_irqs; i++) {
                free(h->irqs[i].name);
                free(h->irqs[i].chip);
                cpuset_free(&h->irqs[i].affinity);
        }
        free(h->irqs);
        for (size_t i = 0; i < h->n_wqs; i++) {
                free(h->wqs[i].name);
                free(h->wqs[i].path);
                free(h->wqs[i].raw);
                cpuset_free(&h->wqs[i].mask);
        }
        free(h->wqs);
        host_free_tasks(h);
        free(h->cg.v2_mount);
        free(h->cg.v1_cpuset_mount);
        strlist_free(&h->cg.v2_controllers);
        strlist_free(&h->cg.v2_subtree_control);
        strlist_free(&h->cg.v2_children);
        for (unsigned c = 0; h->power && c < h->nr_cpu_ids; c++) {
                free(h->power[c].pm_qos);
                for (size_t k = 0; k < h->power[c].n_idle; k++)
                        free(h->power[c].idle[k].name);
                free(h->power[c].idle);
        }
        free(h->power);
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
        cpuset_free(&h->possible);
        cpuset_free(&h->present);
        cpuset_free(&h->online);
        cpuset_free(&h->isolated);
        cpuset_free(&h->nohz_full);
        cpuset_free(&h->default_irq_affinity);
        cpuset_free(&h->wq_effective);
        free(h->cpufreq_driver);
        free(h->cpuidle_driver);
        free(h->model_name);
        free(h->cmdline);
        free(h->boot_id);
        free(h->kernel);
        free(h->root);
        if (h->root_fd >= 0)
                close(h->root_fd);
        memset(h, 0, sizeof *h);
        h->root_fd = -1;
}

