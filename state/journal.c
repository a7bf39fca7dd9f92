/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The journal: its items in memory, loading it for a run, appending records
 * before every write and compacting it afterwards. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "journal-internal.h"

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
        if (j->lazy_sync) {
                j->unsynced = true;
                return 0;
        }
        if (fdatasync(j->fd) < 0)
                return -errno;
        return 0;
}

int journal_sync(Journal *j) {
        if (!j->unsynced || j->fd < 0)
                return 0;
        if (fdatasync(j->fd) < 0)
                return -errno;
        j->unsynced = false;
        return 0;
}

/* The text of the journal, built in one buffer: a big host's journal has
 * thousands of items, rendered at the end of every run. */
typedef struct Text {
        char *p;
        size_t len, cap;
} Text;

static void text_reserve(Text *t, size_t more) {
        if (t->len + more + 1 <= t->cap)
                return;
        t->cap = (t->len + more + 1) * 2;
        t->p = xrealloc(t->p, t->cap);
}

static void text_put(Text *t, const char *s, size_t n) {
        text_reserve(t, n);
        memcpy(t->p + t->len, s, n);
        t->len += n;
}

static void text_str(Text *t, const char *s) {
        if (!s)
                s = "(null)"; /* as printf's %s had it */
        text_put(t, s, strlen(s));
}

/* journal_escape's text, written in place: runs of plain characters copied
 * as they are (everything printable but the backslash). */
static void text_escaped(Text *t, const char *s) {
        text_reserve(t, strlen(s) * 4);
        for (;;) {
                size_t run = 0;

                while ((unsigned char) s[run] >= 0x20 && s[run] != 0x7f && s[run] != '\\')
                        run++;
                memcpy(t->p + t->len, s, run);
                t->len += run;
                s += run;
                if (!*s)
                        break;
                switch (*s) {
                case '\t':
                        t->p[t->len++] = '\\', t->p[t->len++] = 't';
                        break;
                case '\n':
                        t->p[t->len++] = '\\', t->p[t->len++] = 'n';
                        break;
                case '\\':
                        t->p[t->len++] = '\\', t->p[t->len++] = '\\';
                        break;
                default: /* the other control characters */
                        t->len += (size_t) sprintf(t->p + t->len, "\\x%02x", (unsigned char) *s);
                }
                s++;
        }
}

static void text_uint(Text *t, unsigned v) {
        char tmp[16];
        size_t n = sizeof tmp;

        do
                tmp[--n] = (char) ('0' + v % 10);
        while ((v /= 10));
        text_put(t, tmp + n, sizeof tmp - n);
}

static char *render(const Journal *j, size_t *ret_len) {
        Text t = {};

        text_reserve(&t, 4096 + j->n_items * 128);
        text_str(&t, JOURNAL_MAGIC "\nboot\t");
        text_str(&t, j->boot_id);
        text_put(&t, "\n", 1);
        for (size_t i = 0; i < j->refused.list.n; i++) {
                text_str(&t, "refused\t");
                text_escaped(&t, j->refused.list.v[i]);
                text_put(&t, "\n", 1);
        }
        for (size_t i = 0; i < j->n_items; i++) {
                const JournalItem *it = &j->items[i];

                text_str(&t, "item\t");
                text_uint(&t, it->seq);
                text_put(&t, "\t", 1);
                text_str(&t, it->kind);
                text_put(&t, "\t", 1);
                text_escaped(&t, it->target);
                text_put(&t, "\t", 1);
                text_escaped(&t, it->original);
                text_put(&t, "\t", 1);
                text_escaped(&t, it->intended);
                text_put(&t, "\t", 1);
                text_escaped(&t, it->vm);
                text_put(&t, "\t", 1);
                text_escaped(&t, it->ident);
                text_put(&t, "\n", 1);
                if (it->applied) {
                        text_str(&t, "applied\t");
                        text_escaped(&t, it->target);
                        text_put(&t, "\t", 1);
                        text_escaped(&t, it->applied);
                        text_put(&t, "\n", 1);
                }
        }
        /* What could not be read is kept, byte for byte: never dropped. */
        if (j->damaged_raw_len)
                text_put(&t, j->damaged_raw, j->damaged_raw_len);
        t.p[t.len] = 0;
        *ret_len = t.len;
        return t.p;
}

