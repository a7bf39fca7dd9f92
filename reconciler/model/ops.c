/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>

#include "ops.h"
#include "util.h"

static const char *const kind_names[_KIND_MAX] = {
        [KIND_CPUSET] = "cpuset", [KIND_KTHREAD] = "kthread", [KIND_IRQ] = "irq",
        [KIND_WORKQUEUE] = "workqueue", [KIND_POWER] = "power", [KIND_LIBVIRT] = "libvirt",
        [KIND_QUIET] = "quiet", [KIND_IRQBALANCE] = "irqbalance",
};

static const char *const op_names[_OP_MAX] = {
        [OP_WRITE] = "write", [OP_SUBTREE] = "subtree", [OP_MKDIR] = "mkdir", [OP_AFFINITY] = "affinity",
        [OP_UNIT] = "unit", [OP_MOVE_TASKS] = "move-tasks", [OP_LIBVIRT_PIN] = "libvirt-pin",
        [OP_IRQBALANCE] = "irqbalance",
};

const char *change_kind_to_string(ChangeKind k) {
        return k >= 0 && k < _KIND_MAX ? kind_names[k] : NULL;
}

ChangeKind change_kind_from_string(const char *s) {
        for (int k = 0; s && k < _KIND_MAX; k++)
                if (streq(s, kind_names[k]))
                        return (ChangeKind) k;
        return _KIND_INVALID;
}

const char *change_op_to_string(ChangeOp op) {
        return op >= 0 && op < _OP_MAX ? op_names[op] : NULL;
}

ChangeOp change_op_from_string(const char *s) {
        for (int i = 0; s && i < _OP_MAX; i++)
                if (streq(s, op_names[i]))
                        return (ChangeOp) i;
        return _OP_INVALID;
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

static bool ends_with(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && streq(s + a - b, suffix);
}

/* Which files hold hex masks, which CPU lists; the rest compare as text. */
static bool is_mask_file(const char *target) {
        return ends_with(target, "/cpumask") || ends_with(target, "/smp_affinity") ||
               ends_with(target, "/default_smp_affinity") || ends_with(target, "/cpumask_requested");
}

static bool is_list_target(ChangeOp op, const char *target) {
        return op == OP_AFFINITY || op == OP_UNIT || op == OP_LIBVIRT_PIN || op == OP_IRQBALANCE || ends_with(target, "_list") ||
               ends_with(target, "/cpuset.cpus") || ends_with(target, "/cpuset.mems") ||
               ends_with(target, "/watchdog_cpumask");
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
        unsigned pid;

        if (!target || !startswith(target, "/proc/") || safe_atou(target + strlen("/proc/"), &pid) < 0 || pid == 0 ||
            pid > 4194304)
                return -EINVAL;
        *ret_pid = (int) pid;
        return 0;
}

int target_unit(const char *target, char **ret_unit) {
        const char *u, *slash;

        if (!target || !startswith(target, "systemd:"))
                return -EINVAL;
        u = target + strlen("systemd:");
        slash = strrchr(u, '/');
        if (!slash || slash == u || !streq(slash, "/AllowedCPUs"))
                return -EINVAL;
        *ret_unit = xstrndup(u, (size_t) (slash - u));
        return 0;
}

int target_pin(const char *target, char **ret_domain, PinKind *ret_kind, unsigned *ret_id) {
        const char *d, *slash, *what;
        unsigned id = 0;
        PinKind kind;

        if (!target || !startswith(target, "libvirt:"))
                return -EINVAL;
        d = target + strlen("libvirt:");
        slash = strrchr(d, '/');
        if (!slash || slash == d)
                return -EINVAL;
        what = slash + 1;
        if (startswith(what, "vcpu") && safe_atou(what + strlen("vcpu"), &id) >= 0)
                kind = PIN_VCPU;
        else if (startswith(what, "iothread") && safe_atou(what + strlen("iothread"), &id) >= 0)
                kind = PIN_IOTHREAD;
        else if (streq(what, "emulator"))
                kind = PIN_EMULATOR;
        else
                return -EINVAL;
        *ret_domain = xstrndup(d, (size_t) (slash - d));
        *ret_kind = kind;
        *ret_id = id;
        return 0;
}
