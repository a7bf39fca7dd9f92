/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cpuset.h"
#include "util.h"

/* /proc/PID/stat flags (include/linux/sched.h) */
#define PF_KTHREAD 0x00200000u
#define PF_NO_SETAFFINITY 0x04000000u

typedef struct Cpu {
        unsigned id;
        bool present, online;
        int package, die, core_id; /* -1 when unknown */
        int core;                  /* index into Host.cores */
        int l3;                    /* index into Host.l3, -1 without L3 info */
        int node;                  /* NUMA node, -1 when unknown */
        CpuSet siblings;           /* SMT threads of this core, itself included */
} Cpu;

typedef struct Core {
        CpuSet threads; /* numbered by lowest thread: core k = Host.cores[k] */
        int package;
} Core;

typedef struct Irq {
        unsigned number;
        char *name;  /* actions from /proc/interrupts, e.g. "nvme0q1" */
        char *chip;  /* e.g. "IR-PCI-MSIX-0000:01:00.0 1-edge" */
        bool has_affinity; /* smp_affinity_list exists */
        CpuSet affinity;
        /* From debugfs (sys/kernel/debug/irq/irqs/N) where readable: */
        bool managed, per_cpu, no_balancing, flags_known;
        bool details; /* flags looked for (host_load_irq_details) */
        bool named;   /* name and chip looked for in /proc/interrupts */
} Irq;

/* The global unbound mask, and (6.6+) what was asked for: cpumask then
 * shows the request minus isolated CPUs. */
#define WQ_MASK "/sys/devices/virtual/workqueue/cpumask"
/* A cgroup v2 directory's PSI switch (Linux 6.1+), the quiet resource's. */
#define CGROUP_PRESSURE "cgroup.pressure"
#define WQ_REQUESTED "/sys/devices/virtual/workqueue/cpumask_requested"

typedef struct Workqueue {
        char *name; /* NULL for the global unbound mask */
        char *path; /* its cpumask file */
        CpuSet mask;
        char *raw;  /* as the kernel printed it */
} Workqueue;

typedef struct Task {
        int pid; /* TID for threads */
        int tgid;
        char *comm;
        unsigned flags;
        unsigned long long start_time;
        unsigned long long cputime; /* utime + stime, clock ticks */
        int last_cpu;               /* the CPU it last ran on (stat field 39); -1 if not shown */
        int rt_priority, policy;
        CpuSet allowed;
        /* A kernel thread the kernel pins (PF_NO_SETAFFINITY) whose mask
         * was not read: on cgroup v2 only a report counts those masks
         * (HOST_REPORT); allowed is empty then. */
        bool allowed_unread;
        char *cgroup; /* v2 path or v1 cpuset path */
} Task;

typedef enum CgroupMode {
        CGROUP_NONE,
        CGROUP_V1,     /* cpuset on a v1 hierarchy (legacy or hybrid) */
        CGROUP_V2,
} CgroupMode;

typedef struct Cgroups {
        CgroupMode mode;
        bool hybrid;           /* v1 controllers plus an (empty) v2 mount */
        bool systemd;          /* systemd is PID 1 and owns the tree */
        char *v2_mount;        /* e.g. /sys/fs/cgroup */
        char *v1_cpuset_mount; /* e.g. /sys/fs/cgroup/cpuset */
        StrList v2_controllers;      /* root cgroup.controllers */
        StrList v2_subtree_control;  /* root cgroup.subtree_control */
        StrList v2_children;         /* the root's child cgroups (hosts without systemd) */
        char *partition;             /* v2: the VMs' cgroup below the mount (host_set_partition) */
        /* v2 (and the unified hierarchy of a hybrid v1 host): that cgroup
         * and every one below it that exists, relative to the mount,
         * parents first (HOST_PARTITION_TREE) */
        StrList partition_tree;
        /* Every cgroup of that v2 tree below its root, relative to the
         * mount, parents first (HOST_CGROUP_TREE) */
        StrList tree;
} Cgroups;

typedef struct IdleState {
        unsigned index;
        char *name; /* NULL where not read: a scoped read names only the states a plan may disable, for a report */
        unsigned latency_us;
        bool disabled;
} IdleState;

