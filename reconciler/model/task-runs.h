/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include "cpuset.h"
#include "util.h"

/* Which tasks ran on some CPUs during a window (verify --sample), from
 * readings of each thread's stat and schedstat: the run count is schedstat's
 * timeslices, which counts every run, one of a few microseconds too; where
 * schedstat is absent (a tree below --root), utime + stime, which only moves
 * by clock ticks and misses short runs. */

/* One reading of a thread. */
typedef struct TaskRun {
        unsigned long long cputime; /* utime + stime, clock ticks */
        unsigned long long slices;  /* schedstat's timeslices */
        bool has_slices;            /* schedstat was read */
        int cpu;                    /* the CPU it last ran on (stat field 39) */
} TaskRun;

typedef struct TaskWatch {
        int tid, tgid;
        TaskRun first, last;
        bool read;     /* first and last are set */
        bool ran;      /* ran on one of the CPUs watched */
        int cpu;       /* the last of those it was seen on */
        StrList comms; /* its names when seen running there (a kworker's names its workqueue) */
} TaskWatch;

/* A new reading: the first one sets the start; a later one in which the
 * task ran (more timeslices, or more CPU time without schedstat) and last
 * ran on one of cpus marks it, with its CPU and comm. */
void task_watch_update(TaskWatch *w, const TaskRun *now, const char *comm, const CpuSet *cpus);
/* Times switched in between the first and the last reading; -1 when a
 * reading lacked schedstat. */
long long task_watch_runs(const TaskWatch *w);
void task_watch_free(TaskWatch *w);

/* A kernel thread's comm as /proc shows it: a kworker's carries the
 * workqueue it last ran ("kworker/2:1-mm_percpu_wq", the kernel's
 * wq_worker_comm). ret_thread gets "kworker/2:1", ret_wq "mm_percpu_wq" or
 * NULL (not a kworker, or no work run yet). */
void kthread_comm_split(const char *comm, char **ret_thread, char **ret_wq);
/* Why a per-CPU kernel thread ran on a CPU, from its name and, for a
 * kworker, its workqueue (may be NULL); "" when there is nothing to say. */
const char *percpu_kthread_hint(const char *thread, const char *wq);
