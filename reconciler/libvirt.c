/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libvirt: live vCPU, emulator and IOThread pins of running domains. */
#include <stdio.h>

#include "build-config.h"
#include "config.h"
#include "libvirt.h"
#include "plan.h"

#if HAVE_LIBVIRT
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

static void silent_error(void *userdata, virErrorPtr err) {
        (void) userdata;
        (void) err;
}

static const char *last_error(void) {
        virErrorPtr e = virGetLastError();
        return e && e->message ? e->message : "unknown libvirt error";
}

static void map_to_cpuset(const unsigned char *map, int maplen, CpuSet *ret) {
        for (int i = 0; i < maplen * 8; i++)
                if (VIR_CPU_USED(map, i))
                        (void) cpuset_add(ret, (unsigned) i);
}

int libvirt_observe(const char *uri, const char *domain, DomainPins *ret, char **ret_error) {
        DomainPins d = {};
        virConnectPtr conn;
        virDomainPtr dom;
        virDomainInfo info;
        int ncpus, maplen, r = 0;

        virSetErrorFunc(NULL, silent_error);
        conn = virConnectOpenReadOnly(uri);
        if (!conn) {
                *ret_error = xasprintf("libvirt %s: %s", uri, last_error());
                return -ECONNREFUSED;
        }
        dom = virDomainLookupByName(conn, domain);
        if (!dom || virDomainIsActive(dom) != 1) {
                if (dom)
                        virDomainFree(dom);
                virConnectClose(conn);
                *ret = d;
                return 0;
        }
        d.running = true;
        ncpus = virNodeGetCPUMap(conn, NULL, NULL, 0);
        if (ncpus <= 0 || virDomainGetInfo(dom, &info) < 0) {
                *ret_error = xasprintf("libvirt %s: domain %s: %s", uri, domain, last_error());
                r = -EIO;
                goto out;
        }
        maplen = VIR_CPU_MAPLEN(ncpus);
        {
                _cleanup_free_ unsigned char *maps = xcalloc(info.nrVirtCpu, (size_t) maplen);
                int n = virDomainGetVcpuPinInfo(dom, info.nrVirtCpu, maps, maplen, 0);
                if (n > 0) {
                        d.vcpu = xcalloc((size_t) n, sizeof(CpuSet));
                        d.n_vcpu = (size_t) n;
                        for (int i = 0; i < n; i++)
                                map_to_cpuset(VIR_GET_CPUMAP(maps, maplen, i), maplen, &d.vcpu[i]);
                }
        }
        {
                _cleanup_free_ unsigned char *map = xcalloc(1, (size_t) maplen);
                if (virDomainGetEmulatorPinInfo(dom, map, maplen, 0) >= 0) {
                        d.has_emulator = true;
                        map_to_cpuset(map, maplen, &d.emulator);
                }
        }
        {
                virDomainIOThreadInfoPtr *io = NULL;
                int n = virDomainGetIOThreadInfo(dom, &io, 0);
                for (int i = 0; i < n; i++) {
                        d.iothread_ids = xrealloc(d.iothread_ids, (d.n_iothread + 1) * sizeof(unsigned));
                        d.iothread = xrealloc(d.iothread, (d.n_iothread + 1) * sizeof(CpuSet));
                        d.iothread_ids[d.n_iothread] = io[i]->iothread_id;
                        d.iothread[d.n_iothread] = (CpuSet) {};
                        map_to_cpuset(io[i]->cpumap, io[i]->cpumaplen, &d.iothread[d.n_iothread]);
                        d.n_iothread++;
                        virDomainIOThreadInfoFree(io[i]);
                }
                free(io);
        }
out:
        virDomainFree(dom);
        virConnectClose(conn);
        if (r < 0)
                domain_pins_free(&d);
        else
                *ret = d;
        return r;
}