typedef struct CpuPower {
        bool has_pm_qos;
        char *pm_qos; /* raw: "0", "n/a", or a number */
        IdleState *idle;
        size_t n_idle;
} CpuPower;

typedef struct FreqPolicy {
        char *name; /* "policy3" */
        CpuSet related;
        char *driver, *governor, *available_governors;
        unsigned long cpuinfo_min, cpuinfo_max, scaling_min, scaling_max;
        bool has_epp;
        char *epp, *available_epp;
} FreqPolicy;

typedef struct Host {
        int root_fd;
        char *root;
        bool real_root; /* root is "/": the running kernel */

        unsigned nr_cpu_ids; /* highest possible CPU + 1: width of hex masks */
        CpuSet possible, present, online, isolated, nohz_full;
        Cpu *cpus; /* indexed by CPU number, nr_cpu_ids entries */
        Core *cores;
        size_t n_cores;
        CpuSet *l3;
        size_t n_l3;
        CpuSet *nodes;
        size_t n_nodes;
        char *model_name;

        Irq *irqs;
        size_t n_irqs;
        bool irq_debugfs;      /* sys/kernel/debug/irq/irqs exists */
        bool has_default_irq_affinity;
        CpuSet default_irq_affinity;

        Workqueue *wqs; /* [0] is the global mask when has_wq_global */
        size_t n_wqs;
        bool has_wq_requested; /* 6.6+: cpumask_requested */
        bool has_wq_effective;
        CpuSet wq_effective;   /* 6.6+: cpumask, the request minus isolated CPUs: what unbound work gets */

        Task *tasks;
        size_t n_tasks;
        Task **task_index; /* by PID, for host_find_task */

        Cgroups cg;

        CpuPower *power; /* per CPU, nr_cpu_ids entries; only those in power_scope read when scoped */
        bool power_scoped;
        CpuSet power_scope;
        unsigned power_needs;         /* PowerNeeds: what of the scope is read (host_scope_power_needs) */
        unsigned power_idle_floor_us; /* idle states this fast are never disabled by the plan */
        FreqPolicy *policies;
        size_t n_policies;
        char *cpufreq_driver, *cpuidle_driver;

        char *cmdline, *boot_id, *kernel;
        unsigned loaded; /* HostParts read so far */
        struct ThreadGroups *thread_groups; /* below --root: TID -> TGID, listed when first asked */
        bool tasks_partial; /* not every task was read in full (HOST_KTHREADS, HOST_TASK_MASKS) */
} Host;

typedef enum HostParts {
        HOST_TOPOLOGY = 1 << 0,
        HOST_IRQS = 1 << 1,
        HOST_WORKQUEUES = 1 << 2,
        HOST_TASKS = 1 << 3,
        HOST_CGROUPS = 1 << 4,
        HOST_POWER = 1 << 5,
        /* Kernel threads at least: on cgroup v2 only the tasks of the root
         * cgroup (where every kernel thread lives), on v1 kthreadd's
         * children, so the cost follows CPUs, not the host's threads;
         * where neither can be read, all tasks. */
        HOST_KTHREADS = 1 << 6,
        /* Package, die, core id and L3 of each CPU, the CPU model: for the
         * eyes (status, doctor); the topology proper is the SMT siblings. */
        HOST_CPU_DETAILS = 1 << 7,
        /* Every IRQ's flags (debugfs) and, with HOST_REPORT, name
         * (/proc/interrupts); a plan reads them only for its IRQs
         * (host_load_irq_details). */
        HOST_IRQ_DETAILS = 1 << 8,
        /* cgroup v2: the processes in the VMs' partition cgroup and below
         * (host_set_partition), added to the tasks read so far; nothing
         * when every task is read. */
        HOST_PARTITION_PROCS = 1 << 9,
        /* What only a report of the plan shows, never what it decides: the
         * chip and actions of the IRQs whose details are read (one pass
         * over /proc/interrupts), the names of the idle states a plan may
         * disable, and on cgroup v2 the masks of the kernel threads the
         * kernel pins (PF_NO_SETAFFINITY: counted on the VMs' CPUs, never
         * moved). A run whose output shows no plan detail (apply's summary
         * line, the hook, the timer) goes without; parts read before it are
         * completed when it is loaded. */
        HOST_REPORT = 1 << 10,
        /* The kernel threads in full and, of the user tasks (on cgroup v1
         * those of the root cpuset, on v2 all), the CPU mask; the rest only
         * where it is narrower than the host: what the v1 move and a kernel
         * that forgets masks (6.1) need. Where kthreadd's children cannot
         * be read, every task in full. */
        HOST_TASK_MASKS = 1 << 11,
        /* cgroup v2: the VMs' cgroup and the cgroups below it (a VM's
         * machine scope, libvirt's per-vCPU groups), by name only. */
        HOST_PARTITION_TREE = 1 << 12,
        /* Every cgroup of the v2 tree, where the kernel has PSI's switch
         * (defaults.pressure: move); HOST_PARTITION_TREE is then taken from it */
        HOST_CGROUP_TREE = 1 << 13,
        HOST_ALL = 0x3fff,
} HostParts;

