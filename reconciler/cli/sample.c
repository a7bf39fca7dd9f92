/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verify --sample: what did run on the active VMs' CPUs during a window, from
 * the kernel's own accounting: interrupts by source, softirqs by type,
 * tasks switched in and runqueue wait (/proc/interrupts, /proc/softirqs,
 * /proc/schedstat deltas), and the tasks seen running there, read four
 * times a second: their schedstat's timeslices (every run, a few
 * microseconds too; CPU time where there is no schedstat) and their stat's
 * last CPU. Per-CPU kernel threads are notes with their run count and, for a
 * kworker, the workqueue its comm names. Writes nothing. */
#include <stdio.h>
#include <time.h>

#include "fs.h"
#include "output.h"
#include "report.h"
#include "sample.h"
#include "task-runs.h"

static void snapshot(const Host *h, Counters *c) {
        static const struct {
                const char *path;
                int (*add)(Counters *, const char *);
        } files[] = {
                { "/proc/interrupts", counters_add_interrupts },
                { "/proc/softirqs", counters_add_softirqs },
                { "/proc/schedstat", counters_add_schedstat },
        };

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *text = NULL;
                if (read_attr(h->root_fd, files[i].path, &text) >= 0)
                        (void) files[i].add(c, text);
        }
}

/* A reading of one thread: its schedstat, and its stat (CPU time, last CPU,
 * comm) unless schedstat says it has not run since the last reading. */
static int read_run(const Host *h, const TaskWatch *w, TaskRun *ret, char **ret_comm) {
        _cleanup_free_ char *sched = NULL, *stat = NULL;
        TaskSchedstat ss;
        TaskRun now = w->last;
        Task t = {};

        now.has_slices = procfs_read_thread_file(h, w->tgid, w->tid, "schedstat", &sched) >= 0 &&
                         procfs_parse_schedstat(sched, &ss) >= 0;
        now.slices = now.has_slices ? ss.timeslices : 0;
        if (w->read && now.has_slices && w->last.has_slices && now.slices == w->last.slices) {
                *ret = now;
                *ret_comm = NULL;
                return 0;
        }
        if (procfs_read_thread_file(h, w->tgid, w->tid, "stat", &stat) < 0 || procfs_parse_stat(stat, &t) < 0) {
                free(t.comm);
                return -ESRCH;
        }
        now.cputime = t.cputime;
        now.cpu = t.last_cpu;
        *ret = now;
        *ret_comm = t.comm;
        return 0;
}

static void watch_tasks(const Host *h, TaskWatch *w, size_t n, const CpuSet *vm_cpus) {
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *comm = NULL;
                TaskRun now;
                if (read_run(h, &w[i], &now, &comm) >= 0)
                        task_watch_update(&w[i], &now, comm, vm_cpus);
        }
}

static double now_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static const char *hint(const Host *h, const char *key) {
        unsigned irq;

        if (safe_atou(key, &irq) >= 0) {
                for (size_t i = 0; i < h->n_irqs; i++)
                        if (h->irqs[i].number == irq && h->irqs[i].managed)
                                return "managed IRQ: kept here by the kernel; isolcpus=managed_irq at boot moves it";
                return "device interrupt: 'cpushield apply' moves it to the host's CPUs";
        }
        static const char *const hints[][2] = {
                { "LOC", "local timer: boot with nohz_full= (and rcu_nocbs=) for the VMs' CPUs" },
                { "RES", "rescheduling IPIs: another CPU woke a task here" },
                { "CAL", "function-call IPIs from other CPUs (TLB and cache flushes)" },
                { "TLB", "TLB shootdowns: a process with threads on both sides" },
                { "softirq:TIMER", "timers armed on this CPU (a task or the watchdog)" },
                { "softirq:NET_RX", "network receive work: a NIC's interrupt is here" },
                { "softirq:BLOCK", "block I/O completions: a disk's interrupt is here" },
                { "softirq:RCU", "RCU callbacks: boot with rcu_nocbs=" },
                { "softirq:SCHED", "load balancing" },
                { "sched:timeslices", "tasks switched in: next to a busy vCPU, each a preemption or a wakeup" },
                { "sched:run_delay_ns", "time runnable tasks waited for this CPU" },
        };
        for (size_t i = 0; i < ELEMENTSOF(hints); i++)
                if (streq(key, hints[i][0]))
                        return hints[i][1];
        return "";
}

static bool is_device_irq(const char *key) {
        unsigned irq;
        return safe_atou(key, &irq) >= 0;
}

