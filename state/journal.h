/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include "util.h"

/* The journal: for every item cpushield changed, the value it had before
 * (recorded and flushed before the first write), the value cpushield meant to
 * write, and the VM that needed it. Append-only while a run writes, so a
 * crash at any instant leaves every original on disk; compacted atomically
 * (rename) at the end of a run. One record a line, tab-separated:
 *
 *   cpushield-journal 1
 *   boot    <boot id>
 *   item    <seq> <kind> <target> <original> <intended> <vm> <ident>
 *   applied <target> <value>
 *   forget  <target>
 *   refused <target>       the kernel refused it (managed IRQ): don't retry
 *
 * Values escape tab, newline and backslash as \t, \n, \\. */

typedef struct JournalItem {
        unsigned seq;   /* order of first change: revert goes backwards */
        char *kind;
        char *target;
        char *original;
        char *intended;
        char *applied;  /* NULL until read back after the write */
        char *vm;
        char *ident;    /* kthreads: the task's start time, so that a reused
                         * PID is never "restored"; "" otherwise */
} JournalItem;

typedef struct Journal {
        int dir_fd;
        char *dir;
        int fd;        /* open for appending while a run holds the lock */
        char *boot_id;
        JournalItem *items;
        size_t n_items;
        unsigned next_seq;
        StrList active; /* VMs activated by hand or by the hook */
        StrList refused; /* targets the kernel refused this boot */
} Journal;

/* Opens (creating) the state directory and takes its lock, waiting at most
 * timeout_s seconds; -EWOULDBLOCK with *ret_error naming the holder. */
int state_lock(const char *dir, unsigned timeout_s, int *ret_lock_fd, char **ret_error);

/* Loads the journal of this boot; a journal of another boot is renamed
 * aside ("journal.<boot>.stale") and reported through *ret_warning. */
int journal_open(const char *dir, const char *boot_id, Journal *ret, char **ret_warning, char **ret_error);
/* Reads the journal without the lock and without setting anything aside,
 * for plan, status and verify. A journal of another boot, or none at all
 * (no state directory yet), reads as empty; *ret is always valid for
 * journal_close. */
int journal_peek(const char *dir, const char *boot_id, Journal *ret);
void journal_close(Journal *j);

JournalItem *journal_find(const Journal *j, const char *target);
/* Records original and intended value and fsyncs, before the write. */
int journal_record(Journal *j, const char *kind, const char *target, const char *ident, const char *original,
                   const char *intended, const char *vm);
int journal_applied(Journal *j, const char *target, const char *value);
int journal_forget(Journal *j, const char *target);
/* Remembers that the kernel refuses to change target (EIO/EPERM on a managed
 * IRQ, where debugfs cannot tell beforehand), so plans skip it and verify
 * does not count it as noise. */
int journal_refused(Journal *j, const char *target);
/* Rewrites the journal with only the live items (tmp file, fsync, rename). */
int journal_compact(Journal *j);

int active_save(Journal *j);

char *journal_escape(const char *s);
char *journal_unescape(const char *s);
