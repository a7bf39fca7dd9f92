/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one shape of a configuration error: "FILE:LINE:COLUMN: message". */
#include <stdio.h>

#include "config-error.h"

/* Errors are one line, whatever a quoted value held: control characters
 * are shown escaped. */
static char *one_line(const char *s) {
        char *out = xmalloc(strlen(s) * 4 + 1), *p = out;

        for (; *s; s++) {
                unsigned char ch = (unsigned char) *s;
                if (ch == '\n')
                        p += sprintf(p, "\\n");
                else if (ch == '\t')
                        p += sprintf(p, "\\t");
                else if (ch < 0x20 || ch == 0x7f)
                        p += sprintf(p, "\\x%02x", ch);
                else
                        *p++ = (char) ch;
        }
        *p = 0;
        return out;
}

int config_fail_at(char **error, Loc l, const char *fmt, va_list ap) {
        _cleanup_free_ char *msg = NULL;

        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        if (!*error) {
                _cleanup_free_ char *line = l.line ? xasprintf("%s:%u:%u: %s", l.file, l.line, l.column, msg)
                                                   : xasprintf("%s: %s", l.file, msg);
                *error = one_line(line);
        }
        return -EINVAL;
}
