/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "journal.h"

#define BOOT_A "aaaaaaaa-0000-4000-8000-000000000001"
#define BOOT_B "bbbbbbbb-0000-4000-8000-000000000002"
#define BOOT_OLD "01d0b007-0000-4000-8000-000000000003"
#define BOOT_NEW "0e1b0072-0000-4000-8000-000000000004"

static char dir[] = "/tmp/cpushield-journal-XXXXXX";

static void setup(void) {
        cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void) {
        char *cmd = xasprintf("rm -rf '%s'", dir);
        cr_assert_eq(system(cmd), 0);
        free(cmd);
}

static char *slurp(const char *name) {
        char *path = xasprintf("%s/%s", dir, name), *buf = xcalloc(65536, 1);
        FILE *f = fopen(path, "re");

        cr_assert_not_null(f, "%s", path);
        fread(buf, 1, 65535, f);
        fclose(f);
        free(path);
        return buf;
}

Test(journal, escape_roundtrip) {
        const char *cases[] = { "", "plain", "cpu io memory pids", "tab\there", "new\nline", "back\\slash\\t" };

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char *e = journal_escape(cases[i]), *u = journal_unescape(e);
                cr_assert_null(strchr(e, '\t'));
                cr_assert_null(strchr(e, '\n'));
                cr_assert_str_eq(u, cases[i]);
                free(e);
                free(u);
        }
}

Test(journal, originals_survive_and_reload, .init = setup, .fini = teardown) {
        Journal j;
        char *w = NULL, *e = NULL;

        cr_assert_eq(journal_open(dir, BOOT_A, &j, &w, &e), 0, "%s", e ? e : "");
        cr_assert_eq(j.n_items, 0);
        cr_assert_eq(journal_record(&j, "irq/write", "/proc/irq/16/smp_affinity_list", "", "0-7", "0,4", "win10"), 0);
        /* flushed before any write: a second reader sees it now */
        char *text = slurp("journal");
        cr_assert(strstr(text, "item\t0\tirq/write\t/proc/irq/16/smp_affinity_list\t0-7\t0,4\twin10\t\n"), "%s", text);
        free(text);
        cr_assert_eq(journal_applied(&j, "/proc/irq/16/smp_affinity_list", "0,4"), 0);
        /* a second intent keeps the first original */
        cr_assert_eq(journal_record(&j, "irq/write", "/proc/irq/16/smp_affinity_list", "", "0,4", "0", "win10"), 0);
        cr_assert_eq(journal_record(&j, "cpuset/subtree", "/sys/fs/cgroup/cgroup.subtree_control", "",
                                    "cpu io memory pids", "cpuset cpu io memory pids", "win10"), 0);
        journal_close(&j);

        cr_assert_eq(journal_open(dir, BOOT_A, &j, &w, &e), 0, "%s", e ? e : "");
        cr_assert_eq(j.n_items, 2);
        JournalItem *it = journal_find(&j, "/proc/irq/16/smp_affinity_list");
        cr_assert_str_eq(it->original, "0-7");
        cr_assert_str_eq(it->intended, "0");
        cr_assert_str_eq(it->applied, "0,4");
        it = journal_find(&j, "/sys/fs/cgroup/cgroup.subtree_control");
        cr_assert_str_eq(it->original, "cpu io memory pids");
        cr_assert_gt(it->seq, journal_find(&j, "/proc/irq/16/smp_affinity_list")->seq);
        cr_assert_eq(journal_forget(&j, "/proc/irq/16/smp_affinity_list"), 0);
        cr_assert_eq(journal_compact(&j), 0);
        journal_close(&j);

        cr_assert_eq(journal_open(dir, BOOT_A, &j, &w, &e), 0, "%s", e ? e : "");
        cr_assert_eq(j.n_items, 1);
        cr_assert_eq(journal_forget(&j, "/sys/fs/cgroup/cgroup.subtree_control"), 0);
        cr_assert_eq(journal_compact(&j), 0);
        journal_close(&j);
        char *path = xasprintf("%s/journal", dir);
        cr_assert_eq(access(path, F_OK), -1, "an empty journal is removed");
        free(path);
}

