/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <yaml.h>

#include "config.h"
#include "target.h"

typedef struct Parser {
        yaml_document_t *doc;
        const char *file;
        Config *cfg;
        const Host *host;
        char *error;
} Parser;

static Loc loc_of(const Parser *p, const yaml_node_t *n) {
        return (Loc) { p->file, (unsigned) n->start_mark.line + 1, (unsigned) n->start_mark.column + 1 };
}

/* Errors are one line, whatever a quoted value held: control characters
 * are shown escaped. */
static char *one_line(const char *s) {
        char *out = xmalloc(strlen(s) * 4 + 1), *p = out;

        for (; *s; s++) {
                unsigned char ch = (unsigned char) *s;
                if (ch == '\n')
                        p += sprintf(p, "\\n");
                else if (ch == '\t')
                        p += sprintf(p, "\\t");
                else if (ch < 0x20 || ch == 0x7f)
                        p += sprintf(p, "\\x%02x", ch);
                else
                        *p++ = (char) ch;
        }
        *p = 0;
        return out;
}

__attribute__((format(printf, 3, 0))) static int fail_at(char **error, Loc l, const char *fmt, va_list ap) {
        _cleanup_free_ char *msg = NULL;

        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        if (!*error) {
                _cleanup_free_ char *line = l.line ? xasprintf("%s:%u:%u: %s", l.file, l.line, l.column, msg)
                                                   : xasprintf("%s: %s", l.file, msg);
                *error = one_line(line);
        }
        return -EINVAL;
}

_printf_(3, 4) static int fail(Parser *p, const yaml_node_t *n, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = fail_at(&p->error, loc_of(p, n), fmt, ap);
        va_end(ap);
        return r;
}

_printf_(3, 4) static int fail_loc(char **error, Loc l, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = fail_at(error, l, fmt, ap);
        va_end(ap);
        return r;
}

static yaml_node_t *node(Parser *p, int id) {
        return yaml_document_get_node(p->doc, id);
}

static const char *scalar(const yaml_node_t *n) {
        return n->type == YAML_SCALAR_NODE ? (const char *) n->data.scalar.value : NULL;
}

static bool is_plain(const yaml_node_t *n) {
        return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static const char *type_name(const yaml_node_t *n) {
        switch (n->type) {
        case YAML_MAPPING_NODE:
                return "a mapping";
        case YAML_SEQUENCE_NODE:
                return "a list";
        default:
                return is_plain(n) && scalar(n)[0] == 0 ? "nothing" : "a scalar";
        }
}

#define FOREACH_PAIR(pair, n) \
        for (yaml_node_pair_t *pair = (n)->data.mapping.pairs.start; pair < (n)->data.mapping.pairs.top; pair++)
#define FOREACH_ITEM(item, n) \
        for (yaml_node_item_t *item = (n)->data.sequence.items.start; item < (n)->data.sequence.items.top; item++)

static int expect_mapping(Parser *p, const yaml_node_t *n, const char *what) {
        if (n->type != YAML_MAPPING_NODE)
                return fail(p, n, "%s must be a mapping, got %s", what, type_name(n));
        return 0;
}

/* Duplicate keys in linear time: an open-addressing set of the key nodes
 * seen so far in one mapping, hashed with a per-process seed so that a
 * crafted file cannot make every key collide. */
typedef struct KeySet {
        const yaml_node_t **slots;
        size_t mask;
} KeySet;

static uint64_t hash_seed(void) {
        static uint64_t seed;

        if (!seed) {
                const unsigned char *r = (const unsigned char *) getauxval(AT_RANDOM);
                uint64_t v = 0x9e3779b97f4a7c15ull;
                if (r)
                        memcpy(&v, r, sizeof v);
                seed = v | 1;
        }
        return seed;
}

static uint64_t hash_str(const char *s) {
        uint64_t h = hash_seed();

        for (; *s; s++) {
                h ^= (unsigned char) *s;
                h *= 0x100000001b3ull;
                h ^= h >> 29;
        }
        return h ^ (h >> 32);
}

static KeySet keyset_new(size_t n) {
        size_t cap = 8;

        while (cap < 2 * n)
                cap *= 2;
        return (KeySet) { xcalloc(cap, sizeof(yaml_node_t *)), cap - 1 };
}

static void keyset_free(KeySet *k) {
        free(k->slots);
}

/* Adds key; returns the earlier node with the same text, or NULL. */
static const yaml_node_t *keyset_add(KeySet *k, const yaml_node_t *key) {
        const char *s = (const char *) key->data.scalar.value;

        for (size_t i = hash_str(s) & k->mask;; i = (i + 1) & k->mask) {
                if (!k->slots[i]) {
                        k->slots[i] = key;
                        return NULL;
                }
                if (streq((const char *) k->slots[i]->data.scalar.value, s))
                        return k->slots[i];
        }
}

/* Checks every key of a mapping: a scalar, known, not repeated. An unknown
 * key gets the nearest valid one as a suggestion. */
static int check_keys(Parser *p, yaml_node_t *map, const char *const *allowed, const char *where) {
        size_t n_pairs = (size_t) (map->data.mapping.pairs.top - map->data.mapping.pairs.start);
        _cleanup_(keyset_free) KeySet seen = keyset_new(n_pairs);

        FOREACH_PAIR(pair, map) {
                yaml_node_t *k = node(p, pair->key);
                const char *key = scalar(k), *best = NULL;
                unsigned best_d = ~0u;

                if (!key)
                        return fail(p, k, "keys of %s must be plain names", where);
                const yaml_node_t *first = keyset_add(&seen, k);
                if (first)
                        return fail(p, k, "duplicate key '%s' in %s (first at line %lu)", key, where,
                                    (unsigned long) first->start_mark.line + 1);
                if (!allowed)
                        continue;
                bool ok = false;
                for (size_t i = 0; allowed[i]; i++) {
                        unsigned d = levenshtein(key, allowed[i]);
                        if (d == 0)
                                ok = true;
                        if (d < best_d) {
                                best_d = d;
                                best = allowed[i];
                        }
                }
                if (ok)
                        continue;
                /* {cpus: 0,4} is {cpus: 0, 4: null} in YAML's flow style. */
                yaml_node_t *v = node(p, pair->value);
                if (strspn(key, "0123456789-") == strlen(key) && v->type == YAML_SCALAR_NODE && scalar(v)[0] == 0 &&
                    pair > map->data.mapping.pairs.start) {
                        yaml_node_t *pk = node(p, pair[-1].key), *pv = node(p, pair[-1].value);
                        if (scalar(pk) && scalar(pv))
                                return fail(p, k, "'%s' looks like part of a CPU list: inside { } a comma ends the "
                                                  "value, so quote the whole list: %s: \"%s,%s\"",
                                            key, scalar(pk), scalar(pv), key);
                }
                if (best && best_d <= (strlen(best) + 2) / 3 + 1)
                        return fail(p, k, "unknown key '%s' in %s; did you mean '%s'?", key, where, best);
                return fail(p, k, "unknown key '%s' in %s", key, where);
        }
        return 0;
}

/* A name that can become a file or cgroup name on every layout
 * ("cpushield.NAME" under the v1 cpuset mount): [A-Za-z0-9][A-Za-z0-9_.-]*,
 * at most CONFIG_NAME_MAX characters. */
static bool valid_name(const char *s) {
        if (!s || !isalnum((unsigned char) s[0]) || strlen(s) > CONFIG_NAME_MAX)
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char) *s) && !strchr("_.-", *s))
                        return false;
        return true;
}

