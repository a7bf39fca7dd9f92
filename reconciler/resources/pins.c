/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libvirt pins: live vCPU, emulator and IOThread pins of the active VMs'
 * running domains, planned from the pins observed through libvirt. */
#include <stdio.h>

#include "resource.h"

static bool vm_has_pins(const Vm *vm) {
        return vm->n_vcpu_pins > 0 || vm->has_emulator_pin || vm->n_iothread_pins > 0;
}

static void add_pin(Plan *p, const Vm *vm, const DomainPins *d, PinKind kind, unsigned id, const CpuSet *want,
                    const CpuSet *cur) {
        _cleanup_free_ char *to = cpuset_format_list(want);
        _cleanup_free_ char *from = cur ? cpuset_format_list(cur) : NULL;
        _cleanup_free_ char *target = kind == PIN_VCPU       ? xasprintf("libvirt:%s/vcpu%u", vm->domain, id)
                                      : kind == PIN_EMULATOR ? xasprintf("libvirt:%s/emulator", vm->domain)
                                                             : xasprintf("libvirt:%s/iothread%u", vm->domain, id);

        plan_claim(p, target);
        if (cur && cpuset_equal(cur, want))
                return;
        Change *c = plan_add(p, KIND_LIBVIRT, OP_LIBVIRT_PIN, target, from, to);
        c->vm = xstrdup(vm->name);
        c->uri = xstrdup(vm->uri);
        c->name = xstrdup(d && d->running ? "live pin" : "pin (domain not running: applied when it runs)");
}

static void pins_plan(const PlanInput *in, Plan *p) {
        for (size_t i = 0; i < in->active->n; i++) {
                const Vm *vm = config_find_vm(in->cfg, in->active->v[i]);
                const ObservedDomain *od;
                DomainPins none = {};
                const DomainPins *dp = &none;
                bool have = false;

                if (!vm || !vm_has_pins(vm))
                        continue;
                od = in->obs->libvirt ? observed_domain(in->obs, vm->uri, vm->domain) : NULL;
                if (od && od->err < 0)
                        strlist_addf(&p->warnings, "VM '%s': %s; pins are shown without current values", vm->name,
                                     strempty(od->error));
                else if (od && !od->pins.running)
                        continue; /* nothing to pin now; the hook's <cputune> or the watcher pins it when it starts */
                else if (od) {
                        dp = &od->pins;
                        have = true;
                }
                const DomainPins d = *dp;
                for (size_t k = 0; k < vm->n_vcpu_pins; k++) {
                        const Pin *pin = &vm->vcpu_pins[k];
                        const CpuSet *cur = have && pin->id < d.n_vcpu ? &d.vcpu[pin->id] : NULL;
                        if (have && pin->id >= d.n_vcpu) {
                                strlist_addf(&p->warnings, "VM '%s' pins vCPU %u (%s:%u:%u) but domain %s has %zu vCPUs",
                                             vm->name, pin->id, pin->loc.file, pin->loc.line, pin->loc.column,
                                             vm->domain, d.n_vcpu);
                                continue;
                        }
                        add_pin(p, vm, have ? &d : NULL, PIN_VCPU, pin->id, &pin->cpus, cur);
                }
                if (vm->has_emulator_pin)
                        add_pin(p, vm, have ? &d : NULL, PIN_EMULATOR, 0, &vm->emulator_pin,
                                have && d.has_emulator ? &d.emulator : NULL);
                for (size_t k = 0; k < vm->n_iothread_pins; k++) {
                        const Pin *pin = &vm->iothread_pins[k];
                        const CpuSet *cur = NULL;
                        for (size_t j = 0; have && j < d.n_iothread; j++)
                                if (d.iothread_ids[j] == pin->id)
                                        cur = &d.iothread[j];
                        add_pin(p, vm, have ? &d : NULL, PIN_IOTHREAD, pin->id, &pin->cpus, cur);
                }
        }
}

static void pins_observe(const ObserveInput *in, Observed *obs) {
        if (!obs->libvirt)
                return;
        for (size_t i = 0; i < in->active->n; i++) {
                const Vm *vm = config_find_vm(in->cfg, in->active->v[i]);
                if (vm && vm_has_pins(vm))
                        observe_domain(in->reader, obs, vm->uri, vm->domain);
        }
}

const Resource resource_pins = {
        .name = "libvirt",
        .kind = KIND_LIBVIRT,
        .needs = HOST_TOPOLOGY,
        .observe = pins_observe,
        .plan = pins_plan,
};
