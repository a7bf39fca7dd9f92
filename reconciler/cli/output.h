/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdio.h>

#include "config.h"
#include "host.h"
#include "journal.h"
#include "plan.h"

typedef enum OutputFormat { OUTPUT_TEXT, OUTPUT_JSON } OutputFormat;

void json_string(FILE *f, const char *s);
void json_strlist(FILE *f, const StrList *l);

/* The contract's document: {"active", "changes", "skipped", "warnings", "errors"}. */
void output_plan_json(FILE *f, const Plan *p, const StrList *extra_errors);
/* For people: changes grouped by kind, then skipped items and warnings. */
void output_plan_text(FILE *f, const Plan *p, const char *title, bool verbose);

/* The libvirt <cputune> block that gives the same pins as the config. */
char *vm_cputune_xml(const Vm *vm);

/* Topology map: packages, L3 domains, cores with their threads side by side,
 * and who owns each CPU. */
void status_print(FILE *f, const Host *h, const Config *c, const StrList *active, const Journal *j,
                  OutputFormat fmt);