static int parse_uint(Parser *p, const yaml_node_t *n, const char *what, unsigned long *ret) {
        const char *s = scalar(n);
        unsigned long v;

        if (!s || !is_plain(n) || safe_atolu(s, &v) < 0)
                return fail(p, n, "%s must be a non-negative integer, got %s%s%s", what,
                            s ? "'" : "", s ? s : type_name(n), s ? "'" : "");
        *ret = v;
        return 0;
}

static int parse_string(Parser *p, const yaml_node_t *n, const char *what, char **ret) {
        const char *s = scalar(n);

        if (!s || s[0] == 0)
                return fail(p, n, "%s must be a non-empty string, got %s", what, s ? "''" : type_name(n));
        free(*ret);
        *ret = xstrdup(s);
        return 0;
}

static int parse_enum(Parser *p, const yaml_node_t *n, const char *what, const char *const *values, int *ret) {
        const char *s = scalar(n);

        for (int i = 0; s && values[i]; i++)
                if (streq(s, values[i])) {
                        *ret = i;
                        return 0;
                }
        _cleanup_free_ char *list = xstrdup("");
        for (int i = 0; values[i]; i++) {
                char *l = xasprintf("%s%s%s", list, i ? ", " : "", values[i]);
                free(list);
                list = l;
        }
        return fail(p, n, "%s must be one of %s, got %s%s%s", what, list, s ? "'" : "", s ? s : type_name(n),
                    s ? "'" : "");
}

/* A CPU that the config names must exist on this host and be online. */
static int check_cpus_exist(Parser *p, const yaml_node_t *n, const CpuSet *cpus) {
        const Host *h = p->host;
        _cleanup_free_ char *all = cpuset_format_list(&h->present);

        CPUSET_FOREACH(c, cpus) {
                if ((unsigned) c >= h->nr_cpu_ids || !cpuset_isset(&h->present, (unsigned) c))
                        return fail(p, n, "CPU %d does not exist on this host (it has CPUs %s)", c, all);
                if (!cpuset_isset(&h->online, (unsigned) c))
                        return fail(p, n, "CPU %d is offline", c);
        }
        return 0;
}

static int parse_cpulist(Parser *p, const yaml_node_t *n, const char *what, CpuSet *ret) {
        const char *s = scalar(n);
        CpuSet set = {};
        int r;

        if (!s)
                return fail(p, n, "%s must be a CPU list like \"1-3,5-7\", got %s", what, type_name(n));
        r = cpuset_parse_list(s, &set);
        if (r == -ERANGE)
                return fail(p, n, "%s: CPU number in '%s' is larger than any Linux supports (%u)", what, s,
                            CPUSET_MAX_CPUS - 1);
        if (r < 0)
                return fail(p, n, "%s: '%s' is not a CPU list (expected e.g. \"1-3,5-7\")", what, s);
        if (cpuset_is_empty(&set))
                return fail(p, n, "%s is empty", what);
        r = check_cpus_exist(p, n, &set);
        if (r < 0) {
                cpuset_free(&set);
                return r;
        }
        cpuset_free(ret);
        *ret = set;
        return 0;
}

/* cores: [1, 2, 3] -> every SMT thread of those cores (core k = k-th core by
 * lowest CPU number, as `cpushield status` shows them). */
