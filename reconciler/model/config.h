/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "config-model.h"

/* Loads and merges the files in order, resolves core selectors against the
 * host's topology and validates. On error *ret_error is one line,
 * "FILE:LINE:COLUMN: message", and nothing is returned. */
int config_load(char *const *files, size_t n_files, const Host *host, Config *ret, char **ret_error);
/* The same for one document already in memory, named name in messages; no
 * file checks (for tests and the fuzzer). */
int config_load_data(const char *name, const char *data, size_t len, const Host *host, Config *ret,
                     char **ret_error);
/* Whether a configuration file may be trusted: a regular file (opened
 * without blocking, so a FIFO cannot hang the run), at most
 * CONFIG_FILE_MAX bytes, owned by root or the running user, not writable
 * by group or others, in a directory with the same properties (or a
 * sticky root-owned one). On success *ret_data holds its contents. */
int config_read_trusted(const char *file, char **ret_data, size_t *ret_len, char **ret_error);
/* The default file list: cpushield.yaml then conf.d/NAME.yaml in name order. */
int config_default_files(StrList *ret);

