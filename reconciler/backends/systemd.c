/* SPDX-License-Identifier: GPL-2.0-or-later */
/* systemd backend: unit CPU lists through systemd's D-Bus API. */
#include <stdio.h>

#include "build-config.h"
#include "systemd.h"
#include "util.h"

#if HAVE_SYSTEMD
#include <systemd/sd-bus.h>
#endif

const char *systemd_unit_section(const char *unit) {
        return endswith(unit, ".slice") ? "Slice" : endswith(unit, ".scope") ? "Scope" : "Service";
}

#if HAVE_SYSTEMD
static int bus_unit_path(sd_bus *bus, const char *unit, char **ret) {
        sd_bus_error err = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *path;
        int r;

        r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "LoadUnit", &err, &reply, "s", unit);
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &path);
        if (r >= 0)
                *ret = xstrdup(path);
        sd_bus_message_unref(reply);
        sd_bus_error_free(&err);
        return r;
}
#endif

int systemd_unit_cpus_read(const char *unit, char **ret) {
#if HAVE_SYSTEMD
        sd_bus *bus = NULL;
        sd_bus_error err = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        _cleanup_free_ char *path = NULL, *iface = xasprintf("org.freedesktop.systemd1.%s", systemd_unit_section(unit));
        const void *bytes;
        size_t n;
        int r;

        r = sd_bus_open_system(&bus);
        if (r >= 0)
                r = bus_unit_path(bus, unit, &path);
        if (r >= 0)
                r = sd_bus_get_property(bus, "org.freedesktop.systemd1", path, iface, "AllowedCPUs", &err, &reply, "ay");
        if (r >= 0)
                r = sd_bus_message_read_array(reply, 'y', &bytes, &n);
        if (r >= 0) {
                CpuSet s = {};
                for (size_t i = 0; i < n * 8; i++)
                        if (((const unsigned char *) bytes)[i / 8] & (1u << (i % 8)))
                                (void) cpuset_add(&s, (unsigned) i);
                *ret = cpuset_format_list(&s);
                cpuset_free(&s);
        }
        sd_bus_message_unref(reply);
        sd_bus_error_free(&err);
        sd_bus_flush_close_unref(bus);
        return r;
#else
        return -EOPNOTSUPP;
#endif
}

int systemd_unit_cpus_write(const char *unit, const CpuSet *cpus, const char *value, char **ret_detail) {
        int r;

#if HAVE_SYSTEMD
        {
                sd_bus *bus = NULL;
                sd_bus_message *m = NULL, *reply = NULL;
                sd_bus_error err = SD_BUS_ERROR_NULL;
                int last = cpuset_last(cpus);
                size_t nbytes = last < 0 ? 0 : (size_t) last / 8 + 1;
                _cleanup_free_ unsigned char *bytes = xcalloc(nbytes + 1, 1);

                CPUSET_FOREACH(c, cpus)
                        bytes[c / 8] |= (unsigned char) (1u << (c % 8));
                r = sd_bus_open_system(&bus);
                if (r >= 0)
                        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                                           "org.freedesktop.systemd1.Manager", "SetUnitProperties");
                if (r >= 0)
                        r = sd_bus_message_append(m, "sb", unit, 1);
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "(sv)");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'r', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "AllowedCPUs");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', "ay");
                if (r >= 0)
                        r = sd_bus_message_append_array(m, 'y', bytes, nbytes);
                for (int i = 0; i < 3 && r >= 0; i++)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_call(bus, m, 0, &err, &reply);
                if (r < 0 && sd_bus_error_is_set(&err))
                        *ret_detail = xasprintf("systemd SetUnitProperties(%s, AllowedCPUs=%s): %s", unit, value, err.message);
                sd_bus_message_unref(m);
                sd_bus_message_unref(reply);
                sd_bus_error_free(&err);
                sd_bus_flush_close_unref(bus);
        }
#else
        r = -EOPNOTSUPP;
#endif
        return r;
}
