/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "fs.h"
#include "journal.h"

#define JOURNAL_FILE "journal"
#define ACTIVE_FILE "active"
#define LOCK_FILE "lock"
#define MAGIC "cpushield-journal 1"

char *journal_escape(const char *s) {
        char *out = xmalloc(strlen(s) * 2 + 1), *p = out;

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
                        *p++ = *s;
                }
        *p = 0;
        return out;
}

char *journal_unescape(const char *s) {
        char *out = xmalloc(strlen(s) + 1), *p = out;

        for (; *s; s++) {
                if (*s == '\\' && s[1]) {
                        s++;
                        *p++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s;
                } else
                        *p++ = *s;
        }
        *p = 0;
        return out;
}

static int mkdir_p(const char *dir) {
        _cleanup_free_ char *copy = xstrdup(dir);

        for (char *p = copy + 1; *p; p++)
                if (*p == '/') {
                        *p = 0;
                        if (mkdir(copy, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        *p = '/';
                }
        if (mkdir(copy, 0700) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int state_lock(const char *dir, unsigned timeout_s, int *ret_lock_fd, char **ret_error) {
        struct timespec start, now;
        int fd, r;

        r = mkdir_p(dir);
        if (r < 0) {
                *ret_error = xasprintf("state directory %s: %s", dir, strerror(-r));
                return r;
        }
        _cleanup_free_ char *path = xasprintf("%s/" LOCK_FILE, dir);
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
                r = -errno;
                *ret_error = xasprintf("%s: %s", path, strerror(-r));
                return r;
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

/* Splits a line on tabs into at most max fields, unescaping each. */
static size_t split_fields(char *line, char **f, size_t max) {
        size_t n = 0;
        char *p = line;

        while (n < max) {
                char *tab = strchr(p, '\t');
                if (tab)
                        *tab = 0;
                f[n++] = journal_unescape(p);
                if (!tab)
                        break;
                p = tab + 1;
        }
        return n;
}

static int parse(Journal *j, char *text, char **ret_error, const char *path) {
        char *save = NULL;
        unsigned lineno = 0;

        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *f[9] = {};
                size_t n;

                lineno++;
                if (lineno == 1) {
                        if (!streq(line, MAGIC)) {
                                *ret_error = xasprintf("%s:1: not a cpushield journal (expected '%s')", path, MAGIC);
                                return -EINVAL;
                        }
                        continue;
                }
                n = split_fields(line, f, 9);
                if (streq(f[0], "boot") && n == 2) {
                        free(j->boot_id);
                        j->boot_id = xstrdup(f[1]);
                } else if (streq(f[0], "item") && n == 8) {
                        if (!journal_find(j, f[3])) {
                                JournalItem *it = array_push(&j->items, &j->n_items, sizeof(JournalItem));
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
                                JournalItem *it = journal_find(j, f[3]);
                                free(it->intended);
                                it->intended = xstrdup(f[5]);
                                free(it->vm);
                                it->vm = xstrdup(f[6]);
                        }
                } else if (streq(f[0], "applied") && n == 3) {
                        JournalItem *it = journal_find(j, f[1]);
                        if (it) {
                                free(it->applied);
                                it->applied = xstrdup(f[2]);
                        }
                } else if (streq(f[0], "forget") && n == 2)
                        drop_item(j, f[1]);
                else if (streq(f[0], "refused") && n == 2) {
                        if (!strlist_contains(&j->refused, f[1]))
                                strlist_add(&j->refused, f[1]);
                }
                else if (save && *save) {
                        /* Only the last line may be torn by a crash. */
                        *ret_error = xasprintf("%s:%u: unreadable journal record", path, lineno);
                        for (size_t i = 0; i < n; i++)
                                free(f[i]);
                        return -EINVAL;
                }
                for (size_t i = 0; i < n; i++)
                        free(f[i]);
        }
        return 0;
}

static int append(Journal *j, const char *line) {
        size_t len = strlen(line);
        ssize_t n;

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

static int write_atomic(Journal *j, const char *name, const char *content) {
        _cleanup_free_ char *tmp = xasprintf("%s.tmp", name);
        int fd = openat(j->dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        size_t len = strlen(content);
        int r = 0;

        if (fd < 0)
                return -errno;
        if (write(fd, content, len) != (ssize_t) len)
                r = errno ? -errno : -EIO;
        else if (fsync(fd) < 0)
                r = -errno;
        close(fd);
        if (r == 0 && renameat(j->dir_fd, tmp, j->dir_fd, name) < 0)
                r = -errno;
        if (r == 0)
                (void) fsync(j->dir_fd);
        return r;
}

static char *render(const Journal *j) {
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
        fclose(f);
        return buf;
}

int journal_compact(Journal *j) {
        _cleanup_free_ char *text = render(j);
        int r;

        if (j->n_items == 0) {
                if (unlinkat(j->dir_fd, JOURNAL_FILE, 0) < 0 && errno != ENOENT)
                        return -errno;
                r = 0;
        } else
                r = write_atomic(j, JOURNAL_FILE, text);
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
                _cleanup_free_ char *text = render(j);
                int r = write_atomic(j, JOURNAL_FILE, text);
                if (r < 0)
                        return r;
        }
        j->fd = openat(j->dir_fd, JOURNAL_FILE, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
        return j->fd < 0 ? -errno : 0;
}

static int journal_load(const char *dir, const char *boot_id, bool readonly, Journal *ret, char **ret_warning,
                        char **ret_error);

int journal_open(const char *dir, const char *boot_id, Journal *ret, char **ret_warning, char **ret_error) {
        return journal_load(dir, boot_id, false, ret, ret_warning, ret_error);
}

int journal_peek(const char *dir, const char *boot_id, Journal *ret) {
        _cleanup_free_ char *w = NULL, *e = NULL;
        int r = journal_load(dir, boot_id, true, ret, &w, &e);

        if (r < 0)
                *ret = (Journal) { .fd = -1, .dir_fd = -1 };
        return r;
}

static int journal_load(const char *dir, const char *boot_id, bool readonly, Journal *ret, char **ret_warning,
                        char **ret_error) {
        Journal j = { .fd = -1, .dir_fd = -1 };
        _cleanup_free_ char *text = NULL, *active = NULL;
        int r;

        j.dir = xstrdup(dir);
        j.boot_id = xstrdup(boot_id ? boot_id : "unknown");
        j.dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (j.dir_fd < 0) {
                r = -errno;
                *ret_error = xasprintf("state directory %s: %s", dir, strerror(-r));
                journal_close(&j);
                return r;
        }
        r = read_file(j.dir_fd, JOURNAL_FILE, &text, NULL);
        if (r >= 0) {
                _cleanup_free_ char *path = xasprintf("%s/" JOURNAL_FILE, dir);
                r = parse(&j, text, ret_error, path);
                if (r < 0) {
                        journal_close(&j);
                        return r;
                }
                if (boot_id && !streq(j.boot_id, boot_id)) {
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
                        strlist_free(&j.refused);
                        for (size_t i = 0; i < j.n_items; i++)
                                item_free(&j.items[i]);
                        free(j.items);
                        j.items = NULL;
                        j.n_items = 0;
                        free(j.boot_id);
                        j.boot_id = xstrdup(boot_id);
                }
        } else if (r != -ENOENT) {
                *ret_error = xasprintf("%s/" JOURNAL_FILE ": %s", dir, strerror(-r));
                journal_close(&j);
                return r;
        }
        if (!(readonly && *ret_warning) && read_file(j.dir_fd, ACTIVE_FILE, &active, NULL) >= 0) {
                char *save = NULL;
                for (char *l = strtok_r(active, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                        if (*strstrip(l))
                                strlist_add(&j.active, strstrip(l));
        }
        *ret = j;
        return 0;
}

void journal_close(Journal *j) {
        for (size_t i = 0; i < j->n_items; i++)
                item_free(&j->items[i]);
        free(j->items);
        free(j->boot_id);
        free(j->dir);
        strlist_free(&j->active);
        strlist_free(&j->refused);
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
        _cleanup_free_ char *t = journal_escape(target), *o = NULL, *w = journal_escape(intended),
                            *v = journal_escape(strempty(vm)), *id = NULL, *line = NULL;
        int r = ensure_open(j);

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
        int r = append_record(j, "applied", target, value);

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
        return write_atomic(j, ACTIVE_FILE, text);
}
