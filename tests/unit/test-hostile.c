/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hostile input and a hostile machine, one case each: what was tried, and
 * what must happen. The first four are the reproducers of issue 10; the
 * journals are real ones, made by activating a VM on a copy of a fixture
 * host through the library (what `cpushield activate` does), then
 * mutated.
 *
 *  input                                         expected
 *  target shorter than its prefix ('x')          line damaged, never planned; no out-of-bounds read
 *  NUL in the middle of a 75-item journal        open refuses naming FILE:LINE; forced: 74 items
 *                                                restored, the bad line kept in the journal and in
 *                                                journal.unreadable
 *  world-writable state dir, target /etc/passwd  refused before anything is read or created
 *  duplicate IOThread ids 1 and 01               config error at FILE:LINE:COL
 *  symlinked state directory                     refused, nothing created in its target
 *  state directory owned by another user         refused
 *  boot id with '/' (journal or host)            damaged line / refused, never a path
 *  targets outside the set, kind/target mismatch damaged line naming FILE:LINE, never applied
 *  garbage line in the middle                    that line damaged, the rest readable
 *  invalid escape, control character, long line  damaged
 *  torn last line (crash while appending)        left out and noted: its write never happened
 *  full filesystem during compaction             real errno, no journal.tmp left, journal intact
 *  a journal that is a FIFO or a symlink         refused, no hang
 *  state dir of the running non-root user        trusted; another user's refused
 *  renames elsewhere while a ".." link is read   every read sees the link (openat2 EAGAIN retried)
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "apply.h"
#include "pipeline.h"
#include "config.h"
#include "host.h"
#include "journal.h"
#include "fs.h"
#include "plan.h"

#define I7_BOOT "8c0d4f7e-2b1a-4e5f-9d3c-6a7b8e9f0a1b"

static char tmp[] = "/tmp/cpushield-hostile-XXXXXX";
static char *root, *state;

static void run(const char *fmt, ...) _printf_(1, 2);
static void run(const char *fmt, ...) {
        va_list ap;
        char *cmd;

        va_start(ap, fmt);
        cr_assert_geq(vasprintf(&cmd, fmt, ap), 0);
        va_end(ap);
        cr_assert_eq(system(cmd), 0, "%s", cmd);
        free(cmd);
}

static void setup(void) {
        cr_assert_not_null(mkdtemp(tmp));
        root = xasprintf("%s/root", tmp);
        state = xasprintf("%s/state", tmp);
        cr_assert_eq(mkdir(state, 0700), 0);
}

static void teardown(void) {
        run("chmod -R u+rwX '%s'; rm -rf '%s'", tmp, tmp);
        free(root);
        free(state);
}

static char *path_in(const char *dir, const char *name) {
        return xasprintf("%s/%s", dir, name);
}

static char *slurp(const char *path, size_t *ret_len) {
        FILE *f = fopen(path, "re");
        char *buf = xcalloc(1 << 20, 1);
        size_t n;

        cr_assert_not_null(f, "%s", path);
        n = fread(buf, 1, (1 << 20) - 1, f);
        fclose(f);
        if (ret_len)
                *ret_len = n;
        return buf;
}

static void spew(const char *path, const char *data, size_t len) {
        FILE *f = fopen(path, "we");

        cr_assert_not_null(f, "%s", path);
        cr_assert_eq(fwrite(data, 1, len, f), len);
        fclose(f);
}

/* Activates win10 on a fresh copy of the i7-4790K fixture, through the
 * same library calls as `cpushield activate`: a real journal. */
