/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include "target.h"
#include "util.h"

/* The journal in memory: its items, and its text (the record format is
 * described in journal.h), parsed strictly and escaped. */

#define JOURNAL_MAGIC "cpushield-journal 1"

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
        /* PCI devices the hook learned from a domain's XML: "VM ADDR". */
        StrList devices;
        StrSet refused; /* targets the kernel refused this boot */
        /* Unreadable lines: "FILE:LINE: reason", one per line, in order... */
        StrList damaged;
        /* ...and their raw bytes, each followed by '\n', kept verbatim. */
        char *damaged_raw;
        size_t damaged_raw_len;
        /* "FILE:LINE: ..." for a torn last line that was left out. */
        StrList torn;
        /* journal_find's index: slots of item number + 1 (0 = empty), by a
         * hash of the target; rebuilt when items were added or dropped. */
        size_t *index;
        size_t index_slots, index_items;
        size_t holes; /* dropped items not packed yet (journal_item_drop) */
        /* Appends are flushed by journal_sync, not each on its own (apply:
         * the originals are on disk before each write, not after each line). */
        bool lazy_sync, unsynced;
        /* The journal file as it is on disk while this run has not written
         * it (NULL: unknown, or no file): a compaction to the same text is
         * no write. */
        char *on_disk;
        size_t on_disk_len;
} Journal;

/* Flags of journal_open_full(). */
typedef enum JournalFlags {
        /* Load a journal with damaged lines anyway (revert --force): the
         * readable items are in *ret, the damaged ones in ret->damaged and
         * copied to JOURNAL_UNREADABLE_FILE beside the journal. */
        JOURNAL_ALLOW_DAMAGED = 1 << 0,
} JournalFlags;

#define JOURNAL_UNREADABLE_FILE "journal.unreadable"
#define JOURNAL_SIZE_MAX (64u * 1024 * 1024)
#define JOURNAL_LINE_MAX (64u * 1024)

/* Parses a journal image (any bytes) into *ret: items, refused, boot id,
 * damaged and torn lines. path names the file in messages. Returns 0, or
 * -EBADMSG when the first line is not the journal header (nothing else is
 * read then, *ret_error says so). Never fails on damaged lines: they are in
 * ret->damaged. *ret is valid for journal_close in every case. */
int journal_parse(const char *path, const char *data, size_t len, Journal *ret, char **ret_error);
static inline bool journal_is_damaged(const Journal *j) {
        return j->damaged.n > 0;
}

JournalItem *journal_find(const Journal *j, const char *target);
/* The last item pushed joins journal_find's index; freeing the index. */
void journal_index_add(Journal *j);
void journal_index_free(Journal *j);
/* Drops the item of target, if any. Leaves a hole in items (never found, never counted once packed) until
 * journal_items_pack, which journal_parse, journal_compact and apply_plan
 * call: whoever walks items after journal_forget packs first. */
void journal_item_drop(Journal *j, const char *target);
void journal_items_pack(Journal *j);
void journal_item_free(JournalItem *it);
/* NULL, or why a record's fields are not an item cpushield could have written. */
const char *journal_item_check(const char *kind, const char *target, const char *vm, const char *ident);
char *journal_escape(const char *s);
/* Lenient: an unknown escape "\\x" gives "x". */
char *journal_unescape(const char *s);
/* Strict, binary-safe: s[0..n) may only hold the three escapes and no NUL
 * or control character; -EINVAL otherwise. */
int journal_unescape_strict(const char *s, size_t n, char **ret);
