/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>

#include "cpuset.h"
#include "util.h"

/* Criterion re-executes the test binary for each test: parameters must not
 * hold pointers, so strings are stored inline. */
typedef struct ListCase {
        char input[32];
        int ret;             /* expected return */
        char canonical[32];  /* cpuset_format_list of the result */
} ListCase;

static const ListCase list_cases[] = {
        { "", 0, "" },
        { "\n", 0, "" },
        { "0", 0, "0" },
        { "0\n", 0, "0" },
        { "0-3", 0, "0-3" },
        { "0,1,2,3", 0, "0-3" },
        { "3,2,1,0", 0, "0-3" },
        { "0-3,8-11", 0, "0-3,8-11" },
        { "0-3,8-11\n", 0, "0-3,8-11" },
        { " 1 , 3 ", 0, "1,3" },
        { "1-1", 0, "1" },
        { "0-3,2-5", 0, "0-5" },
        { "0-15:2/4", 0, "0-1,4-5,8-9,12-13" },
        { "8191", 0, "8191" },
        { "0-8191", 0, "0-8191" },
        { "3-0", -EINVAL, "" },
        { "8192", -ERANGE, "" },
        { "0-8192", -ERANGE, "" },
        { "99999999999999999999", -ERANGE, "" },
        { "1-", -EINVAL, "" },
        { "-1", -EINVAL, "" },
        { "a", -EINVAL, "" },
        { "1,,2", -EINVAL, "" },
        { "1,", -EINVAL, "" },
        { "0x3", -EINVAL, "" },
        { "1 2", -EINVAL, "" },
        { "0-3:0/4", -EINVAL, "" },
        { "0-3:5/4", -EINVAL, "" },
        { "1\n\n", -EINVAL, "" },
};

ParameterizedTestParameters(cpuset, parse_list) {
        return cr_make_param_array(ListCase, list_cases, sizeof(list_cases) / sizeof(list_cases[0]));
}

ParameterizedTest(const ListCase *c, cpuset, parse_list) {
        CpuSet s = {};
        int r = cpuset_parse_list(c->input, &s);

        cr_assert_eq(r, c->ret, "parse '%s': got %d, want %d", c->input, r, c->ret);
        if (r == 0) {
                char *out = cpuset_format_list(&s);
                cr_assert_str_eq(out, c->canonical, "parse '%s'", c->input);
                /* The canonical form parses back to the same set. */
                CpuSet again = {};
                cr_assert_eq(cpuset_parse_list(out, &again), 0);
                cr_assert(cpuset_equal(&s, &again));
                cpuset_free(&again);
                free(out);
        }
        cpuset_free(&s);
}

typedef struct MaskCase {
        char input[32];
        int ret;
        char list[32];
        unsigned nbits;      /* for formatting back */
        char formatted[32];  /* "": same as input */
} MaskCase;

static const MaskCase mask_cases[] = {
        { "ff", 0, "0-7", 8, "" },
        { "11", 0, "0,4", 8, "" },
        { "11\n", 0, "0,4", 8, "11" },
        { "3", 0, "0-1", 2, "" },
        { "0", 0, "", 8, "00" },
        { "00000000", 0, "", 32, "" },
        { "ffffffff", 0, "0-31", 32, "" },
        { "00010001", 0, "0,16", 32, "" },
        { "ffffffff,00000001", 0, "0,32-63", 64, "" },
        { "1,00000000", 0, "32", 33, "" },
        { "00,00000011", 0, "0,4", 40, "" },
        { "FF", 0, "0-7", 8, "ff" },
        { "", -EINVAL, "", 0, "" },
        { "g", -EINVAL, "", 0, "" },
        { "123456789", -EINVAL, "", 0, "" },
        { "ff,", -EINVAL, "", 0, "" },
        { ",ff", -EINVAL, "", 0, "" },
        { "0x11", -EINVAL, "", 0, "" },
};

ParameterizedTestParameters(cpuset, parse_mask) {
        return cr_make_param_array(MaskCase, mask_cases, sizeof(mask_cases) / sizeof(mask_cases[0]));
}

ParameterizedTest(const MaskCase *c, cpuset, parse_mask) {
        CpuSet s = {};
        int r = cpuset_parse_mask(c->input, &s);

        cr_assert_eq(r, c->ret, "parse mask '%s': got %d, want %d", c->input, r, c->ret);
        if (r == 0) {
                char *l = cpuset_format_list(&s);
                char *m = cpuset_format_mask(&s, c->nbits);
                cr_assert_str_eq(l, c->list, "mask '%s'", c->input);
                cr_assert_str_eq(m, c->formatted[0] ? c->formatted : c->input, "mask '%s' at %u bits", c->input, c->nbits);
                free(l);
                free(m);
        }
        cpuset_free(&s);
}

