/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* Every kernel path is opened relative to a root directory fd, so that a
 * copy of a machine's files under any folder is a complete host. Paths are
 * given as the kernel shows them ("/proc/irq/24/smp_affinity_list"). */

int root_open(const char *root, int *ret_fd);
int root_openat(int root_fd, const char *path, int flags, int mode);

/* Whole file (kernel attributes: one bounded read loop, cap 16 MiB), with one
 * trailing newline stripped. -ENOENT / -ENOTDIR mean "absent". */
int read_attr(int root_fd, const char *path, char **ret);
/* The same for a file the kernel makes in one piece (a sysfs attribute, a
 * single_open procfs file such as /proc/PID/stat or an IRQ's
 * smp_affinity_list, a regular file): a read shorter than asked is the end,
 * so a small file costs one read, not two. Never for a seq_file of many
 * records (/proc/mounts, cgroup.procs), whose reads stop at any record. */
int read_small_attr(int root_fd, const char *path, char **ret);
/* Same as read_attr without stripping, with length. */
int read_file(int root_fd, const char *path, char **ret, size_t *ret_len);
static inline bool errno_is_absent(int r) { return r == -ENOENT || r == -ENOTDIR; }

/* Writes value plus newline in one write(2); EINTR retried, a short write is
 * -EIO. The file is truncated (no-op on sysfs/procfs, needed on fixtures). */
int write_attr(int root_fd, const char *path, const char *value);

/* The target of the symbolic link path itself (its last component is not
 * followed; earlier ones resolve inside the root), at most 4095 bytes. */
int read_link(int root_fd, const char *path, char **ret);

bool path_exists(int root_fd, const char *path);
bool is_dir(int root_fd, const char *path);
/* Entries of a directory except "." and "..", sorted by name. */
int list_dir(int root_fd, const char *path, StrList *ret);
/* Numeric entries of a directory (PIDs, IRQ numbers) in numeric order. */
int list_numeric(int root_fd, const char *path, StrList *ret);
/* Subdirectories of a directory, sorted by name (no symlinks followed). */
int list_subdirs(int root_fd, const char *path, StrList *ret);
/* The numbers of a tasks or cgroup.procs file, in file order; an unreadable
 * file gives none (and its error). */
int read_id_list(int root_fd, const char *file, int **ret, size_t *ret_n);
/* All of buf, retrying EINTR and short writes; a write that makes no
 * progress is -EIO. */
int write_full(int fd, const char *buf, size_t len);
/* "/a/b" -> "/a"; "/a" -> "/". Caller frees. */
char *path_parent(const char *path);
