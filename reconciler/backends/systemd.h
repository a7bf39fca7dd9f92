/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "cpuset.h"

/* systemd's D-Bus API: a unit's AllowedCPUs, read and set at runtime
 * (SetUnitProperties with runtime=true), never by writing the unit's cgroup. */
int systemd_unit_cpus_read(const char *unit, char **ret);
int systemd_unit_cpus_write(const char *unit, const CpuSet *cpus, const char *value, char **ret_detail);
/* "Slice", "Scope" or "Service": the unit's interface and drop-in section. */
const char *systemd_unit_section(const char *unit);
