/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "cpuset.h"

/* systemd's D-Bus API: a unit's AllowedCPUs, read and set at runtime
 * (SetUnitProperties with runtime=true), never by writing the unit's cgroup. */
int systemd_unit_cpus_read(const char *unit, char **ret);
int systemd_unit_cpus_write(const char *unit, const CpuSet *cpus, const char *value, char **ret_detail);
/* "Slice", "Scope" or "Service": the unit's interface and drop-in section. */
const char *systemd_unit_section(const char *unit);
/* After a unit's AllowedCPUs was set back to empty: removes the runtime
 * drop-in systemd wrote for it (in /run/systemd/system.control or
 * /run/systemd/transient) when all it does is reset the property, so that
 * the unit's drop-ins are what they were before cpushield. systemd then
 * needs a reload to forget the file: systemd_reload_if_needed, once per run. */
int systemd_unit_dropin_forget(int root_fd, const char *unit);
/* Manager.Reload (daemon-reload) when a drop-in was removed since the last call. */
int systemd_reload_if_needed(char **ret_detail);