static void activate_win10(Host *ret_host, Config *ret_cfg) {
        char *err = NULL, *warn = NULL;
        char *cfg_file = xasprintf("%s/desktop-4790k.yaml", EXAMPLES_DIR);
        char *files[] = { cfg_file };
        StrList active = {};
        bool force = false;
        ApplyResult res = {};
        Journal j;
        Plan p;
        int lock = -1;

        run("cp -a '%s/i7-4790k' '%s'", FIXTURES_DIR, root);
        cr_assert_eq(host_load(root, HOST_ALL, ret_host, &err), 0, "%s", err);
        cr_assert_str_eq(ret_host->boot_id, I7_BOOT);
        cr_assert_eq(config_load(files, 1, ret_host, ret_cfg, &err), 0, "%s", err);
        cr_assert_eq(state_lock(state, 0, &lock, &err), 0, "%s", err);
        cr_assert_eq(journal_open(state, ret_host->boot_id, &j, &warn, &err), 0, "%s", err);
        strlist_add(&active, "win10");
        cr_assert_eq(pipeline_plan_once(ret_host, ret_cfg, &active, &j, force, &p), 0);
        cr_assert_eq(apply_plan(backend_select(ret_host), ret_host, &j, &p, &res), 0);
        cr_assert_eq(res.errors.n, 0, "%s", res.errors.n ? res.errors.v[0] : "");
        cr_assert_eq(j.n_items, 75, "the issue's journal had 75 items, this one %zu", j.n_items);
        apply_result_free(&res);
        plan_free(&p);
        journal_close(&j);
        strlist_free(&active);
        close(lock);
        free(cfg_file);
        /* the host as it is now */
        host_free(ret_host);
        cr_assert_eq(host_load(root, HOST_ALL, ret_host, &err), 0, "%s", err);
}

/* Replaces the journal's body after its two header lines. */
static void journal_with_body(const char *body, size_t len) {
        char *p = path_in(state, "journal");
        const char *head = "cpushield-journal 1\nboot\t" I7_BOOT "\n";
        char *all = xmalloc(strlen(head) + len);

        memcpy(all, head, strlen(head));
        memcpy(all + strlen(head), body, len);
        spew(p, all, strlen(head) + len);
        free(all);
        free(p);
}

static int open_forced(Journal *j, char **err) {
        char *warn = NULL;
        return journal_open_full(state, I7_BOOT, JOURNAL_ALLOW_DAMAGED, j, &warn, err);
}

/* ---- 1: a target shorter than its prefix --------------------------------- */

Test(hostile, short_target_never_reaches_the_planner, .init = setup, .fini = teardown) {
        static const char *const bodies[] = {
                "item\t0\tkthread/affinity\tx\t0\t1\tvm\t\n",
                "item\t0\tkthread/affinity\t/proc/\t0\t1\tvm\t\n",
                "item\t0\tcpuset/unit\tsystemd:\t0\t1\tvm\t\n",
                "item\t0\tlibvirt/libvirt-pin\tlibvirt:\t0\t1\tvm\tqemu:///system\n",
                "item\t0\tlibvirt/libvirt-pin\tlibvirt:x\t0\t1\tvm\tqemu:///system\n",
        };
        run("cp -a '%s/i7-4790k' '%s'", FIXTURES_DIR, root);
        for (size_t i = 0; i < ELEMENTSOF(bodies); i++) {
                Journal j;
                char *err = NULL, *warn = NULL;

                journal_with_body(bodies[i], strlen(bodies[i]));
                cr_assert_eq(journal_open(state, I7_BOOT, &j, &warn, &err), -EBADMSG, "%s", bodies[i]);
                cr_assert(strstr(err, "/journal:3: ") && strstr(err, "unreadable"), "%s", err);
                free(err);
                err = NULL;
                cr_assert_eq(open_forced(&j, &err), 0, "%s", err);
                cr_assert_eq(j.n_items, 0, "a hostile target became an item: %s", bodies[i]);
                cr_assert_eq(j.damaged.n, 1);
                /* the planner has nothing of it to restore */
                Host h = {};
                Config c = {};
                Plan p;
                StrList none = {};
                bool force = false;
                char *herr = NULL;
                cr_assert_eq(host_load(root, HOST_ALL, &h, &herr), 0, "%s", herr);
                c.partition = xstrdup("machine.slice");
                pipeline_plan_once(&h, &c, &none, &j, force, &p);
                for (size_t k = 0; k < p.n_changes; k++)
                        cr_assert(!p.changes[k].restore, "restore planned for %s", p.changes[k].target);
                plan_free(&p);
                config_free(&c);
                host_free(&h);
                journal_close(&j);
        }
}

/* ---- 2: a NUL byte in the middle of a 75-item journal ------------------- */

