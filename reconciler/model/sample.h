/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>

#include "cpuset.h"
#include "util.h"

/* The kernel's per-CPU event counters, as a table: one row per source
 * (an IRQ number, "LOC", a softirq type, a schedstat field), one column per
 * CPU the file shows (only online CPUs appear, so columns are mapped by the
 * CPU numbers in the header, not by position). */
typedef struct CounterRow {
        char *key;      /* "24", "LOC", "softirq:NET_RX", "sched:timeslices", "sched:run_delay_ns" */
        char *label;    /* "virtio0-input.0", "Local timer interrupts"; may be "" */
        uint64_t *v;    /* indexed by CPU number, n_cpus entries */
} CounterRow;

typedef struct Counters {
        /* The CPUs every file of this snapshot has a column for: the online
         * ones. /proc/softirqs has a column for each possible CPU, an offline
         * one's frozen; /proc/interrupts and /proc/schedstat show online CPUs. */
        CpuSet cpus;
        unsigned n_files; /* files added */
        unsigned n_cpus; /* highest CPU + 1 */
        CounterRow *rows;
        size_t n_rows;
} Counters;

/* Adds the rows of /proc/interrupts, /proc/softirqs or /proc/schedstat
 * text to *c (several files make one snapshot). -EINVAL on text that is
 * not such a file. */
int counters_add_interrupts(Counters *c, const char *text);
int counters_add_softirqs(Counters *c, const char *text);
int counters_add_schedstat(Counters *c, const char *text);
void counters_free(Counters *c);

/* One source's increase on one CPU between two snapshots. */
typedef struct Rate {
        const char *key, *label;
        unsigned cpu;
        double per_s;
} Rate;

typedef struct SampleDelta {
        Rate *rates;     /* every source with an increase, worst first */
        size_t n_rates;
        CpuSet offline;  /* CPUs in the first snapshot and not the second */
} SampleDelta;

/* (b - a) / seconds for every row and CPU present in both, on the CPUs of
 * `only` (NULL: all). A counter that went down wrapped around (32-bit
 * kernel counters) or was reset; either way the increase is what came after.
 * Rates point into b's strings: keep b while using them. */
void counters_delta(const Counters *a, const Counters *b, double seconds, const CpuSet *only, SampleDelta *ret);
void sample_delta_free(SampleDelta *d);
