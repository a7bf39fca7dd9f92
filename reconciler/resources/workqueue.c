/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Workqueues: unbound work (writeback during big writes, among others) runs
 * wherever the unbound cpumask allows. Kernel workers cannot be moved one by
 * one (PF_NO_SETAFFINITY); the global and per-workqueue masks steer them. */
#include "resource.h"

static void workqueue_plan(const PlanInput *in, Plan *p) {
        const Host *h = in->host;

        if (in->cfg->workqueues == MODE_LEAVE || cpuset_is_empty(&in->vm_cpus))
                return;
        for (size_t i = 0; i < h->n_wqs; i++) {
                const Workqueue *w = &h->wqs[i];
                const char *base = plan_baseline(in, w->path, w->raw);
                CpuSet b = {}, want = {};

                plan_claim(p, w->path);
                if (cpuset_parse_mask(base, &b) < 0)
                        continue;
                plan_host_affinity(in, &b, &want);
                if (!cpuset_equal(&want, &w->mask)) {
                        _cleanup_free_ char *to = cpuset_format_mask(&want, h->nr_cpu_ids);
                        Change *c = plan_add(p, KIND_WORKQUEUE, OP_WRITE, w->path, w->raw, to);
                        c->name = xstrdup(w->name ? w->name : "unbound workqueues (global)");
                        c->vm = plan_vms_touching(in, &b);
                }
                cpuset_free(&b);
                cpuset_free(&want);
        }
}

/* Judged by what the kernel applies: on 6.6+ unbound work runs on a
 * workqueue's mask within the global effective mask (the request minus
 * isolated CPUs), so a request that still names a partition's CPUs is not
 * noise (seen on 6.12). */
static void workqueue_verify(const VerifyInput *in, Verify *v) {
        const Host *h = in->host;

        for (size_t i = 0; i < h->n_wqs; i++) {
                CpuSet applied = cpuset_dup(&h->wqs[i].mask);
                if (h->has_wq_effective)
                        cpuset_and(&applied, &h->wq_effective);
                if (cpuset_intersects(&applied, in->vm_cpus))
                        strlist_addf(&v->noise, "workqueue %s may run on the VMs' CPUs (mask %s)",
                                     h->wqs[i].name ? h->wqs[i].name : "(global unbound mask)", h->wqs[i].raw);
                cpuset_free(&applied);
        }
}

const Resource resource_workqueue = {
        .name = "workqueue",
        .kind = KIND_WORKQUEUE,
        .needs = HOST_TOPOLOGY | HOST_WORKQUEUES,
        .plan = workqueue_plan,
        .verify = workqueue_verify,
};
