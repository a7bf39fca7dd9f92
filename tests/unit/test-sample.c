/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The arithmetic of verify --sample on pairs of counter files: deltas per
 * source and CPU, columns mapped by CPU number, a 32-bit counter wrapping,
 * a CPU going offline in between, schedstat's timeslices and run delay:
 * first on synthetic text, then on pairs recorded in the 6.12 guest
 * (tests/data/sample). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "host.h"
#include "sample.h"
#include "task-runs.h"

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
        /* schedstats on here (field 3, sched_count, counts): still no row of
         * its own; field 9 (pcount) is the one that counts either way. */
        const char *qb = "version 15\ntimestamp 200\ncpu0 0 0 600 10 0 0 1000 5000000 57\ncpu1 0 0 100 1 0 0 10 0 1\n";

        cr_assert_eq(counters_add_softirqs(&a, sa), 0);
        cr_assert_eq(counters_add_schedstat(&a, qa), 0);
        cr_assert_eq(counters_add_softirqs(&b, sb), 0);
        cr_assert_eq(counters_add_schedstat(&b, qb), 0);
        counters_delta(&a, &b, 1.0, NULL, &d);
        cr_assert_float_eq(*rate_of(&d, "softirq:NET_RX", 1), 50.0, 1e-9);
        cr_assert_float_eq(*rate_of(&d, "sched:timeslices", 0), 50.0, 1e-9);
        cr_assert_float_eq(*rate_of(&d, "sched:run_delay_ns", 0), 3e6, 1e-3);
        cr_assert_null(rate_of(&d, "sched:timeslices", 1));
        cr_assert_null(rate_of(&d, "sched:switches", 0));
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

/* ---- Recorded pairs: what a 6.12 guest printed (tests/data/sample/linux-6.12/README).
 * The expected deltas are read from the files here, by a parser of the test's
 * own, so the code under test is checked against the text, not against itself. */

#define REC_DIR TESTS_DIR "/data/sample/linux-6.12/"

static char *rec(const char *name) {
        _cleanup_free_ char *path = xasprintf("%s%s", REC_DIR, name);
        FILE *f = fopen(path, "re");
        char *s = NULL;
        size_t n = 0;

        cr_assert_not_null(f, "%s: %m", path);
        cr_assert_geq(getdelim(&s, &n, '\0', f), 0);
        fclose(f);
        return s;
}

/* Column index of CPU cpu in a /proc/interrupts or /proc/softirqs header; -1 if absent. */
static int column_of(const char *text, unsigned cpu) {
        int col = 0;
        for (const char *p = text; *p && *p != '\n';) {
                unsigned c;
                int len;
                while (*p == ' ')
                        p++;
                if (sscanf(p, "CPU%u%n", &c, &len) == 1) {
                        if (c == cpu)
                                return col;
                        col++;
                        p += len;
                } else
                        break;
        }
        return -1;
}

/* Offset of the first character of the col-th number on the line "KEY:" (key
 * without blanks), and its length; false if there is no such line or column. */
static bool cell_at(const char *text, const char *key, int col, size_t *ret_off, size_t *ret_len) {
        for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                const char *p = l;
                while (*p == ' ')
                        p++;
                if (strncmp(p, key, strlen(key)) != 0 || p[strlen(key)] != ':')
                        continue;
                p += strlen(key) + 1;
                for (int i = 0; i <= col; i++) {
                        while (*p == ' ')
                                p++;
                        if (*p < '0' || *p > '9')
                                return false;
                        size_t len = strspn(p, "0123456789");
                        if (i == col) {
                                *ret_off = (size_t) (p - text);
                                *ret_len = len;
                                return true;
                        }
                        p += len;
                }
        }
        return false;
}

static bool cell(const char *text, const char *key, unsigned cpu, uint64_t *ret) {
        int col = column_of(text, cpu);
        size_t off, len;
        if (col < 0 || !cell_at(text, key, col, &off, &len))
                return false;
        *ret = strtoull(text + off, NULL, 10);
        return true;
}

/* The text with one cell replaced by value: how the wraparound pairs are made. */
static char *with_cell(const char *text, const char *key, unsigned cpu, uint64_t value) {
        int col = column_of(text, cpu);
        size_t off, len;
        cr_assert(col >= 0 && cell_at(text, key, col, &off, &len), "%s CPU%u", key, cpu);
        return xasprintf("%.*s%llu%s", (int) off, text, (unsigned long long) value, text + off + len);
}

