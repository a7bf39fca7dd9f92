/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer harness: the configuration loader (YAML, validation, core
 * selectors) on arbitrary bytes, against the i7-4790K fixture host. The
 * bytes go through config_load_data, the loader config_load uses after
 * its file checks, so that no input costs a file system round trip. */
#include <stdint.h>
#include <stdlib.h>

#include "config.h"
#include "host.h"

static Host host;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        char *err = NULL;

        if (host_load(FIXTURES_DIR "/i7-4790k", HOST_TOPOLOGY, &host, &err) < 0) {
                fprintf(stderr, "fuzz-config: %s\n", err);
                abort();
        }
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Config c;
        char *err = NULL;

        if (config_load_data("fuzz.yaml", (const char *) data, size, &host, &c, &err) == 0) {
                /* what the loader accepted keeps its promises */
                if (c.n_vms > CONFIG_VMS_MAX)
                        abort();
                for (size_t i = 0; i < c.n_vms; i++)
                        if (strlen(c.vms[i].name) > CONFIG_NAME_MAX || c.vms[i].n_vcpu_pins > CONFIG_PINS_MAX ||
                            c.vms[i].n_iothread_pins > CONFIG_PINS_MAX || c.vms[i].devices.n > CONFIG_DEVICES_MAX)
                                abort();
                config_free(&c);
        } else if (!err || strchr(err, '\n'))
                abort(); /* errors are one line */
        free(err);
        return 0;
}
