/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The checks across sections and files, once every file is loaded: a host
 * section, VMs apart from the host and from each other, pins inside their
 * VM's CPUs, power profiles that exist; and the warning about SMT siblings
 * split between owners. The checks of single values (CPUs that exist,
 * limits) are made while parsing. */
#include "config-internal.h"

static int check_host_given(const Config *c, char **ret_error) {
        if (!c->has_host)
                return fail_loc(ret_error, (Loc) { c->files.v[0], 0, 0 },
                                "no 'host:' section: say which CPUs the host keeps, e.g. host: {cpus: 0,4}");
        return 0;
}

/* A VM's CPUs are its own: not the host's... */
static int check_apart_from_host(const Config *c, const Vm *vm, char **ret_error) {
        CpuSet x = {};

        if (!cpuset_intersects(&vm->cpus, &c->host_cpus))
                return 0;
        cpuset_copy(&x, &vm->cpus);
        cpuset_and(&x, &c->host_cpus);
        _cleanup_free_ char *l = cpuset_format_list(&x);
        _cleanup_free_ char *hl = cpuset_format_list(&c->host_cpus);
        cpuset_free(&x);
        return fail_loc(ret_error, vm->cpus_loc, "VM '%s' CPUs overlap the host's CPUs (%s, set at %s:%u:%u) on CPU %s",
                        vm->name, hl, c->host_loc.file, c->host_loc.line, c->host_loc.column, l);
}

/* ...and not those of a VM before it. */
static int check_apart_from_vms(const Config *c, size_t i, char **ret_error) {
        const Vm *vm = &c->vms[i];
        CpuSet x = {};

        for (size_t j = 0; j < i; j++) {
                const Vm *o = &c->vms[j];
                if (!cpuset_intersects(&vm->cpus, &o->cpus))
                        continue;
                cpuset_copy(&x, &vm->cpus);
                cpuset_and(&x, &o->cpus);
                _cleanup_free_ char *l = cpuset_format_list(&x);
                cpuset_free(&x);
                return fail_loc(ret_error, vm->cpus_loc, "VM '%s' CPUs overlap VM '%s' (%s:%u:%u) on CPU %s", vm->name,
                                o->name, o->cpus_loc.file, o->cpus_loc.line, o->cpus_loc.column, l);
        }
        return 0;
}

/* Every pin (vCPUs, then IOThreads, then the emulator) inside the VM's CPUs. */
static int check_pins_inside(const Vm *vm, char **ret_error) {
        for (size_t k = 0; k < vm->n_vcpu_pins + vm->n_iothread_pins + vm->has_emulator_pin; k++) {
                const CpuSet *pin;
                Loc loc;
                _cleanup_free_ char *what = NULL;

                if (k < vm->n_vcpu_pins) {
                        pin = &vm->vcpu_pins[k].cpus;
                        loc = vm->vcpu_pins[k].loc;
                        what = xasprintf("vCPU %u", vm->vcpu_pins[k].id);
                } else if (k < vm->n_vcpu_pins + vm->n_iothread_pins) {
                        Pin *io = &vm->iothread_pins[k - vm->n_vcpu_pins];
                        pin = &io->cpus;
                        loc = io->loc;
                        what = xasprintf("IOThread %u", io->id);
                } else {
                        pin = &vm->emulator_pin;
                        loc = vm->emulator_loc;
                        what = xstrdup("the emulator");
                }
                if (cpuset_is_subset(pin, &vm->cpus))
                        continue;
                _cleanup_free_ char *pl = cpuset_format_list(pin), *vl = cpuset_format_list(&vm->cpus);
                return fail_loc(ret_error, loc, "VM '%s' pins %s to CPU %s, outside the VM's CPUs %s", vm->name,
                                what, pl, vl);
        }
        return 0;
}

/* A power profile a VM names is defined, in any file. */
static int check_profile_defined(const Config *c, const Vm *vm, char **ret_error) {
        if (vm->power && !config_find_profile(c, vm->power))
                return fail_loc(ret_error, vm->power_loc, "VM '%s' names power profile '%s', which is not defined",
                                vm->name, vm->power);
        return 0;
}

