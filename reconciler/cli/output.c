/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "output.h"

void json_string(FILE *f, const char *s) {
        if (!s) {
                fputs("null", f);
                return;
        }
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                switch (*p) {
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                case '\t':
                        fputs("\\t", f);
                        break;
                case '\r':
                        fputs("\\r", f);
                        break;
                default:
                        if (*p < 0x20)
                                fprintf(f, "\\u%04x", *p);
                        else
                                fputc(*p, f);
                }
        }
        fputc('"', f);
}

void json_strlist(FILE *f, const StrList *l) {
        fputc('[', f);
        for (size_t i = 0; l && i < l->n; i++) {
                if (i)
                        fputs(", ", f);
                json_string(f, l->v[i]);
        }
        fputc(']', f);
}

void output_plan_json(FILE *f, const Plan *p, const StrList *extra_errors) {
        fputs("{\"active\": ", f);
        json_strlist(f, &p->active);
        fputs(",\n \"changes\": [", f);
        for (size_t i = 0; i < p->n_changes; i++) {
                const Change *c = &p->changes[i];

                fputs(i ? ",\n   " : "\n   ", f);
                fputs("{\"kind\": ", f);
                json_string(f, change_kind_to_string(c->kind));
                fputs(", \"target\": ", f);
                json_string(f, c->target);
                fputs(", \"from\": ", f);
                json_string(f, c->from);
                fputs(", \"to\": ", f);
                json_string(f, c->to);
                fputs(", \"vm\": ", f);
                json_string(f, c->vm);
                if (c->name) {
                        fputs(", \"name\": ", f);
                        json_string(f, c->name);
                }
                fputc('}', f);
        }
        fputs("],\n \"skipped\": [", f);
        for (size_t i = 0; i < p->n_skipped; i++) {
                fputs(i ? ",\n   " : "\n   ", f);
                fputs("{\"kind\": ", f);
                json_string(f, change_kind_to_string(p->skipped[i].kind));
                fputs(", \"target\": ", f);
                json_string(f, p->skipped[i].target);
                fputs(", \"reason\": ", f);
                json_string(f, p->skipped[i].reason);
                fputc('}', f);
        }
        fputs("],\n", f);
        if (p->partition_type) {
                fputs(" \"partition\": {\"type\": ", f);
                json_string(f, p->partition_type);
                fputs(", \"why\": ", f);
                json_string(f, p->partition_why);
                fputs("},\n", f);
        }
        fputs(" \"warnings\": ", f);
        json_strlist(f, &p->warnings);
        fputs(",\n \"errors\": [", f);
        size_t k = 0;
        for (size_t i = 0; i < p->errors.n; i++, k++) {
                fputs(k ? ", " : "", f);
                json_string(f, p->errors.v[i]);
        }
        for (size_t i = 0; extra_errors && i < extra_errors->n; i++, k++) {
                fputs(k ? ", " : "", f);
                json_string(f, extra_errors->v[i]);
        }
        fputs("]}\n", f);
}

static const char *show(const char *v) {
        if (!v)
                return "?";
        if (!v[0])
                return "(empty)";
        return v;
}

void output_plan_text(FILE *f, const Plan *p, const char *title, bool verbose) {
        size_t counts[_KIND_MAX] = {}, width = 0;

        if (p->active.n == 0)
                fprintf(f, "%s: no VM active\n", title);
        else {
                fprintf(f, "%s: active VM%s:", title, p->active.n > 1 ? "s" : "");
                for (size_t i = 0; i < p->active.n; i++)
                        fprintf(f, " %s", p->active.v[i]);
                fputc('\n', f);
        }
        if (p->partition_type)
                fprintf(f, "partition: %s (%s)\n", p->partition_type, p->partition_why);
        for (size_t i = 0; i < p->n_changes; i++) {
                size_t w = strlen(p->changes[i].target);
                if (w > width)
                        width = w;
        }
        for (int k = 0; k < _KIND_MAX; k++) {
                bool header = false;

                for (size_t i = 0; i < p->n_changes; i++) {
                        const Change *c = &p->changes[i];
                        if ((int) c->kind != k)
                                continue;
                        if (!header) {
                                fprintf(f, "\n%s:\n", change_kind_to_string((ChangeKind) k));
                                header = true;
                        }
                        counts[k]++;
                        fprintf(f, "  %-*s  %s -> %s", (int) width, c->target, show(c->from), show(c->to));
                        if (c->name)
                                fprintf(f, "  (%s)", c->name);
                        fputc('\n', f);
                }
        }
        if (p->n_skipped) {
                fputs("\nleft alone:\n", f);
                for (size_t i = 0; i < p->n_skipped; i++)
                        if (verbose || i < 8)
                                fprintf(f, "  %s %s: %s\n", change_kind_to_string(p->skipped[i].kind),
                                        p->skipped[i].target, p->skipped[i].reason);
                if (!verbose && p->n_skipped > 8)
                        fprintf(f, "  ... and %zu more (--verbose lists them)\n", p->n_skipped - 8);
        }
        for (size_t i = 0; i < p->warnings.n; i++)
                fprintf(f, "%swarning: %s\n", i == 0 ? "\n" : "", p->warnings.v[i]);
        for (size_t i = 0; i < p->errors.n; i++)
                fprintf(f, "%serror: %s\n", i == 0 ? "\n" : "", p->errors.v[i]);

        fprintf(f, "\n%zu change%s", p->n_changes, p->n_changes == 1 ? "" : "s");
        bool first = true;
        for (int k = 0; k < _KIND_MAX; k++)
                if (counts[k]) {
                        fprintf(f, "%s%s %zu", first ? " (" : ", ", change_kind_to_string((ChangeKind) k), counts[k]);
                        first = false;
                }
        fputs(first ? "\n" : ")\n", f);
}

char *vm_cputune_xml(const Vm *vm) {
        size_t len = 0;
        char *buf = NULL;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                abort();
        fprintf(f, "<!-- cpushield: VM '%s', CPUs ", vm->name);
        {
                _cleanup_free_ char *l = cpuset_format_list(&vm->cpus);
                fprintf(f, "%s -->\n", l);
        }
        if (vm->n_vcpu_pins)
                fprintf(f, "<vcpu placement='static'>%zu</vcpu>\n", vm->n_vcpu_pins);
        if (vm->n_iothread_pins) {
                unsigned max = 0;
                for (size_t i = 0; i < vm->n_iothread_pins; i++)
                        if (vm->iothread_pins[i].id > max)
                                max = vm->iothread_pins[i].id;
                fprintf(f, "<iothreads>%u</iothreads>\n", max);
        }
        fputs("<cputune>\n", f);
        for (size_t i = 0; i < vm->n_vcpu_pins; i++) {
                _cleanup_free_ char *l = cpuset_format_list(&vm->vcpu_pins[i].cpus);
                fprintf(f, "  <vcpupin vcpu='%u' cpuset='%s'/>\n", vm->vcpu_pins[i].id, l);
        }
        if (vm->has_emulator_pin) {
                _cleanup_free_ char *l = cpuset_format_list(&vm->emulator_pin);
                fprintf(f, "  <emulatorpin cpuset='%s'/>\n", l);
        }
        for (size_t i = 0; i < vm->n_iothread_pins; i++) {
                _cleanup_free_ char *l = cpuset_format_list(&vm->iothread_pins[i].cpus);
                fprintf(f, "  <iothreadpin iothread='%u' cpuset='%s'/>\n", vm->iothread_pins[i].id, l);
        }
        fputs("</cputune>\n", f);
        fclose(f);
        return buf;
}
