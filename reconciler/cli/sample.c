/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verify --sample: what did run on the active VMs' CPUs during a window, from
 * the kernel's own accounting: interrupts by source, softirqs by type,
 * tasks switched in and runqueue wait (/proc/interrupts, /proc/softirqs,
 * /proc/schedstat deltas), and the tasks seen running there (their stat's
 * CPU field and CPU time, sampled four times a second). Writes nothing. */
#include <stdio.h>
#include <time.h>

#include "fs.h"
#include "output.h"
#include "report.h"
#include "sample.h"

typedef struct Seen {
        int tid, tgid;
        unsigned long long cputime;
        bool ran;         /* ran on a VM CPU during the window */
        int cpu;
} Seen;

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

/* utime + stime and the CPU it last ran on, from /proc/TGID/task/TID/stat. */
static int task_cpu_time(const Host *h, const Seen *t, unsigned long long *ret_time, int *ret_cpu) {
        _cleanup_free_ char *path = xasprintf("/proc/%d/task/%d/stat", t->tgid, t->tid), *s = NULL;
        const char *p;
        unsigned long long f[40] = {};
        size_t n = 0;

        if (read_attr(h->root_fd, path, &s) < 0 || !(p = strrchr(s, ')')))
                return -ESRCH;
        for (p += 2; *p && n < ELEMENTSOF(f); n++) { /* f[0] is field 3 (state) */
                f[n] = strtoull(p, NULL, 10);
                p = strchr(p, ' ');
                if (!p)
                        break;
                p++;
        }
        if (n < 37)
                return -EINVAL;
        *ret_time = f[14 - 3] + f[15 - 3];
        *ret_cpu = (int) f[39 - 3];
        return 0;
}

static void watch_tasks(const Host *h, Seen *seen, size_t n, const CpuSet *vm_cpus) {
        for (size_t i = 0; i < n; i++) {
                unsigned long long t;
                int cpu;
                if (task_cpu_time(h, &seen[i], &t, &cpu) < 0)
                        continue;
                if (t > seen[i].cputime && cpu >= 0 && cpuset_isset(vm_cpus, (unsigned) cpu)) {
                        seen[i].ran = true;
                        seen[i].cpu = cpu;
                }
                seen[i].cputime = t;
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

/* Tasks not of the VMs that ran on their CPUs; per-CPU kernel threads apart. */
static void task_noise(const Session *s, const StrList *active, const Seen *seen, size_t n, StrList *noise,
                       StrList *percpu) {
        for (size_t i = 0; i < n; i++) {
                const Task *t = host_find_task(&s->host, seen[i].tid);
                if (!seen[i].ran || !t)
                        continue;
                if (!task_is_kthread(t) && task_in_vm_cgroup(&s->cfg, t) && !task_is_tenant(&s->cfg, active, t))
                        continue; /* the VM itself */
                if (task_is_kthread(t) && !task_is_movable_kthread(t))
                        strlist_addf(percpu, "per-CPU kernel thread %d (%s) ran on CPU %d", t->pid, t->comm,
                                     seen[i].cpu);
                else
                        strlist_addf(noise, "%s %d (%s) ran on CPU %d", task_is_kthread(t) ? "kernel thread" : "task",
                                     t->pid, t->comm, seen[i].cpu);
        }
}

static void print_sample(const Session *s, const SampleDelta *d, const StrList *noise, const StrList *percpu,
                         unsigned seconds) {
        if (s->o->output == OUTPUT_JSON) {
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
                fputs(", \"percpu_kthreads\": ", stdout);
                json_strlist(stdout, percpu);
                fputs("}\n", stdout);
                return;
        }
        printf("%-5s %-20s %12s  %s\n", "CPU", "source", "per second", "what it is");
        for (size_t i = 0; i < d->n_rates; i++) {
                const Rate *r = &d->rates[i];
                bool ns = streq(r->key, "sched:run_delay_ns");
                _cleanup_free_ char *src = is_device_irq(r->key) ? xasprintf("%s %s", r->key, irq_name(&s->host, r))
                                                                 : xstrdup(r->key);
                printf("%-5u %-20.20s %12.2f%s  %s\n", r->cpu, src, ns ? r->per_s / 1e6 : r->per_s, ns ? " ms" : "",
                       hint(&s->host, r->key));
        }
        for (size_t i = 0; i < percpu->n; i++)
                printf("note: %s\n", percpu->v[i]);
        for (size_t i = 0; i < noise->n; i++)
                printf("noise: %s\n", noise->v[i]);
}

int verify_sample(Session *s, const StrList *active, const CpuSet *vm_cpus) {
        Counters a = {}, b = {};
        SampleDelta d = {};
        StrList noise = {}, percpu = {};
        size_t n = s->host.n_tasks;
        _cleanup_free_ Seen *seen = xcalloc(n + 1, sizeof(Seen));
        double t0, t1;
        int ret = 0;

        for (size_t i = 0; i < n; i++) {
                seen[i] = (Seen) { .tid = s->host.tasks[i].pid, .tgid = s->host.tasks[i].tgid };
                (void) task_cpu_time(&s->host, &seen[i], &seen[i].cputime, &seen[i].cpu);
        }
        t0 = now_s();
        snapshot(&s->host, &a);
        while (now_s() - t0 < s->o->sample_s) {
                struct timespec q = { 0, 250 * 1000 * 1000 };
                nanosleep(&q, NULL);
                watch_tasks(&s->host, seen, n, vm_cpus);
        }
        snapshot(&s->host, &b);
        t1 = now_s();
        counters_delta(&a, &b, t1 - t0, vm_cpus, &d);
        for (size_t i = 0; i < d.n_rates; i++)
                if (is_device_irq(d.rates[i].key) && d.rates[i].per_s > s->o->threshold)
                        strlist_addf(&noise, "IRQ %s (%s) fired %.2f times a second on CPU %u", d.rates[i].key,
                                     irq_name(&s->host, &d.rates[i]), d.rates[i].per_s, d.rates[i].cpu);
        task_noise(s, active, seen, n, &noise, &percpu);
        print_sample(s, &d, &noise, &percpu, s->o->sample_s);
        ret = noise.n ? 1 : 0;
        sample_delta_free(&d);
        counters_free(&a);
        counters_free(&b);
        strlist_free(&noise);
        strlist_free(&percpu);
        return ret;
}
