/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cpuset.h"
#include "util.h"

#define WORD_BITS 64u

void cpuset_free(CpuSet *s) {
        free(s->words);
        s->words = NULL;
        s->n_words = 0;
}

void cpuset_clear(CpuSet *s) {
        if (s->words)
                memset(s->words, 0, s->n_words * sizeof(uint64_t));
}

static void ensure_words(CpuSet *s, size_t n) {
        if (n <= s->n_words)
                return;
        s->words = xrealloc(s->words, n * sizeof(uint64_t));
        memset(s->words + s->n_words, 0, (n - s->n_words) * sizeof(uint64_t));
        s->n_words = n;
}

int cpuset_add(CpuSet *s, unsigned cpu) {
        if (cpu >= CPUSET_MAX_CPUS)
                return -ERANGE;
        ensure_words(s, cpu / WORD_BITS + 1);
        s->words[cpu / WORD_BITS] |= UINT64_C(1) << (cpu % WORD_BITS);
        return 0;
}

int cpuset_add_range(CpuSet *s, unsigned first, unsigned last) {
        if (first > last)
                return -EINVAL;
        if (last >= CPUSET_MAX_CPUS)
                return -ERANGE;
        /* a word at a time: "0-1023" is 16 stores, not 1024 */
        ensure_words(s, last / WORD_BITS + 1);
        for (unsigned w = first / WORD_BITS; w <= last / WORD_BITS; w++) {
                unsigned lo = w == first / WORD_BITS ? first % WORD_BITS : 0;
                unsigned hi = w == last / WORD_BITS ? last % WORD_BITS : WORD_BITS - 1;
                uint64_t bits = (hi == WORD_BITS - 1 ? ~UINT64_C(0) : (UINT64_C(1) << (hi + 1)) - 1) &
                                ~((UINT64_C(1) << lo) - 1);
                s->words[w] |= bits;
        }
        return 0;
}

void cpuset_remove(CpuSet *s, unsigned cpu) {
        if (cpu / WORD_BITS < s->n_words)
                s->words[cpu / WORD_BITS] &= ~(UINT64_C(1) << (cpu % WORD_BITS));
}

bool cpuset_isset(const CpuSet *s, unsigned cpu) {
        if (cpu / WORD_BITS >= s->n_words)
                return false;
        return s->words[cpu / WORD_BITS] & (UINT64_C(1) << (cpu % WORD_BITS));
}

bool cpuset_is_empty(const CpuSet *s) {
        for (size_t i = 0; i < s->n_words; i++)
                if (s->words[i])
                        return false;
        return true;
}

unsigned cpuset_count(const CpuSet *s) {
        unsigned n = 0;

        for (size_t i = 0; i < s->n_words; i++)
                n += (unsigned) __builtin_popcountll(s->words[i]);
        return n;
}

int cpuset_next(const CpuSet *s, int prev) {
        unsigned c = (unsigned) (prev + 1);

        for (size_t w = c / WORD_BITS; w < s->n_words; w++) {
                uint64_t bits = s->words[w];

                if (w == c / WORD_BITS)
                        bits &= ~UINT64_C(0) << (c % WORD_BITS);
                if (bits)
                        return (int) (w * WORD_BITS + (unsigned) __builtin_ctzll(bits));
        }
        return -1;
}

int cpuset_last(const CpuSet *s) {
        for (size_t w = s->n_words; w > 0; w--)
                if (s->words[w - 1])
                        return (int) ((w - 1) * WORD_BITS + 63 - (unsigned) __builtin_clzll(s->words[w - 1]));
        return -1;
}

static uint64_t word_at(const CpuSet *s, size_t i) {
        return i < s->n_words ? s->words[i] : 0;
}

bool cpuset_equal(const CpuSet *a, const CpuSet *b) {
        size_t n = a->n_words > b->n_words ? a->n_words : b->n_words;

        for (size_t i = 0; i < n; i++)
                if (word_at(a, i) != word_at(b, i))
                        return false;
        return true;
}

bool cpuset_intersects(const CpuSet *a, const CpuSet *b) {
        size_t n = a->n_words < b->n_words ? a->n_words : b->n_words;

        for (size_t i = 0; i < n; i++)
                if (a->words[i] & b->words[i])
                        return true;
        return false;
}

