/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The state directory: trusting it and every parent on the way to it, its
 * lock, and the files in it, which are never opened through a symbolic
 * link. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "fs.h"
#include "journal-internal.h"

#define LOCK_FILE "lock"

/* ---- trusting the state directory --------------------------------------- */

/* Owned by root or us, and writable by nobody else. A parent may be
 * world-writable only when sticky and root's (/tmp, /dev/shm): nobody else
 * can then rename or remove what we own in it. */
static int check_trusted(const char *path, const struct stat *st, bool last, char **ret_error) {
        uid_t me = geteuid();

        if (!S_ISDIR(st->st_mode)) {
                *ret_error = xasprintf("state directory %s: %s is not a directory", last ? "" : "parent", path);
                return -ENOTDIR;
        }
        if (st->st_uid != 0 && st->st_uid != me) {
                *ret_error = xasprintf("state directory%s %s is owned by uid %u, not by root or uid %u: refused",
                                       last ? "" : " parent", path, (unsigned) st->st_uid, (unsigned) me);
                return -EPERM;
        }
        if ((st->st_mode & 022) && !(!last && (st->st_mode & S_ISVTX) && st->st_uid == 0)) {
                *ret_error = xasprintf("state directory%s %s is writable by %s (mode %04o): refused",
                                       last ? "" : " parent", path,
                                       (st->st_mode & 002) ? "others" : "its group", (unsigned) (st->st_mode & 07777));
                return -EPERM;
        }
        return 0;
}

/* One walk from / down to the state directory. */
typedef struct Walk {
        const char *dir; /* as the caller gave it, for messages */
        bool create;     /* make what is missing */
        char *todo;      /* the absolute path to walk, cut up in place */
        char *shown;     /* the part walked so far, for messages */
        int fd;          /* the directory reached so far */
        unsigned links;  /* symbolic links followed so far */
} Walk;

static void walk_done(Walk *w) {
        free(w->todo);
        free(w->shown);
        if (w->fd >= 0)
                close(w->fd);
}

/* The path to walk: dir, made absolute against the working directory. */
static int walk_path(const char *dir, char **ret, char **ret_error) {
        int r;

        if (!dir || !dir[0]) {
                *ret_error = xstrdup("state directory: empty path");
                return -EINVAL;
        }
        if (dir[0] == '/')
                *ret = xstrdup(dir);
        else {
                char cwd[4096];
                if (!getcwd(cwd, sizeof cwd)) {
                        r = -errno;
                        *ret_error = xasprintf("state directory %s: %s", dir, strerror(-r));
                        return r;
                }
                *ret = xasprintf("%s/%s", cwd, dir);
        }
        return 0;
}

/* (Re)starts the walk at /, which must be trusted too. */
static int walk_from_root(Walk *w, char **ret_error) {
        struct stat st;
        int r;

        if (w->fd >= 0)
                close(w->fd);
        w->fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (w->fd < 0 || fstat(w->fd, &st) < 0) {
                r = -errno;
                *ret_error = xasprintf("/: %s", strerror(-r));
                return r;
        }
        free(w->shown);
        w->shown = xstrdup("");
        return check_trusted("/", &st, false, ret_error);
}

/* Cuts the next component off p, in place. Returns it (NULL when nothing
 * is left) and in *ret_rest what follows it, NULL when it is the last. */
static char *next_component(char *p, char **ret_rest) {
        while (*p == '/')
                p++;
        if (!*p)
                return NULL;
        char *end = strchr(p, '/');
        char *rest = end;
        if (end) {
                *end = 0;
                rest = end + 1;
                while (*rest == '/')
                        rest++;
                if (!*rest)
                        rest = NULL;
        }
        *ret_rest = rest;
        return p;
}

/* Opens name below the directory reached, making it first when asked and
 * missing. *ret_nfd < 0 with errno saying why when it cannot be opened. */
