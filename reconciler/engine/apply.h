/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "backend.h"
#include "host.h"
#include "journal.h"
#include "plan.h"

typedef struct ApplyResult {
        size_t changed;   /* writes that took effect */
        StrList errors;   /* one line each: target, what failed, errno text */
        StrList notes;    /* refused by the kernel as expected (managed IRQs), tasks gone... */
} ApplyResult;

/* Executes the plan through backend b: for each item, re-read it (skip if it
 * already is what we want), journal original and intent (flushed) before
 * the first write, write, read back, journal what it reads. Independent
 * items carry on after a failure; the journal is compacted at the end. */
int apply_plan(const Backend *b, const Host *h, Journal *j, const Plan *p, ApplyResult *ret);
void apply_result_free(ApplyResult *r);
