/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The configuration's API: reading its files (only trusted ones), loading
 * and merging them, the default file list. Parsing is in config-document.c
 * (one document), config-sections.c and config-yaml.c, the checks across
 * sections in config-validate.c, lookups and freeing in config-model.c. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "config-internal.h"
#include "config.h"

static int check_owner_mode(const char *what, const char *path, const struct stat *st, bool sticky_ok,
                            char **ret_error) {
        uid_t me = geteuid();

        if (st->st_uid != 0 && st->st_uid != me)
                return fail_loc(ret_error, (Loc) { path, 0, 0 },
                                "%s is owned by uid %u, not by root or uid %u: refused", what, (unsigned) st->st_uid,
                                (unsigned) me),
                       -EPERM;
        if ((st->st_mode & 022) && !(sticky_ok && (st->st_mode & S_ISVTX) && st->st_uid == 0))
                return fail_loc(ret_error, (Loc) { path, 0, 0 },
                                "%s is writable by %s (mode %04o): refused (chmod go-w %s)", what,
                                (st->st_mode & 002) ? "others" : "its group", (unsigned) (st->st_mode & 07777), path),
                       -EPERM;
        return 0;
}

int config_read_trusted(const char *file, char **ret_data, size_t *ret_len, char **ret_error) {
        _cleanup_close_ int fd = -1, dfd = -1;
        _cleanup_free_ char *data = NULL, *real = NULL;
        struct stat st;
        size_t len = 0;
        int r;

        /* O_NONBLOCK: opening a FIFO must not wait for a writer */
        fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 || fstat(fd, &st) < 0) {
                r = -errno;
                return fail_loc(ret_error, (Loc) { file, 0, 0 }, "%s", strerror(-r)), r;
        }
        if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3) {
                /* /dev/null: the usual way to say "an empty configuration" */
                *ret_data = xstrdup("");
                *ret_len = 0;
                return 0;
        }
        if (!S_ISREG(st.st_mode))
                return fail_loc(ret_error, (Loc) { file, 0, 0 }, "not a regular file (%s): refused",
                                S_ISFIFO(st.st_mode) ? "a FIFO" : S_ISDIR(st.st_mode) ? "a directory"
                                : S_ISSOCK(st.st_mode) ? "a socket" : "a device"),
                       -EINVAL;
        if ((r = check_owner_mode("the configuration file", file, &st, false, ret_error)) < 0)
                return r;
        /* the directory holding it (conf.d too): nobody else may swap it */
        real = realpath(file, NULL);
        if (real) {
                char *slash = strrchr(real, '/');
                if (slash == real)
                        slash[1] = 0;
                else
                        *slash = 0;
                dfd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd >= 0 && fstat(dfd, &st) == 0 &&
                    (r = check_owner_mode("its directory", real, &st, true, ret_error)) < 0)
                        return r;
        }
        data = xmalloc(CONFIG_FILE_MAX + 2);
        for (;;) {
                ssize_t n = read(fd, data + len, CONFIG_FILE_MAX + 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = -errno;
                        return fail_loc(ret_error, (Loc) { file, 0, 0 }, "%s", strerror(-r)), r;
                }
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len > CONFIG_FILE_MAX)
                        return fail_loc(ret_error, (Loc) { file, 0, 0 }, "larger than %u bytes: refused",
                                        CONFIG_FILE_MAX),
                               -EFBIG;
        }
        data[len] = 0;
        *ret_data = TAKE_PTR(data);
        *ret_len = len;
        return 0;
}

static int load_file(Config *c, const char *file, const Host *host, char **ret_error) {
        _cleanup_free_ char *data = NULL;
        size_t len;
        int r = config_read_trusted(file, &data, &len, ret_error);

        if (r < 0)
                return r;
        return config_parse_data(c, file, data, len, host, ret_error);
}


int config_load(char *const *files, size_t n_files, const Host *host, Config *ret, char **ret_error) {
        Config c = {};
        int r;

        if (n_files == 0) {
                *ret_error = xstrdup("no configuration file given");
                return -EINVAL;
        }
        for (size_t i = 0; i < n_files; i++)
                strlist_add(&c.files, files[i]);
        for (size_t i = 0; i < n_files; i++) {
                r = load_file(&c, c.files.v[i], host, ret_error);
                if (r < 0)
                        goto fail;
        }
        if (!c.partition)
                c.partition = xstrdup(CONFIG_DEFAULT_PARTITION);
        r = config_validate(&c, host, ret_error);
        if (r < 0)
                goto fail;
        *ret = c;
        return 0;
fail:
        config_free(&c);
        return r;
}

int config_load_data(const char *name, const char *data, size_t len, const Host *host, Config *ret,
                     char **ret_error) {
        Config c = {};
        int r;

        strlist_add(&c.files, name);
        r = config_parse_data(&c, c.files.v[0], data, len, host, ret_error);
        if (r >= 0) {
                if (!c.partition)
                        c.partition = xstrdup(CONFIG_DEFAULT_PARTITION);
                r = config_validate(&c, host, ret_error);
        }
        if (r < 0) {
                config_free(&c);
                return r;
        }
        *ret = c;
        return 0;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int config_default_files(StrList *ret) {
        StrList l = {}, drop = {};
        DIR *d;

        strlist_add(&l, CONFIG_DEFAULT_FILE);
        d = opendir(CONFIG_DEFAULT_DIR);
        if (d) {
                struct dirent *de;
                while ((de = readdir(d))) {
                        size_t n = strlen(de->d_name);
                        if (de->d_name[0] != '.' && n > 5 && streq(de->d_name + n - 5, ".yaml"))
                                strlist_addf(&drop, "%s/%s", CONFIG_DEFAULT_DIR, de->d_name);
                }
                closedir(d);
        }
        if (drop.n > 1)
                qsort(drop.v, drop.n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < drop.n; i++)
                strlist_add(&l, drop.v[i]);
        strlist_free(&drop);
        *ret = l;
        return 0;
}





