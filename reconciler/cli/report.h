/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "config.h"
#include "host.h"
#include "resource.h"

/* doctor: host-wide rules (boot parameters, L3/NUMA splits, RT tasks), then
 * each resource's lint. */
void doctor_run(const Host *h, const Config *c, Doctor *d);
/* verify: each resource's count of what can still run on vm_cpus.
 * refused: IRQ targets the kernel refused to move this boot (journal);
 * learned: devices learned from domain XML ("VM ADDR", journal). */
void verify_run(const Host *h, const Config *c, const StrList *active, const CpuSet *vm_cpus, const StrSet *refused,
                const StrList *learned, Verify *v);

/* verify --sample (cli/sample.c): what ran on vm_cpus during the window;
 * exit code 1 when noise above the threshold was seen. */
#include "session.h"
int verify_sample(Session *s, const StrList *active, const CpuSet *vm_cpus);