/* An IRQ's action ("virtio1-req.0") rather than its whole /proc/interrupts tail. */
static const char *irq_name(const Host *h, const Rate *r) {
        unsigned irq;

        if (safe_atou(r->key, &irq) < 0)
                return r->label;
        for (size_t i = 0; i < h->n_irqs; i++)
                if (h->irqs[i].number == irq && h->irqs[i].name)
                        return h->irqs[i].name;
        return r->label;
}

/* A per-CPU kernel thread that ran on a VM CPU: a note, not noise (the
 * kernel keeps it there; the hints say what moves it, if anything does). */
typedef struct KthreadRun {
        const Task *t;
        const TaskWatch *w;
} KthreadRun;

/* " (12 runs in the window)", or "" without schedstat to count them. */
static char *runs_text(const TaskWatch *w) {
        long long runs = task_watch_runs(w);
        return runs < 0 ? xstrdup("") : xasprintf(" (%lld run%s in the window)", runs, runs == 1 ? "" : "s");
}

/* Tasks not of the VMs that ran on their CPUs; per-CPU kernel threads apart. */
static void task_noise(const Session *s, const StrList *active, const TaskWatch *w, size_t n, StrList *noise,
                       KthreadRun **percpu, size_t *n_percpu) {
        for (size_t i = 0; i < n; i++) {
                const Task *t = host_find_task(&s->host, w[i].tid);
                if (!w[i].ran || !t)
                        continue;
                if (!task_is_kthread(t) && task_in_vm_cgroup(&s->cfg, t) && !task_is_tenant(&s->cfg, active, t))
                        continue; /* the VM itself */
                if (task_is_kthread(t) && !task_is_movable_kthread(t)) {
                        *(KthreadRun *) array_push(percpu, n_percpu, sizeof(KthreadRun)) = (KthreadRun) { t, &w[i] };
                        continue;
                }
                _cleanup_free_ char *runs = runs_text(&w[i]);
                strlist_addf(noise, "%s %d (%s) ran on CPU %d%s", task_is_kthread(t) ? "kernel thread" : "task",
                             t->pid, t->comm, w[i].cpu, runs);
        }
}

/* The workqueues a kworker was seen running on a VM CPU, from its comms. */
static void kthread_workqueues(const KthreadRun *k, StrList *ret) {
        for (size_t i = 0; i < k->w->comms.n; i++) {
                _cleanup_free_ char *thread = NULL, *wq = NULL;
                kthread_comm_split(k->w->comms.v[i], &thread, &wq);
                if (wq && !strlist_contains(ret, wq))
                        strlist_add(ret, wq);
        }
}

/* note: per-CPU kernel thread 40 (kworker/2:1) ran on CPU 2 (5 runs in the window)
 *       workqueue mm_percpu_wq: vmstat refresh, ...
 * or, for a thread without a workqueue, the hint after a colon. */
static void print_kthread_text(const KthreadRun *k) {
        _cleanup_free_ char *thread = NULL, *wq = NULL, *runs = runs_text(k->w);
        StrList wqs = {};

        kthread_comm_split(k->t->comm, &thread, &wq);
        kthread_workqueues(k, &wqs);
        printf("note: per-CPU kernel thread %d (%s) ran on CPU %d%s", k->t->pid, thread, k->w->cpu, runs);
        if (wqs.n == 0) {
                const char *h = percpu_kthread_hint(thread, NULL);
                printf("%s%s\n", *h ? ": " : "", h);
        } else
                putchar('\n');
        for (size_t i = 0; i < wqs.n; i++)
                printf("      workqueue %s: %s\n", wqs.v[i], percpu_kthread_hint(thread, wqs.v[i]));
        strlist_free(&wqs);
}

static void print_kthread_json(const KthreadRun *k) {
        _cleanup_free_ char *thread = NULL, *wq = NULL;
        long long runs = task_watch_runs(k->w);
        StrList wqs = {};

        kthread_comm_split(k->t->comm, &thread, &wq);
        kthread_workqueues(k, &wqs);
        printf("{\"pid\": %d, \"thread\": ", k->t->pid);
        json_string(stdout, thread);
        printf(", \"cpu\": %d, \"runs\": ", k->w->cpu);
        if (runs < 0)
                fputs("null", stdout);
        else
                printf("%lld", runs);
        fputs(", \"hint\": ", stdout);
        json_string(stdout, percpu_kthread_hint(thread, NULL));
        fputs(", \"workqueues\": [", stdout);
        for (size_t i = 0; i < wqs.n; i++) {
                fputs(i ? ", {\"name\": " : "{\"name\": ", stdout);
                json_string(stdout, wqs.v[i]);
                fputs(", \"hint\": ", stdout);
                json_string(stdout, percpu_kthread_hint(thread, wqs.v[i]));
                fputs("}", stdout);
        }
        fputs("]}", stdout);
        strlist_free(&wqs);
}

