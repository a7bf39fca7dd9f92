/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "backend.h"
#include "config.h"
#include "host.h"
#include "journal.h"
#include "observed.h"
#include "options.h"

/* One command's world, built once and freed in one place: the host (its
 * topology first, enough for the configuration; the rest once, when the
 * plan needs it, under the lock for commands that write), the
 * configuration, the journal, the backend chosen for this root, and what
 * was observed through it. */
typedef struct Session {
        const Options *o;
        Host host;
        Config cfg;
        bool have_config;
        Journal journal;
        bool have_journal;
        int lock_fd;
        const Backend *backend;
        Observed obs;
        /* The hook at a domain's start: the PCI devices its XML passes
         * through, to keep in the state directory while it runs. */
        bool have_hook_devices;
        StrList hook_devices;
} Session;

typedef enum SessionFlags {
        SESSION_NEED_CONFIG = 1 << 0, /* no configuration is an error */
} SessionFlags;

/* Reads the topology and the configuration; prints the error and returns < 0. */
int session_open(Session *s, const Options *o, SessionFlags flags);
/* The journal without the lock, writing nothing (plan, status, verify). */
int session_peek(Session *s);
/* Takes the state lock and opens the journal (commands that write). A
 * journal with unreadable lines is refused, unless allow_damaged (revert
 * --force): then its readable items are there to restore. */
int session_lock(Session *s, bool allow_damaged);
/* After a run with allow_damaged: prints each unreadable line kept; true if any. */
bool session_journal_damaged(const Session *s);
/* Active VMs: "always" ones; ones activated by hand or by the hook
 * (journaled); libvirt ones whose domain runs or is paused when libvirt is
 * consulted (its answer then beats the journal, except for the VM named
 * `except`); and --activate names. Warnings are added to *warnings. */
int session_active(Session *s, const char *except, StrList *ret, StrList *warnings);
bool session_uses_libvirt(const Session *s);
void session_close(Session *s);
#define _cleanup_session_ _cleanup_(session_close)
#define SESSION_NULL { .lock_fd = -1, .host = { .root_fd = -1 }, .journal = { .fd = -1, .dir_fd = -1 } }

/* Prints a fatal error the way the output format wants it; returns 1. */
int session_fatal(const Options *o, const char *msg);
