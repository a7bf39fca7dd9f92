/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What journal.c and state-dir.c share; not part of the
 * API, which is journal.h. */

#include "journal.h"

#define JOURNAL_FILE "journal"
#define ACTIVE_FILE "active"
#define DEVICES_FILE "devices"

/* state-dir.c: files in the state directory dir_fd (from state_dir_open),
 * never opened through a symbolic link. */

/* A regular file of at most max bytes: -ENOENT when absent, -EBADFD when
 * not a regular file, -EFBIG when larger. */
int state_file_read(int dir_fd, const char *name, size_t max, char **ret, size_t *ret_len);
/* Writes name whole: tmp file, fsync, rename; the tmp file never outlives
 * a failure. */
int state_file_write_atomic(int dir_fd, const char *name, const char *content, size_t len);
