/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "cpuset.h"
#include "observed.h"
#include "ops.h"
#include "util.h"

/* Reads the live pins of a domain; a domain that is not running (or does
 * not exist) is not an error: ret->running is false. */
int libvirt_observe(const char *uri, const char *domain, DomainPins *ret, char **ret_error);
/* Pins one thread of a running domain, live. test:// URIs take flags 0 (the
 * test driver refuses VIR_DOMAIN_AFFECT_LIVE for pinning). */
int libvirt_pin(const char *uri, const char *domain, PinKind kind, unsigned id, const char *cpus, char **ret_detail);
