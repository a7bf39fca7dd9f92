/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "config.h"
#include "host.h"

typedef struct Doctor {
        StrList errors, warnings, notes;
} Doctor;

void doctor_run(const Host *h, const Config *c, Doctor *d);
void doctor_free(Doctor *d);
