/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include "target.h"

/* Arrays, not pointers: Criterion may run each case in a new process. */
typedef struct Case {
        char target[96];
        int type; /* TargetType, or _TARGET_TYPE_INVALID */
} Case;

/* Every shape the planner produces (seen in journals of activate runs on
 * the four fixture hosts), and near misses of each. */
static const Case cases[] = {
        { "/sys/fs/cgroup/machine.slice", TARGET_CGROUP },
        { "/sys/fs/cgroup/machine.slice/cpuset.cpus", TARGET_CGROUP },
        { "/sys/fs/cgroup/machine.slice/cpuset.cpus.partition", TARGET_CGROUP },
        { "/sys/fs/cgroup/cgroup.subtree_control", TARGET_CGROUP },
        { "/sys/fs/cgroup/cpuset/cpushield.host/tasks", TARGET_CGROUP },
        { "/sys/fs/cgroup/cpuset/cpushield.nfv/cpuset.mems", TARGET_CGROUP },
        { "/sys/fs/cgroup/system.slice/app-foo\\x2dbar.scope/cpuset.cpus", TARGET_CGROUP },
        { "/proc/irq/0/smp_affinity_list", TARGET_IRQ },
        { "/proc/irq/124/smp_affinity_list", TARGET_IRQ },
        { "/proc/irq/default_smp_affinity", TARGET_IRQ_DEFAULT },
        { "/proc/1", TARGET_TASK },
        { "/proc/4194304", TARGET_TASK },
        { "/sys/devices/system/cpu/cpu3/power/pm_qos_resume_latency_us", TARGET_CPU_POWER },
        { "/sys/devices/system/cpu/cpu15/cpuidle/state2/disable", TARGET_CPU_POWER },
        { "/sys/devices/system/cpu/cpufreq/policy0/scaling_governor", TARGET_CPUFREQ },
        { "/sys/devices/system/cpu/cpufreq/policy7/scaling_min_freq", TARGET_CPUFREQ },
        { "/sys/devices/system/cpu/cpufreq/policy7/scaling_max_freq", TARGET_CPUFREQ },
        { "/sys/devices/system/cpu/cpufreq/policy7/energy_performance_preference", TARGET_CPUFREQ },
        { "/proc/sys/kernel/watchdog_cpumask", TARGET_SYSCTL },
        { "/proc/sys/vm/stat_interval", TARGET_SYSCTL },
        { "/proc/sys/net/ipv4/neigh/default/interval_probe_time_ms", TARGET_SYSCTL },
        { "/proc/sys/net/ipv6/neigh/default/interval_probe_time_ms", TARGET_SYSCTL },
        { "/proc/sys/net/ipv4/neigh/eth0/interval_probe_time_ms", _TARGET_TYPE_INVALID },
        { "cgroup2:/cgroup.pressure", TARGET_CGROUP2_ROOT },
        { "cgroup2:/machine.slice/cgroup.pressure", _TARGET_TYPE_INVALID },
        { "cgroup2:/cgroup.procs", _TARGET_TYPE_INVALID },
        { "cgroup2:cgroup.pressure", _TARGET_TYPE_INVALID },
        { "cgroup2:/cgroup.pressure/", _TARGET_TYPE_INVALID },
        { "cgroup2:", _TARGET_TYPE_INVALID },
        { "/proc/sys/net/ipv4/neigh/default/base_reachable_time_ms", _TARGET_TYPE_INVALID },
        { "/sys/devices/virtual/workqueue/cpumask", TARGET_WORKQUEUE },
        { "/sys/devices/virtual/workqueue/cpumask_requested", TARGET_WORKQUEUE },
        { "/sys/devices/virtual/workqueue/writeback/cpumask", TARGET_WORKQUEUE },
        { "/sys/devices/virtual/workqueue/blkcg_punt_bio/cpumask", TARGET_WORKQUEUE },
        { "systemd:machine.slice/AllowedCPUs", TARGET_UNIT },
        { "systemd:init.scope/AllowedCPUs", TARGET_UNIT },
        { "systemd:user@1000.service/AllowedCPUs", TARGET_UNIT },
        { "libvirt:win10/vcpu0", TARGET_LIBVIRT },
        { "libvirt:win10/vcpu31", TARGET_LIBVIRT },
        { "libvirt:win10/emulator", TARGET_LIBVIRT },
        { "libvirt:win 10/iothread1", TARGET_LIBVIRT },

        /* shorter than their prefix, or just the prefix (issue 10, #1) */
        { "", _TARGET_TYPE_INVALID },
        { "x", _TARGET_TYPE_INVALID },
        { "/", _TARGET_TYPE_INVALID },
        { "/proc/", _TARGET_TYPE_INVALID },
        { "/proc", _TARGET_TYPE_INVALID },
        { "systemd:", _TARGET_TYPE_INVALID },
        { "systemd", _TARGET_TYPE_INVALID },
        { "libvirt:", _TARGET_TYPE_INVALID },
        { "libvirt:/", _TARGET_TYPE_INVALID },
        { "libvirt:x/", _TARGET_TYPE_INVALID },
        { "libvirt:x/vcpu", _TARGET_TYPE_INVALID },
        { "libvirt:x/iothread", _TARGET_TYPE_INVALID },
        { "/sys/fs/cgroup", _TARGET_TYPE_INVALID },
        { "/sys/fs/cgroup/", _TARGET_TYPE_INVALID },
        { "/proc/irq/", _TARGET_TYPE_INVALID },
        { "/proc/irq/5", _TARGET_TYPE_INVALID },
        { "/proc/irq/5/", _TARGET_TYPE_INVALID },
        /* outside the set */
        { "/etc/passwd", _TARGET_TYPE_INVALID },
        { "/proc/sys/kernel/core_pattern", _TARGET_TYPE_INVALID },
        { "/proc/self", _TARGET_TYPE_INVALID },
        { "/proc/0", _TARGET_TYPE_INVALID },
        { "/proc/-1", _TARGET_TYPE_INVALID },
        { "/proc/01", _TARGET_TYPE_INVALID },
        { "/proc/4194305", _TARGET_TYPE_INVALID },
        { "/proc/99999999999999999999", _TARGET_TYPE_INVALID },
        { "/proc/1/task/1", _TARGET_TYPE_INVALID },
        { "/proc/irq/05/smp_affinity_list", _TARGET_TYPE_INVALID },
        { "/proc/irq/5/smp_affinity", _TARGET_TYPE_INVALID },
        { "/proc/irq/5/smp_affinity_list/", _TARGET_TYPE_INVALID },
        { "/proc/irq/default_smp_affinityX", _TARGET_TYPE_INVALID },
        { "/sys/fs/cgroup/../../etc/passwd", _TARGET_TYPE_INVALID },
        { "/sys/fs/cgroup/a/../b", _TARGET_TYPE_INVALID },
        { "/sys/fs/cgroup/a/./b", _TARGET_TYPE_INVALID },
        { "/sys/fs/cgroup//a", _TARGET_TYPE_INVALID },
        { "/sys/fs/cgroup/a/", _TARGET_TYPE_INVALID },
        { "/sys/fs/cgroup/a b", _TARGET_TYPE_INVALID },
        { "/sys/fs/cgroup/a\tb", _TARGET_TYPE_INVALID },
        { "/sys/fs/cgroupX/a", _TARGET_TYPE_INVALID },
        { "/sys/devices/system/cpu/cpu3/online", _TARGET_TYPE_INVALID },
        { "/sys/devices/system/cpu/cpu/power/pm_qos_resume_latency_us", _TARGET_TYPE_INVALID },
        { "/sys/devices/system/cpu/cpu8192/power/pm_qos_resume_latency_us", _TARGET_TYPE_INVALID },
        { "/sys/devices/system/cpu/cpu1/cpuidle/state64/disable", _TARGET_TYPE_INVALID },
        { "/sys/devices/system/cpu/cpu1/cpuidle/state1/latency", _TARGET_TYPE_INVALID },
        { "/sys/devices/system/cpu/cpufreq/policy0/scaling_setspeed", _TARGET_TYPE_INVALID },
        { "/sys/devices/system/cpu/cpufreq/boost", _TARGET_TYPE_INVALID },
        { "/sys/devices/virtual/workqueue/writeback/nice", _TARGET_TYPE_INVALID },
        { "/sys/devices/virtual/workqueue/../../../etc/cpumask", _TARGET_TYPE_INVALID },
        { "/sys/devices/virtual/workqueue/.hidden/cpumask", _TARGET_TYPE_INVALID },
        { "/sys/devices/virtual/workqueue//cpumask", _TARGET_TYPE_INVALID },
        { "systemd:machine.slice/CPUQuota", _TARGET_TYPE_INVALID },
        { "systemd:machine.slice", _TARGET_TYPE_INVALID },
        { "systemd:machine/AllowedCPUs", _TARGET_TYPE_INVALID },
        { "systemd:machine.bogus/AllowedCPUs", _TARGET_TYPE_INVALID },
        { "systemd:.slice/AllowedCPUs", _TARGET_TYPE_INVALID },
        { "systemd:a@.service/AllowedCPUs", _TARGET_TYPE_INVALID },
        { "systemd:@a.service/AllowedCPUs", _TARGET_TYPE_INVALID },
        { "systemd:a b.service/AllowedCPUs", _TARGET_TYPE_INVALID },
        { "systemd:../x.service/AllowedCPUs", _TARGET_TYPE_INVALID },
        { "libvirt:win10/vcpu01", _TARGET_TYPE_INVALID },
        { "libvirt:win10/vcpu-1", _TARGET_TYPE_INVALID },
        { "libvirt:win10/iothread0", _TARGET_TYPE_INVALID },
        { "libvirt:win10/vcpu65536", _TARGET_TYPE_INVALID },
        { "libvirt:win10/emulatorX", _TARGET_TYPE_INVALID },
        { "libvirt:win\n10/vcpu0", _TARGET_TYPE_INVALID },
        { "irqbalance:ban", _TARGET_TYPE_INVALID },
};