Test(cpuset, mask_of_8192_cpus) {
        CpuSet s = {};
        char *m;

        cr_assert_eq(cpuset_parse_list("0-8191", &s), 0);
        cr_assert_eq(cpuset_count(&s), 8192);
        m = cpuset_format_mask(&s, 8192);
        cr_assert_eq(strlen(m), 256 * 9 - 1);
        CpuSet back = {};
        cr_assert_eq(cpuset_parse_mask(m, &back), 0);
        cr_assert(cpuset_equal(&s, &back));
        /* One group more than 8192 bits is out of range. */
        char *big = xasprintf("1,%s", m);
        CpuSet over = {};
        cr_assert_eq(cpuset_parse_mask(big, &over), -ERANGE);
        free(big);
        free(m);
        cpuset_free(&s);
        cpuset_free(&back);
}

Test(cpuset, mask_widens_for_high_cpus) {
        CpuSet s = {};
        char *m;

        cr_assert_eq(cpuset_parse_list("40", &s), 0);
        m = cpuset_format_mask(&s, 8);
        cr_assert_str_eq(m, "100,00000000");
        free(m);
        cpuset_free(&s);
}

Test(cpuset, equality_is_by_meaning) {
        CpuSet a = {}, b = {}, c = {};

        cr_assert_eq(cpuset_parse_list("0-3", &a), 0);
        cr_assert_eq(cpuset_parse_list("0,1,2,3", &b), 0);
        cr_assert_eq(cpuset_parse_mask("0000000f", &c), 0);
        cr_assert(cpuset_equal(&a, &b));
        cr_assert(cpuset_equal(&a, &c));
        /* A set that grew and shrank again equals a small one. */
        cr_assert_eq(cpuset_add(&b, 4000), 0);
        cpuset_remove(&b, 4000);
        cr_assert(cpuset_equal(&a, &b));
        cr_assert(cpuset_equal(&b, &a));
        cpuset_free(&a);
        cpuset_free(&b);
        cpuset_free(&c);
}

Test(cpuset, set_operations) {
        CpuSet a = {}, b = {}, x = {};

        cr_assert_eq(cpuset_parse_list("0-7", &a), 0);
        cr_assert_eq(cpuset_parse_list("1-3,5-7", &b), 0);
        cr_assert(cpuset_is_subset(&b, &a));
        cr_assert(!cpuset_is_subset(&a, &b));
        cr_assert(cpuset_intersects(&a, &b));
        cpuset_copy(&x, &a);
        cpuset_andnot(&x, &b);
        char *l = cpuset_format_list(&x);
        cr_assert_str_eq(l, "0,4");
        free(l);
        cr_assert_eq(cpuset_count(&x), 2);
        cr_assert(!cpuset_intersects(&x, &b));
        cpuset_or(&x, &b);
        cr_assert(cpuset_equal(&x, &a));
        cpuset_and(&x, &b);
        cr_assert(cpuset_equal(&x, &b));
        cr_assert_eq(cpuset_next(&b, -1), 1);
        cr_assert_eq(cpuset_next(&b, 3), 5);
        cr_assert_eq(cpuset_next(&b, 7), -1);
        cr_assert_eq(cpuset_last(&b), 7);
        CpuSet empty = {};
        cr_assert(cpuset_is_empty(&empty));
        cr_assert_eq(cpuset_last(&empty), -1);
        cr_assert(cpuset_is_subset(&empty, &b));
        cpuset_free(&a);
        cpuset_free(&b);
        cpuset_free(&x);
}

Test(cpuset, add_out_of_range) {
        CpuSet s = {};

        cr_assert_eq(cpuset_add(&s, CPUSET_MAX_CPUS), -ERANGE);
        cr_assert_eq(cpuset_add_range(&s, 5, 3), -EINVAL);
        cr_assert(cpuset_is_empty(&s));
}

/* The list format against the obvious way to write it, on random sets up
 * to the largest CPU number (runs across word boundaries, single CPUs,
 * 8191 itself). */
Test(cpuset, format_list_matches_a_plain_formatter) {
        unsigned seed = 12345;

        for (unsigned round = 0; round < 2000; round++) {
                CpuSet s = {}, back = {};
                char want[65536];
                size_t len = 0;

                for (unsigned c = 0; c < CPUSET_MAX_CPUS; c++) {
                        seed = seed * 1103515245u + 12345u;
                        /* runs of varying density per round */
                        if (((seed >> 16) % 64) < round % 64)
                                cr_assert_eq(cpuset_add(&s, c), 0);
                }
                if (round % 7 == 0)
                        cr_assert_eq(cpuset_add(&s, CPUSET_MAX_CPUS - 1), 0);
                want[0] = 0;
                for (int c = cpuset_next(&s, -1); c >= 0;) {
                        int last = c;
                        while (cpuset_isset(&s, (unsigned) last + 1))
                                last++;
                        len += (size_t) snprintf(want + len, sizeof want - len, last == c ? "%s%d" : "%s%d-%d",
                                                 len ? "," : "", c, last);
                        c = cpuset_next(&s, last);
                }
                char *got = cpuset_format_list(&s);
                cr_assert_str_eq(got, want, "round %u", round);
                cr_assert_eq(cpuset_parse_list(got, &back), 0);
                cr_assert(cpuset_equal(&back, &s));
                free(got);
                cpuset_free(&s);
                cpuset_free(&back);
        }
}
