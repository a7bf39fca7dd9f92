/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The topology map: who owns each CPU, drawn so that SMT siblings sit side
 * by side and L3 domains and NUMA nodes are visible at a glance. */
#include "output.h"

static const char *cgroup_desc(const Host *h) {
        switch (h->cg.mode) {
        case CGROUP_V2:
                return h->cg.systemd ? "cgroup v2 (systemd)" : "cgroup v2";
        case CGROUP_V1:
                return h->cg.hybrid ? (h->cg.systemd ? "cgroup v1 cpuset, hybrid (systemd)" : "cgroup v1 cpuset, hybrid")
                                    : (h->cg.systemd ? "cgroup v1 (systemd)" : "cgroup v1");
        default:
                return "no cpuset cgroup";
        }
}

static void journal_counts(const Journal *j, size_t counts[_KIND_MAX]) {
        for (size_t i = 0; j && i < j->n_items; i++) {
                ChangeKind k;
                ChangeOp op;
                if (journal_kind_parse(j->items[i].kind, &k, &op) >= 0)
                        counts[k]++;
        }
}

static void status_json(FILE *f, const Host *h, const Config *c, const StrList *active, const Journal *j) {
        size_t counts[_KIND_MAX] = {};
        fputs("{\"model\": ", f);
        json_string(f, h->model_name);
        fprintf(f, ", \"cgroup\": ");
        json_string(f, cgroup_desc(h));
        fputs(", \"active\": ", f);
        json_strlist(f, active);
        fputs(",\n \"cpus\": [", f);
        CPUSET_FOREACH(cpu, &h->possible) {
                const Cpu *x = &h->cpus[cpu];
                fprintf(f, "%s\n   {\"cpu\": %d, \"online\": %s, \"package\": %d, \"core\": %d, \"node\": %d, \"l3\": %d, "
                           "\"owner\": ",
                        cpu == cpuset_next(&h->possible, -1) ? "" : ",", cpu, x->online ? "true" : "false", x->package,
                        x->core, x->node, x->l3);
                json_string(f, config_cpu_owner(c, (unsigned) cpu));
                fputc('}', f);
        }
        fputs("],\n \"journal\": {", f);
        journal_counts(j, counts);
        for (int k = 0; k < _KIND_MAX; k++)
                fprintf(f, "%s\"%s\": %zu", k ? ", " : "", change_kind_to_string((ChangeKind) k), counts[k]);
        fputs("}}\n", f);
}

void status_print(FILE *f, const Host *h, const Config *c, const StrList *active, const Journal *j,
                  OutputFormat fmt) {
        size_t width = 4, threads_max = 1, counts[_KIND_MAX] = {};
        int last_pkg = -2, last_node = -2, last_l3 = -2;

        if (fmt == OUTPUT_JSON) {
                status_json(f, h, c, active, j);
                return;
        }
        for (size_t i = 0; c && i < c->n_vms; i++)
                if (strlen(c->vms[i].name) + 1 > width)
                        width = strlen(c->vms[i].name) + 1;
        for (size_t k = 0; k < h->n_cores; k++)
                if (cpuset_count(&h->cores[k].threads) > threads_max)
                        threads_max = cpuset_count(&h->cores[k].threads);

        fprintf(f, "%s\n", h->model_name ? h->model_name : "(unknown CPU model)");
        fprintf(f, "%u CPUs online, %zu cores x %zu thread%s, %zu L3 domain%s, %zu NUMA node%s; %s\n",
                cpuset_count(&h->online), h->n_cores, threads_max, threads_max == 1 ? "" : "s", h->n_l3,
                h->n_l3 == 1 ? "" : "s", h->n_nodes, h->n_nodes == 1 ? "" : "s", cgroup_desc(h));
        if (!cpuset_is_empty(&h->isolated) || !cpuset_is_empty(&h->nohz_full)) {
                _cleanup_free_ char *iso = cpuset_format_list(&h->isolated), *nohz = cpuset_format_list(&h->nohz_full);
                fprintf(f, "boot: isolcpus %s, nohz_full %s\n", iso[0] ? iso : "-", nohz[0] ? nohz : "-");
        }

        for (size_t k = 0; k < h->n_cores; k++) {
                const CpuSet *t = &h->cores[k].threads;
                int first = cpuset_next(t, -1);
                const Cpu *fc = &h->cpus[first];

                if (fc->package != last_pkg || fc->node != last_node || fc->l3 != last_l3) {
                        fprintf(f, "\npackage %d", fc->package);
                        if (fc->node >= 0)
                                fprintf(f, "  node %d", fc->node);
                        if (fc->l3 >= 0) {
                                _cleanup_free_ char *l = cpuset_format_list(&h->l3[fc->l3]);
                                fprintf(f, "  L3 #%d (CPUs %s)", fc->l3, l);
                        }
                        fputc('\n', f);
                        last_pkg = fc->package;
                        last_node = fc->node;
                        last_l3 = fc->l3;
                }
                fprintf(f, "  core %-3zu", k);
                CPUSET_FOREACH(cpu, t) {
                        const char *o = config_cpu_owner(c, (unsigned) cpu);
                        bool on = cpuset_isset(&h->online, (unsigned) cpu);
                        bool act = o && active && strlist_contains(active, o);
                        char label[128];

                        snprintf(label, sizeof label, "%s%s", o ? o : (on ? "-" : "offline"), act ? "*" : "");
                        fprintf(f, " [%4d %-*s]", cpu, (int) width, label);
                }
                fputc('\n', f);
        }

        if (c) {
                _cleanup_free_ char *hl = cpuset_format_list(&c->host_cpus);
                fprintf(f, "\nhost: %s\n", hl);
                for (size_t i = 0; i < c->n_vms; i++) {
                        _cleanup_free_ char *l = cpuset_format_list(&c->vms[i].cpus);
                        bool act = active && strlist_contains(active, c->vms[i].name);
                        fprintf(f, "%s: %s  (%s, %s)\n", c->vms[i].name, l, activation_to_string(c->vms[i].activation),
                                act ? "active" : "inactive");
                }
                fputs("* = active now\n", f);
        }
        journal_counts(j, counts);
        if (!j || j->n_items == 0)
                fputs("\njournal: empty (nothing to give back)\n", f);
        else {
                fprintf(f, "\njournal: %zu item%s to give back at revert (", j->n_items, j->n_items == 1 ? "" : "s");
                bool first = true;
                for (int k = 0; k < _KIND_MAX; k++)
                        if (counts[k]) {
                                fprintf(f, "%s%s %zu", first ? "" : ", ", change_kind_to_string((ChangeKind) k), counts[k]);
                                first = false;
                        }
                fputs(")\n", f);
        }
}
