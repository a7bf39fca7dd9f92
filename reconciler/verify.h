/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "config.h"
#include "host.h"

typedef struct Verify {
        StrList noise;          /* one line per thing that may run on VM CPUs */
        size_t percpu_kthreads; /* bound to their CPU: cannot move, not noise */
        size_t unmovable_irqs;  /* managed / per-CPU: the kernel keeps them */
} Verify;

/* refused: IRQ targets the kernel refused to move this boot (journal). */
void verify_run(const Host *h, const Config *c, const CpuSet *vm_cpus, const StrList *refused, Verify *v);
void verify_free(Verify *v);
