/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verify: what can still run on the active VMs' CPUs, as the kernel shows
 * it now; each resource counts its own. */
#include "report.h"
#include "resource.h"

void verify_run(const Host *h, const Config *c, const StrList *active, const CpuSet *vm_cpus, const StrSet *refused,
                const StrList *learned, Verify *v) {
        VerifyInput in = { .host = h, .cfg = c, .vm_cpus = vm_cpus, .active = active, .refused = refused };
        Devices devs = {};

        devices_load(h->root_fd, c, learned, active, &devs);
        in.devices = &devs;
        REGISTRY_FOREACH(res)
                if (res->verify)
                        res->verify(&in, v);
        devices_free(&devs);
}
