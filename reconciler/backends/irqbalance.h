/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "host.h"
#include "ops.h"
#include "util.h"

/* irqbalance's runtime interface: the UNIX socket its UI uses. `setup`
 * answers "SLEEP <s> [IRQ <n> LOAD .. DIFF .. CLASS ..]... BANNED <mask>";
 * "settings cpus <list>" replaces the banned CPUs (taken at irqbalance's next
 * rescan, within its sleep interval), "settings cpus NULL" gives them back
 * to its own configuration (IRQBALANCE_BANNED_CPULIST, isolated CPUs). */

#define IRQBALANCE_SOCKET_DIR "/run/irqbalance"

/* Parses a `setup` reply: the BANNED mask as a CPU list ("" when none), and
 * the sleep interval (seconds, 0 when absent; ret_sleep may be NULL).
 * -EBADMSG when the reply has no well-formed BANNED mask. */
int irqbalance_parse_setup(const char *reply, char **ret_banned_list, unsigned *ret_sleep);

/* The running irqbalance below the host's root: a process whose comm is
 * "irqbalance", preferring one whose socket is there; without a socket, on
 * systemd hosts with a v2 hierarchy the one in irqbalance.service's cgroup,
 * elsewhere any process. -ESRCH when none. */
int irqbalance_find(const Host *h, int *ret_pid);

/* The banned CPUs of the running irqbalance (ret_pid may be NULL).
 * -ESRCH: irqbalance does not run; -ENOENT: it runs but has no socket we can
 * reach (older than 1.2, or built without it); -ETIMEDOUT: it did not answer
 * within a second; -EBADMSG: an answer we do not understand. */
int irqbalance_read(const Host *h, char **ret_banned_list, int *ret_pid);
/* Bans list ("" = back to irqbalance's own configuration), then waits until
 * irqbalance shows it (its next rescan, bounded by its sleep interval). */
int irqbalance_write(const Host *h, const char *list, char **ret_detail);