/* Reads the host below root. Absent files are facts, not errors; a missing
 * CPU topology (no /sys/devices/system/cpu/online) is an error. */
int host_load(const char *root, HostParts parts, Host *ret, char **ret_error);
/* The two halves of host_load: the topology (enough to load a configuration)
 * first, then the parts a run needs, each read once. */
int host_open(const char *root, Host *ret, char **ret_error);
void host_load_parts(Host *h, HostParts parts);
/* Before HOST_POWER is loaded: per-CPU power files only for these CPUs,
 * cpufreq settings only of policies covering one of them, and an idle
 * state's "disable" only when its exit latency is above idle_floor_us (what
 * a plan of the VMs on them needs); without a scope, all. */
void host_scope_power(Host *h, const CpuSet *cpus, unsigned idle_floor_us);
/* What of the power files a plan looks at: the per-CPU latency files (PM
 * QoS, idle states) only for a profile with a latency limit, and of each
 * policy only the settings a profile sets. */
typedef enum PowerNeeds {
        POWER_LATENCY = 1 << 0,   /* pm_qos_resume_latency_us, cpuidle states */
        POWER_GOVERNOR = 1 << 1,  /* scaling_governor, scaling_available_governors */
        POWER_MIN_FREQ = 1 << 2,  /* cpuinfo_{min,max}_freq, scaling_{min,max}_freq */
        POWER_EPP = 1 << 3,       /* energy_performance_*, scaling_driver, scaling_governor */
        POWER_NEEDS_ALL = 0xf,
} PowerNeeds;
/* host_scope_power, reading only what needs says of the scope. */
void host_scope_power_needs(Host *h, const CpuSet *cpus, unsigned idle_floor_us, unsigned needs);
void host_free(Host *h);
/* model/tasks.c, for host_load_parts: every task, or (only_root, cgroup v2)
 * the tasks of the root cgroup. */
void host_load_tasks(Host *h, bool only_root);
/* cgroup v1: the kernel threads (HOST_KTHREADS); HOST_TASK_MASKS; each
 * every task in full where it cannot be done. */
void host_load_v1_kthreads(Host *h);
void host_load_task_masks(Host *h);
/* These TIDs in full too, where they were not read (gone ones are not). */
void host_load_tids(Host *h, const int *tids, size_t n);
/* The masks of the kernel threads read without them (Task.allowed_unread). */
void host_load_kthread_masks(Host *h);
void host_load_subtree_procs(Host *h, const char *rel);
/* The cgroup rel (below the v2 mount) and every one below it, parents
 * first, relative to the mount; nothing when rel does not exist. */
void host_cgroup_subtree(const Host *h, const char *rel, StrList *ret);
/* Every cgroup below the v2 mount's root, relative to it, parents first;
 * nothing where the root has no cgroup.pressure (before 6.1, psi=0): the
 * tree is listed for PSI's switch. */
void host_cgroup_tree(const Host *h, StrList *ret);
/* Of such a tree, rel and every cgroup below it, in the same order (what
 * host_cgroup_subtree() would list, without listing again). */