static int parse_cores(Parser *p, const yaml_node_t *n, CpuSet *ret) {
        const Host *h = p->host;
        CpuSet set = {};

        if (n->type != YAML_SEQUENCE_NODE)
                return fail(p, n, "cores must be a list of core numbers like [1, 2, 3], got %s", type_name(n));
        FOREACH_ITEM(item, n) {
                yaml_node_t *c = node(p, *item);
                unsigned long k;
                int r = parse_uint(p, c, "a core number", &k);

                if (r < 0)
                        goto fail;
                if (k >= h->n_cores) {
                        r = fail(p, c, "core %lu does not exist on this host (it has cores 0-%zu)", k, h->n_cores - 1);
                        goto fail;
                }
                cpuset_or(&set, &h->cores[k].threads);
        }
        if (cpuset_is_empty(&set))
                return fail(p, n, "cores is empty");
        if (check_cpus_exist(p, n, &set) < 0)
                goto fail;
        cpuset_free(ret);
        *ret = set;
        return 0;
fail:
        cpuset_free(&set);
        return -EINVAL;
}

/* Either cpus: or cores:, exactly one. */
static int parse_cpu_selector(Parser *p, yaml_node_t *map, const char *where, CpuSet *ret, Loc *ret_loc) {
        yaml_node_t *found = NULL, *found_key = NULL;

        FOREACH_PAIR(pair, map) {
                yaml_node_t *k = node(p, pair->key), *v = node(p, pair->value);
                const char *key = scalar(k);
                int r;

                if (!streq(key, "cpus") && !streq(key, "cores"))
                        continue;
                if (found)
                        return fail(p, k, "%s: give either 'cpus' or 'cores', not both", where);
                found = v;
                found_key = k;
                r = streq(key, "cpus") ? parse_cpulist(p, v, "cpus", ret) : parse_cores(p, v, ret);
                if (r < 0)
                        return r;
                *ret_loc = loc_of(p, v);
        }
        if (!found)
                return fail(p, map, "%s needs 'cpus' (e.g. \"1-3,5-7\") or 'cores' (e.g. [1, 2, 3])", where);
        (void) found_key;
        return 0;
}

static int parse_host(Parser *p, yaml_node_t *n) {
        static const char *const keys[] = { "cpus", "cores", "partition", NULL };
        Config *c = p->cfg;
        int r;

        if ((r = expect_mapping(p, n, "host")) < 0 || (r = check_keys(p, n, keys, "host")) < 0)
                return r;
        if (c->has_host)
                return fail(p, n, "'host' is already defined at %s:%u:%u; give it in one file only", c->host_loc.file,
                            c->host_loc.line, c->host_loc.column);
        r = parse_cpu_selector(p, n, "host", &c->host_cpus, &c->host_loc);
        if (r < 0)
                return r;
        c->has_host = true;
        FOREACH_PAIR(pair, n)
                if (streq(scalar(node(p, pair->key)), "partition")) {
                        yaml_node_t *v = node(p, pair->value);
                        if ((r = parse_string(p, v, "host.partition", &c->partition)) < 0)
                                return r;
                        _cleanup_free_ char *t = xasprintf(CGROUP_MOUNT "/%s/cpuset.cpus.partition", c->partition);
                        if (c->partition[0] == '/' || strlen(c->partition) > 1024 || target_parse(t, NULL) < 0)
                                return fail(p, v, "host.partition must be a cgroup path relative to the cgroup root, "
                                                  "like \"machine.slice\", without '.', '..', empty parts or "
                                                  "spaces, got '%.80s'", c->partition);
                }
        return 0;
}

static int parse_defaults(Parser *p, yaml_node_t *n) {
        static const char *const keys[] = { "irqs", "kthreads", "workqueues", NULL };
        static const char *const modes[] = { "move", "leave", NULL };
        int r;

        if ((r = expect_mapping(p, n, "defaults")) < 0 || (r = check_keys(p, n, keys, "defaults")) < 0)
                return r;
        FOREACH_PAIR(pair, n) {
                const char *key = scalar(node(p, pair->key));
                Mode *m = streq(key, "irqs") ? &p->cfg->irqs : streq(key, "kthreads") ? &p->cfg->kthreads : &p->cfg->workqueues;
                _cleanup_free_ char *what = xasprintf("defaults.%s", key);
                int v;

                if ((r = parse_enum(p, node(p, pair->value), what, modes, &v)) < 0)
                        return r;
                *m = (Mode) v;
        }
        return 0;
}

