/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "output.h"
#include "plan.h"
#include "util.h"

typedef enum LibvirtMode { LIBVIRT_AUTO, LIBVIRT_YES, LIBVIRT_NO } LibvirtMode;

/* The command line, as the command layer (main.c, watch.c) sees it. */
typedef struct Options {
        StrList configs;
        const char *root;
        const char *state_dir;
        OutputFormat output;
        int verbosity; /* -1 quiet, 0, 1 verbose */
        bool detailed_exitcodes;
        LibvirtMode libvirt;
        StrList activate;
        bool check, diff, force;
        unsigned wait_s;
        unsigned interval_s;
        unsigned sample_s;   /* verify --sample: seconds of kernel counters, 0: no sampling */
        double threshold;    /* verify --sample: noise events per second that fail it */
        const char *command;
        char **args;
        int n_args;
} Options;

/* watch.c: runs reconcile_once on libvirt lifecycle events and on a timer. */
int watch_run(const Options *o, int (*reconcile_once)(const Options *));
