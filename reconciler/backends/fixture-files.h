/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "host.h"

/* File operations of the fixture simulator, below the host's root. */

/* Replaces (or creates, mode 0644) path with content atomically: a temporary
 * file beside it, then rename, so a run killed at any instant leaves either
 * the old or the new content, never an empty attribute. */
int fixture_write(const Host *h, const char *path, const char *content);
/* The same for the file base in the directory dfd (several files of one
 * directory, one lookup of it). */
int fixture_write_at(int dfd, const char *base, const char *content);
int fixture_unlink(const Host *h, const char *path, int flags);
int fixture_mkdir(const Host *h, const char *path);
