/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>

#include "fs.h"
#include "host-internal.h"

int host_read_cpuset_list(int root_fd, const char *path, CpuSet *ret) {
        _cleanup_free_ char *s = NULL;
        int r = read_small_attr(root_fd, path, &s);

        if (r < 0)
                return r;
        return cpuset_parse_list(s, ret);
}

int host_read_int(int root_fd, const char *path, int *ret) {
        _cleanup_free_ char *s = NULL;
        char *end;
        long v;
        int r = read_small_attr(root_fd, path, &s);

        if (r < 0)
                return r;
        errno = 0;
        v = strtol(strstrip(s), &end, 10);
        if (errno || *end)
                return -EINVAL;
        *ret = (int) v;
        return 0;
}

unsigned long host_read_ulong_or(int root_fd, const char *path, unsigned long dflt) {
        _cleanup_free_ char *s = NULL;
        unsigned long v;

        if (read_small_attr(root_fd, path, &s) < 0 || safe_atolu(strstrip(s), &v) < 0)
                return dflt;
        return v;
}

char *host_read_str_or_null(int root_fd, const char *path) {
        char *s = NULL;

        if (read_small_attr(root_fd, path, &s) < 0)
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

/* One CPU's SMT siblings: what configurations (cores:) and plans need. */
static void load_cpu(Host *h, unsigned c) {
        Cpu *cpu = &h->cpus[c];
        char path[256];

        cpu->id = c;
        cpu->present = cpuset_isset(&h->present, c);
        cpu->online = cpuset_isset(&h->online, c);
        cpu->package = cpu->die = cpu->core_id = cpu->l3 = cpu->node = -1;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/topology/thread_siblings_list", c);
        if (host_read_cpuset_list(h->root_fd, path, &cpu->siblings) < 0 || !cpuset_isset(&cpu->siblings, c)) {
                cpuset_free(&cpu->siblings);
                (void) cpuset_add(&cpu->siblings, c);
        }
}

/* One CPU's package, die, core id and L3 domain (HOST_CPU_DETAILS: status
 * and doctor show them, no plan needs them). */
static void load_cpu_details(Host *h, unsigned c) {
        Cpu *cpu = &h->cpus[c];
        int fd = h->root_fd;
        char path[256];

        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/topology/physical_package_id", c);
        (void) host_read_int(fd, path, &cpu->package);
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/topology/die_id", c);
        (void) host_read_int(fd, path, &cpu->die);
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/topology/core_id", c);
        (void) host_read_int(fd, path, &cpu->core_id);

        for (unsigned idx = 0; idx < 16; idx++) {
                CpuSet shared = {};
                int level;

                snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/cache/index%u/level", c, idx);
                if (host_read_int(fd, path, &level) < 0)
                        break;
                if (level != 3)
                        continue;
                snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u/cache/index%u/shared_cpu_list", c, idx);
                if (host_read_cpuset_list(fd, path, &shared) >= 0 && !cpuset_is_empty(&shared))
                        cpu->l3 = add_unique_set(&h->l3, &h->n_l3, &shared);
                cpuset_free(&shared);
                break;
        }
}

static void load_cpu_model(Host *h) {
        _cleanup_free_ char *cpuinfo = NULL;

        if (read_attr(h->root_fd, "/proc/cpuinfo", &cpuinfo) < 0)
                return;
        char *m = strstr(cpuinfo, "model name");
        if (m && (m = strchr(m, ':'))) {
                char *e = strchr(m, '\n');
                h->model_name = xstrndup(m + 1, e ? (size_t) (e - m - 1) : strlen(m + 1));
                char *s = strstrip(h->model_name);
                memmove(h->model_name, s, strlen(s) + 1);
        }
}

static void load_details(Host *h) {
        for (unsigned c = 0; c < h->nr_cpu_ids; c++)
                load_cpu_details(h, c);
        for (size_t k = 0; k < h->n_cores; k++)
                h->cores[k].package = h->cpus[cpuset_next(&h->cores[k].threads, -1)].package;
        load_cpu_model(h);
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
                        if (host_read_cpuset_list(fd, path, &cpus) < 0)
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

        r = host_read_cpuset_list(fd, "/sys/devices/system/cpu/possible", &h->possible);
        if (r < 0) {
                *ret_error = xasprintf("%s/sys/devices/system/cpu/possible: %s (is this a Linux root?)",
                                       h->real_root ? "" : h->root, strerror(-r));
                return r;
        }
        r = host_read_cpuset_list(fd, "/sys/devices/system/cpu/online", &h->online);
        if (r < 0) {
                *ret_error = xasprintf("%s/sys/devices/system/cpu/online: %s",
                                       h->real_root ? "" : h->root, strerror(-r));
                return r;
        }
        if (host_read_cpuset_list(fd, "/sys/devices/system/cpu/present", &h->present) < 0)
                cpuset_copy(&h->present, &h->possible);
        (void) host_read_cpuset_list(fd, "/sys/devices/system/cpu/isolated", &h->isolated);
        (void) host_read_cpuset_list(fd, "/sys/devices/system/cpu/nohz_full", &h->nohz_full);
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
                        core->package = -1; /* HOST_CPU_DETAILS */
                }
                cpu->core = (int) k;
        }

        load_nodes(h);

        return 0;
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
        h.thread_groups = xcalloc(1, sizeof(*h.thread_groups));

        r = load_topology(&h, ret_error);
        if (r < 0) {
                host_free(&h);
                return r;
        }
        h.cmdline = host_read_str_or_null(h.root_fd, "/proc/cmdline");
        h.boot_id = host_read_str_or_null(h.root_fd, "/proc/sys/kernel/random/boot_id");
        h.kernel = host_read_str_or_null(h.root_fd, "/proc/version");
        h.loaded = HOST_TOPOLOGY;
        *ret = h;
        return 0;
}

