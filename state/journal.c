/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "fs.h"
#include "journal.h"

#define JOURNAL_FILE "journal"
#define ACTIVE_FILE "active"
#define LOCK_FILE "lock"
#define MAGIC "cpushield-journal 1"

char *journal_escape(const char *s) {
        char *out = xmalloc(strlen(s) * 4 + 1), *p = out;

        for (; *s; s++)
                switch (*s) {
                case '\t':
                        *p++ = '\\', *p++ = 't';
                        break;
                case '\n':
                        *p++ = '\\', *p++ = 'n';
                        break;
                case '\\':
                        *p++ = '\\', *p++ = '\\';
                        break;
                default:
                        if ((unsigned char) *s < 0x20 || *s == 0x7f)
                                p += sprintf(p, "\\x%02x", (unsigned char) *s);
                        else
                                *p++ = *s;
                }
        *p = 0;
        return out;
}

static int hexval(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

char *journal_unescape(const char *s) {
        char *out = xmalloc(strlen(s) + 1), *p = out;

        for (; *s; s++) {
                if (*s == '\\' && s[1] == 'x' && hexval(s[2]) >= 0 && hexval(s[3]) >= 0 &&
                    (hexval(s[2]) << 4 | hexval(s[3])) != 0) {
                        *p++ = (char) (hexval(s[2]) << 4 | hexval(s[3]));
                        s += 3;
                } else if (*s == '\\' && s[1]) {
                        s++;
                        *p++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s;
                } else
                        *p++ = *s;
        }
        *p = 0;
        return out;
}

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

/* Walks dir from / one component at a time with openat (symbolic links in
 * parents are followed by restarting from their target, so every directory
 * actually traversed is checked), creating what is missing if asked. */
int state_dir_open(const char *dir, bool create, int *ret_fd, char **ret_error) {
        _cleanup_free_ char *todo = NULL, *shown = NULL;
        _cleanup_close_ int fd = -1;
        unsigned links = 0;
        struct stat st;
        int r;

        if (!dir || !dir[0]) {
                *ret_error = xstrdup("state directory: empty path");
                return -EINVAL;
        }
        if (dir[0] == '/')
                todo = xstrdup(dir);
        else {
                char cwd[4096];
                if (!getcwd(cwd, sizeof cwd)) {
                        r = -errno;
                        *ret_error = xasprintf("state directory %s: %s", dir, strerror(-r));
                        return r;
                }
                todo = xasprintf("%s/%s", cwd, dir);
        }
restart:
        if (fd >= 0)
                close(fd);
        fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0) {
                r = -errno;
                *ret_error = xasprintf("/: %s", strerror(-r));
                return r;
        }
        free(shown);
        shown = xstrdup("");
        if ((r = check_trusted("/", &st, false, ret_error)) < 0)
                return r;
        for (char *p = todo;;) {
                while (*p == '/')
                        p++;
                if (!*p) {
                        *ret_error = xasprintf("state directory %s: not a directory below /", dir);
                        return -EINVAL;
                }
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
                bool last = !rest;
                if (streq(p, ".") && !last) {
                        p = rest;
                        continue;
                }
                char *path = xasprintf("%s/%s", shown, p);
                free(shown);
                shown = path;

                if (streq(p, ".") || streq(p, "..")) {
                        *ret_error = xasprintf("state directory %s: '.' and '..' are not allowed in its path", dir);
                        return -EINVAL;
                }
                int nfd = openat(fd, p, (last ? O_RDONLY : O_PATH) | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (nfd < 0 && errno == ENOENT && create) {
                        if (mkdirat(fd, p, last ? 0700 : 0755) < 0 && errno != EEXIST) {
                                r = -errno;
                                *ret_error = xasprintf("state directory %s: cannot create %s: %s", dir, shown,
                                                       strerror(-r));
                                return r;
                        }
                        nfd = openat(fd, p, (last ? O_RDONLY : O_PATH) | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                }
                if (nfd < 0 && (errno == ELOOP || errno == ENOTDIR) &&
                    fstatat(fd, p, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
                        char target[4096];
                        ssize_t n;

                        if (last) {
                                *ret_error = xasprintf("state directory %s is a symbolic link: refused", dir);
                                return -ELOOP;
                        }
                        n = readlinkat(fd, p, target, sizeof target - 1);
                        if (n <= 0 || ++links > 32) {
                                *ret_error = xasprintf("state directory %s: cannot resolve %s", dir, shown);
                                return -ELOOP;
                        }
                        target[n] = 0;
                        /* continue from the link's target, then what was left */
                        char *next;
                        if (target[0] == '/')
                                next = xasprintf("%s/%s", target, strempty(rest));
                        else {
                                /* relative: to the directory holding the link */
                                char *slash = strrchr(shown, '/');
                                *slash = 0;
                                next = xasprintf("%s/%s/%s", shown, target, strempty(rest));
                        }
                        free(todo);
                        todo = next;
                        goto restart;
                }
                if (nfd < 0) {
                        r = -errno;
                        if (r == -ENOENT && !create)
                                *ret_error = xasprintf("state directory %s: %s", dir, strerror(-r));
                        else
                                *ret_error = xasprintf("state directory %s: %s: %s", dir, shown, strerror(-r));
                        return r;
                }
                close(fd);
                fd = nfd;
                if (fstat(fd, &st) < 0) {
                        r = -errno;
                        *ret_error = xasprintf("%s: %s", shown, strerror(-r));
                        return r;
                }
                if ((r = check_trusted(last ? dir : shown, &st, last, ret_error)) < 0)
                        return r;
                if (last)
                        break;
                p = rest;
        }
        *ret_fd = TAKE_FD(fd);
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

static void item_free(JournalItem *it) {
        free(it->kind);
        free(it->target);
        free(it->original);
        free(it->intended);
        free(it->applied);
        free(it->vm);
        free(it->ident);
}

JournalItem *journal_find(const Journal *j, const char *target) {
        for (size_t i = 0; i < j->n_items; i++)
                if (streq(j->items[i].target, target))
                        return &j->items[i];
        return NULL;
}

static void drop_item(Journal *j, const char *target) {
        for (size_t i = 0; i < j->n_items; i++)
                if (streq(j->items[i].target, target)) {
                        item_free(&j->items[i]);
                        memmove(&j->items[i], &j->items[i + 1], (j->n_items - i - 1) * sizeof(JournalItem));
                        j->n_items--;
                        return;
                }
}

/* ---- reading ------------------------------------------------------------ */

int journal_unescape_strict(const char *s, size_t n, char **ret) {
        char *out = xmalloc(n + 1), *p = out;

        for (size_t i = 0; i < n; i++) {
                unsigned char ch = (unsigned char) s[i];

                if (ch == '\\') {
                        if (i + 1 >= n)
                                goto fail;
                        i++;
                        if (s[i] == 't')
                                *p++ = '\t';
                        else if (s[i] == 'n')
                                *p++ = '\n';
                        else if (s[i] == '\\')
                                *p++ = '\\';
                        else if (s[i] == 'x' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0 &&
                                 (hexval(s[i + 1]) << 4 | hexval(s[i + 2])) != 0) {
                                /* other control characters, as journal_escape writes them */
                                *p++ = (char) (hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
                                i += 2;
                        } else
                                goto fail;
                } else if (ch < 0x20 || ch == 0x7f)
                        goto fail;
                else
                        *p++ = (char) ch;
        }
        *p = 0;
        *ret = out;
        return 0;
fail:
        free(out);
        return -EINVAL;
}

static void damaged_add(Journal *j, const char *path, unsigned lineno, const char *line, size_t len,
                        const char *reason) {
        strlist_addf(&j->damaged, "%s:%u: %s", path, lineno, reason);
        j->damaged_raw = xrealloc(j->damaged_raw, j->damaged_raw_len + len + 1);
        if (len)
                memcpy(j->damaged_raw + j->damaged_raw_len, line, len);
        j->damaged_raw_len += len;
        j->damaged_raw[j->damaged_raw_len++] = '\n';
}

static bool all_digits(const char *s, size_t max) {
        size_t n = strlen(s);

        if (n == 0 || n > max)
                return false;
        return strspn(s, "0123456789") == n;
}

/* VM names as the configuration allows them, comma-separated, or empty. */
static bool vm_field_valid(const char *s) {
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
                      strchr("_.-,", *s)))
                        return false;
        return true;
}

/* What an item may hold, for reading and for writing alike. */
static const char *check_item(const char *kind, const char *target, const char *vm, const char *ident) {
        Target t;
        TargetOp op;
        const char *why = NULL;

        if (target_parse(target, &t) < 0)
                return "the target is not one cpushield manages";
        if (target_check_kind(kind, &t, NULL, &op, &why) < 0)
                return why;
        if (!vm_field_valid(vm))
                return "the VM field holds characters no VM name has";
        if (op == TARGET_OP_AFFINITY && ident[0] && !all_digits(ident, 20))
                return "the task start time is not a number";
        if (op != TARGET_OP_AFFINITY && op != TARGET_OP_LIBVIRT_PIN && ident[0])
                return "an identity field where none belongs";
        return NULL;
}

/* Checks one record; NULL if it can be used, else why not. f[] are the
 * unescaped fields. */
static const char *check_record(char **f, size_t n, Journal *j) {
        if (streq(f[0], "boot")) {
                if (n != 2)
                        return "a boot record has 2 fields";
                if (!boot_id_valid(f[1]) && !streq(f[1], "unknown"))
                        return "the boot id is not a UUID";
                if (j->boot_id && !streq(j->boot_id, f[1]))
                        return "a second boot record with another boot id";
                return NULL;
        }
        if (streq(f[0], "item")) {
                unsigned long long seq;
                if (n != 8)
                        return "an item record has 8 fields";
                if (!all_digits(f[1], 10) || (seq = strtoull(f[1], NULL, 10)) >= UINT32_MAX)
                        return "the sequence number is not a number";
                return check_item(f[2], f[3], f[6], f[7]);
        }
        if (streq(f[0], "applied")) {
                if (n != 3)
                        return "an applied record has 3 fields";
                return target_parse(f[1], NULL) < 0 ? "the target is not one cpushield manages" : NULL;
        }
        if (streq(f[0], "forget") || streq(f[0], "refused")) {
                if (n != 2)
                        return "a forget or refused record has 2 fields";
                return target_parse(f[1], NULL) < 0 ? "the target is not one cpushield manages" : NULL;
        }
        return "unknown record type";
}

static void use_record(Journal *j, char **f) {
        if (streq(f[0], "boot")) {
                if (!j->boot_id)
                        j->boot_id = xstrdup(f[1]);
        } else if (streq(f[0], "item")) {
                JournalItem *it = journal_find(j, f[3]);
                if (!it) {
                        it = array_push(&j->items, &j->n_items, sizeof(JournalItem));
                        it->seq = (unsigned) strtoul(f[1], NULL, 10);
                        it->kind = xstrdup(f[2]);
                        it->target = xstrdup(f[3]);
                        it->original = xstrdup(f[4]);
                        it->intended = xstrdup(f[5]);
                        it->vm = xstrdup(f[6]);
                        it->ident = xstrdup(f[7]);
                        if (it->seq >= j->next_seq)
                                j->next_seq = it->seq + 1;
                } else {
                        /* A later intent for the same item: the original stays. */
                        free(it->intended);
                        it->intended = xstrdup(f[5]);
                        free(it->vm);
                        it->vm = xstrdup(f[6]);
                }
        } else if (streq(f[0], "applied")) {
                JournalItem *it = journal_find(j, f[1]);
                if (it) {
                        free(it->applied);
                        it->applied = xstrdup(f[2]);
                }
        } else if (streq(f[0], "forget"))
                drop_item(j, f[1]);
        else if (streq(f[0], "refused")) {
                if (!strlist_contains(&j->refused, f[1]))
                        strlist_add(&j->refused, f[1]);
        }
}

#define MAX_FIELDS 8

/* One line (without its newline): split on tabs, unescape strictly, check,
 * use. Anything unexpected makes it damaged. */
static void parse_line(Journal *j, const char *path, unsigned lineno, const char *line, size_t len) {
        char *f[MAX_FIELDS + 1] = {};
        size_t n = 0;
        const char *why = NULL;

        if (len > JOURNAL_LINE_MAX)
                why = "line too long";
        else if (memchr(line, 0, len))
                why = "NUL byte";
        else if (len == 0)
                why = "empty line";
        else {
                const char *p = line, *end = line + len;
                for (;;) {
                        const char *tab = memchr(p, '\t', (size_t) (end - p));
                        const char *fe = tab ? tab : end;
                        if (n == MAX_FIELDS) {
                                why = "too many fields";
                                break;
                        }
                        if (journal_unescape_strict(p, (size_t) (fe - p), &f[n]) < 0) {
                                why = "control character or invalid escape";
                                break;
                        }
                        n++;
                        if (!tab)
                                break;
                        p = tab + 1;
                }
                if (!why)
                        why = check_record(f, n, j);
        }
        if (why)
                damaged_add(j, path, lineno, line, len, why);
        else
                use_record(j, f);
        for (size_t i = 0; i < n; i++)
                free(f[i]);
}

int journal_parse(const char *path, const char *data, size_t len, Journal *ret, char **ret_error) {
        Journal j = { .fd = -1, .dir_fd = -1 };
        const char *p = data, *end = data + len;
        unsigned lineno = 0;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t l = nl ? (size_t) (nl - p) : (size_t) (end - p);

                lineno++;
                if (lineno == 1) {
                        if (!nl || l != strlen(MAGIC) || memcmp(p, MAGIC, l) != 0) {
                                *ret = j;
                                *ret_error = xasprintf("%s:1: not a cpushield journal (expected '%s')", path, MAGIC);
                                return -EBADMSG;
                        }
                } else if (!nl) {
                        /* Appends are one write(2) of a whole line: a line
                         * without its newline was cut short by a crash, and
                         * the change it announced was never made. */
                        strlist_addf(&j.torn, "%s:%u: a record cut short by an interrupted run (%zu bytes), left out",
                                     path, lineno, l);
                } else
                        parse_line(&j, path, lineno, p, l);
                if (!nl)
                        break;
                p = nl + 1;
        }
        if (lineno == 0) {
                *ret = j;
                *ret_error = xasprintf("%s: empty file, not a cpushield journal", path);
                return -EBADMSG;
        }
        if (!j.boot_id && !journal_is_damaged(&j))
                damaged_add(&j, path, lineno, "", 0, "no boot record");
        *ret = j;
        return 0;
}

/* ---- writing ------------------------------------------------------------ */

static int write_all(int fd, const char *buf, size_t len) {
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

static int append(Journal *j, const char *line) {
        size_t len = strlen(line);
        ssize_t n;

        /* one write(2) for the whole line: a crash tears at most the last */
        do
                n = write(j->fd, line, len);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if ((size_t) n != len)
                return -EIO;
        if (fdatasync(j->fd) < 0)
                return -errno;
        return 0;
}

/* tmp file, fsync, rename; the tmp file never outlives a failure. */
static int write_atomic(Journal *j, const char *name, const char *content, size_t len) {
        _cleanup_free_ char *tmp = xasprintf("%s.tmp", name);
        int fd, r = 0;

        (void) unlinkat(j->dir_fd, tmp, 0);
        fd = openat(j->dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        r = write_all(fd, content, len);
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && renameat(j->dir_fd, tmp, j->dir_fd, name) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlinkat(j->dir_fd, tmp, 0);
                return r;
        }
        (void) fsync(j->dir_fd);
        return 0;
}

static char *render(const Journal *j, size_t *ret_len) {
        size_t len = 0;
        char *buf = NULL;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                abort();
        fprintf(f, MAGIC "\nboot\t%s\n", j->boot_id);
        for (size_t i = 0; i < j->refused.n; i++) {
                _cleanup_free_ char *t = journal_escape(j->refused.v[i]);
                fprintf(f, "refused\t%s\n", t);
        }
        for (size_t i = 0; i < j->n_items; i++) {
                const JournalItem *it = &j->items[i];
                _cleanup_free_ char *t = journal_escape(it->target), *o = journal_escape(it->original),
                                    *w = journal_escape(it->intended), *v = journal_escape(it->vm),
                                    *id = journal_escape(it->ident);
                fprintf(f, "item\t%u\t%s\t%s\t%s\t%s\t%s\t%s\n", it->seq, it->kind, t, o, w, v, id);
                if (it->applied) {
                        _cleanup_free_ char *a = journal_escape(it->applied);
                        fprintf(f, "applied\t%s\t%s\n", t, a);
                }
        }
        /* What could not be read is kept, byte for byte: never dropped. */
        if (j->damaged_raw_len)
                fwrite(j->damaged_raw, 1, j->damaged_raw_len, f);
        if (fclose(f) != 0)
                abort();
        *ret_len = len;
        return buf;
}

int journal_compact(Journal *j) {
        size_t len;
        _cleanup_free_ char *text = render(j, &len);
        int r;

        if (j->n_items == 0 && !journal_is_damaged(j)) {
                if (unlinkat(j->dir_fd, JOURNAL_FILE, 0) < 0 && errno != ENOENT)
                        return -errno;
                r = 0;
        } else
                r = write_atomic(j, JOURNAL_FILE, text, len);
        if (r < 0)
                return r;
        if (j->fd >= 0)
                close(j->fd);
        j->fd = -1;
        return 0;
}

/* The journal file is (re)written lazily: a run that changes nothing leaves
 * the state directory as it was. */
static int ensure_open(Journal *j) {
        if (j->fd >= 0)
                return 0;
        /* Start each run from a clean copy: a crash may have left a torn
         * last line that the next append must not extend. */
        {
                size_t len;
                _cleanup_free_ char *text = render(j, &len);
                int r = write_atomic(j, JOURNAL_FILE, text, len);
                if (r < 0)
                        return r;
        }
        j->fd = openat(j->dir_fd, JOURNAL_FILE, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
        return j->fd < 0 ? -errno : 0;
}

/* ---- loading ------------------------------------------------------------ */

/* A state file: regular, not a link, bounded. -ENOENT when absent. */
static int read_state_file(int dir_fd, const char *name, size_t max, char **ret, size_t *ret_len) {
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

static char *damage_summary(const Journal *j) {
        if (j->damaged.n == 1)
                return xasprintf("%s: the journal has an unreadable record", j->damaged.v[0]);
        return xasprintf("%s: the journal has %zu unreadable records (the first here)", j->damaged.v[0],
                         j->damaged.n);
}

static void items_clear(Journal *j);

static int journal_load(const char *dir, const char *boot_id, unsigned flags, bool readonly, Journal *ret,
                        char **ret_warning, char **ret_error) {
        Journal j = { .fd = -1, .dir_fd = -1 };
        _cleanup_free_ char *text = NULL, *active = NULL, *path = NULL;
        _cleanup_close_ int dfd = -1;
        size_t len = 0;
        int r;

        if (boot_id && !boot_id_valid(boot_id) && !streq(boot_id, "unknown")) {
                *ret_error = xasprintf("the boot id '%.40s' is not a UUID: refused", boot_id);
                return -EINVAL;
        }
        r = state_dir_open(dir, false, &dfd, ret_error);
        if (r < 0)
                return r;
        path = xasprintf("%s/" JOURNAL_FILE, dir);
        r = read_state_file(dfd, JOURNAL_FILE, JOURNAL_SIZE_MAX, &text, &len);
        if (r == -ENOENT)
                r = 0;
        else if (r < 0) {
                *ret_error = xasprintf("%s: %s", path, r == -EBADFD ? "not a regular file" : strerror(-r));
                return r == -EBADFD ? -EPERM : r;
        } else {
                r = journal_parse(path, text, len, &j, ret_error);
                if (r < 0) {
                        journal_close(&j);
                        return r;
                }
        }
        j.dir_fd = TAKE_FD(dfd);
        j.dir = xstrdup(dir);
        if (!j.boot_id && !journal_is_damaged(&j))
                j.boot_id = xstrdup(boot_id ? boot_id : "unknown");

        if (j.boot_id && boot_id && !streq(j.boot_id, boot_id)) {
                /* Another boot: nothing in it is true, damaged or not. The
                 * id passed boot_id_valid() before it names a file. */
                _cleanup_free_ char *aside = xasprintf(JOURNAL_FILE ".%s.stale", j.boot_id);
                *ret_warning = xasprintf("%s was written during another boot (%s): nothing in it is true "
                                         "any more; set aside as %s/%s",
                                         path, j.boot_id, dir, aside);
                if (!readonly && renameat(j.dir_fd, JOURNAL_FILE, j.dir_fd, aside) < 0) {
                        r = -errno;
                        *ret_error = xasprintf("%s: %s", path, strerror(-r));
                        journal_close(&j);
                        return r;
                }
                if (!readonly)
                        (void) unlinkat(j.dir_fd, ACTIVE_FILE, 0);
                items_clear(&j);
                free(j.boot_id);
                j.boot_id = xstrdup(boot_id);
        } else if (journal_is_damaged(&j)) {
                if (!j.boot_id)
                        j.boot_id = xstrdup(boot_id ? boot_id : "unknown");
                if (readonly) {
                        *ret_error = damage_summary(&j);
                        r = -EBADMSG;
                } else if (!(flags & JOURNAL_ALLOW_DAMAGED)) {
                        *ret_error = damage_summary(&j);
                        journal_close(&j);
                        return -EBADMSG;
                } else {
                        /* A copy of what cannot be read, beside the journal. */
                        r = write_atomic(&j, JOURNAL_UNREADABLE_FILE, j.damaged_raw, j.damaged_raw_len);
                        if (r < 0) {
                                *ret_error = xasprintf("%s/" JOURNAL_UNREADABLE_FILE ": %s", dir, strerror(-r));
                                journal_close(&j);
                                return r;
                        }
                        r = 0;
                }
        }
        if (!(readonly && *ret_warning) &&
            read_state_file(j.dir_fd, ACTIVE_FILE, 1024 * 1024, &active, &len) >= 0) {
                char *save = NULL;
                for (char *l = strtok_r(active, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                        if (*strstrip(l))
                                strlist_add(&j.active, strstrip(l));
        }
        *ret = j;
        return r;
}

int journal_open_full(const char *dir, const char *boot_id, unsigned flags, Journal *ret, char **ret_warning,
                      char **ret_error) {
        return journal_load(dir, boot_id, flags, false, ret, ret_warning, ret_error);
}

int journal_open(const char *dir, const char *boot_id, Journal *ret, char **ret_warning, char **ret_error) {
        return journal_open_full(dir, boot_id, 0, ret, ret_warning, ret_error);
}

int journal_peek_full(const char *dir, const char *boot_id, Journal *ret, char **ret_error) {
        _cleanup_free_ char *w = NULL;
        int r;

        /* journal_load writes *ret on success and on damage only */
        *ret = (Journal) { .fd = -1, .dir_fd = -1 };
        r = journal_load(dir, boot_id, 0, true, ret, &w, ret_error);
        if (r == -ENOENT) {
                /* no state directory yet: nothing journaled */
                free(*ret_error);
                *ret_error = NULL;
                r = 0;
        }
        if (r == 0 && w && !*ret_error)
                *ret_error = TAKE_PTR(w);
        return r;
}

int journal_peek(const char *dir, const char *boot_id, Journal *ret) {
        _cleanup_free_ char *e = NULL;
        return journal_peek_full(dir, boot_id, ret, &e);
}

static void items_clear(Journal *j) {
        for (size_t i = 0; i < j->n_items; i++)
                item_free(&j->items[i]);
        free(j->items);
        j->items = NULL;
        j->n_items = 0;
        strlist_free(&j->refused);
        strlist_free(&j->damaged);
        strlist_free(&j->torn);
        free(j->damaged_raw);
        j->damaged_raw = NULL;
        j->damaged_raw_len = 0;
}

void journal_close(Journal *j) {
        items_clear(j);
        free(j->boot_id);
        free(j->dir);
        strlist_free(&j->active);
        if (j->fd >= 0)
                close(j->fd);
        if (j->dir_fd >= 0)
                close(j->dir_fd);
        memset(j, 0, sizeof *j);
        j->fd = j->dir_fd = -1;
}

int journal_record(Journal *j, const char *kind, const char *target, const char *ident, const char *original,
                   const char *intended, const char *vm) {
        JournalItem *it = journal_find(j, target);
        _cleanup_free_ char *t = NULL, *o = NULL, *w = NULL, *v = NULL, *id = NULL, *line = NULL;
        int r;

        /* Never journal (and so never write) what could not be read back. */
        if (check_item(kind, target, strempty(vm), it ? it->ident : strempty(ident)))
                return -EINVAL;
        t = journal_escape(target);
        w = journal_escape(intended);
        v = journal_escape(strempty(vm));
        r = ensure_open(j);

        if (r < 0)
                return r;
        if (it) {
                /* Already journaled: the original stays, only the intent moves. */
                o = journal_escape(it->original);
                id = journal_escape(it->ident);
                line = xasprintf("item\t%u\t%s\t%s\t%s\t%s\t%s\t%s\n", it->seq, kind, t, o, w, v, id);
                r = append(j, line);
                if (r < 0)
                        return r;
                free(it->intended);
                it->intended = xstrdup(intended);
                free(it->vm);
                it->vm = xstrdup(strempty(vm));
                return 0;
        }
        o = journal_escape(original);
        id = journal_escape(strempty(ident));
        line = xasprintf("item\t%u\t%s\t%s\t%s\t%s\t%s\t%s\n", j->next_seq, kind, t, o, w, v, id);
        r = append(j, line);
        if (r < 0)
                return r;
        it = array_push(&j->items, &j->n_items, sizeof(JournalItem));
        it->seq = j->next_seq++;
        it->kind = xstrdup(kind);
        it->target = xstrdup(target);
        it->original = xstrdup(original);
        it->intended = xstrdup(intended);
        it->vm = xstrdup(strempty(vm));
        it->ident = xstrdup(strempty(ident));
        return 0;
}

/* Appends "TAG\tTARGET[\tVALUE]" and flushes it. */
static int append_record(Journal *j, const char *tag, const char *target, const char *value) {
        _cleanup_free_ char *t = journal_escape(target), *v = value ? journal_escape(value) : NULL;
        _cleanup_free_ char *line = v ? xasprintf("%s\t%s\t%s\n", tag, t, v) : xasprintf("%s\t%s\n", tag, t);
        int r = ensure_open(j);

        return r < 0 ? r : append(j, line);
}

int journal_applied(Journal *j, const char *target, const char *value) {
        JournalItem *it = journal_find(j, target);
        int r;

        if (target_parse(target, NULL) < 0)
                return -EINVAL;
        r = append_record(j, "applied", target, value);

        if (r < 0)
                return r;
        if (it) {
                free(it->applied);
                it->applied = xstrdup(value);
        }
        return 0;
}

int journal_forget(Journal *j, const char *target) {
        int r;

        if (!journal_find(j, target))
                return 0;
        r = append_record(j, "forget", target, NULL);
        if (r < 0)
                return r;
        drop_item(j, target);
        return 0;
}

int journal_refused(Journal *j, const char *target) {
        int r;

        if (target_parse(target, NULL) < 0)
                return -EINVAL;
        if (strlist_contains(&j->refused, target))
                return 0;
        r = append_record(j, "refused", target, NULL);
        if (r < 0)
                return r;
        strlist_add(&j->refused, target);
        return 0;
}

int active_save(Journal *j) {
        _cleanup_free_ char *text = xstrdup("");

        if (j->active.n == 0) {
                if (unlinkat(j->dir_fd, ACTIVE_FILE, 0) < 0 && errno != ENOENT)
                        return -errno;
                return 0;
        }
        for (size_t i = 0; i < j->active.n; i++) {
                char *t = xasprintf("%s%s\n", text, j->active.v[i]);
                free(text);
                text = t;
        }
        return write_atomic(j, ACTIVE_FILE, text, strlen(text));
}
