/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libvirt: live vCPU, emulator and IOThread pins of running domains. */
#include <stdio.h>

#include "build-config.h"
#include "libvirt.h"

#if HAVE_LIBVIRT
#include "dlopen-libvirt.h"

static void silent_error(void *userdata, virErrorPtr err) {
        (void) userdata;
        (void) err;
}

static const char *last_error(void) {
        virErrorPtr e = sym_virGetLastError();
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

        r = dlopen_libvirt(ret_error);
        if (r < 0)
                return r;
        sym_virSetErrorFunc(NULL, silent_error);
        conn = sym_virConnectOpenReadOnly(uri);
        if (!conn) {
                *ret_error = xasprintf("libvirt %s: %s", uri, last_error());
                return -ECONNREFUSED;
        }
        dom = sym_virDomainLookupByName(conn, domain);
        if (!dom || sym_virDomainIsActive(dom) != 1) {
                if (dom)
                        sym_virDomainFree(dom);
                sym_virConnectClose(conn);
                *ret = d;
                return 0;
        }
        d.running = true;
        ncpus = sym_virNodeGetCPUMap(conn, NULL, NULL, 0);
        if (ncpus <= 0 || sym_virDomainGetInfo(dom, &info) < 0) {
                *ret_error = xasprintf("libvirt %s: domain %s: %s", uri, domain, last_error());
                r = -EIO;
                goto out;
        }
        maplen = VIR_CPU_MAPLEN(ncpus);
        {
                _cleanup_free_ unsigned char *maps = xcalloc(info.nrVirtCpu, (size_t) maplen);
                int n = sym_virDomainGetVcpuPinInfo(dom, info.nrVirtCpu, maps, maplen, 0);
                if (n > 0) {
                        d.vcpu = xcalloc((size_t) n, sizeof(CpuSet));
                        d.n_vcpu = (size_t) n;
                        for (int i = 0; i < n; i++)
                                map_to_cpuset(VIR_GET_CPUMAP(maps, maplen, i), maplen, &d.vcpu[i]);
                }
        }
        {
                _cleanup_free_ unsigned char *map = xcalloc(1, (size_t) maplen);
                if (sym_virDomainGetEmulatorPinInfo(dom, map, maplen, 0) >= 0) {
                        d.has_emulator = true;
                        map_to_cpuset(map, maplen, &d.emulator);
                }
        }
        {
                virDomainIOThreadInfoPtr *io = NULL;
                int n = sym_virDomainGetIOThreadInfo(dom, &io, 0);
                for (int i = 0; i < n; i++) {
                        d.iothread_ids = xrealloc(d.iothread_ids, (d.n_iothread + 1) * sizeof(unsigned));
                        d.iothread = xrealloc(d.iothread, (d.n_iothread + 1) * sizeof(CpuSet));
                        d.iothread_ids[d.n_iothread] = io[i]->iothread_id;
                        d.iothread[d.n_iothread] = (CpuSet) {};
                        map_to_cpuset(io[i]->cpumap, io[i]->cpumaplen, &d.iothread[d.n_iothread]);
                        d.n_iothread++;
                        sym_virDomainIOThreadInfoFree(io[i]);
                }
                free(io);
        }
out:
        sym_virDomainFree(dom);
        sym_virConnectClose(conn);
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
        r = dlopen_libvirt(ret_detail);
        if (r < 0) {
                cpuset_free(&set);
                return r;
        }
        sym_virSetErrorFunc(NULL, silent_error);
        conn = sym_virConnectOpen(uri);
        if (!conn) {
                *ret_detail = xasprintf("libvirt %s: %s", uri, last_error());
                cpuset_free(&set);
                return -ECONNREFUSED;
        }
        dom = sym_virDomainLookupByName(conn, domain);
        if (!dom || sym_virDomainIsActive(dom) != 1) {
                r = -ESRCH;
                goto out;
        }
        ncpus = sym_virNodeGetCPUMap(conn, NULL, NULL, 0);
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
                        r = sym_virDomainPinVcpuFlags(dom, id, map, maplen, flags);
                else if (kind == PIN_EMULATOR)
                        r = sym_virDomainPinEmulator(dom, map, maplen, flags);
                else
                        r = sym_virDomainPinIOThread(dom, id, map, maplen, flags);
        }
        if (r < 0) {
                *ret_detail = xasprintf("libvirt %s: domain %s: %s", uri, domain, last_error());
                r = -EIO;
        }
out:
        if (dom)
                sym_virDomainFree(dom);
        sym_virConnectClose(conn);
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