static void print_sample_json(const Session *s, const SampleDelta *d, const StrList *noise, const KthreadRun *percpu,
                              size_t n_percpu, unsigned seconds) {
        printf("{\"seconds\": %u, \"rates\": [", seconds);
        for (size_t i = 0; i < d->n_rates; i++) {
                printf("%s{\"cpu\": %u, \"source\": ", i ? ", " : "", d->rates[i].cpu);
                json_string(stdout, d->rates[i].key);
                fputs(", \"label\": ", stdout);
                json_string(stdout, irq_name(&s->host, &d->rates[i]));
                printf(", \"per_second\": %.3f, \"hint\": ", d->rates[i].per_s);
                json_string(stdout, hint(&s->host, d->rates[i].key));
                fputs("}", stdout);
        }
        fputs("], \"noise\": ", stdout);
        json_strlist(stdout, noise);
        fputs(", \"percpu_kthreads\": [", stdout);
        for (size_t i = 0; i < n_percpu; i++) {
                fputs(i ? ", " : "", stdout);
                print_kthread_json(&percpu[i]);
        }
        fputs("]}\n", stdout);
}

static void print_sample_text(const Session *s, const SampleDelta *d, const StrList *noise, const KthreadRun *percpu,
                              size_t n_percpu) {
        printf("%-5s %-20s %12s  %s\n", "CPU", "source", "per second", "what it is");
        for (size_t i = 0; i < d->n_rates; i++) {
                const Rate *r = &d->rates[i];
                bool ns = streq(r->key, "sched:run_delay_ns");
                _cleanup_free_ char *src = is_device_irq(r->key) ? xasprintf("%s %s", r->key, irq_name(&s->host, r))
                                                                 : xstrdup(r->key);
                printf("%-5u %-20.20s %12.2f%s  %s\n", r->cpu, src, ns ? r->per_s / 1e6 : r->per_s, ns ? " ms" : "",
                       hint(&s->host, r->key));
        }
        for (size_t i = 0; i < n_percpu; i++)
                print_kthread_text(&percpu[i]);
        for (size_t i = 0; i < noise->n; i++)
                printf("noise: %s\n", noise->v[i]);
}

/* Every task's first reading, then a reading every 250 ms until the window
 * ends; the counters at both ends. Returns the window's length. */
static double sample_window(const Session *s, TaskWatch *w, size_t n, const CpuSet *vm_cpus, Counters *a,
                            Counters *b) {
        double t0, t1;

        watch_tasks(&s->host, w, n, vm_cpus);
        t0 = now_s();
        snapshot(&s->host, a);
        while (now_s() - t0 < s->o->sample_s) {
                struct timespec q = { 0, 250 * 1000 * 1000 };
                nanosleep(&q, NULL);
                watch_tasks(&s->host, w, n, vm_cpus);
        }
        snapshot(&s->host, b);
        t1 = now_s();
        return t1 - t0;
}

int verify_sample(Session *s, const StrList *active, const CpuSet *vm_cpus) {
        Counters a = {}, b = {};
        SampleDelta d = {};
        StrList noise = {};
        size_t n = s->host.n_tasks, n_percpu = 0;
        _cleanup_free_ TaskWatch *w = xcalloc(n + 1, sizeof(TaskWatch));
        _cleanup_free_ KthreadRun *percpu = NULL;
        int ret;

        for (size_t i = 0; i < n; i++)
                w[i] = (TaskWatch) { .tid = s->host.tasks[i].pid, .tgid = s->host.tasks[i].tgid };
        counters_delta(&a, &b, sample_window(s, w, n, vm_cpus, &a, &b), vm_cpus, &d);
        for (size_t i = 0; i < d.n_rates; i++)
                if (is_device_irq(d.rates[i].key) && d.rates[i].per_s > s->o->threshold)
                        strlist_addf(&noise, "IRQ %s (%s) fired %.2f times a second on CPU %u", d.rates[i].key,
                                     irq_name(&s->host, &d.rates[i]), d.rates[i].per_s, d.rates[i].cpu);
        task_noise(s, active, w, n, &noise, &percpu, &n_percpu);
        if (s->o->output == OUTPUT_JSON)
                print_sample_json(s, &d, &noise, percpu, n_percpu, s->o->sample_s);
        else
                print_sample_text(s, &d, &noise, percpu, n_percpu);
        ret = noise.n ? 1 : 0;
        for (size_t i = 0; i < n; i++)
                task_watch_free(&w[i]);
        sample_delta_free(&d);
        counters_free(&a);
        counters_free(&b);
        strlist_free(&noise);
        return ret;
}