void host_cgroup_tree_below(const StrList *tree, const char *rel, StrList *ret);
/* The VMs' cgroup (config host.partition) for HOST_PARTITION_PROCS. */
void host_set_partition(Host *h, const char *partition);
/* A cgroup v2 tree is mounted: cgroup v2, or the unified hierarchy beside
 * v1's (hybrid). PSI keeps a group per cgroup of that tree. */
bool host_has_v2_tree(const Host *h);
/* cgroup v1 with no cgroup2 mounted (legacy): the cgroup2 hierarchy has
 * only its root, reached as CGROUP2_UNMOUNTED (backends/cgroup2-mount.c). */
bool host_v2_unmounted(const Host *h);
/* From /proc/version: -EINVAL when it does not say. */
int host_kernel_version(const Host *h, unsigned *ret_major, unsigned *ret_minor);
void host_free_tasks(Host *h);

/* model/host-irqs.c: an IRQ by number (NULL when the host has none); the
 * details (flags; names with HOST_REPORT) of these IRQs (true when any was
 * not read yet), and of all. */
const Irq *host_find_irq(const Host *h, unsigned number);
/* An IRQ's affinity file, "/proc/irq/N/smp_affinity_list", the target of
 * its changes: written into buf (IRQ_TARGET_SIZE) without printf, as runs
 * make one per IRQ; and parsed back (-EINVAL for any other target). */
#define IRQ_TARGET_SIZE 48
const char *irq_target(char *buf, unsigned number);
int irq_target_parse(const char *target, unsigned *ret);
bool host_load_irq_details(Host *h, const unsigned *numbers, size_t n);
void host_load_all_irq_details(Host *h);
/* The flags of a debugfs irqs/N file. */
void irq_parse_debugfs(const char *dbg, Irq *q);

/* procfs parsers, the only ones: "pid (comm) S ppid ..." fields of stat, and
 * the Cpus_allowed_list line of status. */
int procfs_parse_stat(const char *stat, Task *t);
int procfs_allowed_list(const char *status, char **ret);
/* /proc/PID/schedstat (CONFIG_SCHED_INFO; counts with schedstats off). */
typedef struct TaskSchedstat {
        unsigned long long run_ns, wait_ns;
        unsigned long long timeslices; /* times switched in */
} TaskSchedstat;
int procfs_parse_schedstat(const char *schedstat, TaskSchedstat *ret);
/* One file of thread TID of group TGID (read_small_attr): the thread's own
 * /proc/TGID/task/TID/NAME, also for a group leader, whose /proc/TGID/stat
 * sums its threads' times; a tree below --root has no task/ directory for
 * a single-threaded process, so /proc/TID/NAME where that is absent. */
int procfs_read_thread_file(const Host *h, int tgid, int tid, const char *name, char **ret);
/* Below --root a thread has no /proc/TID (the kernel has one for every
 * TID): each TID's thread group from the task/ directories, sorted by TID,
 * and a lookup in it (the TID itself when not found). */
typedef struct ThreadGroup {
        int tid, tgid;
} ThreadGroup;
typedef struct ThreadGroups {
        ThreadGroup *v;
        size_t n;
        bool listed;
} ThreadGroups;
void procfs_thread_groups(int root_fd, ThreadGroup **ret, size_t *ret_n);
int procfs_tgid_of(int tid, const ThreadGroup *v, size_t n);
/* A TID's thread group: from the tasks read, else the kernel's
 * /proc/TID/status, else (below --root) the tree's task/ directories. */
int procfs_tgid(const Host *h, int tid);
/* "/proc/PID" or "/proc/TGID/task/PID" for a thread. */
char *procfs_task_dir(const Host *h, int pid);
/* The task's cgroup as its cgroup file names it (the cpuset line on v1,
 * the unified one on v2), or NULL. */
char *procfs_task_cgroup(const Host *h, int pid);

bool task_is_kthread(const Task *t);
bool task_is_movable_kthread(const Task *t);
const Task *host_find_task(const Host *h, int pid);
