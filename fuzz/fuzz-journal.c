/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness: the journal parser, the target parser and revert
 * planning on arbitrary bytes. Invariants checked on every input: every
 * item the parser accepts has a target of the closed set and a KIND/OP
 * that fits it, and planning its revert against a fixture host (read
 * only) neither crashes nor reads out of bounds. */
#include <stdint.h>
#include <stdlib.h>

#include "config.h"
#include "host.h"
#include "journal.h"
#include "pipeline.h"
#include "plan.h"
#include "target.h"

static Host host;
static Config cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        char *err = NULL;
        const char *yaml = "host: {cpus: \"0,4\"}\nvms:\n  win10: {cpus: \"1-3,5-7\", activation: manual}\n";

        /* topology only: the modules find nothing to do, so planning is
         * just the restores of what the input journals */
        if (host_load(FIXTURES_DIR "/i7-4790k", HOST_TOPOLOGY, &host, &err) < 0 ||
            config_load_data("fuzz.yaml", yaml, strlen(yaml), &host, &cfg, &err) < 0) {
                fprintf(stderr, "fuzz-journal: %s\n", err ? err : "setup failed");
                abort();
        }
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Journal j;
        char *err = NULL;
        Target t;

        /* the raw bytes as one target, too */
        (void) target_parse_n((const char *) data, size, &t);

        (void) journal_parse("fuzz", (const char *) data, size, &j, &err);
        free(err);
        for (size_t i = 0; i < j.n_items; i++) {
                const JournalItem *it = &j.items[i];
                if (target_parse(it->target, &t) < 0 || target_check_kind(it->kind, &t, NULL, NULL, NULL) < 0)
                        abort(); /* an item outside the closed set got through */
        }
        if (j.damaged.n) {
                size_t lines = 0;
                for (size_t i = 0; i < j.damaged_raw_len; i++)
                        lines += j.damaged_raw[i] == '\n';
                if (lines != j.damaged.n)
                        abort(); /* every damaged line is kept, once */
        }
        /* revert planning: nothing active, every readable item restored.
         * Each restore reads the fixture tree, so only small journals are
         * planned, which keeps the harness fast enough to explore. */
        if (j.n_items && j.n_items <= 8) {
                StrList none = {};
                bool force = size & 1;
                Plan p;
                (void) pipeline_plan_once(&host, &cfg, &none, &j, force, &p);
                plan_free(&p);
        }
        journal_close(&j);
        return 0;
}
