/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>

/* Optional libraries loaded with dlopen() by the runs that need them
 * (libvirt, libxml2): one table of symbols each, resolved all at once. */

typedef struct DlSym {
        const char *name;
        void **slot; /* where the symbol's address goes: (void **) &sym_NAME */
} DlSym;

typedef struct DlLibrary {
        const char *soname;  /* "libvirt.so.0" */
        const char *package; /* named in the error: "libvirt0" */
        void *handle;        /* set once every symbol resolved */
        char *failed;        /* why it cannot be used, once tried */
} DlLibrary;

/* 0 once lib->soname and every symbol are there; -EOPNOTSUPP with
 * *ret_error (may be NULL) otherwise. Tries at most once per library. */
int dlopen_symbols(DlLibrary *lib, const DlSym *syms, size_t n, char **ret_error);