/* The file as render writes it: every field journal_escape'd, whatever it
 * holds (tabs, newlines, backslashes, other control characters, UTF-8). */
Test(journal, render_escapes_like_journal_escape, .init = setup, .fini = teardown) {
        Journal j;
        char *w = NULL, *e = NULL;
        const char *orig = "a\tb\nc\\d\x01e\x7f f \xc3\xa9", *intended = "0,4\\x", *vm = "win10";

        cr_assert_eq(journal_open(dir, BOOT_A, &j, &w, &e), 0, "%s", e ? e : "");
        cr_assert_eq(journal_record(&j, "cpuset/subtree", "/sys/fs/cgroup/cgroup.subtree_control", "", orig, intended,
                                    vm), 0);
        cr_assert_eq(journal_compact(&j), 0);
        journal_close(&j);
        char *text = slurp("journal"), *t = journal_escape("/sys/fs/cgroup/cgroup.subtree_control"),
             *o = journal_escape(orig), *i = journal_escape(intended), *v = journal_escape(vm);
        char *want = xasprintf("cpushield-journal 1\nboot\t%s\nitem\t0\tcpuset/subtree\t%s\t%s\t%s\t%s\t\n", BOOT_A, t,
                               o, i, v);
        cr_assert_str_eq(text, want);
        cr_assert_eq(journal_open(dir, BOOT_A, &j, &w, &e), 0, "%s", e ? e : "");
        cr_assert_str_eq(journal_find(&j, "/sys/fs/cgroup/cgroup.subtree_control")->original, orig);
        journal_close(&j);
        free(text), free(t), free(o), free(i), free(v), free(want);
}

/* Links of the journal file: a second name made beside it stays with the
 * old file when the journal is rewritten (a new file renamed over it). */
static nlink_t journal_links(void) {
        char *path = xasprintf("%s/journal", dir);
        struct stat st;

        cr_assert_eq(stat(path, &st), 0, "%s", path);
        free(path);
        return st.st_nlink;
}

/* A run that changes nothing leaves the journal file as it was: compacting
 * to the text already on disk writes nothing; one that changes it does. */
Test(journal, compact_without_changes_writes_nothing, .init = setup, .fini = teardown) {
        Journal j;
        char *w = NULL, *e = NULL;
        char *path = xasprintf("%s/journal", dir), *keep = xasprintf("%s/journal.keep", dir);

        cr_assert_eq(journal_open(dir, BOOT_A, &j, &w, &e), 0, "%s", e ? e : "");
        cr_assert_eq(journal_record(&j, "irq/write", "/proc/irq/16/smp_affinity_list", "", "0-7", "0,4", "win10"), 0);
        cr_assert_eq(journal_record(&j, "irq/write", "/proc/irq/17/smp_affinity_list", "", "0-7", "0,4", "win10"), 0);
        cr_assert_eq(journal_compact(&j), 0);
        cr_assert_eq(link(path, keep), 0);
        cr_assert_eq(journal_compact(&j), 0);
        cr_assert_eq(journal_links(), 2, "the same text again: not rewritten");
        journal_close(&j);

        cr_assert_eq(journal_open(dir, BOOT_A, &j, &w, &e), 0, "%s", e ? e : "");
        cr_assert_eq(journal_compact(&j), 0);
        cr_assert_eq(journal_links(), 2, "loaded and compacted unchanged: not rewritten");
        cr_assert_eq(journal_forget(&j, "/proc/irq/16/smp_affinity_list"), 0);
        cr_assert_eq(journal_compact(&j), 0);
        cr_assert_eq(journal_links(), 1, "an item forgotten: rewritten");
        journal_close(&j);

        cr_assert_eq(journal_open(dir, BOOT_A, &j, &w, &e), 0, "%s", e ? e : "");
        cr_assert_eq(j.n_items, 1);
        cr_assert_not_null(journal_find(&j, "/proc/irq/17/smp_affinity_list"));
        journal_close(&j);
        free(path);
        free(keep);
}