static int parse_profile(Parser *p, yaml_node_t *k, yaml_node_t *n) {
        static const char *const keys[] = { "governor", "max_wakeup_latency_us", "min_frequency",
                                            "energy_performance_preference", NULL };
        static const char *const epps[] = { "default", "performance", "balance_performance", "balance_power", "power", NULL };
        const char *name = scalar(k);
        PowerProfile *pp;
        int r;

        if (!valid_name(name))
                return fail(p, k, "power profile name '%.80s%s' must start with a letter or digit, contain only "
                                  "letters, digits, '_', '.', '-', and be at most %u characters long",
                            name, strlen(name) > 80 ? "..." : "", CONFIG_NAME_MAX);
        for (size_t i = 0; i < p->cfg->n_profiles; i++)
                if (streq(p->cfg->profiles[i].name, name))
                        return fail(p, k, "power profile '%s' is already defined at %s:%u:%u", name,
                                    p->cfg->profiles[i].loc.file, p->cfg->profiles[i].loc.line,
                                    p->cfg->profiles[i].loc.column);
        _cleanup_free_ char *where = xasprintf("power profile '%s'", name);
        if ((r = expect_mapping(p, n, where)) < 0 || (r = check_keys(p, n, keys, where)) < 0)
                return r;
        if (n->data.mapping.pairs.start == n->data.mapping.pairs.top)
                return fail(p, n, "%s sets nothing", where);

        if (p->cfg->n_profiles >= CONFIG_PROFILES_MAX)
                return fail(p, k, "more than %u power profiles", CONFIG_PROFILES_MAX);
        pp = array_push(&p->cfg->profiles, &p->cfg->n_profiles, sizeof(PowerProfile));
        pp->name = xstrdup(name);
        pp->loc = loc_of(p, k);
        FOREACH_PAIR(pair, n) {
                const char *key = scalar(node(p, pair->key));
                yaml_node_t *v = node(p, pair->value);
                unsigned long u;

                if (streq(key, "governor")) {
                        if ((r = parse_string(p, v, "governor", &pp->governor)) < 0)
                                return r;
                        /* the kernel's CPUFREQ_NAME_LEN is 16 */
                        if (strlen(pp->governor) > 15 || strspn(pp->governor, "abcdefghijklmnopqrstuvwxyz"
                                                                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
                                                                     strlen(pp->governor))
                                return fail(p, v, "governor '%.80s' is not a cpufreq governor name", pp->governor);
                        pp->governor_loc = loc_of(p, v);
                } else if (streq(key, "max_wakeup_latency_us")) {
                        if ((r = parse_uint(p, v, "max_wakeup_latency_us", &u)) < 0)
                                return r;
                        if (u > 2000000000ul)
                                return fail(p, v, "max_wakeup_latency_us %lu is out of range", u);
                        pp->has_max_latency = true;
                        pp->max_wakeup_latency_us = (unsigned) u;
                } else if (streq(key, "min_frequency")) {
                        if (streq_ptr(scalar(v), "max"))
                                pp->min_freq = MIN_FREQ_MAX;
                        else {
                                const char *s = scalar(v);
                                if (!s || !is_plain(v) || safe_atolu(s, &u) < 0 || u == 0)
                                        return fail(p, v, "min_frequency must be a frequency in kHz or 'max', got %s%s%s",
                                                    s ? "'" : "", s ? s : type_name(v), s ? "'" : "");
                                pp->min_freq = MIN_FREQ_KHZ;
                                pp->min_freq_khz = u;
                        }
                } else {
                        int e;
                        if ((r = parse_enum(p, v, "energy_performance_preference", epps, &e)) < 0)
                                return r;
                        pp->epp = xstrdup(epps[e]);
                        pp->epp_loc = loc_of(p, v);
                }
        }
        return 0;
}

static int parse_pin_list(Parser *p, yaml_node_t *n, Vm *vm) {
        if (n->type != YAML_SEQUENCE_NODE)
                return fail(p, n, "vcpu_pins must be a list of CPU lists (entry n pins vCPU n), got %s", type_name(n));
        if ((size_t) (n->data.sequence.items.top - n->data.sequence.items.start) > CONFIG_PINS_MAX)
                return fail(p, n, "vcpu_pins has more than %u entries", CONFIG_PINS_MAX);
        FOREACH_ITEM(item, n) {
                yaml_node_t *v = node(p, *item);
                Pin *pin = array_push(&vm->vcpu_pins, &vm->n_vcpu_pins, sizeof(Pin));
                _cleanup_free_ char *what = xasprintf("vcpu_pins[%zu]", vm->n_vcpu_pins - 1);
                int r;

                pin->id = (unsigned) (vm->n_vcpu_pins - 1);
                pin->loc = loc_of(p, v);
                if ((r = parse_cpulist(p, v, what, &pin->cpus)) < 0)
                        return r;
        }
        return 0;
}

static int parse_iothreads(Parser *p, yaml_node_t *n, Vm *vm) {
        int r;

        if ((r = expect_mapping(p, n, "iothread_pins")) < 0)
                return r;
        if ((size_t) (n->data.mapping.pairs.top - n->data.mapping.pairs.start) > CONFIG_PINS_MAX)
                return fail(p, n, "iothread_pins has more than %u entries", CONFIG_PINS_MAX);
        if ((r = check_keys(p, n, NULL, "iothread_pins")) < 0)
                return r;
        /* "1" and "01" are different keys but the same IOThread: a bitmap of
         * the ids seen keeps this linear. */
        _cleanup_free_ uint64_t *seen = xcalloc(65536 / 64, sizeof(uint64_t));
        _cleanup_free_ yaml_node_t **first = xcalloc(65536, sizeof(yaml_node_t *));
        FOREACH_PAIR(pair, n) {
                yaml_node_t *k = node(p, pair->key), *v = node(p, pair->value);
                unsigned long id;
                Pin *pin;

                if ((r = parse_uint(p, k, "an IOThread id", &id)) < 0)
                        return r;
                if (id == 0 || id > 65535)
                        return fail(p, k, "IOThread ids start at 1, got %lu", id);
                if (seen[id / 64] & (1ull << (id % 64)))
                        return fail(p, k, "IOThread %lu is pinned twice (first at line %lu, column %lu)", id,
                                    (unsigned long) first[id]->start_mark.line + 1,
                                    (unsigned long) first[id]->start_mark.column + 1);
                seen[id / 64] |= 1ull << (id % 64);
                first[id] = k;
                pin = array_push(&vm->iothread_pins, &vm->n_iothread_pins, sizeof(Pin));
                pin->id = (unsigned) id;
                pin->loc = loc_of(p, v);
                _cleanup_free_ char *what = xasprintf("iothread_pins[%lu]", id);
                if ((r = parse_cpulist(p, v, what, &pin->cpus)) < 0)
                        return r;
        }
        return 0;
}

static int parse_vm(Parser *p, yaml_node_t *k, yaml_node_t *n) {
        static const char *const keys[] = { "activation", "libvirt", "cpus", "cores", "vcpu_pins", "emulator_pin",
                                            "iothread_pins", "power", NULL };
        static const char *const lv_keys[] = { "uri", "domain", NULL };
        static const char *const acts[] = { "libvirt", "manual", "always", NULL };
        const char *name = scalar(k);
        Vm *vm;
        int r;

        if (!valid_name(name))
                return fail(p, k, "VM name '%.80s%s' must start with a letter or digit, contain only letters, digits, "
                                  "'_', '.', '-', and be at most %u characters long",
                            name, strlen(name) > 80 ? "..." : "", CONFIG_NAME_MAX);
        for (size_t i = 0; i < p->cfg->n_vms; i++)
                if (streq(p->cfg->vms[i].name, name))
                        return fail(p, k, "VM '%s' is already defined at %s:%u:%u", name, p->cfg->vms[i].loc.file,
                                    p->cfg->vms[i].loc.line, p->cfg->vms[i].loc.column);
        _cleanup_free_ char *where = xasprintf("VM '%s'", name);
        if ((r = expect_mapping(p, n, where)) < 0 || (r = check_keys(p, n, keys, where)) < 0)
                return r;

        if (p->cfg->n_vms >= CONFIG_VMS_MAX)
                return fail(p, k, "more than %u VMs", CONFIG_VMS_MAX);
        vm = array_push(&p->cfg->vms, &p->cfg->n_vms, sizeof(Vm));
        vm->name = xstrdup(name);
        vm->loc = loc_of(p, k);
        if ((r = parse_cpu_selector(p, n, where, &vm->cpus, &vm->cpus_loc)) < 0)
                return r;
        FOREACH_PAIR(pair, n) {
                const char *key = scalar(node(p, pair->key));
                yaml_node_t *v = node(p, pair->value);
                int e;

                if (streq(key, "activation")) {
                        if ((r = parse_enum(p, v, "activation", acts, &e)) < 0)
                                return r;
                        vm->activation = (Activation) e;
                } else if (streq(key, "libvirt")) {
                        if ((r = expect_mapping(p, v, "libvirt")) < 0 || (r = check_keys(p, v, lv_keys, "libvirt")) < 0)
                                return r;
                        FOREACH_PAIR(lp, v) {
                                const char *lk = scalar(node(p, lp->key));
                                yaml_node_t *lv = node(p, lp->value);
                                if ((r = parse_string(p, lv, lk, streq(lk, "uri") ? &vm->uri : &vm->domain)) < 0)
                                        return r;
                                if (streq(lk, "domain") && !domain_name_valid(vm->domain))
                                        return fail(p, lv, "libvirt domain name '%.80s' must be 1 to %u bytes without "
                                                           "'/', '\\' or control characters",
                                                    vm->domain, DOMAIN_NAME_MAX);
                                if (streq(lk, "uri") && strcspn(vm->uri, "\t\n\r") != strlen(vm->uri))
                                        return fail(p, lv, "libvirt uri must be one line");
                        }
                } else if (streq(key, "vcpu_pins")) {
                        if ((r = parse_pin_list(p, v, vm)) < 0)
                                return r;
                } else if (streq(key, "emulator_pin")) {
                        if ((r = parse_cpulist(p, v, "emulator_pin", &vm->emulator_pin)) < 0)
                                return r;
                        vm->has_emulator_pin = true;
                        vm->emulator_loc = loc_of(p, v);
                } else if (streq(key, "iothread_pins")) {
                        if ((r = parse_iothreads(p, v, vm)) < 0)
                                return r;
                } else if (streq(key, "power")) {
                        if ((r = parse_string(p, v, "power", &vm->power)) < 0)
                                return r;
                        vm->power_loc = loc_of(p, v);
                }
        }
        if (!vm->uri)
                vm->uri = xstrdup(CONFIG_DEFAULT_URI);
        if (!vm->domain)
                vm->domain = xstrdup(vm->name);
        return 0;
}

static int parse_named_section(Parser *p, yaml_node_t *n, const char *what,
                               int (*parse_one)(Parser *, yaml_node_t *, yaml_node_t *)) {
        int r;

        if (n->type == YAML_SCALAR_NODE && scalar(n)[0] == 0 && is_plain(n))
                return 0; /* "vms:" with nothing under it */
        if ((r = expect_mapping(p, n, what)) < 0 || (r = check_keys(p, n, NULL, what)) < 0)
                return r;
        FOREACH_PAIR(pair, n)
                if ((r = parse_one(p, node(p, pair->key), node(p, pair->value))) < 0)
                        return r;
        return 0;
}

static int parse_root(Parser *p, yaml_node_t *root) {
        static const char *const keys[] = { "version", "host", "defaults", "power_profiles", "vms", NULL };
        int r;

        if (root->type == YAML_SCALAR_NODE && is_plain(root) && scalar(root)[0] == 0)
                return 0;
        if ((r = expect_mapping(p, root, "the configuration")) < 0 || (r = check_keys(p, root, keys, "the configuration")) < 0)
                return r;
        FOREACH_PAIR(pair, root) {
                const char *key = scalar(node(p, pair->key));
                yaml_node_t *v = node(p, pair->value);
                unsigned long version;

                if (streq(key, "version")) {
                        if ((r = parse_uint(p, v, "version", &version)) < 0)
                                return r;
                        if (version != 1)
                                return fail(p, v, "unsupported configuration version %lu (this cpushield reads version 1)", version);
                }
        }
        /* Profiles before VMs so that a VM may name one defined in the same file. */
        static const char *const order[] = { "host", "defaults", "power_profiles", "vms" };
        for (size_t i = 0; i < ELEMENTSOF(order); i++)
                FOREACH_PAIR(pair, root) {
                        const char *key = scalar(node(p, pair->key));
                        yaml_node_t *v = node(p, pair->value);

                        if (!streq(key, order[i]))
                                continue;
                        if (i == 0)
                                r = parse_host(p, v);
                        else if (i == 1)
                                r = parse_defaults(p, v);
                        else if (i == 2)
                                r = parse_named_section(p, v, "power_profiles", parse_profile);
                        else
                                r = parse_named_section(p, v, "vms", parse_vm);
                        if (r < 0)
                                return r;
                }
        return 0;
}

/* 1-based line and column of byte off (libyaml gives only an offset for
 * input it cannot decode, such as invalid UTF-8). */
static Loc loc_of_offset(const char *file, const char *data, size_t len, size_t off) {
        Loc l = { file, 1, 1 };

        if (off > len)
                off = len;
        for (size_t i = 0; i < off; i++)
                if (data[i] == '\n') {
                        l.line++;
                        l.column = 1;
                } else if (((unsigned char) data[i] & 0xc0) != 0x80)
                        l.column++;
        return l;
}

static Loc problem_loc(const yaml_parser_t *parser, const char *file, const char *data, size_t len) {
        if (parser->error == YAML_READER_ERROR)
                return loc_of_offset(file, data, len, parser->problem_offset);
        return (Loc) { file, (unsigned) parser->problem_mark.line + 1, (unsigned) parser->problem_mark.column + 1 };
}

static int syntax_error(const yaml_parser_t *parser, const char *file, const char *data, size_t len, char **error) {
        const char *problem = parser->problem ? parser->problem : "unknown";

        if (parser->error == YAML_READER_ERROR)
                return fail_loc(error, problem_loc(parser, file, data, len),
                                "not valid UTF-8 or UTF-16 text: %s (byte 0x%02x)", problem,
                                (unsigned) (parser->problem_value & 0xff));
        return fail_loc(error, problem_loc(parser, file, data, len), "YAML syntax error: %s%s%s", problem,
                        parser->context ? " " : "", parser->context ? parser->context : "");
}

/* Nesting depth and node count from the event stream, before libyaml
 * builds the document: no input gets to cost more than its size. A syntax
 * error is left to the loader, which reports it. */
static int check_shape(const char *file, const char *data, size_t len, char **ret_error) {
        yaml_parser_t parser;
        yaml_event_t ev;
        unsigned depth = 0;
        size_t nodes = 0;
        int r = 0;

        if (!yaml_parser_initialize(&parser))
                abort();
        yaml_parser_set_input_string(&parser, (const unsigned char *) data, len);
        for (;;) {
                if (!yaml_parser_parse(&parser, &ev))
                        break;
                yaml_event_type_t t = ev.type;
                Loc l = { file, (unsigned) ev.start_mark.line + 1, (unsigned) ev.start_mark.column + 1 };

                if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) {
                        if (++depth > CONFIG_DEPTH_MAX)
                                r = fail_loc(ret_error, l, "nested more than %u levels deep", CONFIG_DEPTH_MAX);
                } else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT)
                        depth--;
                if ((t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT || t == YAML_SCALAR_EVENT ||
                     t == YAML_ALIAS_EVENT) &&
                    ++nodes > CONFIG_NODES_MAX && r == 0)
                        r = fail_loc(ret_error, l, "more than %u values in one file", CONFIG_NODES_MAX);
                yaml_event_delete(&ev);
                if (r < 0 || t == YAML_STREAM_END_EVENT)
                        break;
        }
        yaml_parser_delete(&parser);
        return r;
}

