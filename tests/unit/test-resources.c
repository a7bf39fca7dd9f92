/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One test group per resource, planned on fixture hosts through the
 * registry, and the planners' purity: a plan made from what was observed,
 * with the host's root directory closed, is the same plan. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>

#include "pipeline.h"
#include "planner.h"
#include "resource.h"

typedef struct Fx {
        Host host;
        Config cfg;
        Observed obs;
        StrList active;
        Plan plan;
} Fx;

static Fx fx;

static void load_brief(const char *fixture, const char *config, const char *vm, bool brief) {
        _cleanup_free_ char *root = xasprintf("%s/%s", FIXTURES_DIR, fixture);
        _cleanup_free_ char *cfg = xasprintf("%s/%s", EXAMPLES_DIR, config);
        char *files[] = { cfg }, *err = NULL;

        memset(&fx, 0, sizeof fx);
        cr_assert_eq(host_open(root, &fx.host, &err), 0, "%s", strempty(err));
        cr_assert_eq(config_load(files, 1, &fx.host, &fx.cfg, &err), 0, "%s", strempty(err));
        if (vm)
                strlist_add(&fx.active, vm);
        PipelineInput in = { .backend = &backend_fixture, .host = &fx.host, .cfg = &fx.cfg, .active = &fx.active,
                             .brief = brief };
        cr_assert_eq(pipeline_plan(&in, &fx.obs, &fx.plan), 0, "%s", fx.plan.errors.n ? fx.plan.errors.v[0] : "");
}

static void load(const char *fixture, const char *config, const char *vm) {
        load_brief(fixture, config, vm, false);
}

static void teardown(void) {
        plan_free(&fx.plan);
        observed_free(&fx.obs);
        strlist_free(&fx.active);
        config_free(&fx.cfg);
        host_free(&fx.host);
}

static const Change *find(const char *target) {
        for (size_t i = 0; i < fx.plan.n_changes; i++)
                if (streq(fx.plan.changes[i].target, target))
                        return &fx.plan.changes[i];
        return NULL;
}

static const Skipped *find_skipped(const char *target) {
        for (size_t i = 0; i < fx.plan.n_skipped; i++)
                if (streq(fx.plan.skipped[i].target, target))
                        return &fx.plan.skipped[i];
        return NULL;
}

static size_t count_kind(ChangeKind k) {
        size_t n = 0;
        for (size_t i = 0; i < fx.plan.n_changes; i++)
                n += fx.plan.changes[i].kind == k;
        return n;
}

TestSuite(registry, .fini = teardown);

Test(registry, lists_every_resource_once_in_apply_order) {
        static const char *const order[] = { "tasks", "kthread", "cpuset", "irq", "device-irq", "irqbalance",
                                             "workqueue", "quiet", "power", "libvirt" };
        size_t i = 0;

        REGISTRY_FOREACH(res) {
                cr_assert_lt(i, ELEMENTSOF(order));
                cr_assert_str_eq(res->name, order[i]);
                cr_assert_not_null(res->plan);
                i++;
        }
        cr_assert_eq(i, ELEMENTSOF(order));
}

Test(registry, plan_is_pure_with_the_root_closed) {
        Plan again = {};
        load("i7-4790k", "desktop-4790k.yaml", "win10");
        cr_assert_gt(fx.plan.n_changes, 50);

        /* Everything the planners may read was observed: close the root. */
        close(fx.host.root_fd);
        fx.host.root_fd = open("/nonexistent-cpushield-root", O_RDONLY | O_DIRECTORY);
        cr_assert_eq(fx.host.root_fd, -1);
        PlanInput in = { .host = &fx.host, .cfg = &fx.cfg, .active = &fx.active, .obs = &fx.obs };
        plan_input_init(&in, &again);
        plan_forward(&in, &again);
        plan_restores(&in, &again);
        plan_input_done(&in);
        cr_assert_eq(again.n_changes, fx.plan.n_changes);
        for (size_t i = 0; i < again.n_changes; i++) {
                cr_assert_str_eq(again.changes[i].target, fx.plan.changes[i].target);
                cr_assert_str_eq(again.changes[i].to, fx.plan.changes[i].to);
        }
        plan_free(&again);
}

/* A plan for a summary line (brief) reads no names and no pinned kernel
 * thread's mask; it decides the same. Loading HOST_REPORT afterwards
 * completes what was read without it. */
