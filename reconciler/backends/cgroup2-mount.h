/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A new descriptor of the cgroup2 hierarchy's root, through a detached
 * mount made once per run (cgroup2-mount.c), for a host whose root is
 * root_fd ("/") and that mounts no cgroup2; the caller closes it. -errno
 * when it cannot be had (before Linux 5.2, no privilege, the run in a
 * cgroup below the root). */
int cgroup2_root_open(int root_fd);
