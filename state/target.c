/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "target.h"

#define PID_MAX_LIMIT 4194304u  /* the kernel's hard limit (64-bit) */
#define CPU_MAX 8191u           /* CPUSET_MAX_CPUS - 1 */
#define IRQ_MAX 1048575u
#define IDLE_STATE_MAX 63u
#define PIN_ID_MAX 65535u
#define WQ_NAME_MAX 64u

/* A read cursor over s[0..n): every step checks what is left. */
typedef struct Cur {
        const char *p;
        size_t n;
} Cur;

static bool eat(Cur *c, const char *lit) {
        size_t l = strlen(lit);

        if (c->n < l || memcmp(c->p, lit, l) != 0)
                return false;
        c->p += l;
        c->n -= l;
        return true;
}

static bool eat_end(Cur *c, const char *lit) {
        Cur save = *c;

        if (eat(c, lit) && c->n == 0)
                return true;
        *c = save;
        return false;
}

/* A decimal number without sign or leading zero, at most max. */
static bool eat_uint(Cur *c, unsigned max, unsigned *ret) {
        unsigned long long v = 0;
        size_t i = 0;

        while (i < c->n && c->p[i] >= '0' && c->p[i] <= '9') {
                v = v * 10 + (unsigned) (c->p[i] - '0');
                if (v > max)
                        return false;
                i++;
        }
        if (i == 0 || (i > 1 && c->p[0] == '0'))
                return false;
        c->p += i;
        c->n -= i;
        *ret = (unsigned) v;
        return true;
}

static bool is_digit(char ch) {
        return ch >= '0' && ch <= '9';
}

