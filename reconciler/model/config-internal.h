/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What the configuration's files share; not part of the API, which is
 * config.h. No libyaml here: only config-yaml.h has it. */

#include "config-error.h"
#include "config-model.h"

/* config-document.c: parses one document, file's contents, into c (files
 * merge into one Config); *ret_error as config_load says. */
int config_parse_data(Config *c, const char *file, const char *data, size_t len, const Host *host,
                      char **ret_error);

/* config-validate.c: the checks across sections and files, once every file
 * is loaded, and the warnings they leave in c->warnings. */
int config_validate(Config *c, const Host *h, char **ret_error);
