/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The commands that only read and report: status, xml, doctor, verify. */
#include <stdio.h>

#include "commands.h"
#include "output.h"
#include "pipeline.h"
#include "report.h"
#include "session.h"

int cmd_status(const Options *o) {
        _cleanup_session_ Session s = SESSION_NULL;
        StrList active = {}, warnings = {};

        if (session_open(&s, o, 0) < 0)
                return 1;
        host_load_parts(&s.host, HOST_CGROUPS | HOST_CPU_DETAILS);
        if (session_peek(&s) < 0)
                return 1;
        if (s.have_config && session_active(&s, NULL, &active, &warnings) < 0)
                active = (StrList) {};
        for (size_t i = 0; i < warnings.n; i++)
                fprintf(stderr, "cpushield: warning: %s\n", warnings.v[i]);
        status_print(stdout, &s.host, s.have_config ? &s.cfg : NULL, &active, &s.journal, o->output);
        strlist_free(&active);
        strlist_free(&warnings);
        return 0;
}

int cmd_xml(const Options *o) {
        _cleanup_session_ Session s = SESSION_NULL;
        const Vm *vm;

        if (o->n_args != 1)
                return fprintf(stderr, "cpushield: usage: cpushield xml NAME\n"), 1;
        if (session_open(&s, o, SESSION_NEED_CONFIG) < 0)
                return 1;
        vm = config_find_vm(&s.cfg, o->args[0]);
        if (!vm) {
                fprintf(stderr, "cpushield: xml %s: no VM of that name in the configuration\n", o->args[0]);
                return 1;
        }
        _cleanup_free_ char *xml = vm_cputune_xml(vm);
        fputs(xml, stdout);
        return 0;
}

static void print_doctor(const Options *o, const Doctor *d) {
        if (o->output == OUTPUT_JSON) {
                fputs("{\"errors\": ", stdout);
                json_strlist(stdout, &d->errors);
                fputs(", \"warnings\": ", stdout);
                json_strlist(stdout, &d->warnings);
                fputs(", \"notes\": ", stdout);
                json_strlist(stdout, &d->notes);
                fputs("}\n", stdout);
                return;
        }
        for (size_t i = 0; i < d->errors.n; i++)
                printf("error: %s\n", d->errors.v[i]);
        for (size_t i = 0; i < d->warnings.n; i++)
                printf("warning: %s\n", d->warnings.v[i]);
        for (size_t i = 0; o->verbosity >= 0 && i < d->notes.n; i++)
                printf("note: %s\n", d->notes.v[i]);
        printf("%zu error%s, %zu warning%s\n", d->errors.n, d->errors.n == 1 ? "" : "s", d->warnings.n,
               d->warnings.n == 1 ? "" : "s");
}

int cmd_doctor(const Options *o) {
        _cleanup_session_ Session s = SESSION_NULL;
        Doctor d = {};
        int ret;

        if (session_open(&s, o, SESSION_NEED_CONFIG) < 0)
                return 1;
        host_load_parts(&s.host, HOST_ALL);
        doctor_run(&s.host, &s.cfg, &d);
        print_doctor(o, &d);
        ret = d.errors.n ? 1 : 0;
        doctor_free(&d);
        return ret;
}

static void print_verify(const Options *o, const StrList *active, const StrList *warnings, const CpuSet *vm_cpus,
                         const Verify *v) {
        if (o->output == OUTPUT_JSON) {
                fputs("{\"active\": ", stdout);
                json_strlist(stdout, active);
                fputs(", \"noise\": ", stdout);
                json_strlist(stdout, &v->noise);
                printf(", \"percpu_kthreads\": %zu, \"unmovable_irqs\": %zu}\n", v->percpu_kthreads, v->unmovable_irqs);
                return;
        }
        for (size_t i = 0; i < warnings->n; i++)
                printf("warning: %s\n", warnings->v[i]);
        if (active->n == 0) {
                printf("verify: no VM active, nothing to audit\n");
                return;
        }
        _cleanup_free_ char *l = cpuset_format_list(vm_cpus);
        for (size_t i = 0; i < v->noise.n; i++)
                printf("noise: %s\n", v->noise.v[i]);
        printf("verify: CPUs %s: %zu source%s of noise; %zu per-CPU kernel threads and %zu managed or per-CPU IRQs "
               "stay by the kernel's rules\n", l, v->noise.n, v->noise.n == 1 ? "" : "s", v->percpu_kthreads,
               v->unmovable_irqs);
}

int cmd_verify(const Options *o) {
        _cleanup_session_ Session s = SESSION_NULL;
        StrList active = {}, warnings = {};
        CpuSet vm_cpus = {};
        Verify v = {};
        int ret = 1;

        if (session_open(&s, o, SESSION_NEED_CONFIG) < 0 || session_peek(&s) < 0 ||
            session_active(&s, NULL, &active, &warnings) < 0)
                goto out;
        host_load_parts(&s.host, HOST_ALL);
        for (size_t i = 0; i < active.n; i++)
                cpuset_or(&vm_cpus, &config_find_vm(&s.cfg, active.v[i])->cpus);
        if (o->sample_s > 0) {
                if (active.n == 0) {
                        printf("verify: no VM active, nothing to sample\n");
                        ret = 0;
                } else
                        ret = verify_sample(&s, &active, &vm_cpus);
                goto out;
        }
        verify_run(&s.host, &s.cfg, &active, &vm_cpus, &s.journal.refused, &s.journal.devices, &v);
        print_verify(o, &active, &warnings, &vm_cpus, &v);
        ret = v.noise.n ? 1 : 0;
        verify_free(&v);
out:
        cpuset_free(&vm_cpus);
        strlist_free(&active);
        strlist_free(&warnings);
        return ret;
}