static bool is_alnum(char ch) {
        return is_digit(ch) || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static bool is_hex(char ch) {
        return is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

bool boot_id_valid(const char *s) {
        if (!s || strnlen(s, 37) != 36)
                return false;
        for (size_t i = 0; i < 36; i++) {
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;
                if (dash ? s[i] != '-' : !is_hex(s[i]))
                        return false;
        }
        return true;
}

static bool unit_valid_n(const char *s, size_t n) {
        static const char *const suffixes[] = { "service", "socket", "target", "device", "mount", "automount",
                                                "swap", "timer", "path", "slice", "scope" };
        const char *dot = NULL, *at = NULL;
        bool suffix_ok = false;

        if (n == 0 || n > UNIT_NAME_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                char ch = s[i];
                if (ch == '.')
                        dot = s + i;
                else if (ch == '@') {
                        if (at)
                                return false;
                        at = s + i;
                } else if (!is_alnum(ch) && ch != ':' && ch != '-' && ch != '_' && ch != '\\')
                        return false;
        }
        /* the suffix is after the last dot, the prefix before it non-empty */
        if (!dot || dot == s || (at && at > dot))
                return false;
        size_t sl = n - (size_t) (dot + 1 - s);
        for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
                if (strlen(suffixes[i]) == sl && memcmp(dot + 1, suffixes[i], sl) == 0)
                        suffix_ok = true;
        if (!suffix_ok)
                return false;
        /* instance: prefix@instance.suffix, both non-empty (no templates) */
        if (at && (at == s || at + 1 == dot))
                return false;
        return true;
}

bool unit_name_valid(const char *s) {
        return s && unit_valid_n(s, strnlen(s, UNIT_NAME_MAX + 1));
}

static bool domain_valid_n(const char *s, size_t n) {
        if (n == 0 || n > DOMAIN_NAME_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char ch = (unsigned char) s[i];
                if (ch < 0x20 || ch == 0x7f || ch == '/' || ch == '\\')
                        return false;
        }
        return true;
}

bool domain_name_valid(const char *s) {
        return s && domain_valid_n(s, strnlen(s, DOMAIN_NAME_MAX + 1));
}

/* Below the cgroup mount: one or more components of printable ASCII, no
 * empty, "." or ".." component, no trailing slash. */
static bool parse_cgroup(Cur c, Target *t) {
        const char *comp = c.p;

        if (c.n == 0)
                return false;
        for (size_t i = 0; i <= c.n; i++) {
                if (i == c.n || c.p[i] == '/') {
                        size_t len = (size_t) (c.p + i - comp);
                        if (len == 0 || (len == 1 && comp[0] == '.') || (len == 2 && comp[0] == '.' && comp[1] == '.'))
                                return false;
                        if (i == c.n) {
                                if (len < sizeof t->file)
                                        memcpy(t->file, comp, len);
                        }
                        comp = c.p + i + 1;
                        continue;
                }
                if ((unsigned char) c.p[i] <= 0x20 || (unsigned char) c.p[i] >= 0x7f)
                        return false;
        }
        t->type = TARGET_CGROUP;
        return true;
}

static bool parse_proc(Cur c, Target *t) {
        unsigned v;

        if (eat(&c, "irq/")) {
                if (eat_end(&c, "default_smp_affinity")) {
                        t->type = TARGET_IRQ_DEFAULT;
                        return true;
                }
                if (!eat_uint(&c, IRQ_MAX, &v) || !eat_end(&c, "/smp_affinity_list"))
                        return false;
                t->type = TARGET_IRQ;
                t->irq = v;
                return true;
        }
        if (eat_end(&c, "sys/kernel/watchdog_cpumask") || eat_end(&c, "sys/vm/stat_interval") ||
            eat_end(&c, "sys/net/ipv4/neigh/default/interval_probe_time_ms") ||
            eat_end(&c, "sys/net/ipv6/neigh/default/interval_probe_time_ms")) {
                t->type = TARGET_SYSCTL;
                return true;
        }
        if (!eat_uint(&c, PID_MAX_LIMIT, &v) || v == 0 || c.n != 0)
                return false;
        t->type = TARGET_TASK;
        t->pid = (int) v;
        return true;
}

static bool parse_cpu(Cur c, Target *t) {
        static const char *const freq_files[] = { "scaling_governor", "scaling_min_freq", "scaling_max_freq",
                                                  "energy_performance_preference" };
        unsigned v, k;

        if (eat(&c, "cpufreq/policy")) {
                if (!eat_uint(&c, CPU_MAX, &v) || !eat(&c, "/"))
                        return false;
                for (size_t i = 0; i < sizeof freq_files / sizeof freq_files[0]; i++)
                        if (c.n == strlen(freq_files[i]) && memcmp(c.p, freq_files[i], c.n) == 0) {
                                t->type = TARGET_CPUFREQ;
                                t->cpu = v;
                                memcpy(t->file, c.p, c.n);
                                return true;
                        }
                return false;
        }
        if (!eat(&c, "cpu") || !eat_uint(&c, CPU_MAX, &v) || !eat(&c, "/"))
                return false;
        t->cpu = v;
        if (eat_end(&c, "power/pm_qos_resume_latency_us")) {
                t->type = TARGET_CPU_POWER;
                return true;
        }
        if (eat(&c, "cpuidle/state") && eat_uint(&c, IDLE_STATE_MAX, &k) && eat_end(&c, "/disable")) {
                t->type = TARGET_CPU_POWER;
                t->is_idle_state = true;
                t->idle_state = k;
                return true;
        }
        return false;
}

static bool parse_workqueue(Cur c, Target *t) {
        if (eat_end(&c, "cpumask") || eat_end(&c, "cpumask_requested")) {
                t->type = TARGET_WORKQUEUE;
                t->wq_global = true;
                return true;
        }
        /* NAME/cpumask */
        size_t i = 0;
        while (i < c.n && i <= WQ_NAME_MAX && (is_alnum(c.p[i]) || strchr("_-.:+", c.p[i])))
                i++;
        if (i == 0 || i > WQ_NAME_MAX || c.p[0] == '.')
                return false;
        Cur rest = { c.p + i, c.n - i };
        if (!eat_end(&rest, "/cpumask"))
                return false;
        t->type = TARGET_WORKQUEUE;
        memcpy(t->file, c.p, i);
        return true;
}

static bool parse_unit(Cur c, Target *t) {
        const char *slash = memchr(c.p, '/', c.n);

        if (!slash)
                return false;
        size_t len = (size_t) (slash - c.p);
        Cur rest = { slash, c.n - len };
        if (!unit_valid_n(c.p, len) || !eat_end(&rest, "/AllowedCPUs"))
                return false;
        t->type = TARGET_UNIT;
        memcpy(t->unit, c.p, len);
        return true;
}

static bool parse_libvirt(Cur c, Target *t) {
        const char *slash = NULL;
        unsigned v;

        for (size_t i = 0; i < c.n; i++)
                if (c.p[i] == '/')
                        slash = c.p + i;
        if (!slash)
                return false;
        size_t len = (size_t) (slash - c.p);
        if (!domain_valid_n(c.p, len))
                return false;
        Cur rest = { slash + 1, c.n - len - 1 };
        if (eat_end(&rest, "emulator")) {
                t->pin = TARGET_PIN_EMULATOR;
                t->pin_id = 0;
        } else if (eat(&rest, "vcpu") && eat_uint(&rest, PIN_ID_MAX, &v) && rest.n == 0) {
                t->pin = TARGET_PIN_VCPU;
                t->pin_id = v;
        } else if (eat(&rest, "iothread") && eat_uint(&rest, PIN_ID_MAX, &v) && v > 0 && rest.n == 0) {
                t->pin = TARGET_PIN_IOTHREAD;
                t->pin_id = v;
        } else
                return false;
        t->type = TARGET_LIBVIRT;
        memcpy(t->domain, c.p, len);
        return true;
}

int target_parse_n(const char *s, size_t n, Target *ret) {
        Target t = { .type = _TARGET_TYPE_INVALID, .pin = TARGET_PIN_NONE };
        Cur c = { s, n };
        bool ok = false;

        if (!s || n == 0 || n > TARGET_MAX || memchr(s, 0, n))
                return -EINVAL;
        if (eat(&c, CGROUP_MOUNT "/"))
                ok = parse_cgroup(c, &t);
        else if (eat(&c, "/proc/"))
                ok = parse_proc(c, &t);
        else if (eat(&c, "/sys/devices/system/cpu/"))
                ok = parse_cpu(c, &t);
        else if (eat(&c, "/sys/devices/virtual/workqueue/"))
                ok = parse_workqueue(c, &t);
        else if (eat(&c, "systemd:"))
                ok = parse_unit(c, &t);
        else if (eat(&c, "libvirt:"))
                ok = parse_libvirt(c, &t);
        else if (eat_end(&c, "irqbalance:banned_cpus")) {
                t.type = TARGET_IRQBALANCE;
                ok = true;
        } else if (eat_end(&c, CGROUP2_UNMOUNTED "/cgroup.pressure")) {
                t.type = TARGET_CGROUP2_ROOT;
                memcpy(t.file, "cgroup.pressure", sizeof "cgroup.pressure");
                ok = true;
        }
        if (!ok)
                return -EINVAL;
        if (ret)
                *ret = t;
        return (int) t.type;
}

int target_parse(const char *s, Target *ret) {
        if (!s)
                return -EINVAL;
        return target_parse_n(s, strnlen(s, TARGET_MAX + 1), ret);
}

static const char *const type_names[_TARGET_TYPE_MAX] = {
        [TARGET_CGROUP] = "cgroup",         [TARGET_IRQ] = "irq",         [TARGET_IRQ_DEFAULT] = "irq-default",
        [TARGET_TASK] = "task",             [TARGET_CPU_POWER] = "cpu-power", [TARGET_CPUFREQ] = "cpufreq",
        [TARGET_WORKQUEUE] = "workqueue",   [TARGET_UNIT] = "unit",       [TARGET_LIBVIRT] = "libvirt",
        [TARGET_SYSCTL] = "sysctl",         [TARGET_IRQBALANCE] = "irqbalance",
        [TARGET_CGROUP2_ROOT] = "cgroup2-root",
};

static const char *const kind_names[_TARGET_KIND_MAX] = {
        [TARGET_KIND_CPUSET] = "cpuset",       [TARGET_KIND_KTHREAD] = "kthread", [TARGET_KIND_IRQ] = "irq",
        [TARGET_KIND_WORKQUEUE] = "workqueue", [TARGET_KIND_POWER] = "power",     [TARGET_KIND_LIBVIRT] = "libvirt",
        [TARGET_KIND_QUIET] = "quiet",         [TARGET_KIND_IRQBALANCE] = "irqbalance",
};

static const char *const op_names[_TARGET_OP_MAX] = {
        [TARGET_OP_WRITE] = "write",           [TARGET_OP_SUBTREE] = "subtree", [TARGET_OP_MKDIR] = "mkdir",
        [TARGET_OP_AFFINITY] = "affinity",     [TARGET_OP_UNIT] = "unit",       [TARGET_OP_MOVE_TASKS] = "move-tasks",
        [TARGET_OP_LIBVIRT_PIN] = "libvirt-pin", [TARGET_OP_IRQBALANCE] = "irqbalance",
};

const char *target_type_to_string(TargetType t) {
        return t >= 0 && t < _TARGET_TYPE_MAX ? type_names[t] : NULL;
}

const char *target_kind_to_string(TargetKind k) {
        return k >= 0 && k < _TARGET_KIND_MAX ? kind_names[k] : NULL;
}

const char *target_op_to_string(TargetOp o) {
        return o >= 0 && o < _TARGET_OP_MAX ? op_names[o] : NULL;
}

TargetKind target_kind_from_string(const char *s) {
        for (int i = 0; s && i < _TARGET_KIND_MAX; i++)
                if (strcmp(s, kind_names[i]) == 0)
                        return (TargetKind) i;
        return _TARGET_KIND_INVALID;
}

TargetOp target_op_from_string(const char *s) {
        for (int i = 0; s && i < _TARGET_OP_MAX; i++)
                if (strcmp(s, op_names[i]) == 0)
                        return (TargetOp) i;
        return _TARGET_OP_INVALID;
}

static bool file_is(const Target *t, const char *name) {
        return strcmp(t->file, name) == 0;
}

int target_check_kind(const char *kind_op, const Target *t, TargetKind *ret_kind, TargetOp *ret_op,
                      const char **ret_reason) {
        char kind[16], op[16];
        const char *slash = kind_op ? strchr(kind_op, '/') : NULL;
        const char *why = NULL;
        TargetKind k;
        TargetOp o;

        if (!slash || (size_t) (slash - kind_op) >= sizeof kind || strlen(slash + 1) >= sizeof op) {
                why = "kind is not KIND/OP";
                goto fail;
        }
        memcpy(kind, kind_op, (size_t) (slash - kind_op));
        kind[slash - kind_op] = 0;
        strcpy(op, slash + 1);
        k = target_kind_from_string(kind);
        o = target_op_from_string(op);
        if (k < 0) {
                why = "unknown kind";
                goto fail;
        }
        if (o < 0) {
                why = "unknown operation";
                goto fail;
        }

        /* exactly what the planner journals */
        bool ok = false;
        switch (k) {
        case TARGET_KIND_CPUSET:
                if (t->type == TARGET_CGROUP)
                        ok = (o == TARGET_OP_WRITE && strncmp(t->file, "cpuset.", 7) == 0) ||
                             (o == TARGET_OP_SUBTREE && file_is(t, "cgroup.subtree_control")) ||
                             (o == TARGET_OP_MKDIR && !file_is(t, "cgroup.subtree_control") &&
                              strncmp(t->file, "cpuset.", 7) != 0 && !file_is(t, "tasks")) ||
                             (o == TARGET_OP_MOVE_TASKS && (file_is(t, "tasks") || file_is(t, "cgroup.procs")));
                else if (t->type == TARGET_UNIT)
                        ok = o == TARGET_OP_UNIT;
                else if (t->type == TARGET_TASK)
                        ok = o == TARGET_OP_AFFINITY;
                break;
        case TARGET_KIND_KTHREAD:
                ok = t->type == TARGET_TASK && o == TARGET_OP_AFFINITY;
                break;
        case TARGET_KIND_IRQ:
                ok = (t->type == TARGET_IRQ || t->type == TARGET_IRQ_DEFAULT) && o == TARGET_OP_WRITE;
                break;
        case TARGET_KIND_WORKQUEUE:
                ok = t->type == TARGET_WORKQUEUE && o == TARGET_OP_WRITE;
                break;
        case TARGET_KIND_POWER:
                ok = (t->type == TARGET_CPU_POWER || t->type == TARGET_CPUFREQ) && o == TARGET_OP_WRITE;
                break;
        case TARGET_KIND_LIBVIRT:
                ok = t->type == TARGET_LIBVIRT && o == TARGET_OP_LIBVIRT_PIN;
                break;
        case TARGET_KIND_QUIET:
                ok = (t->type == TARGET_SYSCTL || t->type == TARGET_CGROUP2_ROOT ||
                      (t->type == TARGET_CGROUP && file_is(t, "cgroup.pressure"))) &&
                     o == TARGET_OP_WRITE;
                break;
        case TARGET_KIND_IRQBALANCE:
                ok = t->type == TARGET_IRQBALANCE && o == TARGET_OP_IRQBALANCE;
                break;
        default:
                break;
        }
        if (!ok) {
                why = "kind does not match the target";
                goto fail;
        }
        if (ret_kind)
                *ret_kind = k;
        if (ret_op)
                *ret_op = o;
        return 0;
fail:
        if (ret_reason)
                *ret_reason = why;
        return -EINVAL;
}