int journal_compact(Journal *j) {
        size_t len;
        _cleanup_free_ char *text = NULL;
        int r;

        journal_items_pack(j);
        text = render(j, &len);

        /* Nothing appended this run and the file says this already: a run
         * that changes nothing leaves the state directory as it was (no
         * rewrite, no fsync). */
        if (j->fd < 0 && j->on_disk && j->on_disk_len == len && memcmp(j->on_disk, text, len) == 0)
                return 0;
        free(j->on_disk);
        j->on_disk = NULL;
        if (j->n_items == 0 && !journal_is_damaged(j)) {
                if (unlinkat(j->dir_fd, JOURNAL_FILE, 0) < 0 && errno != ENOENT)
                        return -errno;
                r = 0;
        } else
                r = state_file_write_atomic(j->dir_fd, JOURNAL_FILE, text, len);
        if (r < 0)
                return r;
        if (j->fd >= 0)
                close(j->fd);
        j->fd = -1;
        if (j->n_items > 0 || journal_is_damaged(j)) {
                j->on_disk = TAKE_PTR(text);
                j->on_disk_len = len;
        }
        return 0;
}

/* The journal file is (re)written lazily: a run that changes nothing leaves
 * the state directory as it was. */
static int ensure_open(Journal *j) {
        if (j->fd >= 0)
                return 0;
        free(j->on_disk); /* appended to from now on */
        j->on_disk = NULL;
        /* Start each run from a clean copy: a crash may have left a torn
         * last line that the next append must not extend. */
        {
                size_t len;
                _cleanup_free_ char *text = render(j, &len);
                int r = state_file_write_atomic(j->dir_fd, JOURNAL_FILE, text, len);
                if (r < 0)
                        return r;
        }
        j->fd = openat(j->dir_fd, JOURNAL_FILE, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
        return j->fd < 0 ? -errno : 0;
}

/* ---- loading ------------------------------------------------------------ */

static char *damage_summary(const Journal *j) {
        if (j->damaged.n == 1)
                return xasprintf("%s: the journal has an unreadable record", j->damaged.v[0]);
        return xasprintf("%s: the journal has %zu unreadable records (the first here)", j->damaged.v[0],
                         j->damaged.n);
}

static void items_clear(Journal *j);

/* Another boot's journal: nothing in it is true, damaged or not. It is set
 * aside (unless readonly) and *j starts over, empty, for this boot. The id
 * passed boot_id_valid() before it names a file. */
static int set_aside(Journal *j, const char *dir, const char *path, const char *boot_id, bool readonly,
                     char **ret_warning, char **ret_error) {
        _cleanup_free_ char *aside = xasprintf(JOURNAL_FILE ".%s.stale", j->boot_id);
        int r;

        *ret_warning = xasprintf("%s was written during another boot (%s): nothing in it is true "
                                 "any more; set aside as %s/%s",
                                 path, j->boot_id, dir, aside);
        free(j->on_disk); /* no longer there */
        j->on_disk = NULL;
        if (!readonly && renameat(j->dir_fd, JOURNAL_FILE, j->dir_fd, aside) < 0) {
                r = -errno;
                *ret_error = xasprintf("%s: %s", path, strerror(-r));
                return r;
        }
        if (!readonly) {
                (void) unlinkat(j->dir_fd, ACTIVE_FILE, 0);
                (void) unlinkat(j->dir_fd, DEVICES_FILE, 0);
        }
        items_clear(j);
        free(j->boot_id);
        j->boot_id = xstrdup(boot_id);
        return 0;
}

/* A journal with damaged lines: -EBADMSG (readonly: the caller still gets
 * it), unless JOURNAL_ALLOW_DAMAGED, where what cannot be read is copied
 * beside the journal. */
static int keep_damaged(Journal *j, const char *dir, const char *boot_id, unsigned flags, bool readonly,
                        char **ret_error) {
        int r;

        if (!j->boot_id)
                j->boot_id = xstrdup(boot_id ? boot_id : "unknown");
        if (readonly || !(flags & JOURNAL_ALLOW_DAMAGED)) {
                *ret_error = damage_summary(j);
                return -EBADMSG;
        }
        /* A copy of what cannot be read, beside the journal. */
        r = state_file_write_atomic(j->dir_fd, JOURNAL_UNREADABLE_FILE, j->damaged_raw, j->damaged_raw_len);
        if (r < 0) {
                *ret_error = xasprintf("%s/" JOURNAL_UNREADABLE_FILE ": %s", dir, strerror(-r));
                return r;
        }
        return 0;
}

/* "VM ADDR" lines, each checked for its shape here and for its meaning
 * (a configured VM, a PCI address) where it is used; others are ignored:
 * they only say where a device's interrupts go, never an original value. */
static void devices_load_file(Journal *j) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        char *save = NULL;

        if (state_file_read(j->dir_fd, DEVICES_FILE, 64 * 1024, &text, &len) < 0 || strlen(text) != len)
                return;
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                const char *sp = strchr(l, ' ');
                if (!sp || strchr(sp + 1, ' ') || strlen(l) > 128 || sp == l)
                        continue;
                bool ok = true;
                for (const char *c = l; *c && ok; c++)
                        ok = c == sp || (*c > ' ' && *c < 0x7f);
                if (ok && !strlist_contains(&j->devices, l))
                        strlist_add(&j->devices, l);
        }
}

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
        r = state_file_read(dfd, JOURNAL_FILE, JOURNAL_SIZE_MAX, &text, &len);
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
                if (!readonly) {
                        j.on_disk = TAKE_PTR(text);
                        j.on_disk_len = len;
                }
        }
        j.dir_fd = TAKE_FD(dfd);
        j.dir = xstrdup(dir);
        if (!j.boot_id && !journal_is_damaged(&j))
                j.boot_id = xstrdup(boot_id ? boot_id : "unknown");

        if (j.boot_id && boot_id && !streq(j.boot_id, boot_id))
                r = set_aside(&j, dir, path, boot_id, readonly, ret_warning, ret_error);
        else if (journal_is_damaged(&j))
                r = keep_damaged(&j, dir, boot_id, flags, readonly, ret_error);
        if (r < 0 && !readonly) {
                journal_close(&j);
                return r;
        }
        if (!(readonly && *ret_warning) &&
            state_file_read(j.dir_fd, ACTIVE_FILE, 1024 * 1024, &active, &len) >= 0) {
                char *save = NULL;
                for (char *l = strtok_r(active, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                        if (*strstrip(l))
                                strlist_add(&j.active, strstrip(l));
        }
        if (!(readonly && *ret_warning))
                devices_load_file(&j);
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
        free(j->on_disk);
        j->on_disk = NULL;
        j->on_disk_len = 0;
        for (size_t i = 0; i < j->n_items; i++)
                journal_item_free(&j->items[i]);
        free(j->items);
        j->items = NULL;
        j->n_items = 0;
        journal_index_free(j);
        strset_free(&j->refused);
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
        strlist_free(&j->devices);
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
        if (journal_item_check(kind, target, strempty(vm), it ? it->ident : strempty(ident)))
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
        journal_index_add(j);
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
        journal_item_drop(j, target);
        return 0;
}

int journal_refused(Journal *j, const char *target) {
        int r;

        if (target_parse(target, NULL) < 0)
                return -EINVAL;
        if (strset_contains(&j->refused, target))
                return 0;
        r = append_record(j, "refused", target, NULL);
        if (r < 0)
                return r;
        (void) strset_add(&j->refused, target);
        return 0;
}

int devices_save(Journal *j) {
        _cleanup_free_ char *text = strlist_join(&j->devices, "\n");

        if (j->devices.n == 0) {
                if (unlinkat(j->dir_fd, DEVICES_FILE, 0) < 0 && errno != ENOENT)
                        return -errno;
                return 0;
        }
        char *t = xasprintf("%s\n", text);
        int r = state_file_write_atomic(j->dir_fd, DEVICES_FILE, t, strlen(t));
        free(t);
        return r;
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
        return state_file_write_atomic(j->dir_fd, ACTIVE_FILE, text, strlen(text));
}