/* Forgetting leaves holes that lookups skip; a target forgotten and
 * journaled again is one item; the file and a reload see only live items. */
Test(journal, forget_many_then_record_again, .init = setup, .fini = teardown) {
        Journal j;
        char *w = NULL, *e = NULL, target[64], orig[16];

        cr_assert_eq(journal_open(dir, BOOT_A, &j, &w, &e), 0, "%s", e ? e : "");
        for (unsigned i = 0; i < 40; i++) {
                snprintf(target, sizeof target, "/proc/irq/%u/smp_affinity_list", i);
                snprintf(orig, sizeof orig, "0-%u", i + 1);
                cr_assert_eq(journal_record(&j, "irq/write", target, "", orig, "0", "vm"), 0);
        }
        for (unsigned i = 0; i < 40; i += 2) {
                snprintf(target, sizeof target, "/proc/irq/%u/smp_affinity_list", i);
                cr_assert_eq(journal_forget(&j, target), 0);
        }
        for (unsigned i = 0; i < 40; i++) {
                snprintf(target, sizeof target, "/proc/irq/%u/smp_affinity_list", i);
                JournalItem *it = journal_find(&j, target);
                if (i % 2 == 0)
                        cr_assert_null(it, "%s was forgotten", target);
                else {
                        snprintf(orig, sizeof orig, "0-%u", i + 1);
                        cr_assert_not_null(it, "%s", target);
                        cr_assert_str_eq(it->original, orig);
                }
        }
        cr_assert_eq(journal_record(&j, "irq/write", "/proc/irq/4/smp_affinity_list", "", "0-99", "0", "vm"), 0);
        cr_assert_str_eq(journal_find(&j, "/proc/irq/4/smp_affinity_list")->original, "0-99");
        journal_close(&j); /* the appended records, forget lines included */

        for (int pass = 0; pass < 2; pass++) { /* as appended, then compacted */
                cr_assert_eq(journal_open(dir, BOOT_A, &j, &w, &e), 0, "%s", e ? e : "");
                cr_assert_eq(j.n_items, 21);
                cr_assert_str_eq(journal_find(&j, "/proc/irq/4/smp_affinity_list")->original, "0-99");
                cr_assert_str_eq(journal_find(&j, "/proc/irq/39/smp_affinity_list")->original, "0-40");
                cr_assert_null(journal_find(&j, "/proc/irq/38/smp_affinity_list"));
                if (pass == 0)
                        cr_assert_eq(journal_compact(&j), 0);
                journal_close(&j);
        }
}

Test(journal, torn_last_line_is_ignored, .init = setup, .fini = teardown) {
        Journal j;
        char *w = NULL, *e = NULL;

        cr_assert_eq(journal_open(dir, BOOT_B, &j, &w, &e), 0);
        cr_assert_eq(journal_record(&j, "irq/write", "/proc/irq/1/smp_affinity_list", "", "0-7", "0", "vm"), 0);
        journal_close(&j);
        char *path = xasprintf("%s/journal", dir);
        int fd = open(path, O_WRONLY | O_APPEND);
        cr_assert_eq(write(fd, "applied\t/proc/ir", 16), 16); /* a crash mid-write */
        close(fd);
        cr_assert_eq(journal_open(dir, BOOT_B, &j, &w, &e), 0, "%s", e ? e : "");
        cr_assert_eq(j.n_items, 1);
        cr_assert_null(j.items[0].applied);
        journal_close(&j);
        free(path);
}

