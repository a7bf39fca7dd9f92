/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fixture-files.h"
#include "fs.h"

static int open_parent(const Host *h, const char *path, const char **ret_base) {
        _cleanup_free_ char *dir = path_parent(path);
        const char *slash = strrchr(path, '/');

        if (!slash || !slash[1])
                return -EINVAL;
        *ret_base = slash + 1;
        return root_openat(h->root_fd, dir, O_RDONLY | O_DIRECTORY, 0);
}

/* A file that is a mount point (a read-only bind mount in a test) cannot be
 * renamed over: written in place, as the kernel's attribute would be. */
static int write_in_place(int fd, const char *content) {
        if (ftruncate(fd, 0) < 0)
                return -errno;
        return write_full(fd, content, strlen(content));
}

int fixture_write(const Host *h, const char *path, const char *content) {
        const char *base;
        _cleanup_close_ int dfd = open_parent(h, path, &base);

        if (dfd < 0)
                return dfd;
        return fixture_write_at(dfd, base, content);
}

int fixture_write_at(int dfd, const char *base, const char *content) {
        _cleanup_close_ int old = -1;
        _cleanup_free_ char *tmp = NULL;
        struct stat st;
        mode_t mode = 0644;
        int fd, r;

        if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                if (!S_ISREG(st.st_mode))
                        return -EINVAL;
                mode = st.st_mode & 07777;
                /* The error a write would get (EROFS, EACCES) comes first. */
                old = openat(dfd, base, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
                if (old < 0)
                        return -errno;
        }
        tmp = xasprintf(".%s.cpushield-tmp", base);
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        r = write_full(fd, content, strlen(content));
        if (r >= 0 && fchmod(fd, mode) < 0)
                r = -errno;
        close(fd);
        if (r >= 0 && renameat(dfd, tmp, dfd, base) < 0) {
                r = -errno;
                if (r == -EBUSY && old >= 0)
                        r = write_in_place(old, content);
        }
        if (r < 0)
                (void) unlinkat(dfd, tmp, 0); /* renamed away otherwise */
        return r;
}

int fixture_unlink(const Host *h, const char *path, int flags) {
        const char *base;
        _cleanup_close_ int dfd = open_parent(h, path, &base);

        if (dfd < 0)
                return dfd;
        return unlinkat(dfd, base, flags) < 0 ? -errno : 0;
}

int fixture_mkdir(const Host *h, const char *path) {
        const char *base;
        _cleanup_close_ int dfd = open_parent(h, path, &base);

        if (dfd < 0)
                return dfd;
        return mkdirat(dfd, base, 0755) < 0 ? -errno : 0;
}
