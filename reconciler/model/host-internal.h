/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Shared by the files that read the host (host.c, host-irqs.c,
 * host-power.c); nothing outside model/ includes it. */
#include "host.h"

int host_read_cpuset_list(int root_fd, const char *path, CpuSet *ret);
int host_read_int(int root_fd, const char *path, int *ret);
unsigned long host_read_ulong_or(int root_fd, const char *path, unsigned long dflt);
char *host_read_str_or_null(int root_fd, const char *path);

void host_load_irqs(Host *h);
/* HOST_REPORT, loaded after the IRQ details or power: their names. */
void host_load_irq_names(Host *h);
void host_load_idle_names(Host *h);
void host_load_power(Host *h);
void host_free_power(Host *h);
/* Power read for a plan's CPUs only is dropped, to be read in full. */
void host_unscope_power(Host *h);
