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

#include "fs.h"
#include "kernel.h"
#include "plan.h"

static char *read_or_empty(int fd, const char *path) {
        char *s = NULL;

        if (read_attr(fd, path, &s) < 0)
                return xstrdup("");
        char *t = strstrip(s);
        memmove(s, t, strlen(t) + 1);
        return s;
}

static char *join_vm_names(const StrList *l) {
        char *out = xstrdup("");

        for (size_t i = 0; i < l->n; i++) {
                char *n = xasprintf("%s%s%s", out, i ? "," : "", l->v[i]);
                free(out);
                out = n;
        }
        return out;
}

static void plan_cpus_item(const PlanInput *in, Plan *p, ChangeOp op, const char *unit, const char *file,
                           const CpuSet *want, const char *vms) {
        _cleanup_free_ char *cur = NULL;
        _cleanup_free_ char *to = cpuset_format_list(want);
        _cleanup_free_ char *target = unit ? xasprintf("systemd:%s/AllowedCPUs", unit) : xstrdup(file);

        plan_claim(p, target);
        if (!unit)
                cur = read_or_empty(in->host->root_fd, file);
        else if (kernel_read(in->host, OP_UNIT, target, NULL, &cur) < 0) {
                strlist_addf(&p->errors, "cannot read AllowedCPUs of %s from systemd", unit);
                return;
        }
        if (cpulist_equal_str(cur, to))
                return;
        Change *c = plan_add(p, KIND_CPUSET, op, target, cur, to);
        c->vm = xstrdup(vms);
        if (unit) {
                c->unit = xstrdup(unit);
                c->name = xasprintf("CPUs of %s (through systemd)", unit);
        }
}

static void plan_v2(const PlanInput *in, Plan *p, const char *vms) {
        const Host *h = in->host;
        const Cgroups *cg = &h->cg;
        int fd = h->root_fd;
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

        if (cg->systemd) {
                static const char *const units[] = { "init.scope", "system.slice", "user.slice" };

                for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                        _cleanup_free_ char *dir = xasprintf("%s/%s", cg->v2_mount, units[i]);
                        _cleanup_free_ char *file = xasprintf("%s/cpuset.cpus", dir);

                        if (!is_dir(fd, dir))
                                continue;
                        plan_cpus_item(in, p, OP_UNIT, units[i], file, &in->housekeeping, vms);
                }
                _cleanup_free_ char *file = xasprintf("%s/cpuset.cpus", part_dir);
                plan_cpus_item(in, p, OP_UNIT, part, file, &in->vm_cpus, vms);
        }
        {
                /* systemd enables cpuset itself once a unit has AllowedCPUs;
                 * then this item finds nothing to do at apply time. */
                _cleanup_free_ char *sc_file = xasprintf("%s/cgroup.subtree_control", cg->v2_mount);

                plan_claim(p, sc_file);
                if (!strlist_contains(&cg->v2_subtree_control, "cpuset")) {
                        _cleanup_free_ char *cur = read_or_empty(fd, sc_file);
                        _cleanup_free_ char *to = xasprintf("cpuset%s%s", cur[0] ? " " : "", cur);
                        Change *c = plan_add(p, KIND_CPUSET, OP_SUBTREE, sc_file, cur, to);
                        c->name = xstrdup("enable the cpuset controller for the root's children");
                        c->vm = xstrdup(vms);
                }
                plan_claim(p, part_dir);
                if (!is_dir(fd, part_dir)) {
                        Change *c = plan_add(p, KIND_CPUSET, OP_MKDIR, part_dir, "(absent)", "(created)");
                        c->name = xstrdup("cgroup for the VMs' partition");
                        c->vm = xstrdup(vms);
                }
        }
        if (!cg->systemd) {
                StrList sib = {};

                /* Siblings with their own CPU list would make the partition invalid. */
                if (list_dir(fd, cg->v2_mount, &sib) >= 0) {
                        for (size_t i = 0; i < sib.n; i++) {
                                _cleanup_free_ char *dir = xasprintf("%s/%s", cg->v2_mount, sib.v[i]);
                                _cleanup_free_ char *file = xasprintf("%s/cpuset.cpus", dir);
                                _cleanup_free_ char *cur = NULL;
                                CpuSet cpus = {}, want = {};

                                if (streq(sib.v[i], part) || !is_dir(fd, dir))
                                        continue;
                                cur = read_or_empty(fd, file);
                                if (cur[0] && cpuset_parse_list(cur, &cpus) >= 0 && cpuset_intersects(&cpus, &in->vm_cpus)) {
                                        plan_host_affinity(in, &cpus, &want);
                                        plan_cpus_item(in, p, OP_WRITE, NULL, file, &want, vms);
                                }
                                cpuset_free(&cpus);
                                cpuset_free(&want);
                        }
                        strlist_free(&sib);
                }
                _cleanup_free_ char *file = xasprintf("%s/cpuset.cpus", part_dir);
                plan_cpus_item(in, p, OP_WRITE, NULL, file, &in->vm_cpus, vms);
        }

        _cleanup_free_ char *cur = read_or_empty(fd, part_file);
        plan_claim(p, part_file);
        if (!cur[0]) {
                free(cur);
                cur = xstrdup("member");
        }
        if (!startswith(cur, "isolated") || strstr(cur, "invalid")) {
                Change *c = plan_add(p, KIND_CPUSET, OP_WRITE, part_file, cur, "isolated");
                c->name = xstrdup("isolated partition: no host task can run on these CPUs");
                c->vm = xstrdup(vms);
        }
}

