/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>

#include "ops.h"
#include "target.h"
#include "util.h"

/* One table of words, in state/target.c (the journal's parser): ChangeKind
 * and ChangeOp have the same values as TargetKind and TargetOp. */
_Static_assert((int) _KIND_MAX == (int) _TARGET_KIND_MAX, "ChangeKind and TargetKind differ");
_Static_assert((int) KIND_IRQBALANCE == (int) TARGET_KIND_IRQBALANCE, "ChangeKind and TargetKind differ");
_Static_assert((int) _OP_MAX == (int) _TARGET_OP_MAX, "ChangeOp and TargetOp differ");
_Static_assert((int) OP_IRQBALANCE == (int) TARGET_OP_IRQBALANCE, "ChangeOp and TargetOp differ");

const char *change_kind_to_string(ChangeKind k) {
        return target_kind_to_string((TargetKind) k);
}

ChangeKind change_kind_from_string(const char *s) {
        int k = target_kind_from_string(s);
        return k < 0 ? _KIND_INVALID : (ChangeKind) k;
}

const char *change_op_to_string(ChangeOp op) {
        return target_op_to_string((TargetOp) op);
}

ChangeOp change_op_from_string(const char *s) {
        int o = target_op_from_string(s);
        return o < 0 ? _OP_INVALID : (ChangeOp) o;
}

int journal_kind_parse(const char *s, ChangeKind *ret_kind, ChangeOp *ret_op) {
        const char *slash = s ? strchr(s, '/') : NULL;
        ChangeKind k;
        ChangeOp op;

        if (!slash)
                return -EINVAL;
        _cleanup_free_ char *kind = xstrndup(s, (size_t) (slash - s));
        k = change_kind_from_string(kind);
        op = change_op_from_string(slash + 1);
        if (k < 0 || op < 0)
                return -EINVAL;
        *ret_kind = k;
        *ret_op = op;
        return 0;
}

/* Which files hold hex masks, which CPU lists; the rest compare as text. */
static bool is_mask_file(const char *target) {
        return endswith(target, "/cpumask") || endswith(target, "/smp_affinity") ||
               endswith(target, "/default_smp_affinity") || endswith(target, "/cpumask_requested");
}

static bool is_list_target(ChangeOp op, const char *target) {
        return op == OP_AFFINITY || op == OP_UNIT || op == OP_LIBVIRT_PIN || op == OP_IRQBALANCE || endswith(target, "_list") ||
               endswith(target, "/cpuset.cpus") || endswith(target, "/cpuset.mems") ||
               endswith(target, "/watchdog_cpumask");
}

bool cpulist_equal_str(const char *a, const char *b) {
        CpuSet x = {}, y = {};
        bool eq;

        if (cpuset_parse_list(a, &x) < 0 || cpuset_parse_list(b, &y) < 0)
                eq = streq(a, b);
        else
                eq = cpuset_equal(&x, &y);
        cpuset_free(&x);
        cpuset_free(&y);
        return eq;
}

bool value_equal(ChangeOp op, const char *target, const char *a, const char *b) {
        CpuSet x = {}, y = {};
        bool eq;

        if (!a || !b)
                return a == b;
        if (is_list_target(op, target))
                return cpulist_equal_str(a, b);
        if (op == OP_SUBTREE) /* only whether cpuset is among the controllers matters */
                return (strstr(a, "cpuset") != NULL) == (strstr(b, "cpuset") != NULL);
        if (!is_mask_file(target))
                return streq(a, b);
        if (cpuset_parse_mask(a, &x) >= 0 && cpuset_parse_mask(b, &y) >= 0)
                eq = cpuset_equal(&x, &y);
        else
                eq = streq(a, b);
        cpuset_free(&x);
        cpuset_free(&y);
        return eq;
}

int target_task_pid(const char *target, int *ret_pid) {
        Target t;

        if (target_parse(target, &t) != TARGET_TASK)
                return -EINVAL;
        *ret_pid = t.pid;
        return 0;
}

int target_unit(const char *target, char **ret_unit) {
        Target t;

        if (target_parse(target, &t) != TARGET_UNIT)
                return -EINVAL;
        *ret_unit = xstrdup(t.unit);
        return 0;
}

int target_pin(const char *target, char **ret_domain, PinKind *ret_kind, unsigned *ret_id) {
        Target t;

        if (target_parse(target, &t) != TARGET_LIBVIRT)
                return -EINVAL;
        *ret_domain = xstrdup(t.domain);
        *ret_kind = t.pin == TARGET_PIN_VCPU ? PIN_VCPU : t.pin == TARGET_PIN_IOTHREAD ? PIN_IOTHREAD : PIN_EMULATOR;
        *ret_id = t.pin_id;
        return 0;
}
