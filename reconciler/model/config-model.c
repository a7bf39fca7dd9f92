/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The configuration as loaded: lookups and freeing. */
#include "config-model.h"

const char *config_cpu_owner(const Config *c, unsigned cpu) {
        if (!c)
                return NULL;
        if (cpuset_isset(&c->host_cpus, cpu))
                return "host";
        for (size_t i = 0; i < c->n_vms; i++)
                if (cpuset_isset(&c->vms[i].cpus, cpu))
                        return c->vms[i].name;
        return NULL;
}

static void pins_free(Pin *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                cpuset_free(&p[i].cpus);
        free(p);
}

void config_free(Config *c) {
        for (size_t i = 0; i < c->n_profiles; i++) {
                free(c->profiles[i].name);
                free(c->profiles[i].governor);
                free(c->profiles[i].epp);
        }
        free(c->profiles);
        for (size_t i = 0; i < c->n_vms; i++) {
                Vm *vm = &c->vms[i];
                free(vm->name);
                free(vm->uri);
                free(vm->domain);
                free(vm->power);
                cpuset_free(&vm->cpus);
                cpuset_free(&vm->emulator_pin);
                pins_free(vm->vcpu_pins, vm->n_vcpu_pins);
                pins_free(vm->iothread_pins, vm->n_iothread_pins);
                strlist_free(&vm->devices);
                free(vm->device_locs);
                cpuset_free(&vm->device_irq_cpus);
        }
        free(c->vms);
        cpuset_free(&c->host_cpus);
        free(c->partition);
        strlist_free(&c->warnings);
        strlist_free(&c->files);
        memset(c, 0, sizeof *c);
}

const Vm *config_find_vm(const Config *c, const char *name) {
        for (size_t i = 0; i < c->n_vms; i++)
                if (streq(c->vms[i].name, name))
                        return &c->vms[i];
        return NULL;
}

const PowerProfile *config_find_profile(const Config *c, const char *name) {
        for (size_t i = 0; i < c->n_profiles; i++)
                if (streq(c->profiles[i].name, name))
                        return &c->profiles[i];
        return NULL;
}

const char *activation_to_string(Activation a) {
        static const char *const s[] = { "libvirt", "manual", "always" };
        return s[a];
}
