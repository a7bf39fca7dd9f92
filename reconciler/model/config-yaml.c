/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading one YAML document of the configuration: error positions, node
 * helpers, the check of a mapping's keys (with suggestions), the parsers
 * of scalars and CPU selectors, and the limits on a document's shape. What
 * each section means is in config-sections.c. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/auxv.h>

#include "config-yaml.h"



const char *cfg_type_name(const yaml_node_t *n) {
        switch (n->type) {
        case YAML_MAPPING_NODE:
                return "a mapping";
        case YAML_SEQUENCE_NODE:
                return "a list";
        default:
                return is_plain(n) && scalar(n)[0] == 0 ? "nothing" : "a scalar";
        }
}

int cfg_expect_mapping(Parser *p, const yaml_node_t *n, const char *what) {
        if (n->type != YAML_MAPPING_NODE)
                return fail(p, n, "%s must be a mapping, got %s", what, cfg_type_name(n));
        return 0;
}

int cfg_expect_sequence(Parser *p, const yaml_node_t *n, const char *key, const char *of, unsigned max) {
        if (n->type != YAML_SEQUENCE_NODE)
                return fail(p, n, "%s must be a list of %s, got %s", key, of, cfg_type_name(n));
        if ((size_t) (n->data.sequence.items.top - n->data.sequence.items.start) > max)
                return fail(p, n, "%s has more than %u entries", key, max);
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
int cfg_check_keys(Parser *p, yaml_node_t *map, const char *const *allowed, const char *where) {
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
bool cfg_valid_name(const char *s) {
        if (!s || !isalnum((unsigned char) s[0]) || strlen(s) > CONFIG_NAME_MAX)
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char) *s) && !strchr("_.-", *s))
                        return false;
        return true;
}

int cfg_parse_uint(Parser *p, const yaml_node_t *n, const char *what, unsigned long *ret) {
        const char *s = scalar(n);
        unsigned long v;

        if (!s || !is_plain(n) || safe_atolu(s, &v) < 0)
                return fail(p, n, "%s must be a non-negative integer, got %s%s%s", what,
                            s ? "'" : "", s ? s : cfg_type_name(n), s ? "'" : "");
        *ret = v;
        return 0;
}

int cfg_parse_string(Parser *p, const yaml_node_t *n, const char *what, char **ret) {
        const char *s = scalar(n);

        if (!s || s[0] == 0)
                return fail(p, n, "%s must be a non-empty string, got %s", what, s ? "''" : cfg_type_name(n));
        free(*ret);
        *ret = xstrdup(s);
        return 0;
}

int cfg_parse_enum(Parser *p, const yaml_node_t *n, const char *what, const char *const *values, int *ret) {
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
        return fail(p, n, "%s must be one of %s, got %s%s%s", what, list, s ? "'" : "", s ? s : cfg_type_name(n),
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

int cfg_parse_cpulist(Parser *p, const yaml_node_t *n, const char *what, CpuSet *ret) {
        const char *s = scalar(n);
        CpuSet set = {};
        int r;

        if (!s)
                return fail(p, n, "%s must be a CPU list like \"1-3,5-7\", got %s", what, cfg_type_name(n));
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
                return fail(p, n, "cores must be a list of core numbers like [1, 2, 3], got %s", cfg_type_name(n));
        FOREACH_ITEM(item, n) {
                yaml_node_t *c = node(p, *item);
                unsigned long k;
                int r = cfg_parse_uint(p, c, "a core number", &k);

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
int cfg_parse_cpu_selector(Parser *p, yaml_node_t *map, const char *where, CpuSet *ret, Loc *ret_loc) {
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
                r = streq(key, "cpus") ? cfg_parse_cpulist(p, v, "cpus", ret) : parse_cores(p, v, ret);
                if (r < 0)
                        return r;
                *ret_loc = loc_of(p, v);
        }
        if (!found)
                return fail(p, map, "%s needs 'cpus' (e.g. \"1-3,5-7\") or 'cores' (e.g. [1, 2, 3])", where);
        (void) found_key;
        return 0;
}
