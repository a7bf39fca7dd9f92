/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host's interrupts: each IRQ's affinity, its flags from debugfs where
 * readable, and its chip and actions from /proc/interrupts. */
#include <ctype.h>
#include <stdio.h>

#include "fs.h"
#include "host-internal.h"

/* One line of /proc/interrupts: "  24:   0   5  IR-PCI-MSIX-0000:01:00.0  0-edge  nvme0q0".
 * The actions follow the "hwirq-type" token; older layouts end in the name. */
static int cmp_irq(const void *a, const void *b) {
        unsigned x = ((const Irq *) a)->number, y = ((const Irq *) b)->number;
        return (x > y) - (x < y);
}

static void parse_interrupt_line(Host *h, char *line, unsigned ncols) {
        char *colon = strchr(line, ':'), *p, *tok, *save = NULL;
        char *toks[512];
        size_t nt = 0, name_at = 0;
        unsigned irq;

        if (!colon)
                return;
        *colon = 0;
        if (safe_atou(strstrip(line), &irq) < 0)
                return;
        p = colon + 1;
        for (unsigned i = 0; i < ncols; i++) {
                while (*p == ' ')
                        p++;
                while (isdigit((unsigned char) *p))
                        p++;
        }
        for (tok = strtok_r(p, " \t", &save); tok && nt < ELEMENTSOF(toks); tok = strtok_r(NULL, " \t", &save))
                toks[nt++] = tok;
        for (size_t i = 0; i < nt; i++) {
                char *dash = strchr(toks[i], '-');
                if (dash && dash > toks[i] && isdigit((unsigned char) toks[i][0]) &&
                    strspn(toks[i], "0123456789") == (size_t) (dash - toks[i]))
                        name_at = i + 1;
        }
        if (name_at == 0 && nt > 1)
                name_at = nt - 1;

        /* h->irqs is in numeric order (list_numeric): one lookup per line. */
        Irq key = { .number = irq }, *q = bsearch(&key, h->irqs, h->n_irqs, sizeof(Irq), cmp_irq);
        if (q) {
                size_t len = 0;

                free(q->name);
                free(q->chip);
                for (size_t i = name_at; i < nt; i++)
                        len += strlen(toks[i]) + 1;
                q->name = xcalloc(len + 1, 1);
                for (size_t i = name_at; i < nt; i++) {
                        if (i > name_at)
                                strcat(q->name, " ");
                        strcat(q->name, toks[i]);
                }
                len = 0;
                for (size_t i = 0; i < name_at; i++)
                        len += strlen(toks[i]) + 1;
                q->chip = xcalloc(len + 1, 1);
                for (size_t i = 0; i < name_at; i++) {
                        if (i > 0)
                                strcat(q->chip, " ");
                        strcat(q->chip, toks[i]);
                }
        }
}

void host_load_irqs(Host *h) {
        int fd = h->root_fd;
        StrList nums = {};
        char path[256];

        {
                _cleanup_free_ char *s = NULL;
                if (read_attr(fd, "/proc/irq/default_smp_affinity", &s) >= 0)
                        h->has_default_irq_affinity = cpuset_parse_mask(s, &h->default_irq_affinity) >= 0;
        }

        if (list_numeric(fd, "/proc/irq", &nums) < 0)
                return;
        /* Most kernels have no GENERIC_IRQ_DEBUGFS: one look, not one per IRQ. */
        bool debugfs = is_dir(fd, "/sys/kernel/debug/irq/irqs");
        for (size_t i = 0; i < nums.n; i++) {
                Irq *q = array_push(&h->irqs, &h->n_irqs, sizeof(Irq));
                _cleanup_free_ char *dbg = NULL;

                (void) safe_atou(nums.v[i], &q->number);
                snprintf(path, sizeof path, "/proc/irq/%u/smp_affinity_list", q->number);
                q->has_affinity = host_read_cpuset_list(fd, path, &q->affinity) >= 0;
                snprintf(path, sizeof path, "/sys/kernel/debug/irq/irqs/%u", q->number);
                if (debugfs && read_attr(fd, path, &dbg) >= 0) {
                        q->flags_known = true;
                        q->managed = strstr(dbg, "IRQD_AFFINITY_MANAGED") != NULL;
                        q->per_cpu = strstr(dbg, "IRQD_PER_CPU") != NULL;
                        q->no_balancing = strstr(dbg, "IRQD_NO_BALANCING") != NULL;
                }
        }
        strlist_free(&nums);

        _cleanup_free_ char *ints = NULL;
        if (read_attr(fd, "/proc/interrupts", &ints) < 0)
                return;
        char *save = NULL, *line = strtok_r(ints, "\n", &save);
        unsigned ncols = 0;
        if (line) {
                for (char *p = line; (p = strstr(p, "CPU")); p += 3)
                        ncols++;
                while ((line = strtok_r(NULL, "\n", &save)))
                        parse_interrupt_line(h, line, ncols);
        }
}