/* Field n (1-based, after "cpuN") of the cpuN line of /proc/schedstat. */
static bool sched_field(const char *text, unsigned cpu, unsigned n, uint64_t *ret) {
        _cleanup_free_ char *tag = xasprintf("cpu%u ", cpu);
        const char *p = strstr(text, tag);
        if (!p || (p != text && p[-1] != '\n'))
                return false;
        p += strlen(tag);
        for (unsigned i = 1; i < n; i++)
                p = strchr(p, ' ') + 1;
        *ret = strtoull(p, NULL, 10);
        return true;
}

static char *with_sched_field(const char *text, unsigned cpu, unsigned n, uint64_t value) {
        _cleanup_free_ char *tag = xasprintf("\ncpu%u ", cpu);
        const char *p = strstr(text, tag), *end;
        cr_assert_not_null(p);
        p += strlen(tag);
        for (unsigned i = 1; i < n; i++)
                p = strchr(p, ' ') + 1;
        end = p + strspn(p, "0123456789");
        return xasprintf("%.*s%llu%s", (int) (p - text), text, (unsigned long long) value, end);
}

typedef struct Snap {
        char *ints, *soft, *sched;
        Counters c;
} Snap;

static void snap_parse(Snap *s) {
        cr_assert_eq(counters_add_interrupts(&s->c, s->ints), 0);
        cr_assert_eq(counters_add_softirqs(&s->c, s->soft), 0);
        cr_assert_eq(counters_add_schedstat(&s->c, s->sched), 0);
}

static void snap_load(Snap *s, const char *tag) {
        _cleanup_free_ char *i = xasprintf("%s-interrupts.txt", tag), *so = xasprintf("%s-softirqs.txt", tag),
                            *sc = xasprintf("%s-schedstat.txt", tag);
        *s = (Snap) { .ints = rec(i), .soft = rec(so), .sched = rec(sc) };
        snap_parse(s);
}

static void snap_free(Snap *s) {
        free(s->ints);
        free(s->soft);
        free(s->sched);
        counters_free(&s->c);
}

/* The rate the code reports, 0 when it lists none (no increase). */
static double rate_or_0(const SampleDelta *d, const char *key, unsigned cpu) {
        const double *r = rate_of(d, key, cpu);
        return r ? *r : 0.0;
}

/* Every row of a table file and every CPU: the code's rate is the file's
 * difference over the seconds. Returns how many nonzero rates were checked. */
static unsigned check_table(const SampleDelta *d, const char *ta, const char *tb, const char *prefix, double seconds,
                            const CpuSet *cpus) {
        unsigned n = 0;
        for (const char *l = strchr(tb, '\n') + 1; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                char key[32];
                if (sscanf(l, " %31[^: ]:", key) != 1)
                        continue;
                _cleanup_free_ char *full = xasprintf("%s%s", prefix, key);
                CPUSET_FOREACH(cpu, cpus) {
                        uint64_t va, vb;
                        if (!cell(ta, key, (unsigned) cpu, &va) || !cell(tb, key, (unsigned) cpu, &vb))
                                continue;
                        cr_assert_geq(vb, va, "%s CPU%d went down in a recorded pair", full, cpu);
                        cr_assert_float_eq(rate_or_0(d, full, (unsigned) cpu), (double) (vb - va) / seconds, 1e-9,
                                           "%s CPU%d", full, cpu);
                        n += vb > va;
                }
        }
        return n;
}

