/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include "host.h"

int fixture_enable_cpuset(const Host *h, const char *subtree_file, bool enable);
int fixture_mkdir_cgroup(const Host *h, const char *dir);
int fixture_rmdir_cgroup(const Host *h, const char *dir);
int fixture_move_task(const Host *h, const char *src_dir, const char *dst_dir, int tid);
void fixture_move_processes(const Host *h, const char *src_dir, const char *dst_dir, const int *tgids, size_t n,
                            int *ret_err);
