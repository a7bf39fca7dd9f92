/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The hook and the watcher read a started domain's XML: the configuration
 * and the domain's <cputune> are two sources of truth for the same pins,
 * and a disagreement between them is said once, when the domain starts. */
#include <stdio.h>

#include "domain-check.h"
#include "domain-xml.h"

void domain_check(const char *who, const Vm *vm, const char *xml, size_t len, StrList *ret_hostdevs) {
        _cleanup_free_ char *error = NULL, *what = NULL;
        DomainXml d = {};

        if (!xml || len == 0)
                return;
        if (domain_xml_parse(xml, len, &d, &error) < 0) {
                fprintf(stderr, "cpushield: %s: warning: %s; its <cputune> was not compared with the configuration\n",
                        who, error);
                return;
        }
        if (d.name && !streq(d.name, vm->domain))
                fprintf(stderr, "cpushield: %s: warning: the domain XML names domain '%s', not '%s'; not compared\n",
                        who, d.name, vm->domain);
        else if ((what = domain_xml_disagreement(&d, vm)))
                fprintf(stderr, "cpushield: %s: warning: %s\n", who, what);
        for (size_t i = 0; ret_hostdevs && d.name && streq(d.name, vm->domain) && i < d.hostdevs.n; i++)
                strlist_add(ret_hostdevs, d.hostdevs.v[i]);
        domain_xml_free(&d);
}