Test(sample_recorded, all_online_2s) {
        Snap a, b;
        SampleDelta d = {};
        uint64_t x, y;

        snap_load(&a, "a1");
        snap_load(&b, "a2");
        cr_assert_eq(cpuset_count(&a.c.cpus), 8);
        cr_assert_eq(cpuset_count(&b.c.cpus), 8);
        counters_delta(&a.c, &b.c, 2.0, NULL, &d);
        cr_assert(cpuset_is_empty(&d.offline));

        /* Concrete values, read by hand from the files and again by the test's parser. */
        cr_assert(cell(a.ints, "LOC", 2, &x) && cell(b.ints, "LOC", 2, &y));
        cr_assert_eq(y - x, 43);                                  /* 525 -> 568 */
        cr_assert_float_eq(*rate_of(&d, "LOC", 2), 21.5, 1e-9);
        cr_assert_float_eq(*rate_of(&d, "CAL", 0), (628 - 485) / 2.0, 1e-9);
        cr_assert_float_eq(*rate_of(&d, "4", 5), (17 - 9) / 2.0, 1e-9); /* ttyS0 (the guest's console) */
        cr_assert_null(rate_of(&d, "27", 5));                     /* virtio0-req.2: 3 and 3, quiet */
        cr_assert_float_eq(*rate_of(&d, "softirq:TIMER", 6), (104 - 75) / 2.0, 1e-9);
        cr_assert_float_eq(*rate_of(&d, "softirq:SCHED", 0), (671 - 519) / 2.0, 1e-9);
        cr_assert_null(rate_of(&d, "softirq:NET_RX", 2));         /* 2 and 2 */

        /* Labels: the tail of the line. */
        for (size_t i = 0; i < d.n_rates; i++) {
                if (streq(d.rates[i].key, "LOC"))
                        cr_assert_str_eq(d.rates[i].label, "Local timer interrupts");
                if (streq(d.rates[i].key, "4"))
                        cr_assert(endswith(d.rates[i].label, "ttyS0"), "%s", d.rates[i].label);
        }

        /* Every interrupt and softirq row, every CPU. */
        cr_assert_gt(check_table(&d, a.ints, b.ints, "", 2.0, &b.c.cpus), 20);
        cr_assert_gt(check_table(&d, a.soft, b.soft, "softirq:", 2.0, &b.c.cpus), 20);

        /* schedstat: field 8 is run_delay (ns waited on the runqueue) and
         * field 9 pcount (tasks switched in), per CPU; field 3 (sched_count)
         * stays 0 with schedstats off, as on Debian, and makes no row. */
        unsigned slices = 0;
        for (unsigned cpu = 0; cpu < 8; cpu++) {
                cr_assert(sched_field(a.sched, cpu, 8, &x) && sched_field(b.sched, cpu, 8, &y));
                cr_assert_float_eq(rate_or_0(&d, "sched:run_delay_ns", cpu), (double) (y - x) / 2.0, 1e-6, "CPU%u",
                                   cpu);
                cr_assert(sched_field(a.sched, cpu, 9, &x) && sched_field(b.sched, cpu, 9, &y));
                cr_assert_float_eq(rate_or_0(&d, "sched:timeslices", cpu), (double) (y - x) / 2.0, 1e-9, "CPU%u",
                                   cpu);
                slices += y > x;
                cr_assert(sched_field(b.sched, cpu, 3, &y));
                cr_assert_eq(y, 0);
                cr_assert_null(rate_of(&d, "sched:switches", cpu));
        }
        cr_assert_eq(slices, 8); /* every CPU switched tasks in during the 2 s */
        cr_assert_float_eq(*rate_of(&d, "sched:timeslices", 2), (336 - 314) / 2.0, 1e-9);
        cr_assert_float_eq(*rate_of(&d, "sched:timeslices", 7), (125 - 124) / 2.0, 1e-9);
        cr_assert_float_eq(*rate_of(&d, "sched:run_delay_ns", 0), (430254658.0 - 423902816.0) / 2.0, 1e-6);
        cr_assert_null(rate_of(&d, "sched:run_delay_ns", 4)); /* 439711931 both times */

        for (size_t i = 1; i < d.n_rates; i++)
                cr_assert_geq(d.rates[i - 1].per_s / (endswith(d.rates[i - 1].key, "_ns") ? 1e6 : 1),
                              d.rates[i].per_s / (endswith(d.rates[i].key, "_ns") ? 1e6 : 1));
        sample_delta_free(&d);
        snap_free(&a);
        snap_free(&b);
}

/* a2 -> b2: CPU 5 went offline in between. /proc/interrupts drops its column
 * and /proc/schedstat its line, /proc/softirqs keeps the column (possible
 * CPUs). The contract (sample.h): CPU 5 is reported in `offline` and has no
 * rates; the other columns are mapped by their CPU number, not position. */