Test(journal, another_boot_is_set_aside, .init = setup, .fini = teardown) {
        Journal j;
        char *w = NULL, *e = NULL;

        cr_assert_eq(journal_open(dir, BOOT_OLD, &j, &w, &e), 0);
        cr_assert_eq(journal_record(&j, "irq/write", "/proc/irq/1/smp_affinity_list", "", "0-7", "0", "vm"), 0);
        journal_close(&j);
        cr_assert_eq(journal_peek(dir, BOOT_NEW, &j), 0);
        cr_assert_eq(j.n_items, 0, "peek shows nothing of another boot");
        journal_close(&j);
        cr_assert_eq(journal_open(dir, BOOT_NEW, &j, &w, &e), 0);
        cr_assert_eq(j.n_items, 0);
        cr_assert_not_null(w);
        cr_assert(strstr(w, "another boot (" BOOT_OLD ")"), "%s", w);
        journal_close(&j);
        char *aside = xasprintf("%s/journal." BOOT_OLD ".stale", dir);
        cr_assert_eq(access(aside, F_OK), 0);
        free(aside);
}

Test(journal, lock_is_exclusive, .init = setup, .fini = teardown) {
        int a = -1, b = -1;
        char *e = NULL;

        cr_assert_eq(state_lock(dir, 0, &a, &e), 0);
        /* flock locks belong to the open file description: a second open conflicts */
        cr_assert_eq(state_lock(dir, 0, &b, &e), -EWOULDBLOCK);
        cr_assert(strstr(e, "another cpushield run"), "%s", e);
        close(a);
        free(e);
        e = NULL;
        cr_assert_eq(state_lock(dir, 0, &b, &e), 0);
        close(b);
}

Test(journal, refused_targets_persist_for_the_boot, .init = setup, .fini = teardown) {
        Journal j;
        char *w = NULL, *e = NULL;

        cr_assert_eq(journal_open(dir, BOOT_B, &j, &w, &e), 0);
        cr_assert_eq(journal_record(&j, "irq/write", "/proc/irq/5/smp_affinity_list", "", "0-7", "0", "vm"), 0);
        cr_assert_eq(journal_refused(&j, "/proc/irq/26/smp_affinity_list"), 0);
        cr_assert_eq(journal_refused(&j, "/proc/irq/26/smp_affinity_list"), 0); /* once is enough */
        cr_assert_eq(journal_compact(&j), 0);
        journal_close(&j);
        cr_assert_eq(journal_peek(dir, BOOT_B, &j), 0);
        cr_assert_eq(j.refused.list.n, 1);
        cr_assert_str_eq(j.refused.list.v[0], "/proc/irq/26/smp_affinity_list");
        journal_close(&j);
        cr_assert_eq(journal_peek(dir, BOOT_NEW, &j), 0);
        cr_assert_eq(j.refused.list.n, 0, "what one boot's kernel refused says nothing about the next");
        journal_close(&j);
}

/* A host without irq debugfs learns every managed IRQ by a refusal: a
 * thousand of them are each found, in the order refused, and once. */