Test(hostile, nul_byte_loses_no_original, .init = setup, .fini = teardown) {
        Host h;
        Config c;
        Journal j;
        char *err = NULL, *warn = NULL;
        size_t len;

        activate_win10(&h, &c);
        char *jp = path_in(state, "journal");
        char *text = slurp(jp, &len);
        /* the 40th item line: its target gets a NUL */
        char *line = text;
        unsigned lineno = 1, items = 0;
        for (; line && items < 40; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL, lineno++)
                if (strncmp(line, "item\t", 5) == 0 && ++items == 40)
                        break;
        cr_assert_not_null(line);
        char *tab = strchr(line + 5, '\t');
        tab = strchr(tab + 1, '\t');
        tab[3] = 0; /* inside the target */
        char *nl = strchr(tab + 4, '\n');
        size_t bad_len = (size_t) (nl - line);
        char *bad_line = xmalloc(bad_len);
        memcpy(bad_line, line, bad_len);
        spew(jp, text, len);

        /* plain commands: refused, naming the line, nothing written */
        cr_assert_eq(journal_open(state, I7_BOOT, &j, &warn, &err), -EBADMSG);
        char *want = xasprintf("/journal:%u: NUL byte", lineno);
        cr_assert(strstr(err, want), "%s (want %s)", err, want);
        free(err);
        err = NULL;
        cr_assert_eq(journal_peek(state, I7_BOOT, &j), -EBADMSG, "peek must not read a damaged journal as fine");
        cr_assert_eq(j.n_items, 74);
        journal_close(&j);
        char *unreadable = path_in(state, JOURNAL_UNREADABLE_FILE);
        cr_assert_eq(access(unreadable, F_OK), -1, "refusing wrote nothing");

        /* revert --force: every readable item comes back */
        cr_assert_eq(open_forced(&j, &err), 0, "%s", err);
        cr_assert_eq(j.n_items, 74);
        cr_assert_eq(j.damaged.n, 1);
        size_t ulen;
        char *copy = slurp(unreadable, &ulen);
        cr_assert_eq(ulen, bad_len + 1);
        cr_assert_eq(memcmp(copy, bad_line, bad_len), 0, "journal.unreadable holds the raw record");
        free(copy);

        StrList none = {};
        bool force = true;
        Plan p;
        ApplyResult res = {};
        cr_assert_eq(pipeline_plan_once(&h, &c, &none, &j, force, &p), 0);
        size_t restores = 0;
        for (size_t i = 0; i < p.n_changes; i++)
                restores += p.changes[i].restore;
        cr_assert_gt(restores, 60);
        cr_assert_eq(apply_plan(backend_select(&h), &h, &j, &p, &res), 0);
        cr_assert_eq(res.errors.n, 0, "%s", res.errors.n ? res.errors.v[0] : "");
        cr_assert_eq(j.n_items, 0, "every readable item restored");
        apply_result_free(&res);
        plan_free(&p);
        journal_close(&j);

        /* the journal stays, with exactly the unreadable record */
        size_t after_len;
        char *after = slurp(jp, &after_len);
        cr_assert(memmem(after, after_len, bad_line, bad_len), "the damaged record was dropped");
        free(after);
        cr_assert_eq(journal_open(state, I7_BOOT, &j, &warn, &err), -EBADMSG, "still damaged");
        free(err);

        free(bad_line);
        free(want);
        free(unreadable);
        free(text);
        free(jp);
        config_free(&c);
        host_free(&h);
}

/* ---- 3: a world-writable state directory, a target of /etc/passwd -------- */

Test(hostile, world_writable_state_dir_is_refused, .init = setup, .fini = teardown) {
        Journal j;
        char *err = NULL, *warn = NULL;
        int lock = -1;
        const char *body = "item\t0\tirq/write\t/etc/passwd\troot:x:0:0::/root:/bin/sh\tx\tvm\t\n";

        journal_with_body(body, strlen(body));
        cr_assert_eq(chmod(state, 0777), 0);
        cr_assert_eq(state_lock(state, 0, &lock, &err), -EPERM);
        cr_assert(strstr(err, "writable by others (mode 0777)"), "%s", err);
        free(err);
        err = NULL;
        char *lockp = path_in(state, "lock");
        cr_assert_eq(access(lockp, F_OK), -1, "nothing created in an untrusted directory");
        cr_assert_eq(journal_open(state, I7_BOOT, &j, &warn, &err), -EPERM);
        free(err);
        err = NULL;
        cr_assert_eq(journal_peek(state, I7_BOOT, &j), -EPERM);
        cr_assert_eq(j.n_items, 0);
        journal_close(&j);
        cr_assert_eq(chmod(state, 0770), 0);
        cr_assert_eq(state_lock(state, 0, &lock, &err), -EPERM, "group-writable too");
        free(err);
        err = NULL;

        /* trusted directory: the record itself is still outside the set */
        cr_assert_eq(chmod(state, 0700), 0);
        cr_assert_eq(journal_open(state, I7_BOOT, &j, &warn, &err), -EBADMSG);
        cr_assert(strstr(err, "/journal:3: "), "%s", err);
        free(err);
        err = NULL;
        cr_assert_eq(open_forced(&j, &err), 0);
        cr_assert_eq(j.n_items, 0);
        cr_assert(strstr(j.damaged.v[0], "not one cpushield manages"), "%s", j.damaged.v[0]);
        journal_close(&j);
        free(lockp);
}

