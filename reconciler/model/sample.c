/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Counter snapshots and their differences: the arithmetic of verify --sample. */
#include <stdio.h>

#include "sample.h"

static CounterRow *row_for(Counters *c, const char *key, const char *label) {
        CounterRow *r = array_push(&c->rows, &c->n_rows, sizeof(CounterRow));

        r->key = xstrdup(key);
        r->label = xstrdup(strempty(label));
        r->v = xcalloc(c->n_cpus ? c->n_cpus : 1, sizeof(uint64_t));
        return r;
}

/* Makes room for CPU cpu in every row. */
static void widen(Counters *c, unsigned cpu) {
        if (cpu + 1 <= c->n_cpus)
                return;
        for (size_t i = 0; i < c->n_rows; i++) {
                c->rows[i].v = xrealloc(c->rows[i].v, (cpu + 1) * sizeof(uint64_t));
                memset(c->rows[i].v + c->n_cpus, 0, (cpu + 1 - c->n_cpus) * sizeof(uint64_t));
        }
        c->n_cpus = cpu + 1;
}

/* One file's CPUs join the snapshot's: the first file sets them, every
 * further one narrows them (see Counters.cpus). */
static void merge_cpus(Counters *c, const CpuSet *file) {
        if (c->n_files++ == 0)
                cpuset_copy(&c->cpus, file);
        else
                cpuset_and(&c->cpus, file);
}

/* "CPU0 CPU1 CPU5": the columns. Grows every row to the new width. */
static int parse_header(Counters *c, const char *line, unsigned **ret_cols, size_t *ret_n) {
        unsigned *cols = NULL, cpu;
        size_t n = 0;
        const char *p = line;
        _cleanup_(cpuset_free) CpuSet cpus = {};

        while ((p = strstr(p, "CPU"))) {
                p += 3;
                if (sscanf(p, "%u", &cpu) != 1 || cpu >= CPUSET_MAX_CPUS) {
                        free(cols);
                        return -EINVAL;
                }
                cols = xrealloc(cols, (n + 1) * sizeof(unsigned));
                cols[n++] = cpu;
                (void) cpuset_add(&cpus, cpu);
                widen(c, cpu);
        }
        if (n == 0)
                return -EINVAL;
        merge_cpus(c, &cpus);
        *ret_cols = cols;
        *ret_n = n;
        return 0;
}

/* Lines "KEY: n n n ... label" after a CPU header (interrupts, softirqs). */
static int add_table(Counters *c, const char *text, const char *prefix, bool with_label) {
        _cleanup_free_ char *copy = xstrdup(text);
        _cleanup_free_ unsigned *cols = NULL;
        char *save = NULL, *line = strtok_r(copy, "\n", &save);
        size_t n_cols;

        if (!line || parse_header(c, line, &cols, &n_cols) < 0)
                return -EINVAL;
        while ((line = strtok_r(NULL, "\n", &save))) {
                char *colon = strchr(line, ':'), *p, *end;
                if (!colon)
                        continue;
                *colon = 0;
                _cleanup_free_ char *key = xasprintf("%s%s", prefix, strstrip(line));
                CounterRow *r = row_for(c, key, NULL);
                p = colon + 1;
                for (size_t i = 0; i < n_cols; i++) {
                        unsigned long long v = strtoull(p, &end, 10);
                        if (end == p)
                                break; /* ERR:, MIS: have one column */
                        r->v[cols[i]] = v;
                        p = end;
                }
                if (with_label) {
                        free(r->label);
                        r->label = xstrdup(strstrip(p));
                }
        }
        return 0;
}

int counters_add_interrupts(Counters *c, const char *text) {
        return add_table(c, text, "", true);
}

int counters_add_softirqs(Counters *c, const char *text) {
        return add_table(c, text, "softirq:", false);
}

/* "cpuN yld 0 sched_count sched_goidle ttwu ttwu_local run_ns wait_ns pcount".
 * Fields 1-6 are schedstats, 0 while those are off (Debian's default);
 * 7-9 are sched_info's and always count. Two rows: pcount, the tasks switched
 * in (timeslices begun), and run_delay, the time runnable tasks waited. */