Test(registry, brief_plan_decides_the_same) {
        Plan full = {};
        size_t unread = 0;

        /* Linux 6.12, cgroup v2: only the root cgroup's tasks are read */
        load("ryzen-5950x", "ryzen-5950x-l3.yaml", "gaming");
        cr_assert_not_null(find_skipped("/proc"), "a full plan counts the pinned kernel threads");
        full = fx.plan;
        fx.plan = (Plan) {};
        teardown();
        load_brief("ryzen-5950x", "ryzen-5950x-l3.yaml", "gaming", true);
        cr_assert_eq(fx.plan.n_changes, full.n_changes);
        for (size_t i = 0; i < full.n_changes; i++) {
                const Change *b = &fx.plan.changes[i], *f = &full.changes[i];
                cr_assert_str_eq(b->target, f->target);
                cr_assert_str_eq(strempty(b->from), strempty(f->from), "%s", f->target);
                cr_assert_str_eq(strempty(b->to), strempty(f->to), "%s", f->target);
        }
        /* the same IRQs left alone; the count of pinned kernel threads is a report's */
        for (size_t i = 0; i < full.n_skipped; i++)
                if (full.skipped[i].kind == KIND_IRQ)
                        cr_assert_not_null(find_skipped(full.skipped[i].target), "%s", full.skipped[i].target);
        cr_assert_null(find_skipped("/proc"));
        cr_assert_not(fx.host.loaded & HOST_REPORT);
        for (size_t i = 0; i < fx.host.n_tasks; i++)
                unread += fx.host.tasks[i].allowed_unread;
        cr_assert_gt(unread, 0, "pinned kernel threads' masks are not read for a summary");
        for (size_t i = 0; i < fx.host.n_irqs; i++)
                cr_assert_null(fx.host.irqs[i].name, "IRQ %u", fx.host.irqs[i].number);

        host_load_parts(&fx.host, HOST_REPORT);
        for (size_t i = 0; i < fx.host.n_tasks; i++)
                cr_assert_not(fx.host.tasks[i].allowed_unread);
        size_t named = 0;
        for (size_t i = 0; i < fx.host.n_irqs; i++)
                if (fx.host.irqs[i].details)
                        named += fx.host.irqs[i].name != NULL;
        cr_assert_gt(named, 0);
        for (unsigned c = 0; c < fx.host.nr_cpu_ids; c++)
                for (size_t k = 0; fx.host.power && k < fx.host.power[c].n_idle; k++)
                        if (fx.host.power[c].idle[k].latency_us > fx.host.power_idle_floor_us)
                                cr_assert_not_null(fx.host.power[c].idle[k].name, "cpu%u state%zu", c, k);
        plan_free(&full);
}

TestSuite(irq, .fini = teardown);

Test(irq, movable_irqs_go_to_host_cpus_managed_ones_are_skipped) {
        load("i7-4790k", "desktop-4790k.yaml", "win10");
        const Change *c = find("/proc/irq/16/smp_affinity_list");
        cr_assert_not_null(c);
        cr_assert_str_eq(c->to, "0,4");
        /* nvme0q2 (IRQ 36) is managed on CPU 1 per debugfs: reported, not planned */
        cr_assert_null(find("/proc/irq/36/smp_affinity_list"));
        cr_assert_not_null(find_skipped("/proc/irq/36/smp_affinity_list"));
        cr_assert_not_null(find("/proc/irq/default_smp_affinity"));
}

/* The target every IRQ change and journal item uses, made without printf. */
Test(irq, target_roundtrip) {
        const unsigned numbers[] = { 0, 7, 10, 4095, 123456789, UINT_MAX };
        char buf[IRQ_TARGET_SIZE], want[64];
        unsigned back;

        for (size_t i = 0; i < ELEMENTSOF(numbers); i++) {
                snprintf(want, sizeof want, "/proc/irq/%u/smp_affinity_list", numbers[i]);
                cr_assert_str_eq(irq_target(buf, numbers[i]), want);
                cr_assert_eq(irq_target_parse(want, &back), 0, "%s", want);
                cr_assert_eq(back, numbers[i]);
        }
        cr_assert_lt(irq_target_parse("/proc/irq/default_smp_affinity", &back), 0);
        cr_assert_lt(irq_target_parse("/proc/irq//smp_affinity_list", &back), 0);
        cr_assert_lt(irq_target_parse("/proc/irq/5/smp_affinity", &back), 0);
        cr_assert_lt(irq_target_parse("/proc/irq/5/smp_affinity_listx", &back), 0);
        cr_assert_lt(irq_target_parse("/proc/irq/99999999999/smp_affinity_list", &back), 0);
}

TestSuite(kthread, .fini = teardown);