Test(hostile, parent_of_state_dir_writable_by_others, .init = setup, .fini = teardown) {
        char *mid = path_in(tmp, "open"), *inner = path_in(mid, "state");
        int lock = -1;
        char *err = NULL;

        cr_assert_eq(mkdir(mid, 0777), 0);
        cr_assert_eq(chmod(mid, 0777), 0); /* no sticky bit: anyone can rename 'state' away */
        cr_assert_eq(state_lock(inner, 0, &lock, &err), -EPERM);
        cr_assert(strstr(err, "parent") && strstr(err, "open"), "%s", err);
        cr_assert_eq(access(inner, F_OK), -1, "created nothing below an untrusted parent");
        free(err);
        err = NULL;
        cr_assert_eq(chmod(mid, 01777), 0); /* sticky and root's (or ours): like /tmp */
        if (geteuid() == 0) {
                cr_assert_eq(state_lock(inner, 0, &lock, &err), 0, "%s", err);
                close(lock);
        }
        free(mid);
        free(inner);
}

Test(hostile, state_dir_owned_by_another_user, .init = setup, .fini = teardown) {
        int lock = -1;
        char *err = NULL;

        if (geteuid() != 0)
                cr_skip_test("needs root to give the directory away");
        cr_assert_eq(chown(state, 65534, 65534), 0);
        cr_assert_eq(state_lock(state, 0, &lock, &err), -EPERM);
        cr_assert(strstr(err, "owned by uid 65534"), "%s", err);
        free(err);
}

Test(hostile, symlinked_state_dir_creates_nothing, .init = setup, .fini = teardown) {
        char *link = path_in(tmp, "link"), *lockp = path_in(state, "lock");
        int lock = -1;
        char *err = NULL, *warn = NULL;
        Journal j;

        cr_assert_eq(symlink(state, link), 0);
        cr_assert_eq(state_lock(link, 0, &lock, &err), -ELOOP);
        cr_assert(strstr(err, "symbolic link"), "%s", err);
        cr_assert_eq(access(lockp, F_OK), -1, "the lock file was created in the link's target");
        free(err);
        err = NULL;
        cr_assert_eq(journal_open(link, I7_BOOT, &j, &warn, &err), -ELOOP);
        free(err);
        free(link);
        free(lockp);
}

Test(hostile, state_files_that_are_links_or_fifos, .init = setup, .fini = teardown) {
        char *jp = path_in(state, "journal"), *lp = path_in(state, "lock");
        char *err = NULL, *warn = NULL;
        Journal j;
        int lock = -1;

        cr_assert_eq(symlink("/etc/passwd", jp), 0);
        cr_assert_lt(journal_open(state, I7_BOOT, &j, &warn, &err), 0);
        free(err);
        err = NULL;
        unlink(jp);
        cr_assert_eq(mkfifo(jp, 0600), 0);
        cr_assert_lt(journal_open(state, I7_BOOT, &j, &warn, &err), 0); /* and no hang */
        cr_assert(strstr(err, "not a regular file"), "%s", err);
        free(err);
        err = NULL;
        cr_assert_eq(symlink("/etc/passwd", lp), 0);
        cr_assert_lt(state_lock(state, 0, &lock, &err), 0);
        free(err);
        free(jp);
        free(lp);
}

/* ---- 4: duplicate IOThread ids ------------------------------------------- */

