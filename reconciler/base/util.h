/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

static inline void freep(void *p) { free(*(void **) p); }
static inline void closep(int *fd) { if (*fd >= 0) close(*fd); }
static inline void fclosep(FILE **f) { if (*f) fclose(*f); }
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

/* Hand ownership out of a cleanup variable. */
#define TAKE_PTR(p) ({ __typeof__(p) _p = (p); (p) = NULL; _p; })
#define TAKE_FD(fd) ({ int _fd = (fd); (fd) = -1; _fd; })

static inline bool streq(const char *a, const char *b) { return strcmp(a, b) == 0; }
static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return streq(a, b);
}
static inline const char *strempty(const char *s) { return s ? s : ""; }

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) _printf_(1, 2);

/* Grow *array (of *n elements of size sz) by one zeroed element; returns it. */
void *array_push(void *array_ptr, size_t *n, size_t sz);
/* qsort/bsearch comparison of two ints (PIDs, TIDs). */
int cmp_int(const void *a, const void *b);
/* Is x among v[0..n), sorted by cmp_int? */
bool sorted_has_int(const int *v, size_t n, int x);

char *strstrip(char *s);
bool startswith(const char *s, const char *prefix);
bool endswith(const char *s, const char *suffix);
/* FNV-1a of a string, for hash tables of trusted keys (not seeded). */
size_t hash_string(const char *s);
int safe_atou(const char *s, unsigned *ret);
int safe_atolu(const char *s, unsigned long *ret);
int safe_atollu(const char *s, unsigned long long *ret);

/* String list: NULL-terminated, owned. */
typedef struct StrList {
        char **v;
        size_t n;
} StrList;
void strlist_add(StrList *l, const char *s);
void strlist_addf(StrList *l, const char *fmt, ...) _printf_(2, 3);
bool strlist_contains(const StrList *l, const char *s);
void strlist_free(StrList *l);
void strlist_sort(StrList *l);
/* "a, b" for sep ", "; "" for no elements. Caller frees. */
char *strlist_join(const StrList *l, const char *sep);

/* A set of strings: a StrList in the order they were added, and a hash
 * index over it (open addressing; slots hold position + 1), so that looking
 * one up costs the same with thousands in it (a journal's refused IRQs). */
typedef struct StrSet {
        StrList list;
        size_t *slots;
        size_t n_slots;
} StrSet;
/* true when s was added, false when it was there already. */
bool strset_add(StrSet *set, const char *s);
bool strset_contains(const StrSet *set, const char *s);
void strset_free(StrSet *set);

unsigned levenshtein(const char *a, const char *b);
