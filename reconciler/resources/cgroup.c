/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Host tasks off the VMs' CPUs through cgroup cpusets.
 *
 * cgroup v2: the active VMs' CPUs become an isolated partition
 * (cpuset.cpus.partition = isolated) of the cgroup that holds the VMs
 * (host.partition, machine.slice by default). The root's effective CPUs, and
 * with them every other cgroup's, lose those CPUs: tasks started later
 * included, nothing moved. On systemd hosts the CPU lists of units belong to
 * systemd and are changed through its D-Bus API (AllowedCPUs=, runtime).
 *
 * cgroup v1: the classic shield: a host set with the housekeeping CPUs that
 * receives every task of the root set, and a set per active VM. */
#include <stdio.h>

#include "resource.h"

static const char *const systemd_units[] = { "init.scope", "system.slice", "user.slice" };

static char *unit_target(const char *unit) {
        return xasprintf("systemd:%s/AllowedCPUs", unit);
}

static bool observed_dir(const Observed *o, const char *dir) {
        return streq(observed_or_empty(o, dir), "(created)");
}

static void plan_cpus_item(const PlanInput *in, Plan *p, ChangeOp op, const char *unit, const char *file,
                           const CpuSet *want, const char *vms) {
        _cleanup_free_ char *cur = NULL;
        _cleanup_free_ char *to = cpuset_format_list(want);
        _cleanup_free_ char *target = unit ? xasprintf("systemd:%s/AllowedCPUs", unit) : xstrdup(file);

        plan_claim(p, target);
        if (!unit)
                cur = xstrdup(observed_or_empty(in->obs, file));
        else {
                const char *v;
                if (observed_get(in->obs, target, &v) < 0) {
                        strlist_addf(&p->errors, "cannot read AllowedCPUs of %s from systemd", unit);
                        return;
                }
                cur = xstrdup(v);
        }
        if (cpulist_equal_str(cur, to))
                return;
        Change *c = plan_add(p, KIND_CPUSET, op, target, cur, to);
        c->vm = xstrdup(vms);
        if (unit)
                c->name = xasprintf("CPUs of %s (through systemd)", unit);
}

/* Units' CPUs belong to systemd: set through its API, runtime. */
static void plan_v2_units(const PlanInput *in, Plan *p, const char *part_dir, const char *vms) {
        const Cgroups *cg = &in->host->cg;

        for (size_t i = 0; i < ELEMENTSOF(systemd_units); i++) {
                _cleanup_free_ char *dir = xasprintf("%s/%s", cg->v2_mount, systemd_units[i]);
                _cleanup_free_ char *file = xasprintf("%s/cpuset.cpus", dir);

                if (!observed_dir(in->obs, dir))
                        continue;
                plan_cpus_item(in, p, OP_UNIT, systemd_units[i], file, &in->housekeeping, vms);
        }
        _cleanup_free_ char *file = xasprintf("%s/cpuset.cpus", part_dir);
        plan_cpus_item(in, p, OP_UNIT, in->cfg->partition, file, &in->vm_cpus, vms);
}

#define BY_SYSTEMD "systemd does this itself once the units have AllowedCPUs, and then it is systemd's, not recorded; " \
                   "cpushield writes and records it only if systemd did not"

