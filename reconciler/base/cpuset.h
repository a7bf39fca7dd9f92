/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Linux's NR_CPUS tops out at 8192 (CONFIG_MAXSMP): no CPU number beyond
 * 8191 can exist, so anything larger in a file or a config is an error. */
#define CPUSET_MAX_CPUS 8192u

/* A growable CPU bitmap. The zero value is the empty set; equality is by
 * meaning (trailing zero words do not matter). */
typedef struct CpuSet {
        uint64_t *words;
        size_t n_words;
} CpuSet;

void cpuset_free(CpuSet *s);
void cpuset_clear(CpuSet *s);
int cpuset_add(CpuSet *s, unsigned cpu);
int cpuset_add_range(CpuSet *s, unsigned first, unsigned last);
void cpuset_remove(CpuSet *s, unsigned cpu);
bool cpuset_isset(const CpuSet *s, unsigned cpu);
bool cpuset_is_empty(const CpuSet *s);
unsigned cpuset_count(const CpuSet *s);
/* Lowest CPU > prev (prev = -1 for the first), or -1. */
int cpuset_next(const CpuSet *s, int prev);
int cpuset_last(const CpuSet *s);

#define CPUSET_FOREACH(cpu, set) \
        for (int cpu = cpuset_next((set), -1); cpu >= 0; cpu = cpuset_next((set), cpu))

bool cpuset_equal(const CpuSet *a, const CpuSet *b);
bool cpuset_intersects(const CpuSet *a, const CpuSet *b);
bool cpuset_is_subset(const CpuSet *sub, const CpuSet *super);

void cpuset_copy(CpuSet *dst, const CpuSet *src);
CpuSet cpuset_dup(const CpuSet *src);
void cpuset_or(CpuSet *dst, const CpuSet *src);
void cpuset_and(CpuSet *dst, const CpuSet *src);
void cpuset_andnot(CpuSet *dst, const CpuSet *src);

/* The kernel's list format ("0-3,8-11", "0-15:2/4" strides, "" = empty).
 * Surrounding blanks and one trailing newline are accepted. Errors:
 * -EINVAL (syntax, reversed range), -ERANGE (CPU >= CPUSET_MAX_CPUS). */
int cpuset_parse_list(const char *s, CpuSet *ret);
/* The kernel's hex-mask format ("ffffffff,00000001": 32-bit groups, most
 * significant first; an optional 0x prefix is not kernel format and refused). */
int cpuset_parse_mask(const char *s, CpuSet *ret);

/* "0-3,8-11"; "" for the empty set. Caller frees. */
char *cpuset_format_list(const CpuSet *s);
/* Kernel "%*pb" format for a bitmap of nbits bits (nr_cpu_ids): 32-bit
 * groups separated by commas, the first only as wide as needed, e.g.
 * nbits 8, {0,4} -> "11"; nbits 40 -> "00,00000011". Caller frees. */
char *cpuset_format_mask(const CpuSet *s, unsigned nbits);
