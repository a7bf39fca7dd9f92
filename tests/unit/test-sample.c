/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The arithmetic of verify --sample on pairs of counter files: deltas per
 * source and CPU, columns mapped by CPU number, a 32-bit counter wrapping,
 * a CPU going offline in between, schedstat's run delay. */
#include <criterion/criterion.h>

#include "sample.h"

static const char *ints_a =
        "           CPU0       CPU1       CPU2       CPU3\n"
        "  0:         26          0          0          0  IR-IO-APIC   2-edge      timer\n"
        " 24:        100         10 4294967290          0  PCI-MSIX-0000:00:03.0   1-edge      virtio0-input.0\n"
        "LOC:       1000       1000       1000       1000   Local timer interrupts\n"
        "ERR:          0\n";
/* CPU2's IRQ 24 counter wrapped (+10); CPU3 went offline: no column. */
static const char *ints_b =
        "           CPU0       CPU1       CPU2\n"
        "  0:         26          0          0  IR-IO-APIC   2-edge      timer\n"
        " 24:        100         30          4  PCI-MSIX-0000:00:03.0   1-edge      virtio0-input.0\n"
        "LOC:       1500       1002       1250   Local timer interrupts\n"
        "ERR:          0\n";

static const double *rate_of(const SampleDelta *d, const char *key, unsigned cpu) {
        for (size_t i = 0; i < d->n_rates; i++)
                if (streq(d->rates[i].key, key) && d->rates[i].cpu == cpu)
                        return &d->rates[i].per_s;
        return NULL;
}

Test(sample, interrupts_delta_wrap_and_offline) {
        Counters a = {}, b = {};
        SampleDelta d = {};

        cr_assert_eq(counters_add_interrupts(&a, ints_a), 0);
        cr_assert_eq(counters_add_interrupts(&b, ints_b), 0);
        counters_delta(&a, &b, 2.0, NULL, &d);
        cr_assert_float_eq(*rate_of(&d, "24", 1), 10.0, 1e-9);   /* (30 - 10) / 2 s */
        cr_assert_float_eq(*rate_of(&d, "24", 2), 5.0, 1e-9);    /* wrapped: 6 + 4 = 10 */
        cr_assert_null(rate_of(&d, "24", 0));                     /* no increase: not listed */
        cr_assert_null(rate_of(&d, "LOC", 3));                    /* offline in b */
        cr_assert(cpuset_isset(&d.offline, 3));
        cr_assert_float_eq(*rate_of(&d, "LOC", 0), 250.0, 1e-9);
        /* worst first */
        for (size_t i = 1; i < d.n_rates; i++)
                cr_assert_geq(d.rates[i - 1].per_s, d.rates[i].per_s);
        cr_assert_str_eq(d.rates[0].key, "LOC");
        sample_delta_free(&d);
        counters_free(&a);
        counters_free(&b);
}

Test(sample, only_the_vm_cpus) {
        Counters a = {}, b = {};
        SampleDelta d = {};
        CpuSet only = {};

        cr_assert_eq(cpuset_parse_list("1-2", &only), 0);
        cr_assert_eq(counters_add_interrupts(&a, ints_a), 0);
        cr_assert_eq(counters_add_interrupts(&b, ints_b), 0);
        counters_delta(&a, &b, 1.0, &only, &d);
        for (size_t i = 0; i < d.n_rates; i++)
                cr_assert(d.rates[i].cpu == 1 || d.rates[i].cpu == 2);
        cr_assert_not_null(rate_of(&d, "24", 2));
        sample_delta_free(&d);
        counters_free(&a);
        counters_free(&b);
        cpuset_free(&only);
}

Test(sample, softirqs_and_schedstat) {
        Counters a = {}, b = {};
        SampleDelta d = {};
        const char *sa = "                    CPU0       CPU1\n          HI:          1          0\n"
                         "      NET_RX:         10         20\n";
        const char *sb = "                    CPU0       CPU1\n          HI:          1          0\n"
                         "      NET_RX:         10         70\n";
        const char *qa = "version 15\ntimestamp 100\ncpu0 0 0 500 10 0 0 1000 2000000 7\ncpu1 0 0 100 1 0 0 10 0 1\n"
                         "domain0 3 1 2 3\n";
        const char *qb = "version 15\ntimestamp 200\ncpu0 0 0 600 10 0 0 1000 5000000 7\ncpu1 0 0 100 1 0 0 10 0 1\n";

        cr_assert_eq(counters_add_softirqs(&a, sa), 0);
        cr_assert_eq(counters_add_schedstat(&a, qa), 0);
        cr_assert_eq(counters_add_softirqs(&b, sb), 0);
        cr_assert_eq(counters_add_schedstat(&b, qb), 0);
        counters_delta(&a, &b, 1.0, NULL, &d);
        cr_assert_float_eq(*rate_of(&d, "softirq:NET_RX", 1), 50.0, 1e-9);
        cr_assert_float_eq(*rate_of(&d, "sched:switches", 0), 100.0, 1e-9);
        cr_assert_float_eq(*rate_of(&d, "sched:run_delay_ns", 0), 3e6, 1e-3);
        cr_assert_null(rate_of(&d, "sched:switches", 1));
        sample_delta_free(&d);
        counters_free(&a);
        counters_free(&b);
}

Test(sample, not_a_counter_file) {
        Counters c = {};
        cr_assert_eq(counters_add_interrupts(&c, "garbage\n"), -EINVAL);
        cr_assert_eq(counters_add_schedstat(&c, "version 15\n"), -EINVAL);
        counters_free(&c);
}
