/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dlfcn.h>

#include "dlopen-libxml2.h"
#include "util.h"

#if HAVE_LIBXML2
#define LIBXML2_DEFINE(name) __typeof__(name) *sym_##name;
LIBXML2_SYMBOLS(LIBXML2_DEFINE)
#undef LIBXML2_DEFINE
xmlFreeFunc *sym_xmlFree;

int dlopen_libxml2(char **ret_error) {
        static void *handle;
        static char *failed;
        void *h;

        if (handle)
                return 0;
        if (failed) {
                if (ret_error)
                        *ret_error = xstrdup(failed);
                return -EOPNOTSUPP;
        }
        h = dlopen("libxml2.so.2", RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        if (!h) {
                failed = xasprintf("libxml2.so.2 cannot be loaded: %s (install libxml2)", dlerror());
                return dlopen_libxml2(ret_error);
        }
#define LIBXML2_RESOLVE(name)                                                                        \
        if (!(sym_##name = (__typeof__(name) *) dlsym(h, #name))) {                                   \
                failed = xasprintf("libxml2.so.2 has no %s", #name);                                   \
                dlclose(h);                                                                          \
                return dlopen_libxml2(ret_error);                                                    \
        }
        LIBXML2_SYMBOLS(LIBXML2_RESOLVE)
#undef LIBXML2_RESOLVE
        sym_xmlFree = (xmlFreeFunc *) dlsym(h, "xmlFree");
        if (!sym_xmlFree) {
                failed = xstrdup("libxml2.so.2 has no xmlFree");
                dlclose(h);
                return dlopen_libxml2(ret_error);
        }
        handle = h;
        return 0;
}
#else
int dlopen_libxml2(char **ret_error) {
        if (ret_error)
                *ret_error = xstrdup("cpushield was built without libxml2 support");
        return -EOPNOTSUPP;
}
#endif