/* The controller for the root's children and the partition's cgroup. */
static void plan_v2_tree(const PlanInput *in, Plan *p, const char *part_dir, const char *vms) {
        const Cgroups *cg = &in->host->cg;
        /* systemd enables cpuset itself once a unit has AllowedCPUs; then
         * this item finds nothing to do at apply time. */
        _cleanup_free_ char *sc_file = xasprintf("%s/cgroup.subtree_control", cg->v2_mount);

        plan_claim(p, sc_file);
        if (!strlist_contains(&cg->v2_subtree_control, "cpuset")) {
                _cleanup_free_ char *cur = strlist_join(&cg->v2_subtree_control, " ");
                _cleanup_free_ char *to = xasprintf("cpuset%s%s", cur[0] ? " " : "", cur);
                Change *c = plan_add(p, KIND_CPUSET, OP_SUBTREE, sc_file, cur, to);
                c->name = xstrdup(cg->systemd ? "enable the cpuset controller for the root's children; " BY_SYSTEMD
                                              : "enable the cpuset controller for the root's children");
                c->by_systemd = cg->systemd;
                c->vm = xstrdup(vms);
        }
        plan_claim(p, part_dir);
        if (!observed_dir(in->obs, part_dir)) {
                Change *c = plan_add(p, KIND_CPUSET, OP_MKDIR, part_dir, "(absent)", "(created)");
                c->name = xstrdup(cg->systemd ? "cgroup for the VMs' partition; " BY_SYSTEMD
                                                        " (systemd keeps an inactive slice's cgroup until the slice stops)"
                                              : "cgroup for the VMs' partition");
                c->by_systemd = cg->systemd;
                c->vm = xstrdup(vms);
        }
}

/* Without systemd: siblings with their own CPU list would make the
 * partition invalid; they keep theirs minus the VMs' CPUs. */
static void plan_v2_siblings(const PlanInput *in, Plan *p, const char *part_dir, const char *vms) {
        const Cgroups *cg = &in->host->cg;
        const StrList *sib = &cg->v2_children;

        for (size_t i = 0; i < sib->n; i++) {
                _cleanup_free_ char *file = xasprintf("%s/%s/cpuset.cpus", cg->v2_mount, sib->v[i]);
                const char *cur;
                CpuSet cpus = {}, want = {};

                if (streq(sib->v[i], in->cfg->partition))
                        continue;
                cur = observed_or_empty(in->obs, file);
                if (cur[0] && cpuset_parse_list(cur, &cpus) >= 0 && cpuset_intersects(&cpus, &in->vm_cpus)) {
                        plan_host_affinity(in, &cpus, &want);
                        plan_cpus_item(in, p, OP_WRITE, NULL, file, &want, vms);
                }
                cpuset_free(&cpus);
                cpuset_free(&want);
        }
        _cleanup_free_ char *file = xasprintf("%s/cpuset.cpus", part_dir);
        plan_cpus_item(in, p, OP_WRITE, NULL, file, &in->vm_cpus, vms);
}

/* Everything in the partition's cgroup is confined to the VMs' CPUs: a
 * process there that no active VM owns would compete with the VMs without
 * anyone knowing. Before the partition is formed that is an error; once it
 * stands, runs read no tasks (cgroup_needs_now) and verify counts it as
 * noise; a warning here when the tasks were read anyway. */
static int plan_v2_tenants(const PlanInput *in, Plan *p, const char *part_file) {
        const Host *h = in->host;
        const char *state = observed_or_empty(in->obs, part_file);
        bool formed = streq(state, "isolated") || streq(state, "root");
        size_t n = 0;

        for (size_t i = 0; i < h->n_tasks; i++) {
                const Task *t = &h->tasks[i];
                if (t->pid != t->tgid || !task_is_tenant(in->cfg, in->active, t))
                        continue;
                strlist_addf(formed ? &p->warnings : &p->errors,
                             "process %d (%s) in cgroup %s belongs to no active VM: %s to the VMs' CPUs; stop it or "
                             "move it out of %s, or set host.partition to a cgroup that holds only cpushield's VMs",
                             t->pid, t->comm, t->cgroup, formed ? "the partition confines it" :
                             "forming the partition would confine it", in->cfg->partition);
                n++;
        }
        return n && !formed ? -EBUSY : 0;
}

