/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dlfcn.h>

#include "dlopen-util.h"
#include "util.h"

int dlopen_symbols(DlLibrary *lib, const DlSym *syms, size_t n, char **ret_error) {
        void *h;

        if (lib->handle)
                return 0;
        if (!lib->failed) {
                h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
                if (!h)
                        lib->failed = xasprintf("%s cannot be loaded: %s (install %s)", lib->soname, dlerror(),
                                                lib->package);
                for (size_t i = 0; h && i < n; i++)
                        if (!(*syms[i].slot = dlsym(h, syms[i].name))) {
                                lib->failed = xasprintf("%s has no %s: %s is too old", lib->soname, syms[i].name,
                                                        lib->package);
                                dlclose(h);
                                h = NULL;
                        }
                if (h) {
                        lib->handle = h;
                        return 0;
                }
        }
        if (ret_error)
                *ret_error = xstrdup(lib->failed);
        return -EOPNOTSUPP;
}