Test(hostile, duplicate_iothread_ids) {
        Host h;
        Config c;
        char *err = NULL;
        char *root_dir = xasprintf("%s/i7-4790k", FIXTURES_DIR);
        const char *text = "host: {cpus: \"0,4\"}\nvms:\n  w:\n    cpus: 1-3\n    iothread_pins: {1: \"1\", 01: \"2\"}\n";

        cr_assert_eq(host_load(root_dir, HOST_TOPOLOGY, &h, &err), 0, "%s", err);
        cr_assert_lt(config_load_data("dup.yaml", text, strlen(text), &h, &c, &err), 0);
        cr_assert_str_eq(err, "dup.yaml:5:29: IOThread 1 is pinned twice (first at line 5, column 21)");
        free(err);
        host_free(&h);
        free(root_dir);
}

/* ---- more journal damage -------------------------------------------------- */

typedef struct Damage {
        char body[160];
        size_t len;  /* 0: strlen(body) */
        char reason[64];
} Damage;

static const Damage damages[] = {
        { "boot\t../../etc\n", 0, "the boot id is not a UUID" },
        { "item\t0\tirq/write\t/proc/irq/5/smp_affinity_list\t0-7\t0\tvm\n", 0, "an item record has 8 fields" },
        { "item\t0\tirq/write\t/proc/irq/5/smp_affinity_list\t0-7\t0\tvm\t\tx\n", 0, "too many fields" },
        { "item\tx\tirq/write\t/proc/irq/5/smp_affinity_list\t0-7\t0\tvm\t\n", 0, "the sequence number" },
        { "item\t0\tnosuchkind/write\t/proc/irq/5/smp_affinity_list\t0-7\t0\tvm\t\n", 0, "unknown kind" },
        { "item\t0\tirq/exec\t/proc/irq/5/smp_affinity_list\t0-7\t0\tvm\t\n", 0, "unknown operation" },
        { "item\t0\tkthread/affinity\t/proc/irq/5/smp_affinity_list\t0-7\t0\tvm\t\n", 0, "does not match" },
        { "item\t0\tirq/write\t/proc/irq/5/smp_affinity_list\t0-7\\x\t0\tvm\t\n", 0, "invalid escape" },
        { "item\t0\tirq/write\t/proc/irq/5/smp_affinity_list\t0-7\\\t0\tvm\t\n", 0, "invalid escape" },
        { "item\t0\tirq/write\t/proc/irq/5/smp_affinity_list\t0-7\r\t0\tvm\t\n", 0, "control character" },
        { "item\t0\tirq/write\t/proc/irq/5/smp_affinity_list\t0-7\t0\tv m\t\n", 0, "VM field" },
        { "item\t0\tkthread/affinity\t/proc/5\t0-7\t0\tvm\tnot-a-time\n", 0, "start time" },
        { "item\t0\tirq/write\t/proc/irq/5/smp_affinity_list\t0-7\t0\tvm\tident\n", 0, "identity field" },
        { "applied\t/etc/shadow\tx\n", 0, "not one cpushield manages" },
        { "forget\t/proc/irq/5/smp_affinity_list\textra\n", 0, "2 fields" },
        { "\xff\xfe garbage \x01\x02\n", 0, "control character" },
        { "hello world\n", 0, "unknown record type" },
        { "\n", 0, "empty line" },
        { "refused\t/proc/irq/5/smp\0affinity_list\n", 38, "NUL byte" },
};

Test(hostile, damaged_lines_table, .init = setup, .fini = teardown) {
        const char *good = "item\t0\tirq/write\t/proc/irq/5/smp_affinity_list\t0-7\t0\tvm\t\n";
        const char *after = "item\t1\tirq/write\t/proc/irq/6/smp_affinity_list\t0-7\t0\tvm\t\n";

        for (size_t i = 0; i < ELEMENTSOF(damages); i++) {
                const Damage *d = &damages[i];
                size_t dl = d->len ? d->len : strlen(d->body);
                char *body = xmalloc(strlen(good) + dl + strlen(after));
                Journal j;
                char *err = NULL;

                memcpy(body, good, strlen(good));
                memcpy(body + strlen(good), d->body, dl);
                memcpy(body + strlen(good) + dl, after, strlen(after));
                journal_with_body(body, strlen(good) + dl + strlen(after));
                cr_assert_eq(open_forced(&j, &err), 0, "case %zu: %s", i, err);
                cr_assert_eq(j.damaged.n, 1, "case %zu (%s) not detected", i, d->reason);
                cr_assert(strstr(j.damaged.v[0], "/journal:4: ") && strstr(j.damaged.v[0], d->reason),
                          "case %zu: %s (want %s)", i, j.damaged.v[0], d->reason);
                /* the lines around it are read */
                cr_assert_eq(j.n_items, 2, "case %zu", i);
                journal_close(&j);
                free(body);
        }
}

