/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A libvirt domain's XML, as the hook receives it on standard input and the
 * watcher gets it from libvirt: the pins of its <cputune> and its
 * passed-through PCI devices (<hostdev type='pci'>). The text is untrusted:
 * bounded, parsed without network access or entity substitution. */

#include "config-model.h"

#define DOMAIN_XML_MAX (4u << 20) /* bytes */
#define DOMAIN_XML_PINS_MAX 4096u /* vcpupin or iothreadpin elements */

typedef struct XmlPin {
        unsigned id;  /* vCPU or IOThread */
        char *cpuset; /* as written: "1-3,^2" */
        CpuSet cpus;
        bool valid;   /* cpuset parsed */
} XmlPin;

typedef struct DomainXml {
        char *name;
        bool has_cputune;
        XmlPin *vcpu, *iothread;
        size_t n_vcpu, n_iothread;
        bool has_emulator;
        XmlPin emulator;
        StrList hostdevs; /* PCI addresses, kernel form */
} DomainXml;

/* 0 and *ret, or -EINVAL / -EOPNOTSUPP (no libxml2) with *ret_error. */
int domain_xml_parse(const char *xml, size_t len, DomainXml *ret, char **ret_error);
void domain_xml_free(DomainXml *d);
/* One line naming both values of every pin where the domain's <cputune>
 * and vm's configuration disagree, or NULL when they agree. Pins the
 * configuration does not give are checked against the VM's CPUs; pins the
 * domain does not give count only when its <cputune> pins something. */
char *domain_xml_disagreement(const DomainXml *d, const Vm *vm);