int counters_add_schedstat(Counters *c, const char *text) {
        _cleanup_free_ char *copy = xstrdup(text);
        char *save = NULL;
        size_t sched = SIZE_MAX; /* its row; the next is the wait's (rows may move as they grow) */
        _cleanup_(cpuset_free) CpuSet cpus = {};

        for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                unsigned cpu;
                unsigned long long f[9];
                if (sscanf(l, "cpu%u %llu %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &f[0], &f[1], &f[2], &f[3],
                           &f[4], &f[5], &f[6], &f[7], &f[8]) != 10 || cpu >= CPUSET_MAX_CPUS)
                        continue;
                widen(c, cpu);
                if (sched == SIZE_MAX) {
                        sched = c->n_rows;
                        row_for(c, "sched:timeslices", "tasks switched in");
                        row_for(c, "sched:run_delay_ns", "runqueue wait (ns)");
                }
                c->rows[sched].v[cpu] = f[8];
                c->rows[sched + 1].v[cpu] = f[7];
                (void) cpuset_add(&cpus, cpu);
        }
        if (cpuset_is_empty(&cpus))
                return -EINVAL;
        merge_cpus(c, &cpus);
        return 0;
}

void counters_free(Counters *c) {
        for (size_t i = 0; i < c->n_rows; i++) {
                free(c->rows[i].key);
                free(c->rows[i].label);
                free(c->rows[i].v);
        }
        free(c->rows);
        cpuset_free(&c->cpus);
        memset(c, 0, sizeof *c);
}

static const CounterRow *find_row(const Counters *c, const char *key) {
        for (size_t i = 0; i < c->n_rows; i++)
                if (streq(c->rows[i].key, key))
                        return &c->rows[i];
        return NULL;
}

static uint64_t increase(uint64_t a, uint64_t b) {
        if (b >= a)
                return b - a;
        if (a <= UINT32_MAX)
                return b + ((uint64_t) UINT32_MAX + 1 - a); /* a 32-bit counter wrapped */
        return b;                                           /* reset: what came after */
}

/* Worst first; a time in nanoseconds per second ranks as milliseconds,
 * among events per second. */
static double weight(const Rate *r) {
        size_t n = strlen(r->key);
        return n > 3 && streq(r->key + n - 3, "_ns") ? r->per_s / 1e6 : r->per_s;
}

static int cmp_rate(const void *x, const void *y) {
        double a = weight(x), b = weight(y);
        return (a < b) - (a > b);
}

void counters_delta(const Counters *a, const Counters *b, double seconds, const CpuSet *only, SampleDelta *ret) {
        SampleDelta d = {};

        cpuset_copy(&d.offline, &a->cpus);
        cpuset_andnot(&d.offline, &b->cpus);
        for (size_t i = 0; i < b->n_rows; i++) {
                const CounterRow *rb = &b->rows[i], *ra = find_row(a, rb->key);
                if (!ra)
                        continue;
                CPUSET_FOREACH(cpu, &b->cpus) {
                        if (!cpuset_isset(&a->cpus, (unsigned) cpu) || (only && !cpuset_isset(only, (unsigned) cpu)))
                                continue;
                        uint64_t inc = increase(ra->v[cpu], rb->v[cpu]);
                        if (inc == 0)
                                continue;
                        Rate *r = array_push(&d.rates, &d.n_rates, sizeof(Rate));
                        *r = (Rate) { .key = rb->key, .label = rb->label, .cpu = (unsigned) cpu,
                                      .per_s = seconds > 0 ? (double) inc / seconds : (double) inc };
                }
        }
        if (d.n_rates > 1)
                qsort(d.rates, d.n_rates, sizeof(Rate), cmp_rate);
        *ret = d;
}

void sample_delta_free(SampleDelta *d) {
        free(d->rates);
        cpuset_free(&d->offline);
        memset(d, 0, sizeof *d);
}