Test(sample_recorded, cpu_offline_in_between) {
        Snap a, b;
        SampleDelta d = {};
        CpuSet online = {};
        uint64_t x, y;

        snap_load(&a, "a2");
        snap_load(&b, "b2");
        cr_assert_eq(column_of(b.ints, 5), -1);
        cr_assert_eq(column_of(b.soft, 5), 5);
        cr_assert_not(sched_field(b.sched, 5, 8, &x));

        counters_delta(&a.c, &b.c, 1.0, NULL, &d); /* about 1 s apart; 1.0 keeps rates = counts */
        _cleanup_free_ char *off = cpuset_format_list(&d.offline);
        cr_assert_str_eq(off, "5");
        for (size_t i = 0; i < d.n_rates; i++) {
                cr_assert_neq(d.rates[i].cpu, 5, "%s on offline CPU 5: %f", d.rates[i].key, d.rates[i].per_s);
                cr_assert_lt(d.rates[i].per_s, 1e9, "%s CPU%u: %f", d.rates[i].key, d.rates[i].cpu, d.rates[i].per_s);
        }

        /* CPU 6 is the sixth column in b2 and the seventh in a2. */
        cr_assert_float_eq(*rate_of(&d, "LOC", 6), 1166 - 996, 1e-9);
        cr_assert_float_eq(*rate_of(&d, "RES", 6), 30 - 29, 1e-9);
        cr_assert_float_eq(*rate_of(&d, "3", 6), 2, 1e-9);   /* ttyS1 moved off CPU 5 */
        cr_assert_float_eq(*rate_of(&d, "4", 7), 2, 1e-9);   /* ttyS0 too */
        cr_assert_float_eq(*rate_of(&d, "LOC", 7), 327 - 320, 1e-9);
        cr_assert(sched_field(a.sched, 6, 8, &x) && sched_field(b.sched, 6, 8, &y));
        cr_assert_float_eq(*rate_of(&d, "sched:run_delay_ns", 6), (double) (y - x), 1e-6);
        cr_assert(sched_field(a.sched, 6, 9, &x) && sched_field(b.sched, 6, 9, &y));
        cr_assert_float_eq(*rate_of(&d, "sched:timeslices", 6), (double) (y - x), 1e-9); /* 335 -> 345 */
        cr_assert(sched_field(a.sched, 7, 9, &x) && sched_field(b.sched, 7, 9, &y));
        cr_assert_float_eq(*rate_of(&d, "sched:timeslices", 7), (double) (y - x), 1e-9); /* 125 -> 132 */
        cr_assert_null(rate_of(&d, "sched:timeslices", 5));

        cr_assert_eq(cpuset_parse_list("0-4,6-7", &online), 0);
        cr_assert_gt(check_table(&d, a.ints, b.ints, "", 1.0, &online), 10);
        cr_assert_gt(check_table(&d, a.soft, b.soft, "softirq:", 1.0, &online), 10);
        cpuset_free(&online);
        sample_delta_free(&d);
        snap_free(&a);
        snap_free(&b);
}

/* Wraparound, made from the recorded a1 -> a2 pair by setting a counter in
 * the "before" text near where the kernel's type wraps. In 6.12 the per-CPU
 * IRQ counts of /proc/interrupts (struct irqstat.cnt) and the arch rows
 * (LOC, CAL, ...: irq_cpustat_t) are unsigned int, and so are the softirq
 * counts (kernel_stat.softirqs[]): they wrap at 2^32. schedstat's run_delay
 * is unsigned long long: a wrap at 2^64 is 584 years of waiting, so a u64
 * counter that goes down is taken for a reset (sample.h); pcount is an
 * unsigned long (64 bits on x86-64), and one above 2^32 that goes down is
 * a reset as well. */