Test(hostile, oversized_line, .init = setup, .fini = teardown) {
        size_t n = JOURNAL_LINE_MAX + 100;
        char *body = xmalloc(n + 1);
        Journal j;
        char *err = NULL;

        memset(body, 'a', n);
        memcpy(body, "item\t", 5);
        body[n - 1] = '\n';
        journal_with_body(body, n);
        cr_assert_eq(open_forced(&j, &err), 0, "%s", err);
        cr_assert_eq(j.damaged.n, 1);
        cr_assert(strstr(j.damaged.v[0], "line too long"), "%s", j.damaged.v[0]);
        journal_close(&j);
        free(body);
}

Test(hostile, host_boot_id_with_a_slash, .init = setup, .fini = teardown) {
        Journal j;
        char *err = NULL, *warn = NULL;

        cr_assert_eq(journal_open(state, "../../etc/x", &j, &warn, &err), -EINVAL);
        cr_assert(strstr(err, "not a UUID"), "%s", err);
        free(err);
}

Test(hostile, torn_last_line_is_noted, .init = setup, .fini = teardown) {
        const char *body = "item\t0\tirq/write\t/proc/irq/5/smp_affinity_list\t0-7\t0\tvm\t\napplied\t/proc/ir";
        Journal j;
        char *err = NULL, *warn = NULL;

        journal_with_body(body, strlen(body));
        cr_assert_eq(journal_open(state, I7_BOOT, &j, &warn, &err), 0, "%s", err);
        cr_assert_eq(j.n_items, 1);
        cr_assert_eq(j.damaged.n, 0);
        cr_assert_eq(j.torn.n, 1);
        cr_assert(strstr(j.torn.v[0], "/journal:4: "), "%s", j.torn.v[0]);
        journal_close(&j);
}

Test(hostile, full_filesystem_during_compaction, .init = setup, .fini = teardown) {
        Journal j;
        char *err = NULL, *warn = NULL;
        char *jp = path_in(state, "journal"), *tmpf = path_in(state, "journal.tmp");

        cr_assert_eq(journal_open(state, I7_BOOT, &j, &warn, &err), 0, "%s", err);
        for (unsigned i = 0; i < 40; i++) {
                char t[64];
                snprintf(t, sizeof t, "/proc/irq/%u/smp_affinity_list", i);
                cr_assert_eq(journal_record(&j, "irq/write", t, "", "0-7", "0,4", "win10"), 0);
        }
        size_t before_len;
        char *before = slurp(jp, &before_len);
        /* a file size limit stands in for a full filesystem: write(2)
         * stops short, then fails */
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = { 512, 512 };
        cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
        int r = journal_compact(&j);
        cr_assert(r == -EFBIG || r == -ENOSPC || r == -EIO, "a real errno, got %d (%s)", r, strerror(-r));
        cr_assert_eq(access(tmpf, F_OK), -1, "journal.tmp left behind");
        size_t after_len;
        char *after = slurp(jp, &after_len);
        cr_assert_eq(after_len, before_len);
        cr_assert_eq(memcmp(before, after, before_len), 0, "the journal was changed");
        journal_close(&j);
        free(before);
        free(after);
        free(jp);
        free(tmpf);
}

/* As an unprivileged user: one's own state directory is trusted, another
 * user's is not, whatever its mode. */
Test(hostile, unprivileged_user, .init = setup, .fini = teardown) {
        if (geteuid() != 0)
                cr_skip_test("needs root to become another user");
        char *mine = path_in(tmp, "mine"), *theirs = path_in(tmp, "theirs");
        cr_assert_eq(chmod(tmp, 0755), 0);
        cr_assert_eq(mkdir(mine, 0700), 0);
        cr_assert_eq(chown(mine, 65534, 65534), 0);
        cr_assert_eq(mkdir(theirs, 0755), 0); /* readable: only its owner is wrong */
        cr_assert_eq(chown(theirs, 12345, 12345), 0);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                int lock = -1, ok = 0;
                char *err = NULL;
                if (setgid(65534) < 0 || setuid(65534) < 0)
                        _exit(2);
                ok += state_lock(mine, 0, &lock, &err) == 0;
                if (err)
                        fprintf(stderr, "mine: %s\n", err);
                free(err);
                err = NULL;
                ok += state_lock(theirs, 0, &lock, &err) == -EPERM && strstr(err, "owned by uid 12345");
                if (ok != 2)
                        fprintf(stderr, "theirs: %s\n", err ? err : "");
                _exit(ok == 2 ? 0 : 1);
        }
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
        free(mine);
        free(theirs);
}