bool cpuset_is_subset(const CpuSet *sub, const CpuSet *super) {
        for (size_t i = 0; i < sub->n_words; i++)
                if (sub->words[i] & ~word_at(super, i))
                        return false;
        return true;
}

void cpuset_copy(CpuSet *dst, const CpuSet *src) {
        if (dst == src)
                return;
        cpuset_free(dst);
        if (src->n_words) {
                dst->words = xmalloc(src->n_words * sizeof(uint64_t));
                memcpy(dst->words, src->words, src->n_words * sizeof(uint64_t));
                dst->n_words = src->n_words;
        }
}

CpuSet cpuset_dup(const CpuSet *src) {
        CpuSet s = {};

        cpuset_copy(&s, src);
        return s;
}

void cpuset_or(CpuSet *dst, const CpuSet *src) {
        ensure_words(dst, src->n_words);
        for (size_t i = 0; i < src->n_words; i++)
                dst->words[i] |= src->words[i];
}

void cpuset_and(CpuSet *dst, const CpuSet *src) {
        for (size_t i = 0; i < dst->n_words; i++)
                dst->words[i] &= word_at(src, i);
}

void cpuset_andnot(CpuSet *dst, const CpuSet *src) {
        for (size_t i = 0; i < dst->n_words; i++)
                dst->words[i] &= ~word_at(src, i);
}

/* Reads a decimal CPU number; refuses anything that is not one. */
static int parse_cpu(const char **p, unsigned *ret) {
        unsigned long v = 0;
        const char *s = *p;

        if (!isdigit((unsigned char) *s))
                return -EINVAL;
        while (isdigit((unsigned char) *s)) {
                v = v * 10 + (unsigned long) (*s - '0');
                if (v >= CPUSET_MAX_CPUS)
                        return -ERANGE;
                s++;
        }
        *p = s;
        *ret = (unsigned) v;
        return 0;
}

static const char *skip_blanks(const char *s) {
        while (*s == ' ' || *s == '\t')
                s++;
        return s;
}

/* Accept exactly one trailing newline, as kernel files end in one. */
static size_t content_length(const char *s) {
        size_t n = strlen(s);

        if (n > 0 && s[n - 1] == '\n')
                n--;
        return n;
}

int cpuset_parse_list(const char *input, CpuSet *ret) {
        _cleanup_free_ char *buf = xstrndup(input, content_length(input));
        CpuSet s = {};
        const char *p = skip_blanks(buf);
        int r;

        if (*p == 0)
                goto done;

        for (;;) {
                unsigned first, last, used = 1, group = 1;

                p = skip_blanks(p);
                r = parse_cpu(&p, &first);
                if (r < 0)
                        goto fail;
                last = first;
                p = skip_blanks(p);
                if (*p == '-') {
                        p = skip_blanks(p + 1);
                        r = parse_cpu(&p, &last);
                        if (r < 0)
                                goto fail;
                        p = skip_blanks(p);
                        if (last < first) {
                                r = -EINVAL;
                                goto fail;
                        }
                        /* "a-b:used/group": the kernel's stride syntax */
                        if (*p == ':') {
                                p++;
                                r = parse_cpu(&p, &used);
                                if (r < 0)
                                        goto fail;
                                if (*p++ != '/') {
                                        r = -EINVAL;
                                        goto fail;
                                }
                                r = parse_cpu(&p, &group);
                                if (r < 0)
                                        goto fail;
                                if (used == 0 || group == 0 || used > group) {
                                        r = -EINVAL;
                                        goto fail;
                                }
                                p = skip_blanks(p);
                        }
                }
                if (used == group)
                        (void) cpuset_add_range(&s, first, last);
                else
                        for (unsigned c = first; c <= last; c++)
                                if ((c - first) % group < used)
                                        (void) cpuset_add(&s, c);
                if (*p == 0)
                        break;
                if (*p != ',') {
                        r = -EINVAL;
                        goto fail;
                }
                p++;
        }
done:
        *ret = s;
        return 0;
fail:
        cpuset_free(&s);
        return r;
}

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        c = (char) tolower((unsigned char) c);
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