Test(journal, many_refused_targets_are_a_set, .init = setup, .fini = teardown) {
        Journal j;
        char *w = NULL, *e = NULL, t[64];

        cr_assert_eq(journal_open(dir, BOOT_B, &j, &w, &e), 0);
        cr_assert_eq(journal_record(&j, "irq/write", "/proc/irq/5/smp_affinity_list", "", "0-7", "0", "vm"), 0);
        for (unsigned i = 0; i < 3000; i++) {
                snprintf(t, sizeof t, "/proc/irq/%u/smp_affinity_list", (i * 7919) % 3000);
                cr_assert_eq(journal_refused(&j, t), 0);
        }
        for (unsigned i = 0; i < 3000; i += 2) {
                snprintf(t, sizeof t, "/proc/irq/%u/smp_affinity_list", i);
                cr_assert_eq(journal_refused(&j, t), 0); /* again: no record, no second entry */
        }
        cr_assert_eq(j.refused.list.n, 3000);
        cr_assert_eq(journal_compact(&j), 0);
        journal_close(&j);
        cr_assert_eq(journal_peek(dir, BOOT_B, &j), 0);
        cr_assert_eq(j.refused.list.n, 3000);
        cr_assert_str_eq(j.refused.list.v[1], "/proc/irq/1919/smp_affinity_list");
        for (unsigned i = 0; i < 3000; i++) {
                snprintf(t, sizeof t, "/proc/irq/%u/smp_affinity_list", i);
                cr_assert(strset_contains(&j.refused, t), "%s", t);
        }
        cr_assert_not(strset_contains(&j.refused, "/proc/irq/3000/smp_affinity_list"));
        cr_assert_not(strset_contains(&j.refused, "/proc/irq/30/smp_affinity"));
        journal_close(&j);
}

Test(journal, control_characters_roundtrip_strictly) {
        const char *cases[] = { "cr\rhere", "\x01\x1f\x7f", "tab\tnl\nbs\\", "plain" };

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char *e = journal_escape(cases[i]), *u = NULL;
                for (const char *c = e; *c; c++)
                        cr_assert((unsigned char) *c >= 0x20 && *c != 0x7f, "raw control character in '%s'", e);
                cr_assert_eq(journal_unescape_strict(e, strlen(e), &u), 0, "%s", e);
                cr_assert_str_eq(u, cases[i]);
                free(u);
                free(e);
        }
        char *u = NULL;
        cr_assert_eq(journal_unescape_strict("a\\x00b", 6, &u), -EINVAL, "no NUL through an escape");
        cr_assert_eq(journal_unescape_strict("a\\x1", 4, &u), -EINVAL);
        cr_assert_eq(journal_unescape_strict("a\\q", 3, &u), -EINVAL);
        cr_assert_eq(journal_unescape_strict("a\\", 2, &u), -EINVAL);
}

Test(journal, nothing_unreadable_is_ever_written, .init = setup, .fini = teardown) {
        Journal j;
        char *w = NULL, *e = NULL;

        cr_assert_eq(journal_open(dir, BOOT_A, &j, &w, &e), 0, "%s", e ? e : "");
        /* a target outside the set, or a kind that does not fit: refused
         * before the journal, so before any write */
        cr_assert_eq(journal_record(&j, "irq/write", "/etc/passwd", "", "x", "y", "vm"), -EINVAL);
        cr_assert_eq(journal_record(&j, "kthread/affinity", "/proc/irq/1/smp_affinity_list", "", "0-7", "0", "vm"),
                     -EINVAL);
        cr_assert_eq(journal_record(&j, "kthread/affinity", "/proc/12", "notatime", "0-7", "0", "vm"), -EINVAL);
        cr_assert_eq(journal_record(&j, "irq/write", "/proc/irq/1/smp_affinity_list", "", "0-7", "0", "a b"), -EINVAL);
        cr_assert_eq(journal_refused(&j, "/proc/irq/x/smp_affinity_list"), -EINVAL);
        cr_assert_eq(journal_applied(&j, "x", "1"), -EINVAL);
        char *path = xasprintf("%s/journal", dir);
        cr_assert_eq(access(path, F_OK), -1, "nothing was journaled");
        /* values with control characters are fine: escaped */
        cr_assert_eq(journal_record(&j, "cpuset/write", "/sys/fs/cgroup/machine.slice/cpuset.cpus", "", "0-7\r", "1\x01",
                                    "vm"), 0);
        journal_close(&j);
        cr_assert_eq(journal_open(dir, BOOT_A, &j, &w, &e), 0, "%s", e ? e : "");
        cr_assert_eq(j.n_items, 1);
        cr_assert_str_eq(j.items[0].original, "0-7\r");
        journal_close(&j);
        free(path);
}
