/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "plan.h"

/* The forward plan: each resource in registry order (pure). */
void plan_forward(const PlanInput *in, Plan *p);
/* Journaled items the restore step looks at: not claimed by the forward
 * plan, not inside a cgroup it removes. Their current values must be in
 * in->obs before plan_restores. */
void plan_restore_needs(const PlanInput *in, const Plan *p, const JournalItem ***ret, size_t *ret_n);
/* Every journaled item no resource wants any more goes back to its original,
 * newest first, ahead of the forward changes (pure). */
void plan_restores(const PlanInput *in, Plan *p);
