/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What config-yaml.c and config-sections.c share: the parser's state, node
 * helpers, and the parsers of keys, scalars and CPU selectors. Internal. */

#include <yaml.h>

#include "config-internal.h"

typedef struct Parser {
        yaml_document_t *doc;
        const char *file;
        Config *cfg;
        const Host *host;
        char *error;
} Parser;

static inline Loc loc_of(const Parser *p, const yaml_node_t *n) {
        return (Loc) { p->file, (unsigned) n->start_mark.line + 1, (unsigned) n->start_mark.column + 1 };
}

_printf_(3, 4) static inline int fail(Parser *p, const yaml_node_t *n, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = config_fail_at(&p->error, loc_of(p, n), fmt, ap);
        va_end(ap);
        return r;
}

static inline yaml_node_t *node(Parser *p, int id) {
        return yaml_document_get_node(p->doc, id);
}

static inline const char *scalar(const yaml_node_t *n) {
        return n->type == YAML_SCALAR_NODE ? (const char *) n->data.scalar.value : NULL;
}

static inline bool is_plain(const yaml_node_t *n) {
        return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

#define FOREACH_PAIR(pair, n) \
        for (yaml_node_pair_t *pair = (n)->data.mapping.pairs.start; pair < (n)->data.mapping.pairs.top; pair++)
#define FOREACH_ITEM(item, n) \
        for (yaml_node_item_t *item = (n)->data.sequence.items.start; item < (n)->data.sequence.items.top; item++)

/* config-yaml.c */

/* "a mapping", "a list", "nothing" or "a scalar", for messages. */
const char *cfg_type_name(const yaml_node_t *n);
int cfg_expect_mapping(Parser *p, const yaml_node_t *n, const char *what);
/* A list of at most max entries: "KEY must be a list of OF, got ..." otherwise. */
int cfg_expect_sequence(Parser *p, const yaml_node_t *n, const char *key, const char *of, unsigned max);
/* Checks every key of a mapping: a scalar, in allowed (unless NULL), not
 * repeated. An unknown key gets the nearest valid one as a suggestion. */
int cfg_check_keys(Parser *p, yaml_node_t *map, const char *const *allowed, const char *where);
/* A VM or power profile name: [A-Za-z0-9][A-Za-z0-9_.-]*, at most
 * CONFIG_NAME_MAX characters. */
bool cfg_valid_name(const char *s);
int cfg_parse_uint(Parser *p, const yaml_node_t *n, const char *what, unsigned long *ret);
int cfg_parse_string(Parser *p, const yaml_node_t *n, const char *what, char **ret);
/* *ret: the index in values (NULL-terminated) of the scalar n. */
int cfg_parse_enum(Parser *p, const yaml_node_t *n, const char *what, const char *const *values, int *ret);
/* A CPU list of CPUs that exist on this host and are online. */
int cfg_parse_cpulist(Parser *p, const yaml_node_t *n, const char *what, CpuSet *ret);
/* Either cpus: or cores: in map, exactly one. */
int cfg_parse_cpu_selector(Parser *p, yaml_node_t *map, const char *where, CpuSet *ret, Loc *ret_loc);

/* config-devices.c: a VM's devices: list and its device_irqs: policy. */
int cfg_parse_devices(Parser *p, yaml_node_t *n, Vm *vm);
int cfg_parse_device_irqs(Parser *p, yaml_node_t *n, Vm *vm);

/* config-sections.c: the document's root mapping, section by section. */
int cfg_parse_root(Parser *p, yaml_node_t *root);
