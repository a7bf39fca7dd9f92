/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Crash injection for the crash-safety tests, in one place: with
 * CPUSHIELD_TEST_CRASH_AFTER_WRITES=N in the environment the chosen backend
 * is wrapped so that the process is SIGKILLed after N changes were written
 * (0: before the first). Without the variable nothing is wrapped and this
 * costs one getenv per run. Builds with -Dtest_hooks=false (the Debian
 * package) ignore the variable. */
#include <signal.h>

#include "backend.h"
#include "build-config.h"

static unsigned crash_after;
static Backend wrapped;

static void checkpoint(unsigned writes) {
        if (writes == crash_after)
                raise(SIGKILL);
}

const Backend *backend_crash_wrap(const Backend *b) {
        const char *e = HAVE_TEST_HOOKS ? getenv("CPUSHIELD_TEST_CRASH_AFTER_WRITES") : NULL;

        if (!e || safe_atou(e, &crash_after) < 0)
                return b;
        wrapped = *b;
        wrapped.checkpoint = checkpoint;
        return &wrapped;
}