ParameterizedTestParameters(target, table) {
        return cr_make_param_array(Case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(const Case *c, target, table) {
        Target t;
        int r = target_parse(c->target, &t);

        cr_assert_eq(r, c->type, "'%s': got %d, want %d", c->target, r, c->type);
        if (r >= 0)
                cr_assert_eq((int) t.type, r);
}

Test(target, fields) {
        Target t;

        cr_assert_eq(target_parse("/proc/1234", &t), TARGET_TASK);
        cr_assert_eq(t.pid, 1234);
        cr_assert_eq(target_parse("/proc/irq/42/smp_affinity_list", &t), TARGET_IRQ);
        cr_assert_eq(t.irq, 42);
        cr_assert_eq(target_parse("systemd:user@1000.service/AllowedCPUs", &t), TARGET_UNIT);
        cr_assert_str_eq(t.unit, "user@1000.service");
        cr_assert_eq(target_parse("libvirt:a/b/iothread7", &t), _TARGET_TYPE_INVALID);
        cr_assert_eq(target_parse("libvirt:win10/iothread7", &t), TARGET_LIBVIRT);
        cr_assert_str_eq(t.domain, "win10");
        cr_assert_eq(t.pin, TARGET_PIN_IOTHREAD);
        cr_assert_eq(t.pin_id, 7);
        cr_assert_eq(target_parse("libvirt:win10/emulator", &t), TARGET_LIBVIRT);
        cr_assert_eq(t.pin, TARGET_PIN_EMULATOR);
        cr_assert_eq(target_parse("/sys/devices/system/cpu/cpu5/cpuidle/state3/disable", &t), TARGET_CPU_POWER);
        cr_assert(t.is_idle_state);
        cr_assert_eq(t.cpu, 5);
        cr_assert_eq(t.idle_state, 3);
        cr_assert_eq(target_parse("/sys/devices/virtual/workqueue/writeback/cpumask", &t), TARGET_WORKQUEUE);
        cr_assert_str_eq(t.file, "writeback");
        cr_assert(!t.wq_global);
}

Test(target, length_checked_buffers) {
        /* not NUL-terminated: nothing past n is read (ASan would say so) */
        char *buf = malloc(7);
        memcpy(buf, "/proc/1", 7);
        cr_assert_eq(target_parse_n(buf, 7, NULL), TARGET_TASK);
        cr_assert_eq(target_parse_n(buf, 6, NULL), _TARGET_TYPE_INVALID);
        free(buf);
        cr_assert_eq(target_parse_n("/proc/1\0/", 9, NULL), _TARGET_TYPE_INVALID);
        cr_assert_eq(target_parse(NULL, NULL), _TARGET_TYPE_INVALID);

        /* longer than any path */
        char *long_target = malloc(TARGET_MAX + 20);
        strcpy(long_target, "/sys/fs/cgroup/");
        memset(long_target + 15, 'a', TARGET_MAX);
        long_target[TARGET_MAX + 15] = 0;
        cr_assert_eq(target_parse(long_target, NULL), _TARGET_TYPE_INVALID);
        free(long_target);
}

typedef struct KindCase {
        char kind[40];
        char target[96];
        bool ok;
} KindCase;

static const KindCase kind_cases[] = {
        { "cpuset/write", "/sys/fs/cgroup/machine.slice/cpuset.cpus", true },
        { "cpuset/write", "/sys/fs/cgroup/machine.slice/cpuset.cpus.partition", true },
        { "cpuset/subtree", "/sys/fs/cgroup/cgroup.subtree_control", true },
        { "cpuset/mkdir", "/sys/fs/cgroup/machine.slice", true },
        { "cpuset/mkdir", "/sys/fs/cgroup/cpuset/cpushield.host", true },
        { "cpuset/move-tasks", "/sys/fs/cgroup/cpuset/cpushield.host/tasks", true },
        { "cpuset/unit", "systemd:machine.slice/AllowedCPUs", true },
        { "cpuset/affinity", "/proc/42", true },
        { "kthread/affinity", "/proc/42", true },
        { "irq/write", "/proc/irq/16/smp_affinity_list", true },
        { "irq/write", "/proc/irq/default_smp_affinity", true },
        { "workqueue/write", "/sys/devices/virtual/workqueue/cpumask", true },
        { "power/write", "/sys/devices/system/cpu/cpu1/power/pm_qos_resume_latency_us", true },
        { "power/write", "/sys/devices/system/cpu/cpufreq/policy1/scaling_governor", true },
        { "libvirt/libvirt-pin", "libvirt:win10/vcpu0", true },
        { "quiet/write", "/proc/sys/vm/stat_interval", true },
        { "quiet/write", "/proc/sys/net/ipv4/neigh/default/interval_probe_time_ms", true },
        { "quiet/write", "/proc/sys/net/ipv6/neigh/default/interval_probe_time_ms", true },
        { "quiet/write", "/sys/fs/cgroup/machine.slice/cgroup.pressure", true },
        { "quiet/write", "cgroup2:/cgroup.pressure", true },
        { "cpuset/write", "cgroup2:/cgroup.pressure", false },
        { "quiet/mkdir", "cgroup2:/cgroup.pressure", false },
        { "quiet/write", "/sys/fs/cgroup/machine.slice/machine-qemu\\x2d1\\x2dwin10.scope/libvirt/vcpu0/cgroup.pressure", true },

        { "cpuset/write", "/sys/fs/cgroup/machine.slice/cgroup.procs", false },
        { "cpuset/write", "/sys/fs/cgroup/machine.slice/memory.max", false },
        { "cpuset/subtree", "/sys/fs/cgroup/machine.slice/cpuset.cpus", false },
        { "cpuset/mkdir", "/sys/fs/cgroup/machine.slice/cpuset.cpus", false },
        { "cpuset/move-tasks", "/sys/fs/cgroup/machine.slice/cpuset.cpus", false },
        { "cpuset/write", "/proc/42", false },
        { "kthread/write", "/proc/42", false },
        { "kthread/affinity", "/proc/irq/16/smp_affinity_list", false },
        { "irq/write", "/sys/fs/cgroup/machine.slice/cpuset.cpus", false },
        { "irq/affinity", "/proc/irq/16/smp_affinity_list", false },
        { "workqueue/write", "/proc/irq/16/smp_affinity_list", false },
        { "power/write", "/sys/devices/virtual/workqueue/cpumask", false },
        { "libvirt/write", "libvirt:win10/vcpu0", false },
        { "quiet/write", "/sys/fs/cgroup/machine.slice/cpuset.cpus", false },
        { "quiet/write", "/sys/fs/cgroup/machine.slice/memory.pressure", false },
        { "quiet/mkdir", "/sys/fs/cgroup/machine.slice/cgroup.pressure", false },
        { "cpuset/write", "/sys/fs/cgroup/machine.slice/cgroup.pressure", false },
        { "libvirt/libvirt-pin", "systemd:machine.slice/AllowedCPUs", false },
        { "cpuset/unit", "libvirt:win10/vcpu0", false },
        { "irqbalance/write", "/proc/irq/16/smp_affinity_list", false },
        { "irq/chmod", "/proc/irq/16/smp_affinity_list", false },
        { "irq", "/proc/irq/16/smp_affinity_list", false },
        { "irq/", "/proc/irq/16/smp_affinity_list", false },
        { "/write", "/proc/irq/16/smp_affinity_list", false },
        { "irq/write/x", "/proc/irq/16/smp_affinity_list", false },
        { "", "/proc/irq/16/smp_affinity_list", false },
        { "averyveryverylongkindname/write", "/proc/irq/16/smp_affinity_list", false },
};

ParameterizedTestParameters(target, kinds) {
        return cr_make_param_array(KindCase, kind_cases, sizeof kind_cases / sizeof kind_cases[0]);
}

ParameterizedTest(const KindCase *c, target, kinds) {
        Target t;
        const char *why = NULL;

        cr_assert_geq(target_parse(c->target, &t), 0, "%s", c->target);
        int r = target_check_kind(c->kind, &t, NULL, NULL, &why);
        cr_assert_eq(r == 0, c->ok, "%s on %s: %d (%s)", c->kind, c->target, r, why ? why : "");
        if (!c->ok)
                cr_assert_not_null(why);
}

Test(target, names) {
        cr_assert(boot_id_valid("5f7e2a91-c4d8-4b3e-a06f-98d1e2c7b4a5"));
        cr_assert(!boot_id_valid("5f7e2a91-c4d8-4b3e-a06f-98d1e2c7b4a"));
        cr_assert(!boot_id_valid("5f7e2a91-c4d8-4b3e-a06f-98d1e2c7b4a55"));
        cr_assert(!boot_id_valid("5f7e2a91/c4d8-4b3e-a06f-98d1e2c7b4a5"));
        cr_assert(!boot_id_valid("../../../../../../../../etc/passwd.xx"));
        cr_assert(!boot_id_valid(""));
        cr_assert(!boot_id_valid(NULL));
        cr_assert(unit_name_valid("machine.slice"));
        cr_assert(unit_name_valid("machine-qemu\\x2d1\\x2dwin10.scope"));
        cr_assert(!unit_name_valid("machine.slice/x"));
        cr_assert(!unit_name_valid("noext"));
        char u[300];
        memset(u, 'a', sizeof u);
        strcpy(u + 250, ".service"); /* 258 characters */
        cr_assert(!unit_name_valid(u));
        strcpy(u + 240, ".service"); /* 248 */
        cr_assert(unit_name_valid(u));
        cr_assert(domain_name_valid("win10"));
        cr_assert(!domain_name_valid("a/b"));
        cr_assert(!domain_name_valid(""));
}