/* Why a VM's threads are not all bound to one CPU each, or NULL when they are. */
static char *unbound_threads(const Vm *vm) {
        if (vm->n_vcpu_pins == 0)
                return xasprintf("VM '%s' has no vcpu_pins: its vCPUs float over its CPUs", vm->name);
        for (size_t k = 0; k < vm->n_vcpu_pins; k++)
                if (cpuset_count(&vm->vcpu_pins[k].cpus) != 1)
                        return xasprintf("VM '%s' pins vCPU %u to several CPUs (%s:%u:%u)", vm->name,
                                         vm->vcpu_pins[k].id, vm->vcpu_pins[k].loc.file, vm->vcpu_pins[k].loc.line,
                                         vm->vcpu_pins[k].loc.column);
        if (!vm->has_emulator_pin)
                return xasprintf("VM '%s' has no emulator_pin: its emulator thread floats over its CPUs", vm->name);
        if (cpuset_count(&vm->emulator_pin) != 1) {
                _cleanup_free_ char *l = cpuset_format_list(&vm->emulator_pin);
                return xasprintf("VM '%s' pins its emulator to several CPUs (%s, %s:%u:%u)", vm->name, l,
                                 vm->emulator_loc.file, vm->emulator_loc.line, vm->emulator_loc.column);
        }
        for (size_t k = 0; k < vm->n_iothread_pins; k++)
                if (cpuset_count(&vm->iothread_pins[k].cpus) != 1)
                        return xasprintf("VM '%s' pins IOThread %u to several CPUs (%s:%u:%u)", vm->name,
                                         vm->iothread_pins[k].id, vm->iothread_pins[k].loc.file,
                                         vm->iothread_pins[k].loc.line, vm->iothread_pins[k].loc.column);
        return NULL;
}

/* An isolated partition does no load balancing: a thread allowed on several
 * of its CPUs stays on whichever it first ran on. Isolated fits only when
 * every thread placed there is bound to one CPU; otherwise an exclusive,
 * load-balanced partition ("root"). */
/* Why some active VM's threads are not each bound to one CPU, or NULL. */
static char *unbound_reason(const Config *c, const StrList *vms) {
        char *why = NULL;

        for (size_t i = 0; i < vms->n && !why; i++) {
                const Vm *vm = config_find_vm(c, vms->v[i]);
                if (vm)
                        why = unbound_threads(vm);
        }
        return why;
}

static void choose_partition_type(const PlanInput *in, Plan *p) {
        const Config *c = in->cfg;
        _cleanup_free_ char *why = unbound_reason(c, in->active);

        free(p->partition_type);
        free(p->partition_why);
        if (c->partition_type == PARTITION_ISOLATED) {
                p->partition_type = xstrdup("isolated");
                p->partition_why = xasprintf("host.partition_type: isolated (%s:%u:%u)%s%s", c->partition_type_loc.file,
                                             c->partition_type_loc.line, c->partition_type_loc.column,
                                             why ? "; but " : "", why ? why : "");
                if (why)
                        strlist_addf(&p->warnings, "the partition is isolated by configuration, but %s: such a thread "
                                     "stays on whichever CPU it first ran on", why);
        } else if (c->partition_type == PARTITION_ROOT) {
                p->partition_type = xstrdup("root");
                p->partition_why = xasprintf("host.partition_type: root (%s:%u:%u)", c->partition_type_loc.file,
                                             c->partition_type_loc.line, c->partition_type_loc.column);
        } else if (why) {
                p->partition_type = xstrdup("root");
                p->partition_why = xasprintf("%s; an isolated partition does no load balancing, so an exclusive "
                                             "load-balanced one is used", why);
        } else {
                p->partition_type = xstrdup("isolated");
                p->partition_why = xstrdup("every vCPU, emulator and IOThread pin names one CPU: no load "
                                           "balancing needed, none done");
        }
}

