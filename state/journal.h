/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include "journal-items.h"
#include "target.h"
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
 * Values escape tab, newline and backslash as \t, \n, \\, and other control
 * characters as \xHH.
 *
 * Reading is binary-safe and strict: a record is read only when every byte
 * of its line is understood (no NUL, no control character, no unknown
 * escape, the right number of fields, a KIND/OP pair cpushield journals and
 * a target of the closed set in target.h). Any other line is "damaged": its
 * line number, the reason and its raw bytes are kept in the Journal, never
 * dropped, and written back by every rewrite of the journal, so an original
 * cpushield cannot read is never lost either. A last line without its
 * newline is a record torn by a crash while it was being appended: the
 * write it announced never happened, so it is left out and noted in torn. */


/* Opens the state directory without following a symbolic link at its last
 * component, after checking it and every parent up to / (sshd's
 * StrictModes): owned by root or the running user, not writable by group or
 * others; a parent may be world-writable only if sticky and root-owned
 * (/tmp). create: make what is missing (parents 0755, the directory 0700),
 * and only after the existing part was checked. -ENOENT when it does not
 * exist and !create, -EPERM when it is not trusted, -ELOOP when it is a
 * symbolic link; *ret_error says which path and why. */
int state_dir_open(const char *dir, bool create, int *ret_fd, char **ret_error);



/* Opens (creating) the state directory and takes its lock, waiting at most
 * timeout_s seconds; -EWOULDBLOCK with *ret_error naming the holder. */
int state_lock(const char *dir, unsigned timeout_s, int *ret_lock_fd, char **ret_error);

/* Loads the journal of this boot; a journal of another boot is renamed
 * aside ("journal.<boot>.stale") and reported through *ret_warning.
 * A journal with damaged lines is refused: -EBADMSG, *ret_error naming the
 * first bad FILE:LINE, nothing written, *ret untouched. boot_id must be
 * boot_id_valid() or NULL ("unknown"); otherwise -EINVAL. */
int journal_open(const char *dir, const char *boot_id, Journal *ret, char **ret_warning, char **ret_error);
/* Same, with JournalFlags. With JOURNAL_ALLOW_DAMAGED a damaged journal
 * loads (returns 0) with its readable items; the caller must report
 * ret->damaged and exit 1 after restoring what it could. */
int journal_open_full(const char *dir, const char *boot_id, unsigned flags, Journal *ret, char **ret_warning,
                      char **ret_error);
/* Reads the journal without the lock and without writing or setting
 * anything aside, for plan, status and verify. No state directory or no
 * journal, or a journal of another boot: empty, 0. A damaged journal:
 * -EBADMSG, with the readable items and ret->damaged filled in. An
 * untrusted state directory or an I/O error: that error. *ret is always
 * valid for journal_close. */
int journal_peek(const char *dir, const char *boot_id, Journal *ret);
/* journal_peek with the reason of an error in *ret_error (which may be set
 * even when 0 is returned: the warning about another boot's journal). */
int journal_peek_full(const char *dir, const char *boot_id, Journal *ret, char **ret_error);
void journal_close(Journal *j);

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
/* With j->lazy_sync: flushes what was appended since the last sync. */
int journal_sync(Journal *j);

int active_save(Journal *j);
/* Writes j->devices ("VM ADDR" lines) to the state directory's devices
 * file, or removes it when there are none. */
int devices_save(Journal *j);

