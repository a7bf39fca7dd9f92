/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "dlopen-libvirt.h"
#include "dlopen-util.h"
#include "util.h"

#if HAVE_LIBVIRT
#define LIBVIRT_DEFINE(name) __typeof__(name) *sym_##name;
LIBVIRT_SYMBOLS(LIBVIRT_DEFINE)
#undef LIBVIRT_DEFINE

int dlopen_libvirt(char **ret_error) {
#define LIBVIRT_DLSYM(name) { #name, (void **) &sym_##name },
        static const DlSym syms[] = { LIBVIRT_SYMBOLS(LIBVIRT_DLSYM) };
#undef LIBVIRT_DLSYM
        static DlLibrary lib = { .soname = "libvirt.so.0", .package = "libvirt0" };

        return dlopen_symbols(&lib, syms, ELEMENTSOF(syms), ret_error);
}
#else
int dlopen_libvirt(char **ret_error) {
        if (ret_error)
                *ret_error = xstrdup("cpushield was built without libvirt support");
        return -EOPNOTSUPP;
}
#endif
