/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What the configuration's files share; not part of the API, which is
 * config.h. No libyaml here: only config-yaml.h has it. */

#include <stdarg.h>

#include "config.h"

/* config-yaml.c: parses one document, file's contents, into c (files
 * merge into one Config); *ret_error as config_load says. */
int config_parse_data(Config *c, const char *file, const char *data, size_t len, const Host *host,
                      char **ret_error);

/* config-validate.c: the checks across sections and files, once every file
 * is loaded, and the warnings they leave in c->warnings. */
int config_validate(Config *c, const Host *h, char **ret_error);

/* config-yaml.c: sets *error, unless it is set already, to the one line
 * "FILE:LINE:COLUMN: message" ("FILE: message" when l.line is 0), control
 * characters escaped. Returns -EINVAL. */
__attribute__((format(printf, 3, 0))) int config_fail_at(char **error, Loc l, const char *fmt, va_list ap);

_printf_(3, 4) static inline int fail_loc(char **error, Loc l, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = config_fail_at(error, l, fmt, ap);
        va_end(ap);
        return r;
}