static void plan_v2(const PlanInput *in, Plan *p, const char *vms) {
        const Cgroups *cg = &in->host->cg;
        const char *part = in->cfg->partition;
        _cleanup_free_ char *part_dir = xasprintf("%s/%s", cg->v2_mount, part);
        _cleanup_free_ char *part_file = xasprintf("%s/cpuset.cpus.partition", part_dir);

        if (!strlist_contains(&cg->v2_controllers, "cpuset")) {
                strlist_addf(&p->errors, "%s/cgroup.controllers has no cpuset controller: this kernel cannot isolate "
                             "CPUs with cgroups (is cpuset bound to a v1 hierarchy?)", cg->v2_mount);
                return;
        }
        if (strchr(part, '/'))
                strlist_addf(&p->warnings, "host.partition '%s' is nested: every cgroup above it must be a partition "
                             "root too; cpushield only manages the last one", part);
        if (plan_v2_tenants(in, p, part_file) < 0)
                return;
        if (cg->systemd)
                plan_v2_units(in, p, part_dir, vms);
        plan_v2_tree(in, p, part_dir, vms);
        if (!cg->systemd)
                plan_v2_siblings(in, p, part_dir, vms);

        choose_partition_type(in, p);
        _cleanup_free_ char *cur = xstrdup(observed_or_empty(in->obs, part_file));
        plan_claim(p, part_file);
        if (!cur[0]) {
                free(cur);
                cur = xstrdup("member");
        }
        if (!streq(cur, p->partition_type)) {
                Change *c = plan_add(p, KIND_CPUSET, OP_WRITE, part_file, cur, p->partition_type);
                c->name = xasprintf("%s partition: no host task can run on these CPUs (%s)",
                                    streq(p->partition_type, "root") ? "load-balanced" : "isolated",
                                    p->partition_why);
                c->vm = xstrdup(vms);
        }
}

static void plan_v1(const PlanInput *in, Plan *p, const char *vms) {
        const Host *h = in->host;
        const char *m = h->cg.v1_cpuset_mount;
        _cleanup_free_ char *mems_file = xasprintf("%s/cpuset.mems", m);
        const char *mems = observed_or_empty(in->obs, mems_file);

        struct {
                const char *name;
                const CpuSet *cpus;
        } sets[1 + 64];
        size_t n_sets = 0;
        _cleanup_free_ char **names = xcalloc(in->active->n + 1, sizeof(char *));

        sets[n_sets++] = (typeof(sets[0])) { "cpushield.host", &in->housekeeping };
        for (size_t i = 0; i < in->active->n && n_sets < ELEMENTSOF(sets); i++) {
                const Vm *vm = config_find_vm(in->cfg, in->active->v[i]);
                if (!vm)
                        continue;
                names[i] = xasprintf("cpushield.%s", vm->name);
                sets[n_sets++] = (typeof(sets[0])) { names[i], &vm->cpus };
        }

        for (size_t i = 0; i < n_sets; i++) {
                _cleanup_free_ char *dir = xasprintf("%s/%s", m, sets[i].name);
                _cleanup_free_ char *f_mems = xasprintf("%s/cpuset.mems", dir);
                _cleanup_free_ char *f_cpus = xasprintf("%s/cpuset.cpus", dir);
                const char *cur_mems = observed_or_empty(in->obs, f_mems);

                plan_claim(p, dir);
                plan_claim(p, f_mems);
                if (!observed_dir(in->obs, dir)) {
                        Change *c = plan_add(p, KIND_CPUSET, OP_MKDIR, dir, "(absent)", "(created)");
                        c->name = xstrdup(i == 0 ? "cpuset for host tasks" : "cpuset for the VM");
                        c->vm = xstrdup(vms);
                }
                /* v1 refuses tasks in a cpuset without memory nodes: mems first. */
                if (!cpulist_equal_str(cur_mems, mems)) {
                        Change *c = plan_add(p, KIND_CPUSET, OP_WRITE, f_mems, cur_mems, mems);
                        c->vm = xstrdup(vms);
                }
                plan_cpus_item(in, p, OP_WRITE, NULL, f_cpus, sets[i].cpus, vms);
        }

        /* Every user task of the root set moves to the host set (read with
         * HOST_TASK_MASKS: in the root set "/", kernel threads told apart).
         * Kernel threads are the kthread module's: v1 cannot attach the
         * per-CPU ones. */
        {
                _cleanup_free_ char *dest = xasprintf("%s/cpushield.host", m);
                _cleanup_free_ char *dest_tasks = xasprintf("%s/tasks", dest);
                int *pids = xcalloc(h->n_tasks + 1, sizeof(int));
                size_t n = 0;

                plan_claim(p, dest_tasks);
                for (size_t i = 0; i < h->n_tasks; i++) {
                        const Task *t = &h->tasks[i];
                        if (!task_is_kthread(t) && streq_ptr(t->cgroup, "/"))
                                pids[n++] = t->pid;
                }
                if (n > 1)
                        qsort(pids, n, sizeof(int), cmp_int);
                if (n > 0) {
                        Change *c = plan_add(p, KIND_CPUSET, OP_MOVE_TASKS, dest_tasks, m, dest);
                        c->name = xasprintf("%zu host tasks of the root cpuset", n);
                        c->pids = pids;
                        c->n_pids = n;
                        c->vm = xstrdup(vms);
                } else
                        free(pids);
        }
        for (size_t i = 0; i < in->active->n; i++)
                free(names[i]);
}

