/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Kinds, ops and targets: every word in a journal is one of ours or an
 * error, never a default. */
#include <criterion/criterion.h>

#include "ops.h"
#include "util.h"

Test(ops, kind_and_op_round_trip) {
        for (int k = 0; k < _KIND_MAX; k++)
                cr_assert_eq(change_kind_from_string(change_kind_to_string((ChangeKind) k)), k);
        for (int o = 0; o < _OP_MAX; o++)
                cr_assert_eq(change_op_from_string(change_op_to_string((ChangeOp) o)), o);
}

Test(ops, unknown_words_are_invalid) {
        ChangeKind k;
        ChangeOp op;
        cr_assert_eq(change_kind_from_string("irqx"), _KIND_INVALID);
        cr_assert_eq(change_kind_from_string("ir"), _KIND_INVALID);
        cr_assert_eq(change_op_from_string("writ"), _OP_INVALID);
        cr_assert_eq(journal_kind_parse("irq/write", &k, &op), 0);
        cr_assert_eq(k, KIND_IRQ);
        cr_assert_eq(op, OP_WRITE);
        cr_assert_eq(journal_kind_parse("irq", &k, &op), -EINVAL);
        cr_assert_eq(journal_kind_parse("irq/", &k, &op), -EINVAL);
        cr_assert_eq(journal_kind_parse("bogus/write", &k, &op), -EINVAL);
        cr_assert_eq(journal_kind_parse("irq/bogus", &k, &op), -EINVAL);
        cr_assert_null(change_kind_to_string(_KIND_INVALID));
}

Test(ops, targets_are_length_checked) {
        int pid;
        char *s = NULL;
        PinKind kind;
        unsigned id;

        cr_assert_eq(target_task_pid("/proc/42", &pid), 0);
        cr_assert_eq(pid, 42);
        cr_assert_eq(target_task_pid("/proc/", &pid), -EINVAL);
        cr_assert_eq(target_task_pid("/proc/0", &pid), -EINVAL);
        cr_assert_eq(target_task_pid("/proc/1/x", &pid), -EINVAL);
        cr_assert_eq(target_unit("systemd:", &s), -EINVAL);
        cr_assert_eq(target_unit("systemd:/AllowedCPUs", &s), -EINVAL);
        cr_assert_eq(target_unit("systemd:a.slice/CPUQuota", &s), -EINVAL);
        cr_assert_eq(target_unit("systemd:a.slice/AllowedCPUs", &s), 0);
        cr_assert_str_eq(s, "a.slice");
        free(s);
        cr_assert_eq(target_pin("libvirt:", &s, &kind, &id), -EINVAL);
        cr_assert_eq(target_pin("libvirt:d/vcpu", &s, &kind, &id), -EINVAL);
        cr_assert_eq(target_pin("libvirt:d/cpu1", &s, &kind, &id), -EINVAL);
        cr_assert_eq(target_pin("libvirt:d/iothread3", &s, &kind, &id), 0);
        cr_assert_eq(kind, PIN_IOTHREAD);
        cr_assert_eq(id, 3);
        cr_assert_str_eq(s, "d");
        free(s);
}

Test(ops, values_compare_by_meaning) {
        cr_assert(value_equal(OP_WRITE, "/proc/irq/1/smp_affinity_list", "0-3", "0,1,2,3"));
        cr_assert(value_equal(OP_WRITE, "/sys/devices/virtual/workqueue/cpumask", "0f", "f"));
        cr_assert_not(value_equal(OP_WRITE, "/sys/devices/virtual/workqueue/cpumask", "0f", "1f"));
        cr_assert(value_equal(OP_SUBTREE, "/sys/fs/cgroup/cgroup.subtree_control", "cpuset memory", "memory cpuset"));
        cr_assert_not(value_equal(OP_WRITE, "/sys/x/cpuset.cpus.partition", "isolated", "member"));
}