void host_load_parts(Host *h, HostParts parts) {
        HostParts todo;

        if (parts == HOST_ALL)
                host_unscope_power(h); /* HOST_ALL: every part in full */
        todo = parts & ~h->loaded;
        if (todo & HOST_REPORT) {
                /* First: the loaders below read names and masks with it; what
                 * was read without it is completed. */
                h->loaded |= HOST_REPORT;
                if (h->loaded & (HOST_KTHREADS | HOST_TASKS))
                        host_load_kthread_masks(h);
                if (h->loaded & HOST_IRQS)
                        host_load_irq_names(h);
                if (h->loaded & HOST_POWER)
                        host_load_idle_names(h);
        }

        /* a task's cgroup path, and the VMs' cgroup, depend on the layout */
        if (todo & (HOST_TASKS | HOST_KTHREADS | HOST_TASK_MASKS | HOST_PARTITION_TREE | HOST_CGROUP_TREE))
                todo |= HOST_CGROUPS & ~h->loaded;
        if (todo & HOST_TASKS)
                todo &= ~(HOST_KTHREADS | HOST_TASK_MASKS); /* all tasks replace the partial reads */
        if (todo & HOST_TASK_MASKS)
                todo &= ~HOST_KTHREADS; /* the masks come with the kernel threads */
        if (todo & HOST_CGROUPS)
                load_cgroups(h);
        if (todo & (HOST_IRQS | HOST_IRQ_DETAILS))
                todo |= HOST_IRQS & ~h->loaded;
        if (todo & HOST_IRQS)
                host_load_irqs(h);
        if (todo & HOST_IRQ_DETAILS)
                host_load_all_irq_details(h);
        if (todo & HOST_WORKQUEUES)
                load_workqueues(h);
        if (todo & HOST_TASKS)
                host_load_tasks(h, false);
        else if (todo & HOST_TASK_MASKS)
                host_load_task_masks(h);
        else if ((todo & HOST_KTHREADS) && h->cg.mode == CGROUP_V2)
                host_load_tasks(h, true);
        else if (todo & HOST_KTHREADS)
                host_load_v1_kthreads(h);
        if (todo & HOST_CGROUP_TREE) /* each: nothing without a v2 tree */
                host_cgroup_tree(h, &h->cg.tree);
        if ((todo & HOST_PARTITION_TREE) && h->cg.tree.n) /* listed: the VMs' part of it */
                host_cgroup_tree_below(&h->cg.tree, h->cg.partition, &h->cg.partition_tree);
        else if (todo & HOST_PARTITION_TREE)
                host_cgroup_subtree(h, h->cg.partition, &h->cg.partition_tree);
        if ((todo & HOST_PARTITION_PROCS) && !(h->loaded & HOST_TASKS) && !(todo & HOST_TASKS) && h->tasks_partial &&
            h->cg.partition)
                host_load_subtree_procs(h, h->cg.partition);
        if (todo & HOST_POWER)
                host_load_power(h);
        if (todo & HOST_CPU_DETAILS)
                load_details(h);
        h->loaded |= todo;
        if (h->loaded & (HOST_TASKS | HOST_TASK_MASKS))
                h->loaded |= HOST_KTHREADS;
        if ((h->loaded & HOST_KTHREADS) && !h->tasks_partial)
                h->loaded |= HOST_TASKS | HOST_TASK_MASKS; /* every task was read */
}

bool host_has_v2_tree(const Host *h) {
        return h->cg.v2_mount != NULL; /* set for v2 and for a hybrid v1 host alike */
}

bool host_v2_unmounted(const Host *h) {
        return h->cg.mode == CGROUP_V1 && !h->cg.v2_mount;
}

void host_set_partition(Host *h, const char *partition) {
        free(h->cg.partition);
        h->cg.partition = xstrdup(partition);
}

int host_kernel_version(const Host *h, unsigned *ret_major, unsigned *ret_minor) {
        unsigned major, minor;

        if (!h->kernel || sscanf(h->kernel, "Linux version %u.%u", &major, &minor) != 2)
                return -EINVAL;
        *ret_major = major;
        *ret_minor = minor;
        return 0;
}

int host_load(const char *root, HostParts parts, Host *ret, char **ret_error) {
        int r = host_open(root, ret, ret_error);

        if (r < 0)
                return r;
        host_load_parts(ret, parts);
        return 0;
}

void host_free(Host *h) {
        if (h->thread_groups)
                free(h->thread_groups->v);
        free(h->thread_groups);
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
        free(h->cg.partition);
        strlist_free(&h->cg.v2_controllers);
        strlist_free(&h->cg.v2_subtree_control);
        strlist_free(&h->cg.v2_children);
        strlist_free(&h->cg.partition_tree);
        strlist_free(&h->cg.tree);
        host_free_power(h);
        cpuset_free(&h->power_scope);
        cpuset_free(&h->possible);
        cpuset_free(&h->present);
        cpuset_free(&h->online);
        cpuset_free(&h->isolated);
        cpuset_free(&h->nohz_full);
        cpuset_free(&h->default_irq_affinity);
        cpuset_free(&h->wq_effective);
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

