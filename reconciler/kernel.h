/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "cpuset.h"
#include "host.h"
#include "plan.h"

/* The writes cpushield makes, in one place. On the real root they are the
 * kernel's interfaces (files, sched_setaffinity, systemd's D-Bus API,
 * libvirt). Below a fixture root, where there is no kernel behind the files,
 * each operation also records its effect the way the kernel would show it
 * (a written smp_affinity_list updates smp_affinity; an enabled controller
 * creates its files in the child cgroups; an affinity change rewrites
 * /proc/PID/status), so that the next observe reads it back. */

/* The current value of an item in the form of its plan values. */
int kernel_read(const Host *h, ChangeOp op, const char *target, const char *ident, char **ret);
/* Sets the item to value. For OP_MOVE_TASKS "value" is the destination cgroup
 * and pids (may be NULL: every task of the source). */
int kernel_apply(const Host *h, const Change *c, const char *value, char **ret_detail);

/* Does the value read back mean the same as the value wanted? */
bool value_equal(ChangeOp op, const char *target, const char *a, const char *b);
/* Two CPU lists by meaning ("0-3" = "0,1,2,3"); text equality if either is not a list. */
bool cpulist_equal_str(const char *a, const char *b);

ChangeOp change_op_from_string(const char *s);
/* "libvirt:DOMAIN/vcpuN|emulator|iothreadN" -> c->domain, c->pin, c->pin_id */
int parse_libvirt_target(const char *target, Change *c);
const char *change_op_to_string(ChangeOp op);