static int load_data(Config *c, const char *file, const char *data, size_t len, const Host *host,
                     char **ret_error) {
        yaml_parser_t parser;
        yaml_document_t doc, extra;
        Parser p = { .file = file, .cfg = c, .host = host };
        int r = 0;

        if (len > CONFIG_FILE_MAX)
                return fail_loc(ret_error, (Loc) { file, 0, 0 }, "larger than %u bytes", CONFIG_FILE_MAX);
        r = check_shape(file, data, len, ret_error);
        if (r < 0)
                return r;
        if (!yaml_parser_initialize(&parser))
                abort();
        yaml_parser_set_input_string(&parser, (const unsigned char *) data, len);
        if (!yaml_parser_load(&parser, &doc)) {
                r = syntax_error(&parser, file, data, len, ret_error);
                yaml_parser_delete(&parser);
                return r;
        }
        p.doc = &doc;
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (root)
                r = parse_root(&p, root);
        if (r >= 0) {
                /* One document per file: a second one would be silently ignored otherwise. */
                if (!yaml_parser_load(&parser, &extra))
                        r = syntax_error(&parser, file, data, len, &p.error);
                else {
                        yaml_node_t *x = yaml_document_get_root_node(&extra);
                        if (x)
                                r = fail(&p, x, "only one YAML document per file is allowed");
                        yaml_document_delete(&extra);
                }
        }
        yaml_document_delete(&doc);
        yaml_parser_delete(&parser);
        if (r < 0)
                *ret_error = TAKE_PTR(p.error);
        free(p.error);
        return r;
}

