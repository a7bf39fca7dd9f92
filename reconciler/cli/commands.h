/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "options.h"

/* One function per command, each a short run on one Session; the exit code. */
int cmd_plan(const Options *o);
int cmd_apply(const Options *o);
int cmd_revert(const Options *o);
int cmd_activate(const Options *o);
int cmd_deactivate(const Options *o);
int cmd_status(const Options *o);
int cmd_xml(const Options *o);
int cmd_doctor(const Options *o);
int cmd_verify(const Options *o);
int cmd_hook(const Options *o);
int cmd_watch(const Options *o);