static void cgroup_plan(const PlanInput *in, Plan *p) {
        const Host *h = in->host;
        _cleanup_free_ char *vms = plan_active_names(in);

        if (cpuset_is_empty(&in->vm_cpus))
                return;
        switch (h->cg.mode) {
        case CGROUP_V2:
                plan_v2(in, p, vms);
                break;
        case CGROUP_V1:
                plan_v1(in, p, vms);
                break;
        case CGROUP_NONE:
                strlist_add(&p->warnings, "no cpuset cgroup is mounted: host tasks cannot be kept off the VMs' CPUs");
                break;
        }
}

bool cgroup_partition_formed(const Host *h, const Config *c, const StrList *active, const Observed *obs) {
        const Cgroups *cg = &h->cg;
        CpuSet want = {}, have = {};
        bool formed;

        if (cg->mode != CGROUP_V2 || active->n == 0)
                return false;
        _cleanup_free_ char *part_file = xasprintf("%s/%s/cpuset.cpus.partition", cg->v2_mount, c->partition);
        const char *state = observed_or_empty(obs, part_file);
        if (!(streq(state, "isolated") || streq(state, "root")))
                return false; /* member, or "isolated invalid (...)" */
        _cleanup_free_ char *cpus_key = cg->systemd ? xasprintf("systemd:%s/AllowedCPUs", c->partition)
                                                    : xasprintf("%s/%s/cpuset.cpus", cg->v2_mount, c->partition);
        for (size_t i = 0; i < active->n; i++) {
                const Vm *vm = config_find_vm(c, active->v[i]);
                if (vm)
                        cpuset_or(&want, &vm->cpus);
        }
        formed = cpuset_parse_list(observed_or_empty(obs, cpus_key), &have) >= 0 && cpuset_equal(&have, &want);
        cpuset_free(&want);
        cpuset_free(&have);
        return formed;
}

/* v1 moves the root set's user tasks, told from kernel threads by
 * kthreadd's children; v2 looks for other tenants of the VMs' cgroup while
 * the partition forms: the processes in that cgroup, not every task. */
static HostParts cgroup_needs_now(const ObserveInput *in, const Observed *obs) {
        if (in->active->n == 0)
                return 0;
        if (in->host->cg.mode == CGROUP_V1)
                return HOST_TASK_MASKS;
        return cgroup_partition_formed(in->host, in->cfg, in->active, obs) ? 0 : HOST_PARTITION_PROCS;
}