static int check_owner_mode(const char *what, const char *path, const struct stat *st, bool sticky_ok,
                            char **ret_error) {
        uid_t me = geteuid();

        if (st->st_uid != 0 && st->st_uid != me)
                return fail_loc(ret_error, (Loc) { path, 0, 0 },
                                "%s is owned by uid %u, not by root or uid %u: refused", what, (unsigned) st->st_uid,
                                (unsigned) me),
                       -EPERM;
        if ((st->st_mode & 022) && !(sticky_ok && (st->st_mode & S_ISVTX) && st->st_uid == 0))
                return fail_loc(ret_error, (Loc) { path, 0, 0 },
                                "%s is writable by %s (mode %04o): refused (chmod go-w %s)", what,
                                (st->st_mode & 002) ? "others" : "its group", (unsigned) (st->st_mode & 07777), path),
                       -EPERM;
        return 0;
}

int config_read_trusted(const char *file, char **ret_data, size_t *ret_len, char **ret_error) {
        _cleanup_close_ int fd = -1, dfd = -1;
        _cleanup_free_ char *data = NULL, *real = NULL;
        struct stat st;
        size_t len = 0;
        int r;

        /* O_NONBLOCK: opening a FIFO must not wait for a writer */
        fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 || fstat(fd, &st) < 0) {
                r = -errno;
                return fail_loc(ret_error, (Loc) { file, 0, 0 }, "%s", strerror(-r)), r;
        }
        if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3) {
                /* /dev/null: the usual way to say "an empty configuration" */
                *ret_data = xstrdup("");
                *ret_len = 0;
                return 0;
        }
        if (!S_ISREG(st.st_mode))
                return fail_loc(ret_error, (Loc) { file, 0, 0 }, "not a regular file (%s): refused",
                                S_ISFIFO(st.st_mode) ? "a FIFO" : S_ISDIR(st.st_mode) ? "a directory"
                                : S_ISSOCK(st.st_mode) ? "a socket" : "a device"),
                       -EINVAL;
        if ((r = check_owner_mode("the configuration file", file, &st, false, ret_error)) < 0)
                return r;
        /* the directory holding it (conf.d too): nobody else may swap it */
        real = realpath(file, NULL);
        if (real) {
                char *slash = strrchr(real, '/');
                if (slash == real)
                        slash[1] = 0;
                else
                        *slash = 0;
                dfd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd >= 0 && fstat(dfd, &st) == 0 &&
                    (r = check_owner_mode("its directory", real, &st, true, ret_error)) < 0)
                        return r;
        }
        data = xmalloc(CONFIG_FILE_MAX + 2);
        for (;;) {
                ssize_t n = read(fd, data + len, CONFIG_FILE_MAX + 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = -errno;
                        return fail_loc(ret_error, (Loc) { file, 0, 0 }, "%s", strerror(-r)), r;
                }
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len > CONFIG_FILE_MAX)
                        return fail_loc(ret_error, (Loc) { file, 0, 0 }, "larger than %u bytes: refused",
                                        CONFIG_FILE_MAX),
                               -EFBIG;
        }
        data[len] = 0;
        *ret_data = TAKE_PTR(data);
        *ret_len = len;
        return 0;
}

