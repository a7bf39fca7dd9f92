/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "fs.h"

#define MAX_FILE_SIZE (16u * 1024 * 1024)

int root_open(const char *root, int *ret_fd) {
        int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

static const char *relative(const char *path) {
        while (*path == '/')
                path++;
        return *path ? path : ".";
}

/* RESOLVE_IN_ROOT keeps absolute symlinks inside a fixture tree (a captured
 * /proc/self -> /proc/1234 stays in the tree); fall back to openat where
 * openat2 is missing (before Linux 5.6).
 *
 * openat2 fails with EAGAIN when a path walks ".." (every link under
 * /sys/bus/pci/devices does) while a rename or mount happens anywhere on the
 * machine; openat2(2) says to retry. Without the retry a busy host made a
 * vfio device look driverless for one run and its vectors moved. Bounded,
 * so a process renaming in a loop cannot keep us here. */
#define OPENAT2_EAGAIN_RETRIES 64

int root_openat(int root_fd, const char *path, int flags, int mode) {
        struct open_how how = {
                .flags = (unsigned long long) (flags | O_CLOEXEC),
                .mode = (unsigned long long) ((flags & O_CREAT) ? mode : 0),
                .resolve = RESOLVE_IN_ROOT,
        };
        int fd, tries = 0;

        do
                fd = (int) syscall(SYS_openat2, root_fd, relative(path), &how, sizeof how);
        while (fd < 0 && errno == EAGAIN && ++tries < OPENAT2_EAGAIN_RETRIES);
        if (fd < 0 && (errno == ENOSYS || errno == E2BIG))
                fd = openat(root_fd, relative(path), flags | O_CLOEXEC, mode);
        return fd < 0 ? -errno : fd;
}

/* one_record: a read shorter than asked is the end (see read_small_attr).
 * The first read goes to the stack: most kernel files are a few bytes, and
 * a run reads thousands of them, so the result is allocated at its size. */
static int read_whole(int root_fd, const char *path, bool one_record, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = root_openat(root_fd, path, O_RDONLY, 0);
        _cleanup_free_ char *buf = NULL;
        char first[4096];
        size_t len = 0, cap = sizeof first;
        ssize_t n;

        if (fd < 0)
                return fd;
        do
                n = read(fd, first, sizeof first);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        len = (size_t) n;
        if (n == 0 || (one_record && len < sizeof first)) {
                buf = xmalloc(len + 1);
                memcpy(buf, first, len);
                goto done;
        }
        buf = xmalloc(cap + 1);
        memcpy(buf, first, len);
        for (;;) {
                if (len == cap) {
                        if (cap >= MAX_FILE_SIZE)
                                return -EFBIG;
                        cap *= 2;
                        buf = xrealloc(buf, cap + 1);
                }
                n = read(fd, buf + len, cap - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t) n;
                if (one_record && len < cap)
                        break;
        }
done:
        buf[len] = 0;
        if (ret_len)
                *ret_len = len;
        *ret = TAKE_PTR(buf);
        return 0;
}

int read_file(int root_fd, const char *path, char **ret, size_t *ret_len) {
        return read_whole(root_fd, path, false, ret, ret_len);
}

static int read_stripped(int root_fd, const char *path, bool one_record, char **ret) {
        size_t len;
        char *buf;
        int r = read_whole(root_fd, path, one_record, &buf, &len);

        if (r < 0)
                return r;
        if (len > 0 && buf[len - 1] == '\n')
                buf[len - 1] = 0;
        *ret = buf;
        return 0;
}

int read_attr(int root_fd, const char *path, char **ret) {
        return read_stripped(root_fd, path, false, ret);
}

int read_small_attr(int root_fd, const char *path, char **ret) {
        return read_stripped(root_fd, path, true, ret);
}

int write_attr(int root_fd, const char *path, const char *value) {
        _cleanup_close_ int fd = root_openat(root_fd, path, O_WRONLY | O_TRUNC | O_NOCTTY, 0);
        _cleanup_free_ char *line = xasprintf("%s\n", value);
        size_t len = strlen(line);
        ssize_t n;

        if (fd < 0)
                return fd;
        do
                n = write(fd, line, len);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if ((size_t) n != len)
                return -EIO;
        return 0;
}

int read_link(int root_fd, const char *path, char **ret) {
        _cleanup_close_ int fd = root_openat(root_fd, path, O_PATH | O_NOFOLLOW, 0);
        char buf[4096];
        ssize_t n;

        if (fd < 0)
                return fd;
        n = readlinkat(fd, "", buf, sizeof buf - 1);
        if (n < 0)
                return errno == ENOENT ? -EINVAL : -errno; /* "": not a link */
        buf[n] = 0;
        *ret = xstrdup(buf);
        return 0;
}

bool path_exists(int root_fd, const char *path) {
        _cleanup_close_ int fd = root_openat(root_fd, path, O_PATH, 0);
        return fd >= 0;
}

bool is_dir(int root_fd, const char *path) {
        _cleanup_close_ int fd = root_openat(root_fd, path, O_PATH | O_DIRECTORY, 0);
        return fd >= 0;
}

/* Entries of a directory, sorted by name; only subdirectories if dirs_only
 * (by d_type, without opening each; no symlink followed). */
/* A directory below the root, for readdir. */
static int open_dir(int root_fd, const char *path, DIR **ret) {
        int fd = root_openat(root_fd, path, O_RDONLY | O_DIRECTORY, 0);

        if (fd < 0)
                return fd;
        *ret = fdopendir(fd);
        if (!*ret) {
                int r = -errno;
                close(fd);
                return r;
        }
        return 0;
}

static int list_entries(int root_fd, const char *path, bool dirs_only, StrList *ret) {
        StrList l = {};
        DIR *d;
        struct dirent *de;
        int r = open_dir(root_fd, path, &d);

        if (r < 0)
                return r;
        while ((de = readdir(d))) {
                struct stat st;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (dirs_only && de->d_type != DT_DIR &&
                    (de->d_type != DT_UNKNOWN || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                     !S_ISDIR(st.st_mode)))
                        continue;
                strlist_add(&l, de->d_name);
        }
        closedir(d);
        strlist_sort(&l);
        *ret = l;
        return 0;
}

int list_dir(int root_fd, const char *path, StrList *ret) {
        return list_entries(root_fd, path, false, ret);
}

typedef struct NumEntry {
        unsigned value;
        char *name;
} NumEntry;

static int cmp_num_entry(const void *a, const void *b) {
        unsigned x = ((const NumEntry *) a)->value, y = ((const NumEntry *) b)->value;
        return (x > y) - (x < y);
}

/* Numeric entries of a directory (PIDs, IRQ numbers) in numeric order: each
 * name parsed once, sorted by its number (/proc/irq of a big host has
 * thousands). */
int list_numeric(int root_fd, const char *path, StrList *ret) {
        NumEntry *e = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        DIR *d;
        int r = open_dir(root_fd, path, &d);

        if (r < 0)
                return r;
        while ((de = readdir(d))) {
                unsigned v;
                if (safe_atou(de->d_name, &v) < 0)
                        continue;
                if (n == cap) {
                        cap = cap ? cap * 2 : 64;
                        e = xrealloc(e, cap * sizeof(NumEntry));
                }
                e[n++] = (NumEntry) { v, xstrdup(de->d_name) };
        }
        closedir(d);
        if (n > 1)
                qsort(e, n, sizeof(NumEntry), cmp_num_entry);
        StrList l = { .v = xmalloc((n + 1) * sizeof(char *)), .n = n };
        for (size_t i = 0; i < n; i++)
                l.v[i] = e[i].name;
        l.v[n] = NULL;
        free(e);
        *ret = l;
        return 0;
}

int list_subdirs(int root_fd, const char *path, StrList *ret) {
        return list_entries(root_fd, path, true, ret);
}

int read_id_list(int root_fd, const char *file, int **ret, size_t *ret_n) {
        _cleanup_free_ char *s = NULL;
        char *save = NULL;
        int *ids = NULL, r = read_attr(root_fd, file, &s);
        size_t n = 0;

        if (r >= 0)
                for (char *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                        ids = xrealloc(ids, (n + 1) * sizeof(int));
                        ids[n++] = atoi(l);
                }
        *ret = ids;
        *ret_n = n;
        return r;
}

int write_full(int fd, const char *buf, size_t len) {
        while (len > 0) {
                ssize_t n = write(fd, buf, len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EIO;
                buf += n;
                len -= (size_t) n;
        }
        return 0;
}

char *path_parent(const char *path) {
        char *p = xstrdup(path), *slash = strrchr(p, '/');

        if (slash == p)
                p[1] = 0; /* "/run" -> "/" */
        else if (slash)
                *slash = 0;
        return p;
}
