/* SPDX-License-Identifier: GPL-2.0-or-later */
/* systemd backend: unit CPU lists through systemd's D-Bus API. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build-config.h"
#include "fs.h"
#include "systemd.h"
#include "util.h"

#if HAVE_SYSTEMD
#include <systemd/sd-bus.h>
#endif

const char *systemd_unit_section(const char *unit) {
        return endswith(unit, ".slice") ? "Slice" : endswith(unit, ".scope") ? "Scope" : "Service";
}

#if HAVE_SYSTEMD
/* One connection per process, opened at the first call: a run reads and
 * sets several units, and each new connection costs a socket, a connect
 * and the authentication exchange (16 of them in one activate before). A
 * connection whose peer hung up (dbus restarted under the watcher) or that
 * belongs to the parent of a fork is replaced. */
static sd_bus *shared_bus;
static pid_t shared_bus_pid;

static void bus_close(void) {
        shared_bus = sd_bus_flush_close_unref(shared_bus);
}

static int bus_get(sd_bus **ret) {
        int r;

        if (shared_bus && shared_bus_pid != getpid())
                shared_bus = NULL; /* the parent's: not ours to close */
        if (shared_bus) {
                /* reading what is pending notices a peer that hung up */
                while ((r = sd_bus_process(shared_bus, NULL)) > 0)
                        ;
                if (r < 0 || sd_bus_is_open(shared_bus) <= 0)
                        bus_close();
        }
        if (!shared_bus) {
                static bool registered;
                if ((r = sd_bus_open_system(&shared_bus)) < 0) {
                        shared_bus = NULL;
                        return r;
                }
                shared_bus_pid = getpid();
                if (!registered)
                        registered = atexit(bus_close) == 0;
        }
        *ret = shared_bus;
        return 0;
}

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

        r = bus_get(&bus);
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
                r = bus_get(&bus);
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
        }
#else
        r = -EOPNOTSUPP;
#endif
        return r;
}

/* Where systemd keeps what SetUnitProperties(runtime=true) writes: one
 * drop-in per property, in system.control for units with a unit file and
 * in transient for transient and perpetual units (init.scope). */
static const char *const runtime_dirs[] = { "/run/systemd/system.control", "/run/systemd/transient" };
static bool reload_pending;

/* The drop-in systemd writes for an empty AllowedCPUs: comments, a section
 * line and "AllowedCPUs=" resets. It has no effect; anything else in the
 * file is somebody's setting and keeps it. */
static bool dropin_only_resets(const char *s) {
        while (*s) {
                size_t n = strcspn(s, "\n");
                _cleanup_free_ char *l = strndup(s, n);

                if (!l)
                        return false;
                if (l[0] && l[0] != '#' && l[0] != ';' && !(l[0] == '[' && l[n - 1] == ']') &&
                    !streq(l, "AllowedCPUs="))
                        return false;
                s += n + (s[n] == '\n');
        }
        return true;
}

/* An open directory or file systemd owns: root's, not writable by others,
 * not a symlink (O_NOFOLLOW at open). */
static bool owned_by_root(int fd, mode_t type) {
        struct stat st;

        return fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == type && st.st_uid == 0 &&
               !(st.st_mode & (S_IWGRP | S_IWOTH));
}

/* Removes DIR/UNIT.d/50-AllowedCPUs.conf when it only resets the property,
 * then UNIT.d and (system.control only) DIR when that left them empty.
 * 1 when removed, 0 when there was nothing of ours, < 0 on error. */
static int dropin_remove_in(int root_fd, const char *dir, const char *unit) {
        _cleanup_free_ char *sub = xasprintf("%s.d", unit);
        _cleanup_close_ int dfd = -1, ufd = -1, fd = -1;
        char buf[4096];
        ssize_t n;

        dfd = root_openat(root_fd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
        if (dfd < 0)
                return errno_is_absent(dfd) ? 0 : dfd;
        ufd = openat(dfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (ufd < 0)
                return errno == ENOENT ? 0 : -errno;
        fd = openat(ufd, "50-AllowedCPUs.conf", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!owned_by_root(dfd, S_IFDIR) || !owned_by_root(ufd, S_IFDIR) || !owned_by_root(fd, S_IFREG))
                return -EPERM;
        n = read(fd, buf, sizeof buf - 1);
        if (n < 0)
                return -errno;
        if ((size_t) n == sizeof buf - 1)
                return 0; /* not what systemd writes for a reset */
        buf[n] = 0;
        if (!dropin_only_resets(buf))
                return 0;
        if (unlinkat(ufd, "50-AllowedCPUs.conf", 0) < 0)
                return -errno;
        if (unlinkat(dfd, sub, AT_REMOVEDIR) == 0 && streq(dir, runtime_dirs[0])) {
                _cleanup_close_ int pfd = root_openat(root_fd, "/run/systemd", O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
                if (pfd >= 0)
                        (void) unlinkat(pfd, "system.control", AT_REMOVEDIR); /* kept unless empty */
        }
        return 1;
}

int systemd_unit_dropin_forget(int root_fd, const char *unit) {
        for (size_t i = 0; i < ELEMENTSOF(runtime_dirs); i++) {
                int r = dropin_remove_in(root_fd, runtime_dirs[i], unit);
                if (r < 0)
                        return r;
                if (r > 0)
                        reload_pending = true;
        }
        return 0;
}

int systemd_reload_if_needed(char **ret_detail) {
        int r = 0;

        if (!reload_pending)
                return 0;
        reload_pending = false;
#if HAVE_SYSTEMD
        {
                sd_bus *bus = NULL;
                sd_bus_message *m = NULL, *reply = NULL;
                sd_bus_error err = SD_BUS_ERROR_NULL;

                r = bus_get(&bus);
                if (r >= 0)
                        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                                           "org.freedesktop.systemd1.Manager", "Reload");
                /* systemd answers once the reload is done: seconds on a busy host */
                if (r >= 0)
                        r = sd_bus_call(bus, m, 120 * 1000000ULL, &err, &reply);
                if (r < 0)
                        *ret_detail = xasprintf("systemd daemon-reload (after removing cpushield's runtime drop-ins): %s",
                                                sd_bus_error_is_set(&err) ? err.message : strerror(-r));
                sd_bus_message_unref(m);
                sd_bus_message_unref(reply);
                sd_bus_error_free(&err);
        }
#endif
        return r;
}