/* ---- the devices file (PCI devices the hook learned from domain XML) ----- */

Test(hostile, devices_file_keeps_only_well_formed_lines, .init = setup, .fini = teardown) {
        static const char body[] = "win10 0000:01:00.0\n"
                                   "win10 0000:01:00.0\n"          /* repeated: once */
                                   "no-space-here\n"
                                   " 0000:02:00.0\n"               /* no VM name */
                                   "win10 0000:03:00.0 extra\n"
                                   "win10 0000:04:00.\x01\n"       /* control character */
                                   "win10 0000:05:00.0\xff\n"      /* not ASCII */
                                   "other ../../etc/passwd\n";     /* shape fine: refused where used */
        char *dp = path_in(state, "devices"), *err = NULL, *warn = NULL;
        Journal j;

        spew(dp, body, sizeof body - 1);
        cr_assert_eq(journal_open(state, I7_BOOT, &j, &warn, &err), 0, "%s", strempty(err));
        cr_assert_eq(j.devices.n, 2);
        cr_assert_str_eq(j.devices.v[0], "win10 0000:01:00.0");
        cr_assert_str_eq(j.devices.v[1], "other ../../etc/passwd");
        journal_close(&j);

        /* the path in the second line never becomes a device */
        Host h;
        Config c;
        Devices d;
        StrList learned = {};
        char *cfg = xasprintf("%s/desktop-4790k.yaml", EXAMPLES_DIR), *files[] = { cfg };
        cr_assert_eq(host_load(FIXTURES_DIR "/i7-4790k", HOST_TOPOLOGY, &h, &err), 0, "%s", strempty(err));
        cr_assert_eq(config_load(files, 1, &h, &c, &err), 0, "%s", strempty(err));
        strlist_add(&learned, "win10 ../../etc/passwd");
        strlist_add(&learned, "win10 0000:01:00.0");
        devices_load(h.root_fd, &c, &learned, NULL, &d);
        cr_assert_eq(d.n, 1);
        cr_assert_str_eq(d.v[0].addr, "0000:01:00.0");
        cr_assert(!d.v[0].present);
        devices_free(&d);
        strlist_free(&learned);
        config_free(&c);
        host_free(&h);
        free(cfg);

        /* a link is not followed */
        unlink(dp);
        cr_assert_eq(symlink("/etc/passwd", dp), 0);
        cr_assert_eq(journal_open(state, I7_BOOT, &j, &warn, &err), 0, "%s", strempty(err));
        cr_assert_eq(j.devices.n, 0);
        journal_close(&j);
        free(dp);
}

/* A busy machine: something renames files in a loop (a package manager,
 * journald, an editor) while cpushield reads a device's driver through
 * /sys/bus/pci/devices/ADDR, a link that walks "..". openat2 then fails
 * with EAGAIN now and then; every read must still see the driver, or the
 * device looks unbound for a run and its vectors move to the host. */
Test(hostile, renames_elsewhere_do_not_fail_reads, .init = setup, .fini = teardown) {
        char *a = path_in(tmp, "a"), *b = path_in(tmp, "b");
        int root_fd, failed = 0;
        pid_t pid;

        spew(a, "x", 1);
        cr_assert_eq(root_open(FIXTURES_DIR "/xeon-2s", &root_fd), 0);
        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0)
                for (;;) {
                        (void) rename(a, b);
                        (void) rename(b, a);
                }
        for (int i = 0; i < 20000; i++) {
                _cleanup_free_ char *link = NULL;
                if (read_link(root_fd, "/sys/bus/pci/devices/0000:02:00.0/driver", &link) < 0)
                        failed++;
                else if (!streq(link, "../../../../bus/pci/drivers/vfio-pci"))
                        failed++;
        }
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        close(root_fd);
        cr_assert_eq(failed, 0, "%d of 20000 reads of a device's driver failed while files were renamed", failed);
        free(a);
        free(b);
}
