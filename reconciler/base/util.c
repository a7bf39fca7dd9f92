/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>

#include <stdint.h>

#include "util.h"

/* Running out of memory in a tool this size is not a recoverable condition:
 * abort loudly rather than thread ENOMEM through every formatter. */
static void *oom_check(void *p) {
        if (!p)
                abort();
        return p;
}

void *xmalloc(size_t n) { return oom_check(malloc(n ? n : 1)); }
void *xcalloc(size_t n, size_t m) { return oom_check(calloc(n ? n : 1, m ? m : 1)); }
void *xrealloc(void *p, size_t n) { return oom_check(realloc(p, n ? n : 1)); }
char *xstrdup(const char *s) { return oom_check(strdup(s)); }
char *xstrndup(const char *s, size_t n) { return oom_check(strndup(s, n)); }

char *xasprintf(const char *fmt, ...) {
        va_list ap;
        char *s;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                abort();
        va_end(ap);
        return s;
}

int cmp_int(const void *a, const void *b) {
        int x = *(const int *) a, y = *(const int *) b;
        return (x > y) - (x < y);
}

bool sorted_has_int(const int *v, size_t n, int x) {
        return n > 0 && bsearch(&x, v, n, sizeof(int), cmp_int);
}

void *array_push(void *array_ptr, size_t *n, size_t sz) {
        void **a = array_ptr;
        char *p;

        *a = xrealloc(*a, (*n + 1) * sz);
        p = (char *) *a + *n * sz;
        memset(p, 0, sz);
        (*n)++;
        return p;
}

char *strstrip(char *s) {
        char *e;

        while (isspace((unsigned char) *s))
                s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char) e[-1]))
                *--e = 0;
        return s;
}

bool startswith(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool endswith(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && streq(s + a - b, suffix);
}

size_t hash_string(const char *s) {
        uint64_t h = 1469598103934665603ull;

        for (; *s; s++)
                h = (h ^ (unsigned char) *s) * 1099511628211ull;
        return (size_t) h;
}

int safe_atollu(const char *s, unsigned long long *ret) {
        char *end;
        unsigned long long v;

        if (!s || !isdigit((unsigned char) *s))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (*end)
                return -EINVAL;
        *ret = v;
        return 0;
}

int safe_atolu(const char *s, unsigned long *ret) {
        unsigned long long v;
        int r = safe_atollu(s, &v);

        if (r < 0)
                return r;
        if (v > ULONG_MAX)
                return -ERANGE;
        *ret = (unsigned long) v;
        return 0;
}

int safe_atou(const char *s, unsigned *ret) {
        unsigned long long v;
        int r = safe_atollu(s, &v);

        if (r < 0)
                return r;
        if (v > UINT_MAX)
                return -ERANGE;
        *ret = (unsigned) v;
        return 0;
}

void strlist_add(StrList *l, const char *s) {
        l->v = xrealloc(l->v, (l->n + 2) * sizeof(char *));
        l->v[l->n++] = xstrdup(s);
        l->v[l->n] = NULL;
}

void strlist_addf(StrList *l, const char *fmt, ...) {
        va_list ap;
        char *s;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                abort();
        va_end(ap);
        l->v = xrealloc(l->v, (l->n + 2) * sizeof(char *));
        l->v[l->n++] = s;
        l->v[l->n] = NULL;
}

bool strlist_contains(const StrList *l, const char *s) {
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->v[i], s))
                        return true;
        return false;
}

static size_t *strset_slot(const StrSet *set, const char *s) {
        size_t mask = set->n_slots - 1, k = hash_string(s) & mask;

        while (set->slots[k] && !streq(set->list.v[set->slots[k] - 1], s))
                k = (k + 1) & mask;
        return &set->slots[k];
}

bool strset_contains(const StrSet *set, const char *s) {
        return set->n_slots && *strset_slot(set, s);
}

bool strset_add(StrSet *set, const char *s) {
        if (strset_contains(set, s))
                return false;
        strlist_add(&set->list, s);
        if (set->list.n * 2 > set->n_slots) { /* at most half full: rehash */
                free(set->slots);
                set->n_slots = set->n_slots ? set->n_slots * 2 : 16;
                set->slots = xcalloc(set->n_slots, sizeof(size_t));
                for (size_t i = 0; i < set->list.n; i++)
                        *strset_slot(set, set->list.v[i]) = i + 1;
        } else
                *strset_slot(set, s) = set->list.n;
        return true;
}

void strset_free(StrSet *set) {
        strlist_free(&set->list);
        free(set->slots);
        set->slots = NULL;
        set->n_slots = 0;
}

void strlist_free(StrList *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
        free(l->v);
        l->v = NULL;
        l->n = 0;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

void strlist_sort(StrList *l) {
        if (l->n > 1)
                qsort(l->v, l->n, sizeof(char *), cmp_str);
}

unsigned levenshtein(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);
        _cleanup_free_ unsigned *row = xcalloc(lb + 1, sizeof(unsigned));

        for (size_t j = 0; j <= lb; j++)
                row[j] = (unsigned) j;
        for (size_t i = 1; i <= la; i++) {
                unsigned diag = row[0];
                row[0] = (unsigned) i;
                for (size_t j = 1; j <= lb; j++) {
                        unsigned up = row[j];
                        unsigned best = diag + (a[i - 1] != b[j - 1]);
                        if (up + 1 < best)
                                best = up + 1;
                        if (row[j - 1] + 1 < best)
                                best = row[j - 1] + 1;
                        row[j] = best;
                        diag = up;
                }
        }
        return row[lb];
}

char *strlist_join(const StrList *l, const char *sep) {
        size_t len = 1, k = strlen(sep);
        char *out, *p;

        for (size_t i = 0; i < l->n; i++)
                len += strlen(l->v[i]) + k;
        p = out = xmalloc(len);
        *p = 0;
        for (size_t i = 0; i < l->n; i++)
                p = stpcpy(stpcpy(p, i ? sep : ""), l->v[i]);
        return out;
}