static int load_file(Config *c, const char *file, const Host *host, char **ret_error) {
        _cleanup_free_ char *data = NULL;
        size_t len;
        int r = config_read_trusted(file, &data, &len, ret_error);

        if (r < 0)
                return r;
        return load_data(c, file, data, len, host, ret_error);
}

const char *config_cpu_owner(const Config *c, unsigned cpu) {
        if (!c)
                return NULL;
        if (cpuset_isset(&c->host_cpus, cpu))
                return "host";
        for (size_t i = 0; i < c->n_vms; i++)
                if (cpuset_isset(&c->vms[i].cpus, cpu))
                        return c->vms[i].name;
        return NULL;
}

static int validate(Config *c, const Host *h, char **ret_error) {
        if (!c->has_host)
                return fail_loc(ret_error, (Loc) { c->files.v[0], 0, 0 },
                                "no 'host:' section: say which CPUs the host keeps, e.g. host: {cpus: 0,4}");

        for (size_t i = 0; i < c->n_vms; i++) {
                Vm *vm = &c->vms[i];
                CpuSet x = {};

                if (cpuset_intersects(&vm->cpus, &c->host_cpus)) {
                        cpuset_copy(&x, &vm->cpus);
                        cpuset_and(&x, &c->host_cpus);
                        _cleanup_free_ char *l = cpuset_format_list(&x);
                        _cleanup_free_ char *hl = cpuset_format_list(&c->host_cpus);
                        cpuset_free(&x);
                        return fail_loc(ret_error, vm->cpus_loc, "VM '%s' CPUs overlap the host's CPUs (%s, set at %s:%u:%u) on CPU %s",
                                        vm->name, hl, c->host_loc.file, c->host_loc.line, c->host_loc.column, l);
                }
                for (size_t j = 0; j < i; j++) {
                        Vm *o = &c->vms[j];
                        if (!cpuset_intersects(&vm->cpus, &o->cpus))
                                continue;
                        cpuset_copy(&x, &vm->cpus);
                        cpuset_and(&x, &o->cpus);
                        _cleanup_free_ char *l = cpuset_format_list(&x);
                        cpuset_free(&x);
                        return fail_loc(ret_error, vm->cpus_loc, "VM '%s' CPUs overlap VM '%s' (%s:%u:%u) on CPU %s", vm->name,
                                        o->name, o->cpus_loc.file, o->cpus_loc.line, o->cpus_loc.column, l);
                }
                for (size_t k = 0; k < vm->n_vcpu_pins + vm->n_iothread_pins + vm->has_emulator_pin; k++) {
                        const CpuSet *pin;
                        Loc loc;
                        _cleanup_free_ char *what = NULL;

                        if (k < vm->n_vcpu_pins) {
                                pin = &vm->vcpu_pins[k].cpus;
                                loc = vm->vcpu_pins[k].loc;
                                what = xasprintf("vCPU %u", vm->vcpu_pins[k].id);
                        } else if (k < vm->n_vcpu_pins + vm->n_iothread_pins) {
                                Pin *io = &vm->iothread_pins[k - vm->n_vcpu_pins];
                                pin = &io->cpus;
                                loc = io->loc;
                                what = xasprintf("IOThread %u", io->id);
                        } else {
                                pin = &vm->emulator_pin;
                                loc = vm->emulator_loc;
                                what = xstrdup("the emulator");
                        }
                        if (cpuset_is_subset(pin, &vm->cpus))
                                continue;
                        _cleanup_free_ char *pl = cpuset_format_list(pin), *vl = cpuset_format_list(&vm->cpus);
                        return fail_loc(ret_error, loc, "VM '%s' pins %s to CPU %s, outside the VM's CPUs %s", vm->name,
                                        what, pl, vl);
                }
                if (vm->power && !config_find_profile(c, vm->power))
                        return fail_loc(ret_error, vm->power_loc, "VM '%s' names power profile '%s', which is not defined",
                                        vm->name, vm->power);
        }

        /* SMT siblings shared between owners lose most of the isolation: warn. */
        for (size_t k = 0; k < h->n_cores; k++) {
                const CpuSet *t = &h->cores[k].threads;
                const char *first = NULL;
                bool split = false;

                CPUSET_FOREACH(cpu, t) {
                        const char *o = config_cpu_owner(c, (unsigned) cpu);
                        if (cpu == cpuset_next(t, -1))
                                first = o;
                        else if (!streq_ptr(o, first))
                                split = true;
                }
                if (!split)
                        continue;
                _cleanup_free_ char *desc = xstrdup("");
                CPUSET_FOREACH(cpu, t) {
                        const char *o = config_cpu_owner(c, (unsigned) cpu);
                        char *d = xasprintf("%s%sCPU %d: %s", desc, desc[0] ? ", " : "", cpu, o ? o : "unassigned");
                        free(desc);
                        desc = d;
                }
                strlist_addf(&c->warnings, "core %zu is split between owners (%s): SMT siblings share caches and "
                             "execution units, so the VM is not isolated from its sibling", k, desc);
        }
        return 0;
}