Test(sample_recorded, wraparound) {
        Snap a, b;
        SampleDelta d = {};
        uint64_t after;

        snap_load(&b, "a2");
        a = (Snap) { .ints = rec("a1-interrupts.txt"), .soft = rec("a1-softirqs.txt"),
                     .sched = rec("a1-schedstat.txt") };
        {
                char *t = with_cell(a.ints, "27", 5, UINT32_MAX - 4); /* virtio0-req.2 on CPU 5 */
                free(a.ints);
                a.ints = with_cell(t, "LOC", 3, UINT32_MAX);
                free(t);
                t = with_cell(a.soft, "TIMER", 2, (uint64_t) UINT32_MAX - 100);
                free(a.soft);
                a.soft = t;
                t = with_sched_field(a.sched, 1, 8, UINT64_MAX - 1000);
                free(a.sched);
                a.sched = with_sched_field(t, 3, 9, (uint64_t) UINT32_MAX + 7);
                free(t);
        }
        snap_parse(&a);
        counters_delta(&a.c, &b.c, 2.0, NULL, &d);

        cr_assert(cell(b.ints, "27", 5, &after));
        cr_assert_eq(after, 3);
        cr_assert_float_eq(*rate_of(&d, "27", 5), (5 + 3) / 2.0, 1e-9);          /* 2^32-5 .. 2^32-1, 0, 1, 2, 3 */
        cr_assert_float_eq(*rate_of(&d, "LOC", 3), (1 + 408) / 2.0, 1e-9);             /* 2^32-1, 0 .. 408 */
        cr_assert(cell(b.soft, "TIMER", 2, &after));
        cr_assert_eq(after, 115);
        cr_assert_float_eq(*rate_of(&d, "softirq:TIMER", 2), (101 + 115) / 2.0, 1e-9);
        cr_assert(sched_field(b.sched, 1, 8, &after));
        cr_assert_float_eq(*rate_of(&d, "sched:run_delay_ns", 1), (double) after / 2.0, 1e-6);
        cr_assert(sched_field(b.sched, 3, 9, &after));
        cr_assert_eq(after, 211);
        cr_assert_float_eq(*rate_of(&d, "sched:timeslices", 3), 211 / 2.0, 1e-9);
        /* The untouched cells still give the recorded deltas. */
        cr_assert_float_eq(*rate_of(&d, "LOC", 2), 21.5, 1e-9);
        cr_assert_float_eq(*rate_of(&d, "softirq:TIMER", 6), (104 - 75) / 2.0, 1e-9);
        cr_assert_float_eq(*rate_of(&d, "sched:run_delay_ns", 0), (430254658.0 - 423902816.0) / 2.0, 1e-6);
        cr_assert_float_eq(*rate_of(&d, "sched:timeslices", 2), (336 - 314) / 2.0, 1e-9);
        sample_delta_free(&d);
        snap_free(&a);
        snap_free(&b);
}

/* ---- Tasks seen running on the VMs' CPUs: their schedstat, their stat's
 * CPU time and last CPU, a kworker's comm, and the hint for it. */

/* Strings in arrays, not pointers: Criterion hands the parameters over to
 * each test's own process. */
typedef struct SchedstatCase {
        char text[48];
        int r;
        unsigned long long run, wait, slices;
} SchedstatCase;

ParameterizedTestParameters(sample_tasks, parse_schedstat) {
        static SchedstatCase cases[] = {
                { "2157613 0 12\n", 0, 2157613, 0, 12 }, /* a kworker: 2 ms over 12 runs, never waited */
                { "1450565865 423902816 621", 0, 1450565865, 423902816, 621 },
                { "18446744073709551615 1 2\n", 0, 18446744073709551615ULL, 1, 2 },
                { "1 2\n", -EINVAL, 0, 0, 0 },
                { "", -EINVAL, 0, 0, 0 },
                { "1 2 x\n", -EINVAL, 0, 0, 0 },
                { "1 2 3 4\n", -EINVAL, 0, 0, 0 }, /* not the 3-field file */
                { "1 2 3\n4\n", -EINVAL, 0, 0, 0 },
        };
        return cr_make_param_array(SchedstatCase, cases, ELEMENTSOF(cases));
}

ParameterizedTest(SchedstatCase *c, sample_tasks, parse_schedstat) {
        TaskSchedstat s = { 7, 7, 7 };

        cr_assert_eq(procfs_parse_schedstat(c->text, &s), c->r, "'%s'", c->text);
        if (c->r < 0) {
                cr_assert_eq(s.timeslices, 7, "written on failure: '%s'", c->text);
                return;
        }
        cr_assert_eq(s.run_ns, c->run);
        cr_assert_eq(s.wait_ns, c->wait);
        cr_assert_eq(s.timeslices, c->slices);
}

/* utime (14) + stime (15) and the last CPU (39) from a stat line: a kworker
 * named by its workqueue, and a thread whose comm has spaces and ')'. */