Test(kthread, movable_kthreads_planned_percpu_ones_counted) {
        load("i7-4790k", "desktop-4790k.yaml", "win10");
        const Change *c = find("/proc/2"); /* kthreadd */
        cr_assert_not_null(c);
        cr_assert_eq(c->kind, KIND_KTHREAD);
        cr_assert_str_eq(c->to, "0,4");
        cr_assert_not_null(find_skipped("/proc"), "per-CPU kthreads are reported");
        for (size_t i = 0; i < fx.host.n_tasks; i++) {
                const Task *t = &fx.host.tasks[i];
                char target[32];
                snprintf(target, sizeof target, "/proc/%d", t->pid);
                if (t->flags & PF_NO_SETAFFINITY)
                        cr_assert_null(find(target), "%s (PF_NO_SETAFFINITY) must not be planned", t->comm);
        }
}

TestSuite(cgroup, .fini = teardown);

Test(cgroup, v2_systemd_partition_through_units) {
        load("i7-4790k", "desktop-4790k.yaml", "win10");
        const Change *c = find("/sys/fs/cgroup/machine.slice/cpuset.cpus.partition");
        cr_assert_not_null(c);
        cr_assert_str_eq(c->to, "root"); /* the example's emulator floats over 5-7 */
        cr_assert_str_eq(fx.plan.partition_type, "root");
        c = find("systemd:system.slice/AllowedCPUs");
        cr_assert_not_null(c);
        cr_assert_eq(c->op, OP_UNIT);
        cr_assert_str_eq(c->to, "0,4");
}

Test(cgroup, v1_moves_root_tasks_to_the_host_set) {
        load("xeon-2s", "numa-2vm.yaml", "nfv");
        const Change *c = find("/sys/fs/cgroup/cpuset/cpushield.host/tasks");
        cr_assert_not_null(c);
        cr_assert_eq(c->op, OP_MOVE_TASKS);
        cr_assert_gt(c->n_pids, 10);
        cr_assert_not_null(find("/sys/fs/cgroup/cpuset/cpushield.nfv"));
}

Test(cgroup, nothing_without_an_active_vm) {
        load("i7-4790k", "desktop-4790k.yaml", NULL);
        cr_assert_eq(fx.plan.n_changes, 0);
}

TestSuite(workqueue, .fini = teardown);

Test(workqueue, global_and_sysfs_masks_leave_vm_cpus) {
        load("ryzen-5950x", "ryzen-5950x-l3.yaml", "gaming");
        const Change *c = find("/sys/devices/virtual/workqueue/cpumask");
        cr_assert_not_null(c);
        cr_assert_gt(count_kind(KIND_WORKQUEUE), 1);
}

TestSuite(power, .fini = teardown);

Test(power, low_latency_on_vm_cpus_only) {
        load("i7-4790k", "desktop-4790k.yaml", "win10");
        cr_assert_not_null(find("/sys/devices/system/cpu/cpu1/power/pm_qos_resume_latency_us"));
        cr_assert_null(find("/sys/devices/system/cpu/cpu0/power/pm_qos_resume_latency_us"));
        cr_assert_null(find("/sys/devices/system/cpu/cpu4/power/pm_qos_resume_latency_us"));
}

/* A plan reads the power files of the CPUs it plans; a wider scope on the
 * same host, and HOST_ALL (doctor, status), read the others too. */
Test(power, read_for_the_planned_cpus_only) {
        load("i7-4790k", "desktop-4790k.yaml", "win10");
        Host *h = &fx.host;
        cr_assert(h->power[1].has_pm_qos);
        cr_assert_not(h->power[0].has_pm_qos, "CPU 0 is the host's: not read");
        CpuSet zero = {};
        cr_assert_eq(cpuset_add(&zero, 0), 0);
        host_scope_power(h, &zero, 0);
        host_load_parts(h, HOST_POWER);
        cr_assert(h->power[0].has_pm_qos && h->power[1].has_pm_qos);
        cr_assert_not(h->power[4].has_pm_qos);
        host_load_parts(h, HOST_ALL);
        for (unsigned c = 0; c < h->nr_cpu_ids; c++)
                cr_assert(h->power[c].has_pm_qos, "CPU %u", c);
        cpuset_free(&zero);
}

TestSuite(pins, .fini = teardown);

Test(pins, pending_without_libvirt) {
        load("i7-4790k", "desktop-4790k.yaml", "win10");
        const Change *c = find("libvirt:win10/vcpu0");
        cr_assert_not_null(c);
        cr_assert(change_is_pending(c), "without libvirt the current pin is unknown");
}
