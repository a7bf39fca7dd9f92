/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "dlopen-libxml2.h"
#include "dlopen-util.h"
#include "util.h"

#if HAVE_LIBXML2
#define LIBXML2_DEFINE(name) __typeof__(name) *sym_##name;
LIBXML2_SYMBOLS(LIBXML2_DEFINE)
#undef LIBXML2_DEFINE
xmlFreeFunc *sym_xmlFree;

int dlopen_libxml2(char **ret_error) {
#define LIBXML2_DLSYM(name) { #name, (void **) &sym_##name },
        /* xmlFree is a variable holding the deallocator: its address is sym_xmlFree */
        static const DlSym syms[] = { LIBXML2_SYMBOLS(LIBXML2_DLSYM) LIBXML2_DLSYM(xmlFree) };
#undef LIBXML2_DLSYM
        static DlLibrary lib = { .soname = "libxml2.so.2", .package = "libxml2" };

        return dlopen_symbols(&lib, syms, ELEMENTSOF(syms), ret_error);
}
#else
int dlopen_libxml2(char **ret_error) {
        if (ret_error)
                *ret_error = xstrdup("cpushield was built without libxml2 support");
        return -EOPNOTSUPP;
}
#endif
