/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "resource.h"

/* Adding a resource: one file with its table, one line here. */
const Resource *const resource_registry[] = {
        &resource_tasks, &resource_kthread, &resource_cgroup, &resource_irq, &resource_device_irq, &resource_irqbalance,
        &resource_workqueue, &resource_quiet, &resource_power, &resource_pins,
};
const size_t resource_registry_size = ELEMENTSOF(resource_registry);

void verify_free(Verify *v) {
        strlist_free(&v->noise);
}

void doctor_free(Doctor *d) {
        strlist_free(&d->errors);
        strlist_free(&d->warnings);
        strlist_free(&d->notes);
}