static int open_child(Walk *w, const char *name, bool last, int *ret_nfd, char **ret_error) {
        int nfd = openat(w->fd, name, (last ? O_RDONLY : O_PATH) | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int r;

        if (nfd < 0 && errno == ENOENT && w->create) {
                if (mkdirat(w->fd, name, last ? 0700 : 0755) < 0 && errno != EEXIST) {
                        r = -errno;
                        *ret_error = xasprintf("state directory %s: cannot create %s: %s", w->dir, w->shown,
                                               strerror(-r));
                        return r;
                }
                nfd = openat(w->fd, name, (last ? O_RDONLY : O_PATH) | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        *ret_nfd = nfd;
        return 0;
}

/* name is a symbolic link: refused as the last component; in a parent, the
 * path to walk becomes its target and what was left after it. Returns 1:
 * walk again from /. */
static int follow_link(Walk *w, const char *name, const char *rest, char **ret_error) {
        char target[4096];
        ssize_t n;

        if (!rest) {
                *ret_error = xasprintf("state directory %s is a symbolic link: refused", w->dir);
                return -ELOOP;
        }
        n = readlinkat(w->fd, name, target, sizeof target - 1);
        if (n <= 0 || ++w->links > 32) {
                *ret_error = xasprintf("state directory %s: cannot resolve %s", w->dir, w->shown);
                return -ELOOP;
        }
        target[n] = 0;
        /* continue from the link's target, then what was left */
        char *next;
        if (target[0] == '/')
                next = xasprintf("%s/%s", target, strempty(rest));
        else {
                /* relative: to the directory holding the link */
                char *slash = strrchr(w->shown, '/');
                *slash = 0;
                next = xasprintf("%s/%s/%s", w->shown, target, strempty(rest));
        }
        free(w->todo);
        w->todo = next;
        return 1;
}

/* Goes down into name (rest: what follows it, NULL when it is the last) and
 * checks it. 0 when there, 1 when a symbolic link means walking again. */
static int walk_into(Walk *w, const char *name, const char *rest, char **ret_error) {
        bool last = !rest;
        struct stat st;
        int nfd = -1, r;

        if ((r = open_child(w, name, last, &nfd, ret_error)) < 0)
                return r;
        if (nfd < 0 && (errno == ELOOP || errno == ENOTDIR) &&
            fstatat(w->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
                return follow_link(w, name, rest, ret_error);
        if (nfd < 0) {
                r = -errno;
                if (r == -ENOENT && !w->create)
                        *ret_error = xasprintf("state directory %s: %s", w->dir, strerror(-r));
                else
                        *ret_error = xasprintf("state directory %s: %s: %s", w->dir, w->shown, strerror(-r));
                return r;
        }
        close(w->fd);
        w->fd = nfd;
        if (fstat(w->fd, &st) < 0) {
                r = -errno;
                *ret_error = xasprintf("%s: %s", w->shown, strerror(-r));
                return r;
        }
        return check_trusted(last ? w->dir : w->shown, &st, last, ret_error);
}

/* One walk from / down the path: 0 when the state directory is open in
 * w->fd, 1 when a symbolic link in a parent gave a new path to walk. */
static int walk(Walk *w, char **ret_error) {
        int r = walk_from_root(w, ret_error);

        if (r < 0)
                return r;
        for (char *p = w->todo, *rest;; p = rest) {
                p = next_component(p, &rest);
                if (!p) {
                        *ret_error = xasprintf("state directory %s: not a directory below /", w->dir);
                        return -EINVAL;
                }
                bool last = !rest;
                if (streq(p, ".") && !last)
                        continue;
                char *path = xasprintf("%s/%s", w->shown, p);
                free(w->shown);
                w->shown = path;

                if (streq(p, ".") || streq(p, "..")) {
                        *ret_error = xasprintf("state directory %s: '.' and '..' are not allowed in its path",
                                               w->dir);
                        return -EINVAL;
                }
                r = walk_into(w, p, rest, ret_error);
                if (r != 0 || last)
                        return r;
        }
}

/* Walks dir from / one component at a time with openat (symbolic links in
 * parents are followed by restarting from their target, so every directory
 * actually traversed is checked), creating what is missing if asked. */
int state_dir_open(const char *dir, bool create, int *ret_fd, char **ret_error) {
        _cleanup_(walk_done) Walk w = { .dir = dir, .create = create, .fd = -1 };
        int r;

        r = walk_path(dir, &w.todo, ret_error);
        if (r < 0)
                return r;
        do
                r = walk(&w, ret_error);
        while (r > 0);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(w.fd);
        return 0;
}

int state_lock(const char *dir, unsigned timeout_s, int *ret_lock_fd, char **ret_error) {
        _cleanup_close_ int dfd = -1;
        struct timespec start, now;
        struct stat st;
        int fd, r;

        r = state_dir_open(dir, true, &dfd, ret_error);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = xasprintf("%s/" LOCK_FILE, dir);
        fd = openat(dfd, LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
        if (fd < 0) {
                r = -errno;
                *ret_error = xasprintf("%s: %s", path, strerror(-r));
                return r;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                *ret_error = xasprintf("%s: not a regular file: refused", path);
                return -EPERM;
        }
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
                if (flock(fd, LOCK_EX | LOCK_NB) == 0)
                        break;
                if (errno != EWOULDBLOCK && errno != EINTR) {
                        r = -errno;
                        close(fd);
                        *ret_error = xasprintf("%s: %s", path, strerror(-r));
                        return r;
                }
                clock_gettime(CLOCK_MONOTONIC, &now);
                if (now.tv_sec - start.tv_sec >= (time_t) timeout_s) {
                        char holder[32] = "";
                        ssize_t n = pread(fd, holder, sizeof holder - 1, 0);
                        holder[n > 0 ? n : 0] = 0;
                        close(fd);
                        *ret_error = xasprintf("another cpushield run (pid %s) has held %s for %u s; giving up",
                                               holder[0] ? strstrip(holder) : "?", path, timeout_s);
                        return -EWOULDBLOCK;
                }
                struct timespec ts = { 0, 20 * 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
        char pid[32];
        int n = snprintf(pid, sizeof pid, "%d\n", (int) getpid());
        if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t) n, 0) < 0) {
                /* informational only */
        }
        *ret_lock_fd = fd;
        return 0;
}

/* ---- files in it --------------------------------------------------------- */

/* A state file: regular, not a link, bounded. -ENOENT when absent. */
int state_file_read(int dir_fd, const char *name, size_t max, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t len = 0;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if ((size_t) st.st_size > max)
                return -EFBIG;
        buf = xmalloc((size_t) st.st_size + 1);
        while (len < (size_t) st.st_size) {
                ssize_t n = read(fd, buf + len, (size_t) st.st_size - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        buf[len] = 0;
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

/* tmp file, fsync, rename; the tmp file never outlives a failure. */
int state_file_write_atomic(int dir_fd, const char *name, const char *content, size_t len) {
        _cleanup_free_ char *tmp = xasprintf("%s.tmp", name);
        int fd, r = 0;

        (void) unlinkat(dir_fd, tmp, 0);
        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        r = write_full(fd, content, len);
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && renameat(dir_fd, tmp, dir_fd, name) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlinkat(dir_fd, tmp, 0);
                return r;
        }
        (void) fsync(dir_fd);
        return 0;
}