int config_load(char *const *files, size_t n_files, const Host *host, Config *ret, char **ret_error) {
        Config c = {};
        int r;

        if (n_files == 0) {
                *ret_error = xstrdup("no configuration file given");
                return -EINVAL;
        }
        for (size_t i = 0; i < n_files; i++)
                strlist_add(&c.files, files[i]);
        for (size_t i = 0; i < n_files; i++) {
                r = load_file(&c, c.files.v[i], host, ret_error);
                if (r < 0)
                        goto fail;
        }
        if (!c.partition)
                c.partition = xstrdup(CONFIG_DEFAULT_PARTITION);
        r = validate(&c, host, ret_error);
        if (r < 0)
                goto fail;
        *ret = c;
        return 0;
fail:
        config_free(&c);
        return r;
}

int config_load_data(const char *name, const char *data, size_t len, const Host *host, Config *ret,
                     char **ret_error) {
        Config c = {};
        int r;

        strlist_add(&c.files, name);
        r = load_data(&c, c.files.v[0], data, len, host, ret_error);
        if (r >= 0) {
                if (!c.partition)
                        c.partition = xstrdup(CONFIG_DEFAULT_PARTITION);
                r = validate(&c, host, ret_error);
        }
        if (r < 0) {
                config_free(&c);
                return r;
        }
        *ret = c;
        return 0;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int config_default_files(StrList *ret) {
        StrList l = {}, drop = {};
        DIR *d;

        strlist_add(&l, CONFIG_DEFAULT_FILE);
        d = opendir(CONFIG_DEFAULT_DIR);
        if (d) {
                struct dirent *de;
                while ((de = readdir(d))) {
                        size_t n = strlen(de->d_name);
                        if (de->d_name[0] != '.' && n > 5 && streq(de->d_name + n - 5, ".yaml"))
                                strlist_addf(&drop, "%s/%s", CONFIG_DEFAULT_DIR, de->d_name);
                }
                closedir(d);
        }
        if (drop.n > 1)
                qsort(drop.v, drop.n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < drop.n; i++)
                strlist_add(&l, drop.v[i]);
        strlist_free(&drop);
        *ret = l;
        return 0;
}

static void pins_free(Pin *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                cpuset_free(&p[i].cpus);
        free(p);
}

void config_free(Config *c) {
        for (size_t i = 0; i < c->n_profiles; i++) {
                free(c->profiles[i].name);
                free(c->profiles[i].governor);
                free(c->profiles[i].epp);
        }
        free(c->profiles);
        for (size_t i = 0; i < c->n_vms; i++) {
                Vm *vm = &c->vms[i];
                free(vm->name);
                free(vm->uri);
                free(vm->domain);
                free(vm->power);
                cpuset_free(&vm->cpus);
                cpuset_free(&vm->emulator_pin);
                pins_free(vm->vcpu_pins, vm->n_vcpu_pins);
                pins_free(vm->iothread_pins, vm->n_iothread_pins);
        }
        free(c->vms);
        cpuset_free(&c->host_cpus);
        free(c->partition);
        strlist_free(&c->warnings);
        strlist_free(&c->files);
        memset(c, 0, sizeof *c);
}

const Vm *config_find_vm(const Config *c, const char *name) {
        for (size_t i = 0; i < c->n_vms; i++)
                if (streq(c->vms[i].name, name))
                        return &c->vms[i];
        return NULL;
}

const PowerProfile *config_find_profile(const Config *c, const char *name) {
        for (size_t i = 0; i < c->n_profiles; i++)
                if (streq(c->profiles[i].name, name))
                        return &c->profiles[i];
        return NULL;
}

const char *activation_to_string(Activation a) {
        static const char *const s[] = { "libvirt", "manual", "always" };
        return s[a];
}