static void plan_v1(const PlanInput *in, Plan *p, const char *vms) {
        const Host *h = in->host;
        int fd = h->root_fd;
        const char *m = h->cg.v1_cpuset_mount;
        _cleanup_free_ char *mems_file = xasprintf("%s/cpuset.mems", m);
        _cleanup_free_ char *mems = read_or_empty(fd, mems_file);
        _cleanup_free_ char *root_tasks_file = xasprintf("%s/tasks", m);
        _cleanup_free_ char *root_tasks = NULL;

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
                _cleanup_free_ char *cur_mems = read_or_empty(fd, f_mems);

                plan_claim(p, dir);
                plan_claim(p, f_mems);
                if (!is_dir(fd, dir)) {
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

        /* Every user task of the root set moves to the host set. Kernel
         * threads are the kthread module's: v1 cannot attach the per-CPU ones. */
        if (read_attr(fd, root_tasks_file, &root_tasks) >= 0) {
                _cleanup_free_ char *dest = xasprintf("%s/cpushield.host", m);
                _cleanup_free_ char *dest_tasks = xasprintf("%s/tasks", dest);
                int *pids = NULL;
                size_t n = 0;
                char *save = NULL;

                plan_claim(p, dest_tasks);

                for (char *tok = strtok_r(root_tasks, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save)) {
                        int pid = atoi(tok);
                        const Task *t = host_find_task(h, pid);
                        if (!t || task_is_kthread(t))
                                continue;
                        pids = xrealloc(pids, (n + 1) * sizeof(int));
                        pids[n++] = pid;
                }
                if (n > 0) {
                        _cleanup_free_ char *to = xasprintf("%s/cpushield.host", m);
                        Change *c = plan_add(p, KIND_CPUSET, OP_MOVE_TASKS, dest_tasks, m, to);
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

bool task_in_vm_cgroup(const Config *c, const Task *t) {
        _cleanup_free_ char *part = xasprintf("/%s", c->partition);
        size_t n = strlen(part);

        if (!t->cgroup)
                return false;
        if (strncmp(t->cgroup, part, n) == 0 && (t->cgroup[n] == 0 || t->cgroup[n] == '/'))
                return true;
        return startswith(t->cgroup, "/cpushield.") && !startswith(t->cgroup, "/cpushield.host");
}

/* Host tasks that someone pinned (taskset, a service's CPUAffinity=) onto
 * CPUs a VM now takes. The partition or the v1 move would narrow them
 * anyway, but 6.1 then forgets their own mask for good (6.12 remembers it):
 * narrowing them ourselves, before the cgroup step, journals the mask so
 * revert gives it back after the partition is gone. */
void task_affinity_plan(const PlanInput *in, Plan *p) {
        const Host *h = in->host;

        if (cpuset_is_empty(&in->vm_cpus) || h->cg.mode == CGROUP_NONE)
                return;
        for (size_t i = 0; i < h->n_tasks; i++) {
                const Task *t = &h->tasks[i];

                if (task_is_kthread(t) || cpuset_is_subset(&h->online, &t->allowed) || task_in_vm_cgroup(in->cfg, t))
                        continue;
                _cleanup_free_ char *name = xasprintf("%s: its own CPU mask (pinned), kept for revert", t->comm);
                plan_task_affinity(in, p, t, KIND_CPUSET, name);
        }
}

void cpuset_plan(const PlanInput *in, Plan *p) {
        const Host *h = in->host;
        _cleanup_free_ char *vms = join_vm_names(in->active);

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
