/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dlfcn.h>

#include "dlopen-libvirt.h"
#include "util.h"

#if HAVE_LIBVIRT
#define LIBVIRT_DEFINE(name) __typeof__(name) *sym_##name;
LIBVIRT_SYMBOLS(LIBVIRT_DEFINE)
#undef LIBVIRT_DEFINE

int dlopen_libvirt(char **ret_error) {
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
        h = dlopen("libvirt.so.0", RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        if (!h) {
                failed = xasprintf("libvirt.so.0 cannot be loaded: %s (install libvirt0)", dlerror());
                return dlopen_libvirt(ret_error);
        }
#define LIBVIRT_RESOLVE(name)                                                                        \
        if (!(sym_##name = (__typeof__(name) *) dlsym(h, #name))) {                                   \
                failed = xasprintf("libvirt.so.0 has no %s: libvirt is too old", #name);               \
                dlclose(h);                                                                          \
                return dlopen_libvirt(ret_error);                                                    \
        }
        LIBVIRT_SYMBOLS(LIBVIRT_RESOLVE)
#undef LIBVIRT_RESOLVE
        handle = h;
        return 0;
}
#else
int dlopen_libvirt(char **ret_error) {
        if (ret_error)
                *ret_error = xstrdup("cpushield was built without libvirt support");
        return -EOPNOTSUPP;
}
#endif
