/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The journal in memory: its items, and its text, escaping its values and
 * reading an image of it, binary-safe and strict, line by line (the format
 * is in journal.h). */
#include <stdint.h>
#include <stdio.h>

#include "journal-items.h"

void journal_item_free(JournalItem *it) {
        free(it->kind);
        free(it->target);
        free(it->original);
        free(it->intended);
        free(it->applied);
        free(it->vm);
        free(it->ident);
}

/* The index is a cache: journal_find is const for its callers. */
static void index_rebuild(Journal *j) {
        size_t slots = 64;

        while (slots < j->n_items * 2)
                slots *= 2;
        free(j->index);
        j->index = xcalloc(slots, sizeof(size_t));
        j->index_slots = slots;
        for (size_t i = 0; i < j->n_items; i++) {
                if (!j->items[i].target)
                        continue; /* a hole */
                size_t k = hash_string(j->items[i].target) & (slots - 1);
                while (j->index[k])
                        k = (k + 1) & (slots - 1);
                j->index[k] = i + 1;
        }
        j->index_items = j->n_items;
}

void journal_index_add(Journal *j) {
        size_t i = j->n_items - 1, k;

        if (!j->index || j->index_items != i)
                return; /* no index yet, or stale: journal_find rebuilds it */
        if ((j->n_items) * 2 > j->index_slots) {
                index_rebuild(j);
                return;
        }
        for (k = hash_string(j->items[i].target) & (j->index_slots - 1); j->index[k]; k = (k + 1) & (j->index_slots - 1))
                ;
        j->index[k] = i + 1;
        j->index_items = j->n_items;
}

void journal_index_free(Journal *j) {
        free(j->index);
        j->index = NULL;
        j->index_slots = j->index_items = 0;
}

JournalItem *journal_find(const Journal *j, const char *target) {
        Journal *m = (Journal *) j;

        if (j->n_items < 16) {
                for (size_t i = 0; i < j->n_items; i++)
                        if (streq_ptr(j->items[i].target, target))
                                return &j->items[i];
                return NULL;
        }
        if (!j->index || j->index_items != j->n_items)
                index_rebuild(m);
        for (size_t k = hash_string(target) & (j->index_slots - 1); j->index[k]; k = (k + 1) & (j->index_slots - 1))
                if (streq_ptr(j->items[j->index[k] - 1].target, target))
                        return &j->items[j->index[k] - 1];
        return NULL;
}

/* A hole (all fields NULL) until journal_items_pack: dropping thousands of
 * items one by one (a revert) moves none and keeps the index valid. */
void journal_item_drop(Journal *j, const char *target) {
        JournalItem *it = journal_find(j, target);

        if (!it)
                return;
        journal_item_free(it);
        memset(it, 0, sizeof *it);
        j->holes++;
}

void journal_items_pack(Journal *j) {
        size_t w = 0;

        if (j->holes == 0)
                return;
        for (size_t i = 0; i < j->n_items; i++)
                if (j->items[i].target)
                        j->items[w++] = j->items[i];
        j->n_items = w;
        j->holes = 0;
        j->index_items = SIZE_MAX; /* positions moved: rebuild */
}

/* ---- writing ------------------------------------------------------------ */


/* ---- escaping ----------------------------------------------------------- */

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

/* ---- reading ------------------------------------------------------------ */

int journal_unescape_strict(const char *s, size_t n, char **ret) {
        char *out = xmalloc(n + 1), *p = out;
        size_t plain = 0;

        /* Most fields have nothing to unescape: copied in one piece. */
        while (plain < n && s[plain] != '\\' && (unsigned char) s[plain] >= 0x20 && s[plain] != 0x7f)
                plain++;
        if (plain == n) {
                memcpy(out, s, n);
                out[n] = 0;
                *ret = out;
                return 0;
        }

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
const char *journal_item_check(const char *kind, const char *target, const char *vm, const char *ident) {
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
                return journal_item_check(f[2], f[3], f[6], f[7]);
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
                        /* the fields parse_line unescaped: taken, not copied */
                        it = array_push(&j->items, &j->n_items, sizeof(JournalItem));
                        it->seq = (unsigned) strtoul(f[1], NULL, 10);
                        it->kind = TAKE_PTR(f[2]);
                        it->target = TAKE_PTR(f[3]);
                        it->original = TAKE_PTR(f[4]);
                        it->intended = TAKE_PTR(f[5]);
                        it->vm = TAKE_PTR(f[6]);
                        it->ident = TAKE_PTR(f[7]);
                        journal_index_add(j);
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
                        it->applied = TAKE_PTR(f[2]);
                }
        } else if (streq(f[0], "forget"))
                journal_item_drop(j, f[1]);
        else if (streq(f[0], "refused")) {
                (void) strset_add(&j->refused, f[1]);
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
                        if (!nl || l != strlen(JOURNAL_MAGIC) || memcmp(p, JOURNAL_MAGIC, l) != 0) {
                                *ret = j;
                                *ret_error = xasprintf("%s:1: not a cpushield journal (expected '%s')", path,
                                                       JOURNAL_MAGIC);
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
        journal_items_pack(&j);
        *ret = j;
        return 0;
}