/* The CPUs a VM's device interrupts are steered to are its own. */
static int check_device_irqs(const Vm *vm, char **ret_error) {
        if (vm->device_irqs != DEVICE_IRQS_CPUS || cpuset_is_subset(&vm->device_irq_cpus, &vm->cpus))
                return 0;
        _cleanup_free_ char *dl = cpuset_format_list(&vm->device_irq_cpus), *vl = cpuset_format_list(&vm->cpus);
        return fail_loc(ret_error, vm->device_irqs_loc, "VM '%s' steers its device interrupts to CPU %s, outside "
                        "the VM's CPUs %s", vm->name, dl, vl);
}

typedef struct DeviceRef {
        const char *addr;
        size_t vm, k;
} DeviceRef;

static int cmp_device_ref(const void *a, const void *b) {
        const DeviceRef *x = a, *y = b;
        int r = strcmp(x->addr, y->addr);
        return r ? r : x->vm < y->vm ? -1 : x->vm > y->vm;
}

/* A device belongs to one VM (sorted, so that many VMs stay cheap). */
static int check_devices_unique(const Config *c, char **ret_error) {
        _cleanup_free_ DeviceRef *refs = NULL;
        size_t n = 0;

        for (size_t i = 0; i < c->n_vms; i++)
                for (size_t k = 0; k < c->vms[i].devices.n; k++) {
                        refs = xrealloc(refs, (n + 1) * sizeof(DeviceRef));
                        refs[n++] = (DeviceRef) { c->vms[i].devices.v[k], i, k };
                }
        if (n > 1)
                qsort(refs, n, sizeof(DeviceRef), cmp_device_ref);
        for (size_t i = 1; i < n; i++) {
                if (!streq(refs[i].addr, refs[i - 1].addr))
                        continue;
                const Vm *vm = &c->vms[refs[i].vm], *o = &c->vms[refs[i - 1].vm];
                Loc ol = o->device_locs[refs[i - 1].k];
                return fail_loc(ret_error, vm->device_locs[refs[i].k], "device %s of VM '%s' is already given to VM "
                                "'%s' (%s:%u:%u)", refs[i].addr, vm->name, o->name, ol.file, ol.line, ol.column);
        }
        return 0;
}

/* SMT siblings shared between owners lose most of the isolation: warn. */
static void warn_split_cores(Config *c, const Host *h) {
        for (size_t k = 0; k < h->n_cores; k++) {
                const CpuSet *t = &h->cores[k].threads;
                const char *first = NULL;
                bool split = false;

                CPUSET_FOREACH(cpu, t) {
                        const char *o = config_cpu_owner(c, (unsigned) cpu);
                        if (cpu == cpuset_next(t, -1))
                                first = o;
                        else if (!streq_ptr(o, first))
                                split = true;
                }
                if (!split)
                        continue;
                _cleanup_free_ char *desc = xstrdup("");
                CPUSET_FOREACH(cpu, t) {
                        const char *o = config_cpu_owner(c, (unsigned) cpu);
                        char *d = xasprintf("%s%sCPU %d: %s", desc, desc[0] ? ", " : "", cpu, o ? o : "unassigned");
                        free(desc);
                        desc = d;
                }
                strlist_addf(&c->warnings, "core %zu is split between owners (%s): SMT siblings share caches and "
                             "execution units, so the VM is not isolated from its sibling", k, desc);
        }
}

int config_validate(Config *c, const Host *h, char **ret_error) {
        int r;

        if ((r = check_host_given(c, ret_error)) < 0)
                return r;
        for (size_t i = 0; i < c->n_vms; i++) {
                const Vm *vm = &c->vms[i];

                if ((r = check_apart_from_host(c, vm, ret_error)) < 0 ||
                    (r = check_apart_from_vms(c, i, ret_error)) < 0 || (r = check_pins_inside(vm, ret_error)) < 0 ||
                    (r = check_profile_defined(c, vm, ret_error)) < 0 || (r = check_device_irqs(vm, ret_error)) < 0)
                        return r;
        }
        if ((r = check_devices_unique(c, ret_error)) < 0)
                return r;
        warn_split_cores(c, h);
        return 0;
}
