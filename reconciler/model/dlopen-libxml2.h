/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "build-config.h"

#if HAVE_LIBXML2
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

/* libxml2 is loaded with dlopen only by the runs that read a domain's XML
 * (the hook at a domain's start, the watcher when a domain started), like
 * libvirt: on Debian it brings ICU and libstdc++ along, which every other
 * run (plan, the timer's apply) would otherwise load for nothing. Call
 * through sym_NAME after dlopen_libxml2() returned 0. */
#define LIBXML2_SYMBOLS(X) \
        X(xmlReadMemory) X(xmlFreeDoc) X(xmlDocGetRootElement) X(xmlGetProp) X(xmlGetLastError) X(xmlResetLastError)

#define LIBXML2_DECLARE(name) extern __typeof__(name) *sym_##name;
LIBXML2_SYMBOLS(LIBXML2_DECLARE)
#undef LIBXML2_DECLARE
/* libxml2's xmlFree is a variable holding the deallocator. */
extern xmlFreeFunc *sym_xmlFree;
#endif

/* 0 once libxml2.so.2 and every symbol are there; -EOPNOTSUPP with
 * *ret_error (may be NULL) otherwise. Loads at most once per process. */
int dlopen_libxml2(char **ret_error);