Test(sample_tasks, stat_cputime_and_cpu) {
        Task t = {};

        cr_assert_eq(procfs_parse_stat("123 (kworker/2:1-mm_percpu_wq) I 2 0 0 0 -1 69238880 0 0 0 0 3 5 0 0 20 0 1 "
                                       "0 250 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 17 2 0 0 0 0 0 "
                                       "0 0 0 0 0 0 0 0\n",
                                       &t),
                     0);
        cr_assert_str_eq(t.comm, "kworker/2:1-mm_percpu_wq");
        cr_assert_eq(t.cputime, 8);
        cr_assert_eq(t.last_cpu, 2);
        cr_assert_eq(t.start_time, 250);
        cr_assert_eq(procfs_parse_stat("7 (a) b) R 1 7 7 0 -1 4194304 0 0 0 0 100 20 0 0 20 0 1 0 9 "
                                       "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 " /* fields 23-37 */
                                       "17 6 0 0\n",                    /* 38 exit_signal, 39 processor */
                                       &t),
                     0);
        cr_assert_str_eq(t.comm, "a) b");
        cr_assert_eq(t.cputime, 120);
        cr_assert_eq(t.last_cpu, 6);
        /* A stat cut before field 39 (an old kernel, a hand-made tree). */
        cr_assert_eq(procfs_parse_stat("8 (x) S 1 8 8 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 9\n", &t), 0);
        cr_assert_eq(t.last_cpu, -1);
        free(t.comm);
}

typedef struct CommCase {
        char comm[48], thread[48], wq[40]; /* wq "": none */
} CommCase;

ParameterizedTestParameters(sample_tasks, comm_split) {
        static CommCase cases[] = {
                { "kworker/2:1-mm_percpu_wq", "kworker/2:1", "mm_percpu_wq" },
                { "kworker/3:0-events", "kworker/3:0", "events" },
                { "kworker/4:1-events_power_efficient", "kworker/4:1", "events_power_efficient" },
                { "kworker/2:1H-kblockd", "kworker/2:1H", "kblockd" },
                { "kworker/u16:2-ext4-rsv-conversion", "kworker/u16:2", "ext4-rsv-conversion" }, /* '-' in the name */
                { "kworker/R-mm_percpu_wq", "kworker/R", "mm_percpu_wq" }, /* a rescuer (6.9+) */
                { "kworker/5:0", "kworker/5:0", "" },                       /* no work run yet */
                { "kworker/5:0-", "kworker/5:0", "" },
                { "ksoftirqd/2", "ksoftirqd/2", "" },
                { "rcu-gp", "rcu-gp", "" }, /* a '-' outside a kworker is part of the name */
                { "", "", "" },
        };
        return cr_make_param_array(CommCase, cases, ELEMENTSOF(cases));
}

ParameterizedTest(CommCase *c, sample_tasks, comm_split) {
        _cleanup_free_ char *thread = NULL, *wq = NULL;

        kthread_comm_split(c->comm, &thread, &wq);
        cr_assert_str_eq(thread, c->thread, "'%s'", c->comm);
        if (*c->wq)
                cr_assert_str_eq(wq, c->wq, "'%s'", c->comm);
        else
                cr_assert_null(wq, "'%s': '%s'", c->comm, wq);
}

typedef struct HintCase {
        char thread[24], wq[32]; /* wq "": none */
        char has[32];            /* words the hint contains; "" for no hint */
} HintCase;

ParameterizedTestParameters(sample_tasks, kthread_hint) {
        static HintCase cases[] = {
                { "kworker/2:1", "mm_percpu_wq", "vm.stat_interval" },
                { "kworker/R", "mm_percpu_wq", "vm.stat_interval" },
                { "kworker/3:0", "events", "re-arms on the same CPU" },
                { "kworker/4:1", "events_power_efficient", "workqueue.power_efficient=1" },
                { "kworker/4:1", "events_power_efficient", "neigh_probe_interval" },
                { "kworker/4:2", "events_freezable", "offlining and onlining" },
                { "kworker/4:2", "events_highpri", "work queued on this CPU" },  /* not the events rule */
                { "kworker/2:1H", "kblockd", "work queued on this CPU" },
                { "kworker/5:0", "", "work queued on this CPU" },
                { "kworker/u16:2", "events_unbound", "workqueue cpumask" },
                { "kworker/u16:2", "mm_percpu_wq", "workqueue cpumask" }, /* unbound wins */
                { "ksoftirqd/2", "", "softirq" },
                { "migration/7", "", "CPU stopper" },
                { "rcuc/3", "", "RCU callbacks" },
                { "rcuop/3", "", "RCU callbacks" },
                { "cpuhp/3", "", "" },
                { "mm_percpu_wq", "events", "" }, /* a workqueue alone names no kworker */
        };
        return cr_make_param_array(HintCase, cases, ELEMENTSOF(cases));
}

