/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include "cpuset.h"

/* What a managed item belongs to (one resource each) and how a change to it
 * is carried out. Both are journaled as "KIND/OP" (e.g. "irq/write"), so a
 * word that is not in these tables is an error, never a guess. */
typedef enum ChangeKind {
        KIND_CPUSET,
        KIND_KTHREAD,
        KIND_IRQ,
        KIND_WORKQUEUE,
        KIND_POWER,
        KIND_LIBVIRT,
        KIND_QUIET,
        KIND_IRQBALANCE,
        _KIND_MAX,
        _KIND_INVALID = -22, /* -EINVAL */
} ChangeKind;

/* Every change has a target (the kernel path as seen from the root, or
 * "systemd:UNIT/PROPERTY", "libvirt:DOMAIN/vcpuN", "irqbalance:banned_cpus") and from/to values in the
 * form the kernel file shows them. */
typedef enum ChangeOp {
        OP_WRITE,       /* write `to` into the file `target` */
        OP_SUBTREE,     /* enable a controller: write "+cpuset" to target */
        OP_MKDIR,       /* create the cgroup directory `target` */
        OP_AFFINITY,    /* sched_setaffinity(pid) to `to`; target /proc/PID */
        OP_UNIT,        /* systemd SetUnitProperties(unit, AllowedCPUs=to), runtime */
        OP_MOVE_TASKS,  /* v1: move the tasks in `pids` into the cgroup `target` */
        OP_LIBVIRT_PIN, /* live pin through libvirt */
        OP_IRQBALANCE,  /* irqbalance's banned CPUs through its socket; target irqbalance:banned_cpus */
        _OP_MAX,
        _OP_INVALID = -22,
} ChangeOp;

/* irqbalance's banned CPUs (OP_IRQBALANCE), a CPU list. */
#define IRQBALANCE_TARGET "irqbalance:banned_cpus"

typedef enum PinKind { PIN_VCPU, PIN_EMULATOR, PIN_IOTHREAD } PinKind;

const char *change_kind_to_string(ChangeKind k);
ChangeKind change_kind_from_string(const char *s);
const char *change_op_to_string(ChangeOp op);
ChangeOp change_op_from_string(const char *s);
/* "irq/write" -> KIND_IRQ, OP_WRITE; -EINVAL for anything else. */
int journal_kind_parse(const char *s, ChangeKind *ret_kind, ChangeOp *ret_op);

/* Does the value read back mean the same as the value wanted? CPU lists and
 * hex masks compare by meaning, controller lists by whether cpuset is in. */
bool value_equal(ChangeOp op, const char *target, const char *a, const char *b);
/* Two CPU lists by meaning ("0-3" = "0,1,2,3"); text equality if either is not a list. */
bool cpulist_equal_str(const char *a, const char *b);

/* Parsed targets, length-checked. */
/* "/proc/PID" -> pid */
int target_task_pid(const char *target, int *ret_pid);
/* "systemd:UNIT/AllowedCPUs" -> newly allocated UNIT */
int target_unit(const char *target, char **ret_unit);
/* "libvirt:DOMAIN/vcpuN|emulator|iothreadN" */
int target_pin(const char *target, char **ret_domain, PinKind *ret_kind, unsigned *ret_id);
