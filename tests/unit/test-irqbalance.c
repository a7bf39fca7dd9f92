/* SPDX-License-Identifier: GPL-2.0-or-later */
/* irqbalance's `setup` answer: the BANNED hex mask (32-bit groups with
 * commas, leading zero groups left out, as irqbalance prints it) becomes a
 * CPU list; anything else is refused, never read as "nothing banned". */
#include <criterion/criterion.h>

#include "irqbalance.h"
#include "ops.h"

static char *banned(const char *reply, int want_r, unsigned *ret_sleep) {
        char *list = NULL;
        int r = irqbalance_parse_setup(reply, &list, ret_sleep);
        cr_assert_eq(r, want_r, "'%s': %d, expected %d", reply ? reply : "(null)", r, want_r);
        return list;
}

Test(setup, banned_mask_as_list) {
        unsigned sleep = 0;
        _cleanup_free_ char *a = banned("SLEEP 10 BANNED 000000ee", 0, &sleep);
        cr_assert_str_eq(a, "1-3,5-7");
        cr_assert_eq(sleep, 10);
        /* CPUs beyond 31: a second group */
        _cleanup_free_ char *b = banned("SLEEP 10 BANNED 00000001,000000ee", 0, NULL);
        cr_assert_str_eq(b, "1-3,5-7,32");
        _cleanup_free_ char *c = banned("SLEEP 7 BANNED 80000000,00000000,00000001", 0, &sleep);
        cr_assert_str_eq(c, "0,95");
        cr_assert_eq(sleep, 7);
}

Test(setup, banned_irqs_are_skipped) {
        _cleanup_free_ char *a = banned("SLEEP 10 IRQ 24 LOAD 0 DIFF 0 CLASS 3 IRQ 25 LOAD 1 DIFF 2 CLASS 4 "
                                        "BANNED 00000011", 0, NULL);
        cr_assert_str_eq(a, "0,4");
}

Test(setup, nothing_banned_is_an_empty_list) {
        _cleanup_free_ char *a = banned("SLEEP 10 BANNED 00000000", 0, NULL);
        cr_assert_str_eq(a, "");
}

Test(setup, garbage_is_refused) {
        unsigned sleep = 99;
        cr_assert_null(banned("", -EBADMSG, &sleep));
        cr_assert_eq(sleep, 99); /* untouched */
        cr_assert_null(banned(NULL, -EBADMSG, NULL));
        cr_assert_null(banned("SLEEP 10", -EBADMSG, NULL));              /* no BANNED */
        cr_assert_null(banned("SLEEP 10 BANNED", -EBADMSG, NULL));       /* no mask */
        cr_assert_null(banned("SLEEP 10 BANNED zz", -EBADMSG, NULL));    /* not hex */
        cr_assert_null(banned("SLEEP 10 BANNED 0x11", -EBADMSG, NULL));  /* not irqbalance's format */
        cr_assert_null(banned("SLEEP 10 BANNED 11,,11", -EBADMSG, NULL)); /* empty group */
        cr_assert_null(banned("SLEEP 10 BANNED 11 22", -EBADMSG, NULL)); /* something after the mask */
        cr_assert_null(banned("SLEEP x BANNED 11", -EBADMSG, NULL));     /* bad interval */
        cr_assert_null(banned("Permission denied", -EBADMSG, NULL));
}

Test(ops, irqbalance_kind_and_value) {
        ChangeKind k;
        ChangeOp op;
        cr_assert_eq(journal_kind_parse("irqbalance/irqbalance", &k, &op), 0);
        cr_assert_eq(k, KIND_IRQBALANCE);
        cr_assert_eq(op, OP_IRQBALANCE);
        /* compared as CPU lists */
        cr_assert(value_equal(OP_IRQBALANCE, IRQBALANCE_TARGET, "1-3,5-7", "1,2,3,5,6,7"));
        cr_assert(!value_equal(OP_IRQBALANCE, IRQBALANCE_TARGET, "1-3", "1-3,5-7"));
        cr_assert(value_equal(OP_IRQBALANCE, IRQBALANCE_TARGET, "", ""));
}
