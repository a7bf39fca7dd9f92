/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host's interrupts: each IRQ's affinity, and its details: flags from
 * debugfs where readable, chip and actions from /proc/interrupts. A run
 * needs the details only of the IRQs its plan changes or reports
 * (host_load_irq_details), and their names only for a report (HOST_REPORT);
 * status, doctor and verify all of both: on a big host debugfs is one file
 * per IRQ and /proc/interrupts megabytes (a column per CPU), read as a
 * stream, one line at a time. */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>

#include "fs.h"
#include "host-internal.h"

/* One line of /proc/interrupts: "  24:   0   5  IR-PCI-MSIX-0000:01:00.0  0-edge  nvme0q0".
 * The actions follow the "hwirq-type" token; older layouts end in the name. */
static int cmp_irq(const void *a, const void *b) {
        unsigned x = ((const Irq *) a)->number, y = ((const Irq *) b)->number;
        return (x > y) - (x < y);
}

/* h->irqs is in numeric order (list_numeric). */
const Irq *host_find_irq(const Host *h, unsigned number) {
        Irq key = { .number = number };

        return h->n_irqs ? bsearch(&key, h->irqs, h->n_irqs, sizeof(Irq), cmp_irq) : NULL;
}

#define IRQ_PREFIX "/proc/irq/"
#define IRQ_SUFFIX "/smp_affinity_list"

const char *irq_target(char *buf, unsigned number) {
        char digits[16];
        size_t n = sizeof digits, len = sizeof IRQ_PREFIX - 1;

        do
                digits[--n] = (char) ('0' + number % 10);
        while ((number /= 10));
        memcpy(buf, IRQ_PREFIX, len);
        memcpy(buf + len, digits + n, sizeof digits - n);
        len += sizeof digits - n;
        memcpy(buf + len, IRQ_SUFFIX, sizeof IRQ_SUFFIX); /* with its NUL */
        return buf;
}

int irq_target_parse(const char *target, unsigned *ret) {
        const char *p = target + sizeof IRQ_PREFIX - 1;
        char digits[16];
        size_t n;

        if (!startswith(target, IRQ_PREFIX))
                return -EINVAL;
        n = strspn(p, "0123456789");
        if (n == 0 || n >= sizeof digits || !streq(p + n, IRQ_SUFFIX))
                return -EINVAL;
        memcpy(digits, p, n);
        digits[n] = 0;
        return safe_atou(digits, ret);
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
        /* Only the IRQs whose details were asked for: the rest of the line
         * (a column per CPU) is not looked at for the others. */
        Irq *q = (Irq *) host_find_irq(h, irq);
        if (!q || !q->details || q->named)
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

        {
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
        char path[IRQ_TARGET_SIZE];

        {
                _cleanup_free_ char *s = NULL;
                if (read_attr(fd, "/proc/irq/default_smp_affinity", &s) >= 0)
                        h->has_default_irq_affinity = cpuset_parse_mask(s, &h->default_irq_affinity) >= 0;
        }

        if (list_numeric(fd, "/proc/irq", &nums) < 0)
                return;
        /* Most kernels have no GENERIC_IRQ_DEBUGFS: one look, not one per IRQ. */
        h->irq_debugfs = is_dir(fd, "/sys/kernel/debug/irq/irqs");
        h->irqs = xcalloc(nums.n, sizeof(Irq));
        for (size_t i = 0; i < nums.n; i++) {
                Irq *q = &h->irqs[h->n_irqs++];

                (void) safe_atou(nums.v[i], &q->number);
                q->has_affinity = host_read_cpuset_list(fd, irq_target(path, q->number), &q->affinity) >= 0;
        }
        strlist_free(&nums);
}

void irq_parse_debugfs(const char *dbg, Irq *q) {
        q->flags_known = true;
        q->managed = strstr(dbg, "IRQD_AFFINITY_MANAGED") != NULL;
        q->per_cpu = strstr(dbg, "IRQD_PER_CPU") != NULL;
        q->no_balancing = strstr(dbg, "IRQD_NO_BALANCING") != NULL;
}

static void load_flags(Host *h, Irq *q) {
        _cleanup_free_ char *dbg = NULL;
        char path[128];

        q->details = true;
        snprintf(path, sizeof path, "/sys/kernel/debug/irq/irqs/%u", q->number);
        if (h->irq_debugfs && read_small_attr(h->root_fd, path, &dbg) >= 0)
                irq_parse_debugfs(dbg, q);
}

static bool names_pending(const Host *h) {
        for (size_t i = 0; i < h->n_irqs; i++)
                if (h->irqs[i].details && !h->irqs[i].named)
                        return true;
        return false;
}

/* The chip and actions of the IRQs whose details were read, from one pass
 * over /proc/interrupts, one line in memory at a time (64 KiB reads). */
static void load_names(Host *h) {
        int fd = root_openat(h->root_fd, "/proc/interrupts", O_RDONLY, 0);
        _cleanup_free_ char *line = NULL, *buf = NULL;
        size_t cap = 0;
        unsigned ncols = 0;
        ssize_t n;
        FILE *f;

        if (fd < 0 || !(f = fdopen(fd, "r"))) {
                if (fd >= 0)
                        close(fd);
                return;
        }
        buf = xmalloc(1 << 16);
        (void) setvbuf(f, buf, _IOFBF, 1 << 16);
        for (bool first = true; (n = getline(&line, &cap, f)) > 0; first = false) {
                if (line[n - 1] == '\n')
                        line[n - 1] = 0;
                if (first)
                        for (char *p = line; (p = strstr(p, "CPU")); p += 3)
                                ncols++;
                else
                        parse_interrupt_line(h, line, ncols);
        }
        fclose(f);
        for (size_t i = 0; i < h->n_irqs; i++)
                if (h->irqs[i].details)
                        h->irqs[i].named = true; /* looked for: an IRQ without a line has no name */
}

bool host_load_irq_details(Host *h, const unsigned *numbers, size_t n) {
        bool read = false;

        for (size_t i = 0; i < n; i++) {
                Irq *q = (Irq *) host_find_irq(h, numbers[i]);
                if (q && !q->details) {
                        load_flags(h, q);
                        read = true;
                }
        }
        if ((h->loaded & HOST_REPORT) && names_pending(h)) {
                load_names(h);
                read = true;
        }
        return read;
}

void host_load_all_irq_details(Host *h) {
        for (size_t i = 0; i < h->n_irqs; i++)
                if (!h->irqs[i].details)
                        load_flags(h, &h->irqs[i]);
        host_load_irq_names(h);
}

/* Names are for reports only (HOST_REPORT): a plan decides by the flags. */
void host_load_irq_names(Host *h) {
        if ((h->loaded & HOST_REPORT) && names_pending(h))
                load_names(h);
}