/* Every file and unit property cgroup_plan looks at, read once. */
static void cgroup_observe(const ObserveInput *in, Observed *obs) {
        const Host *h = in->host;
        const Cgroups *cg = &h->cg;
        const Reader *rd = in->reader;

        if (in->active->n == 0)
                return;
        if (cg->mode == CGROUP_V2 && strlist_contains(&cg->v2_controllers, "cpuset")) {
                _cleanup_free_ char *part_dir = xasprintf("%s/%s", cg->v2_mount, in->cfg->partition);
                _cleanup_free_ char *part_cpus = xasprintf("%s/cpuset.cpus", part_dir);
                _cleanup_free_ char *part_file = xasprintf("%s/cpuset.cpus.partition", part_dir);

                if (cg->systemd) {
                        for (size_t i = 0; i < ELEMENTSOF(systemd_units); i++) {
                                _cleanup_free_ char *dir = xasprintf("%s/%s", cg->v2_mount, systemd_units[i]);
                                _cleanup_free_ char *t = unit_target(systemd_units[i]);
                                observe_item(rd, obs, OP_MKDIR, dir, NULL);
                                if (observed_dir(obs, dir))
                                        observe_item(rd, obs, OP_UNIT, t, NULL);
                        }
                        _cleanup_free_ char *t = unit_target(in->cfg->partition);
                        observe_item(rd, obs, OP_UNIT, t, NULL);
                } else {
                        for (size_t i = 0; i < cg->v2_children.n; i++) {
                                _cleanup_free_ char *f = xasprintf("%s/%s/cpuset.cpus", cg->v2_mount, cg->v2_children.v[i]);
                                if (!streq(cg->v2_children.v[i], in->cfg->partition))
                                        observe_item(rd, obs, OP_WRITE, f, NULL);
                        }
                        observe_item(rd, obs, OP_WRITE, part_cpus, NULL);
                }
                if (cg->partition_tree.n && streq(cg->partition_tree.v[0], in->cfg->partition))
                        observed_put(obs, part_dir, "(created)", 0); /* listed with the cgroups below it */
                else
                        observe_item(rd, obs, OP_MKDIR, part_dir, NULL);
                observe_item(rd, obs, OP_WRITE, part_file, NULL);
        } else if (cg->mode == CGROUP_V1) {
                const char *m = cg->v1_cpuset_mount;
                _cleanup_free_ char *mems = xasprintf("%s/cpuset.mems", m);

                observe_item(rd, obs, OP_WRITE, mems, NULL);
                for (size_t i = 0; i <= in->active->n; i++) {
                        _cleanup_free_ char *dir = xasprintf("%s/cpushield.%s", m, i == 0 ? "host" : in->active->v[i - 1]);
                        _cleanup_free_ char *f_mems = xasprintf("%s/cpuset.mems", dir);
                        _cleanup_free_ char *f_cpus = xasprintf("%s/cpuset.cpus", dir);
                        observe_item(rd, obs, OP_MKDIR, dir, NULL);
                        observe_item(rd, obs, OP_WRITE, f_mems, NULL);
                        observe_item(rd, obs, OP_WRITE, f_cpus, NULL);
                }
        }
}

static void cgroup_lint(const LintInput *in, Doctor *d) {
        const Cgroups *cg = &in->host->cg;

        if (in->cfg->partition_type == PARTITION_ISOLATED)
                for (size_t i = 0; i < in->cfg->n_vms; i++) {
                        _cleanup_free_ char *why = unbound_threads(&in->cfg->vms[i]);
                        if (why)
                                strlist_addf(&d->warnings, "host.partition_type is isolated (%s:%u:%u), but %s: an "
                                             "isolated partition does no load balancing, so such a thread stays on "
                                             "whichever CPU it first ran on; pin each thread to one CPU or use "
                                             "partition_type: auto", in->cfg->partition_type_loc.file,
                                             in->cfg->partition_type_loc.line, in->cfg->partition_type_loc.column, why);
                }

        if (cg->mode == CGROUP_NONE)
                strlist_add(&d->errors, "no cpuset cgroup is mounted (neither cgroup v2 with the cpuset controller "
                            "nor a v1 cpuset hierarchy): host tasks cannot be kept off the VMs' CPUs");
        else if (cg->mode == CGROUP_V2 && !strlist_contains(&cg->v2_controllers, "cpuset"))
                strlist_add(&d->errors, "the cgroup v2 root offers no cpuset controller (bound to a v1 hierarchy?)");
}

const Resource resource_cgroup = {
        .name = "cpuset",
        .kind = KIND_CPUSET,
        .needs = HOST_TOPOLOGY | HOST_CGROUPS,
        .needs_now = cgroup_needs_now,
        .observe = cgroup_observe,
        .plan = cgroup_plan,
        .lint = cgroup_lint,
};
