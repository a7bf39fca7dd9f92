/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

/* The closed set of things cpushield changes, and the one parser for their
 * names. A journal record, a plan change or a line of status output names
 * its target as a string; only strings of the shapes below are ever read,
 * written or restored. Every parse is length-checked: nothing here indexes
 * past the end of its input, whatever it is given.
 *
 *   /sys/fs/cgroup/...                          cgroup files and directories
 *   /proc/irq/N/smp_affinity_list               one IRQ
 *   /proc/irq/default_smp_affinity              the default for new IRQs
 *   /proc/PID                                   a task's affinity
 *   /sys/devices/system/cpu/cpuN/power/pm_qos_resume_latency_us
 *   /sys/devices/system/cpu/cpuN/cpuidle/stateK/disable
 *   /sys/devices/system/cpu/cpufreq/policyN/{scaling_governor,
 *       scaling_min_freq, scaling_max_freq, energy_performance_preference}
 *   /sys/devices/virtual/workqueue/{cpumask,cpumask_requested,NAME/cpumask}
 *   /proc/sys/kernel/watchdog_cpumask, /proc/sys/vm/stat_interval
 *   irqbalance:banned_cpus
 *   cgroup2:/cgroup.pressure   the cgroup2 hierarchy's root where no cgroup2
 *                              is mounted (reached through a mount of
 *                              cpushield's own that no process sees)
 *   systemd:UNIT/AllowedCPUs
 *   libvirt:DOMAIN/{vcpuN,emulator,iothreadN}
 */

#define TARGET_MAX 4096     /* PATH_MAX: no target is longer */
#define CGROUP_MOUNT "/sys/fs/cgroup"
#define CGROUP2_UNMOUNTED "cgroup2:" /* followed by a path below that root */
#define UNIT_NAME_MAX 255   /* systemd's UNIT_NAME_MAX - 1 */
#define DOMAIN_NAME_MAX 255

typedef enum TargetType {
        TARGET_CGROUP,          /* a file or directory below CGROUP_MOUNT */
        TARGET_IRQ,             /* /proc/irq/N/smp_affinity_list */
        TARGET_IRQ_DEFAULT,     /* /proc/irq/default_smp_affinity */
        TARGET_TASK,            /* /proc/PID */
        TARGET_CPU_POWER,       /* per-CPU pm_qos or cpuidle state */
        TARGET_CPUFREQ,         /* a cpufreq policy file */
        TARGET_WORKQUEUE,       /* a workqueue cpumask */
        TARGET_UNIT,            /* systemd:UNIT/AllowedCPUs */
        TARGET_LIBVIRT,         /* libvirt:DOMAIN/... */
        TARGET_SYSCTL,          /* /proc/sys/kernel/watchdog_cpumask, /proc/sys/vm/stat_interval */
        TARGET_IRQBALANCE,      /* irqbalance:banned_cpus */
        TARGET_CGROUP2_ROOT,    /* cgroup2:/cgroup.pressure (no cgroup2 mounted) */
        _TARGET_TYPE_MAX,
        _TARGET_TYPE_INVALID = -EINVAL,
} TargetType;

typedef enum TargetPin {
        TARGET_PIN_NONE,
        TARGET_PIN_VCPU,
        TARGET_PIN_EMULATOR,
        TARGET_PIN_IOTHREAD,
        _TARGET_PIN_MAX,
        _TARGET_PIN_INVALID = -EINVAL,
} TargetPin;

/* The journal's "KIND/OP" words, as reconciler/plan.c and kernel.c spell
 * them. Same order as ChangeKind and ChangeOp there. */
typedef enum TargetKind {
        TARGET_KIND_CPUSET,
        TARGET_KIND_KTHREAD,
        TARGET_KIND_IRQ,
        TARGET_KIND_WORKQUEUE,
        TARGET_KIND_POWER,
        TARGET_KIND_LIBVIRT,
        TARGET_KIND_QUIET,
        TARGET_KIND_IRQBALANCE,
        _TARGET_KIND_MAX,
        _TARGET_KIND_INVALID = -EINVAL,
} TargetKind;

typedef enum TargetOp {
        TARGET_OP_WRITE,
        TARGET_OP_SUBTREE,
        TARGET_OP_MKDIR,
        TARGET_OP_AFFINITY,
        TARGET_OP_UNIT,
        TARGET_OP_MOVE_TASKS,
        TARGET_OP_LIBVIRT_PIN,
        TARGET_OP_IRQBALANCE,
        _TARGET_OP_MAX,
        _TARGET_OP_INVALID = -EINVAL,
} TargetOp;

typedef struct Target {
        TargetType type;
        int pid;              /* TARGET_TASK: > 0 */
        unsigned irq;         /* TARGET_IRQ */
        unsigned cpu;         /* TARGET_CPU_POWER: cpuN; TARGET_CPUFREQ: policyN */
        unsigned idle_state;  /* TARGET_CPU_POWER with cpuidle: stateK */
        bool is_idle_state;   /* TARGET_CPU_POWER: cpuidle/stateK/disable, not pm_qos */
        char file[64];        /* TARGET_CPUFREQ: the file name; TARGET_WORKQUEUE: "cpumask",
                               * "cpumask_requested", or the workqueue's name */
        bool wq_global;       /* TARGET_WORKQUEUE: the global mask (no name) */
        char unit[UNIT_NAME_MAX + 1];     /* TARGET_UNIT */
        char domain[DOMAIN_NAME_MAX + 1]; /* TARGET_LIBVIRT */
        TargetPin pin;        /* TARGET_LIBVIRT */
        unsigned pin_id;      /* TARGET_LIBVIRT vcpu/iothread number */
} Target;

/* Parses s (NUL-terminated) into *ret. Returns the type (>= 0), or
 * -EINVAL when s is not a target cpushield could have produced; *ret is
 * written only on success. ret may be NULL to only check. */
int target_parse(const char *s, Target *ret);
/* Same for a buffer of n bytes that need not be NUL-terminated; a NUL
 * inside is invalid. */
int target_parse_n(const char *s, size_t n, Target *ret);

/* systemd's unit_name_is_valid() for plain and instance names, with a
 * known suffix; ≤ UNIT_NAME_MAX. */
bool unit_name_valid(const char *s);
/* A libvirt domain name cpushield accepts in a target: 1..255 bytes,
 * printable ASCII without '/' (libvirt itself refuses '/'). */
bool domain_name_valid(const char *s);
/* The kernel's boot_id: 36-character UUID form, lower or upper hex. */
bool boot_id_valid(const char *s);

const char *target_type_to_string(TargetType t);
const char *target_kind_to_string(TargetKind k);
TargetKind target_kind_from_string(const char *s);
const char *target_op_to_string(TargetOp o);
TargetOp target_op_from_string(const char *s);

/* Splits "KIND/OP" and checks the pair against each other and against the
 * target: exactly the combinations cpushield journals. Returns 0 or
 * -EINVAL with *ret_reason (static string) saying what is wrong. */
int target_check_kind(const char *kind_op, const Target *t, TargetKind *ret_kind, TargetOp *ret_op,
                      const char **ret_reason);