int cpuset_parse_mask(const char *input, CpuSet *ret) {
        _cleanup_free_ char *buf = xstrndup(input, content_length(input));
        char *p = strstrip(buf);
        size_t n_groups = 1, group = 0;
        CpuSet s = {};

        if (*p == 0)
                return -EINVAL;
        for (char *q = p; *q; q++)
                if (*q == ',')
                        n_groups++;
        if (n_groups * 32 > CPUSET_MAX_CPUS)
                return -ERANGE;

        for (char *tok = p;; group++) {
                char *comma = strchr(tok, ',');
                size_t len = comma ? (size_t) (comma - tok) : strlen(tok);
                uint64_t v = 0;

                if (len == 0 || len > 8)
                        goto fail;
                for (size_t i = 0; i < len; i++) {
                        int h = hexval(tok[i]);
                        if (h < 0)
                                goto fail;
                        v = (v << 4) | (unsigned) h;
                }
                for (unsigned b = 0; b < 32; b++)
                        if (v & (UINT64_C(1) << b))
                                (void) cpuset_add(&s, (unsigned) ((n_groups - 1 - group) * 32 + b));
                if (!comma)
                        break;
                tok = comma + 1;
        }
        *ret = s;
        return 0;
fail:
        cpuset_free(&s);
        return -EINVAL;
}

/* Lowest CPU >= c not in s. */
static unsigned next_clear(const CpuSet *s, unsigned c) {
        for (size_t w = c / WORD_BITS; w < s->n_words; w++) {
                uint64_t bits = ~s->words[w];

                if (w == c / WORD_BITS)
                        bits &= ~UINT64_C(0) << (c % WORD_BITS);
                if (bits)
                        return (unsigned) (w * WORD_BITS + (unsigned) __builtin_ctzll(bits));
        }
        return (unsigned) (s->n_words * WORD_BITS);
}

static size_t put_uint(char *p, unsigned v) {
        char tmp[16];
        size_t n = 0;

        do
                tmp[n++] = (char) ('0' + v % 10);
        while ((v /= 10));
        for (size_t i = 0; i < n; i++)
                p[i] = tmp[n - 1 - i];
        return n;
}

/* A run at a time, without printf: plans format one per IRQ and task. */
char *cpuset_format_list(const CpuSet *s) {
        size_t cap = 16, len = 0;
        char *out = xmalloc(cap);
        int c = cpuset_next(s, -1);

        out[0] = 0;
        while (c >= 0) {
                unsigned last = next_clear(s, (unsigned) c) - 1;

                if (len + 24 > cap) { /* ",N-M" and the NUL: at most 23 */
                        cap = (len + 24) * 2;
                        out = xrealloc(out, cap);
                }
                if (len)
                        out[len++] = ',';
                len += put_uint(out + len, (unsigned) c);
                if (last != (unsigned) c) {
                        out[len++] = '-';
                        len += put_uint(out + len, last);
                }
                out[len] = 0;
                c = cpuset_next(s, (int) last);
        }
        return out;
}

char *cpuset_format_mask(const CpuSet *s, unsigned nbits) {
        int last = cpuset_last(s);
        unsigned n_groups, first_bits;
        char *out, *p;

        /* Never drop set bits: widen to hold the highest CPU. */
        if (last >= 0 && (unsigned) last >= nbits)
                nbits = (unsigned) last + 1;
        if (nbits == 0)
                nbits = 1;
        n_groups = (nbits + 31) / 32;
        first_bits = nbits - (n_groups - 1) * 32;

        out = p = xmalloc(n_groups * 9 + 1);
        for (unsigned g = n_groups; g > 0; g--) {
                unsigned base = (g - 1) * 32;
                unsigned width = g == n_groups ? (first_bits + 3) / 4 : 8;
                uint32_t v = 0;

                for (unsigned b = 0; b < 32; b++)
                        if (cpuset_isset(s, base + b))
                                v |= UINT32_C(1) << b;
                p += sprintf(p, "%s%0*x", g == n_groups ? "" : ",", (int) width, v);
        }
        return out;
}
