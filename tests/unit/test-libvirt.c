/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libvirt's test driver: test:///default is one shared, in-process host with
 * a running domain "test" (2 vCPUs, pinned 0-7). */
#include <criterion/criterion.h>
#include <libvirt/libvirt.h>

#include "libvirt.h"

#define URI "test:///default"

static char *pins(const DomainPins *d, size_t vcpu) {
        return cpuset_format_list(&d->vcpu[vcpu]);
}

Test(libvirt, observe_running_and_absent) {
        DomainPins d = {};
        char *err = NULL;

        cr_assert_eq(libvirt_observe(URI, "test", &d, &err), 0, "%s", err ? err : "");
        cr_assert(d.running);
        cr_assert_eq(d.n_vcpu, 2);
        char *p = pins(&d, 0);
        cr_assert_str_eq(p, "0-7");
        free(p);
        cr_assert(d.has_emulator);
        domain_pins_free(&d);

        cr_assert_eq(libvirt_observe(URI, "no-such-domain", &d, &err), 0);
        cr_assert(!d.running, "a missing domain is not running, not an error");
        domain_pins_free(&d);
}

Test(libvirt, pin_live_and_read_back) {
        DomainPins d = {};
        char *err = NULL;
        /* The shared test host lives while a connection is open. */
        virConnectPtr keep = virConnectOpen(URI);
        cr_assert_not_null(keep);

        cr_assert_eq(libvirt_pin(URI, "test", PIN_VCPU, 1, "3", &err), 0, "%s", err ? err : "");
        cr_assert_eq(libvirt_pin(URI, "test", PIN_EMULATOR, 0, "2-3", &err), 0, "%s", err ? err : "");
        cr_assert_eq(libvirt_observe(URI, "test", &d, &err), 0);
        char *p0 = pins(&d, 0), *p1 = pins(&d, 1), *e = cpuset_format_list(&d.emulator);
        cr_assert_str_eq(p0, "0-7", "vCPU 0 untouched");
        cr_assert_str_eq(p1, "3");
        cr_assert_str_eq(e, "2-3");
        free(p0);
        free(p1);
        free(e);
        domain_pins_free(&d);
        cr_assert_eq(libvirt_pin(URI, "no-such-domain", PIN_VCPU, 0, "1", &err), -ESRCH);
        virConnectClose(keep);
}

Test(libvirt, unreachable_daemon_is_an_error_with_text) {
        DomainPins d = {};
        char *err = NULL;

        cr_assert_lt(libvirt_observe("qemu+unix:///system?socket=/nonexistent/sock", "x", &d, &err), 0);
        cr_assert_not_null(err);
        cr_assert(strstr(err, "libvirt qemu+unix:///system"), "%s", err);
        free(err);
}
