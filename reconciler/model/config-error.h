/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdarg.h>

#include "config-model.h"

/* Sets *error, unless it is set already, to the one line
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