int libvirt_pin(const char *uri, const char *domain, PinKind kind, unsigned id, const char *cpus, char **ret_detail) {
        virConnectPtr conn;
        virDomainPtr dom;
        CpuSet set = {};
        int r, ncpus, maplen;
        unsigned flags = startswith(uri, "test:") ? 0 : VIR_DOMAIN_AFFECT_LIVE;

        r = cpuset_parse_list(cpus, &set);
        if (r < 0)
                return r;
        virSetErrorFunc(NULL, silent_error);
        conn = virConnectOpen(uri);
        if (!conn) {
                *ret_detail = xasprintf("libvirt %s: %s", uri, last_error());
                cpuset_free(&set);
                return -ECONNREFUSED;
        }
        dom = virDomainLookupByName(conn, domain);
        if (!dom || virDomainIsActive(dom) != 1) {
                r = -ESRCH;
                goto out;
        }
        ncpus = virNodeGetCPUMap(conn, NULL, NULL, 0);
        if (ncpus <= 0) {
                r = -EIO;
                goto out;
        }
        maplen = VIR_CPU_MAPLEN(ncpus);
        {
                _cleanup_free_ unsigned char *map = xcalloc(1, (size_t) maplen);
                CPUSET_FOREACH(c, &set)
                        if (c < ncpus)
                                VIR_USE_CPU(map, c);
                if (kind == PIN_VCPU)
                        r = virDomainPinVcpuFlags(dom, id, map, maplen, flags);
                else if (kind == PIN_EMULATOR)
                        r = virDomainPinEmulator(dom, map, maplen, flags);
                else
                        r = virDomainPinIOThread(dom, id, map, maplen, flags);
        }
        if (r < 0) {
                *ret_detail = xasprintf("libvirt %s: domain %s: %s", uri, domain, last_error());
                r = -EIO;
        }
out:
        if (dom)
                virDomainFree(dom);
        virConnectClose(conn);
        cpuset_free(&set);
        return r;
}
#else
int libvirt_pin(const char *uri, const char *domain, PinKind kind, unsigned id, const char *cpus, char **ret_detail) {
        *ret_detail = xstrdup("cpushield was built without libvirt support");
        return -EOPNOTSUPP;
}

int libvirt_observe(const char *uri, const char *domain, DomainPins *ret, char **ret_error) {
        *ret_error = xstrdup("cpushield was built without libvirt support");
        return -EOPNOTSUPP;
}
#endif

void domain_pins_free(DomainPins *d) {
        for (size_t i = 0; i < d->n_vcpu; i++)
                cpuset_free(&d->vcpu[i]);
        free(d->vcpu);
        for (size_t i = 0; i < d->n_iothread; i++)
                cpuset_free(&d->iothread[i]);
        free(d->iothread);
        free(d->iothread_ids);
        cpuset_free(&d->emulator);
        memset(d, 0, sizeof *d);
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
        c->domain = xstrdup(vm->domain);
        c->pin = kind;
        c->pin_id = id;
        c->name = xstrdup(d && d->running ? "live pin" : "pin (domain not running: applied when it runs)");
}

void libvirt_plan(const PlanInput *in, Plan *p) {
        for (size_t i = 0; i < in->active->n; i++) {
                const Vm *vm = config_find_vm(in->cfg, in->active->v[i]);
                DomainPins d = {};
                bool have = false;

                if (!vm || (vm->n_vcpu_pins == 0 && !vm->has_emulator_pin && vm->n_iothread_pins == 0))
                        continue;
                if (in->libvirt) {
                        _cleanup_free_ char *err = NULL;
                        if (libvirt_observe(vm->uri, vm->domain, &d, &err) < 0)
                                strlist_addf(&p->warnings, "VM '%s': %s; pins are shown without current values",
                                             vm->name, err);
                        else if (!d.running) {
                                /* Nothing to pin now; the hook's <cputune> or the
                                 * watcher pins it when it starts. */
                                domain_pins_free(&d);
                                continue;
                        } else
                                have = true;
                }
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
                domain_pins_free(&d);
        }
}