ParameterizedTest(HintCase *c, sample_tasks, kthread_hint) {
        const char *h = percpu_kthread_hint(c->thread, *c->wq ? c->wq : NULL);

        if (!*c->has)
                cr_assert_str_eq(h, "", "%s %s: '%s'", c->thread, c->wq, h);
        else
                cr_assert_not_null(strstr(h, c->has), "%s %s: '%s'", c->thread, c->wq, h);
}

/* events and events_freezable share one hint; the power-efficient queue
 * (a boot parameter unbinds it) and vmstat's have their own. */
Test(sample_tasks, kthread_hint_shared) {
        cr_assert_str_eq(percpu_kthread_hint("kworker/3:0", "events"),
                         percpu_kthread_hint("kworker/3:0", "events_freezable"));
        cr_assert_str_neq(percpu_kthread_hint("kworker/3:0", "events"),
                          percpu_kthread_hint("kworker/3:0", "events_power_efficient"));
        cr_assert_str_neq(percpu_kthread_hint("kworker/3:0", "events"),
                          percpu_kthread_hint("kworker/3:0", "mm_percpu_wq"));
}

/* A run of a few microseconds: timeslices move, CPU time does not. */
Test(sample_tasks, watch_counts_runs) {
        CpuSet vm = {};
        TaskWatch w = { .tid = 40, .tgid = 40 };

        cr_assert_eq(cpuset_parse_list("2-7", &vm), 0);
        task_watch_update(&w, &(TaskRun) { .cputime = 3, .slices = 10, .has_slices = true, .cpu = 2 },
                          "kworker/2:1-events", &vm);
        cr_assert_not(w.ran); /* the first reading is the start */
        task_watch_update(&w, &(TaskRun) { .cputime = 3, .slices = 10, .has_slices = true, .cpu = 2 }, NULL, &vm);
        cr_assert_not(w.ran);
        task_watch_update(&w, &(TaskRun) { .cputime = 3, .slices = 13, .has_slices = true, .cpu = 2 },
                          "kworker/2:1-mm_percpu_wq", &vm);
        cr_assert(w.ran);
        cr_assert_eq(w.cpu, 2);
        task_watch_update(&w, &(TaskRun) { .cputime = 3, .slices = 15, .has_slices = true, .cpu = 2 },
                          "kworker/2:1-events", &vm);
        task_watch_update(&w, &(TaskRun) { .cputime = 3, .slices = 16, .has_slices = true, .cpu = 2 },
                          "kworker/2:1-mm_percpu_wq", &vm);
        cr_assert_eq(task_watch_runs(&w), 6);
        cr_assert_eq(w.comms.n, 2); /* each name once, in the order seen */
        cr_assert_str_eq(w.comms.v[0], "kworker/2:1-mm_percpu_wq");
        cr_assert_str_eq(w.comms.v[1], "kworker/2:1-events");
        task_watch_free(&w);
        cpuset_free(&vm);
}

/* Runs on other CPUs count in the window's total but mark nothing; without
 * schedstat (a tree below --root) CPU time decides and there is no count. */
Test(sample_tasks, watch_other_cpus_and_no_schedstat) {
        CpuSet vm = {};
        TaskWatch w = { .tid = 50, .tgid = 50 }, old = { .tid = 51, .tgid = 51 };

        cr_assert_eq(cpuset_parse_list("2-7", &vm), 0);
        task_watch_update(&w, &(TaskRun) { .slices = 1, .has_slices = true, .cpu = 0 }, "sshd", &vm);
        task_watch_update(&w, &(TaskRun) { .slices = 9, .has_slices = true, .cpu = 1 }, "sshd", &vm);
        cr_assert_not(w.ran);
        cr_assert_eq(task_watch_runs(&w), 8);

        task_watch_update(&old, &(TaskRun) { .cputime = 10, .cpu = 0 }, "cron", &vm);
        task_watch_update(&old, &(TaskRun) { .cputime = 10, .cpu = 3 }, "cron", &vm);
        cr_assert_not(old.ran); /* on CPU 3 now, but no tick of CPU time: not seen to run */
        task_watch_update(&old, &(TaskRun) { .cputime = 11, .cpu = 3 }, "cron", &vm);
        cr_assert(old.ran);
        cr_assert_eq(old.cpu, 3);
        cr_assert_eq(task_watch_runs(&old), -1);
        task_watch_free(&w);
        task_watch_free(&old);
        cpuset_free(&vm);
}
