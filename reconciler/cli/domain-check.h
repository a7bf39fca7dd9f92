/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "config.h"

/* A started domain's XML (the hook's standard input, or libvirt's answer to
 * the watcher) against vm's configuration: one warning on stderr, prefixed
 * with who, where its <cputune> pins disagree, naming both values; one if
 * the XML cannot be read. Its <hostdev type='pci'> addresses are added to
 * ret_hostdevs (may be NULL). Never fails: the domain starts either way. */
void domain_check(const char *who, const Vm *vm, const char *xml, size_t len, StrList *ret_hostdevs);
