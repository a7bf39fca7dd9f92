/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What each section of a configuration document means: host, defaults,
 * power_profiles and vms, in that order, into the Config being merged. */
#include <stdint.h>

#include "config-yaml.h"
#include "target.h"

static int parse_host(Parser *p, yaml_node_t *n) {
        static const char *const keys[] = { "cpus", "cores", "partition", "partition_type", NULL };
        static const char *const types[] = { "auto", "isolated", "root", NULL };
        Config *c = p->cfg;
        int r;

        if ((r = cfg_expect_mapping(p, n, "host")) < 0 || (r = cfg_check_keys(p, n, keys, "host")) < 0)
                return r;
        if (c->has_host)
                return fail(p, n, "'host' is already defined at %s:%u:%u; give it in one file only", c->host_loc.file,
                            c->host_loc.line, c->host_loc.column);
        r = cfg_parse_cpu_selector(p, n, "host", &c->host_cpus, &c->host_loc);
        if (r < 0)
                return r;
        c->has_host = true;
        FOREACH_PAIR(pair, n)
                if (streq(scalar(node(p, pair->key)), "partition")) {
                        yaml_node_t *v = node(p, pair->value);
                        if ((r = cfg_parse_string(p, v, "host.partition", &c->partition)) < 0)
                                return r;
                        _cleanup_free_ char *t = xasprintf(CGROUP_MOUNT "/%s/cpuset.cpus.partition", c->partition);
                        if (c->partition[0] == '/' || strlen(c->partition) > 1024 || target_parse(t, NULL) < 0)
                                return fail(p, v, "host.partition must be a cgroup path relative to the cgroup root, "
                                                  "like \"machine.slice\", without '.', '..', empty parts or "
                                                  "spaces, got '%.80s'", c->partition);
                } else if (streq(scalar(node(p, pair->key)), "partition_type")) {
                        yaml_node_t *v = node(p, pair->value);
                        int e;
                        if ((r = cfg_parse_enum(p, v, "host.partition_type", types, &e)) < 0)
                                return r;
                        c->partition_type = (PartitionType) e;
                        c->partition_type_loc = loc_of(p, v);
                }
        return 0;
}

/* defaults.vmstat_interval, defaults.neigh_probe_interval: seconds, or leave. */
static int parse_interval(Parser *p, yaml_node_t *v, const char *key, Mode *mode, unsigned *ret_secs) {
        _cleanup_free_ char *what = xasprintf("defaults.%s", key);
        unsigned long secs;
        int r;

        if (v->type == YAML_SCALAR_NODE && streq(scalar(v), "leave")) {
                *mode = MODE_LEAVE;
                return 0;
        }
        if ((r = cfg_parse_uint(p, v, what, &secs)) < 0)
                return r;
        if (secs < 1 || secs > 3600)
                return fail(p, v, "%s must be 'leave' or seconds from 1 to 3600, got %lu", what, secs);
        *mode = MODE_MOVE;
        *ret_secs = (unsigned) secs;
        return 0;
}

static int parse_defaults(Parser *p, yaml_node_t *n) {
        static const char *const keys[] = { "irqs", "kthreads", "workqueues", "watchdog", "vmstat_interval",
                                            "neigh_probe_interval", "pressure", NULL };
        static const char *const modes[] = { "move", "leave", NULL };
        int r;

        if ((r = cfg_expect_mapping(p, n, "defaults")) < 0 || (r = cfg_check_keys(p, n, keys, "defaults")) < 0)
                return r;
        FOREACH_PAIR(pair, n) {
                const char *key = scalar(node(p, pair->key));
                if (streq(key, "vmstat_interval") || streq(key, "neigh_probe_interval")) {
                        bool vmstat = streq(key, "vmstat_interval");
                        if ((r = parse_interval(p, node(p, pair->value), key, vmstat ? &p->cfg->vmstat : &p->cfg->neigh,
                                                vmstat ? &p->cfg->vmstat_interval : &p->cfg->neigh_interval)) < 0)
                                return r;
                        continue;
                }
                if (streq(key, "pressure")) {
                        /* disable: PSI off in the VMs' cgroups while shielded (MODE_MOVE);
                         * move (the default): that, and the host's groups' averaging
                         * work moved off the VMs' CPUs when the shield forms; leave.
                         * Not "off": YAML 1.1 tools read a boolean. */
                        static const char *const pressure[] = { "disable", "move", "leave", NULL };
                        int v;
                        if ((r = cfg_parse_enum(p, node(p, pair->value), "defaults.pressure", pressure, &v)) < 0)
                                return r;
                        p->cfg->pressure = v == 2 ? MODE_LEAVE : MODE_MOVE;
                        p->cfg->pressure_vms_only = v == 0;
                        continue;
                }
                Mode *m = streq(key, "irqs")       ? &p->cfg->irqs
                          : streq(key, "kthreads") ? &p->cfg->kthreads
                          : streq(key, "watchdog") ? &p->cfg->watchdog
                                                   : &p->cfg->workqueues;
                _cleanup_free_ char *what = xasprintf("defaults.%s", key);
                int v;

                if ((r = cfg_parse_enum(p, node(p, pair->value), what, modes, &v)) < 0)
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

        if (!cfg_valid_name(name))
                return fail(p, k, "power profile name '%.80s%s' must start with a letter or digit, contain only "
                                  "letters, digits, '_', '.', '-', and be at most %u characters long",
                            name, strlen(name) > 80 ? "..." : "", CONFIG_NAME_MAX);
        for (size_t i = 0; i < p->cfg->n_profiles; i++)
                if (streq(p->cfg->profiles[i].name, name))
                        return fail(p, k, "power profile '%s' is already defined at %s:%u:%u", name,
                                    p->cfg->profiles[i].loc.file, p->cfg->profiles[i].loc.line,
                                    p->cfg->profiles[i].loc.column);
        _cleanup_free_ char *where = xasprintf("power profile '%s'", name);
        if ((r = cfg_expect_mapping(p, n, where)) < 0 || (r = cfg_check_keys(p, n, keys, where)) < 0)
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
                        if ((r = cfg_parse_string(p, v, "governor", &pp->governor)) < 0)
                                return r;
                        /* the kernel's CPUFREQ_NAME_LEN is 16 */
                        if (strlen(pp->governor) > 15 || strspn(pp->governor, "abcdefghijklmnopqrstuvwxyz"
                                                                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
                                                                     strlen(pp->governor))
                                return fail(p, v, "governor '%.80s' is not a cpufreq governor name", pp->governor);
                        pp->governor_loc = loc_of(p, v);
                } else if (streq(key, "max_wakeup_latency_us")) {
                        if ((r = cfg_parse_uint(p, v, "max_wakeup_latency_us", &u)) < 0)
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
                                                    s ? "'" : "", s ? s : cfg_type_name(v), s ? "'" : "");
                                pp->min_freq = MIN_FREQ_KHZ;
                                pp->min_freq_khz = u;
                        }
                } else {
                        int e;
                        if ((r = cfg_parse_enum(p, v, "energy_performance_preference", epps, &e)) < 0)
                                return r;
                        pp->epp = xstrdup(epps[e]);
                        pp->epp_loc = loc_of(p, v);
                }
        }
        return 0;
}

static int parse_pin_list(Parser *p, yaml_node_t *n, Vm *vm) {
        int r = cfg_expect_sequence(p, n, "vcpu_pins", "CPU lists (entry n pins vCPU n)", CONFIG_PINS_MAX);

        if (r < 0)
                return r;
        FOREACH_ITEM(item, n) {
                yaml_node_t *v = node(p, *item);
                Pin *pin = array_push(&vm->vcpu_pins, &vm->n_vcpu_pins, sizeof(Pin));
                _cleanup_free_ char *what = xasprintf("vcpu_pins[%zu]", vm->n_vcpu_pins - 1);

                pin->id = (unsigned) (vm->n_vcpu_pins - 1);
                pin->loc = loc_of(p, v);
                if ((r = cfg_parse_cpulist(p, v, what, &pin->cpus)) < 0)
                        return r;
        }
        return 0;
}

static int parse_iothreads(Parser *p, yaml_node_t *n, Vm *vm) {
        int r;

        if ((r = cfg_expect_mapping(p, n, "iothread_pins")) < 0)
                return r;
        if ((size_t) (n->data.mapping.pairs.top - n->data.mapping.pairs.start) > CONFIG_PINS_MAX)
                return fail(p, n, "iothread_pins has more than %u entries", CONFIG_PINS_MAX);
        if ((r = cfg_check_keys(p, n, NULL, "iothread_pins")) < 0)
                return r;
        /* "1" and "01" are different keys but the same IOThread: a bitmap of
         * the ids seen keeps this linear. */
        _cleanup_free_ uint64_t *seen = xcalloc(65536 / 64, sizeof(uint64_t));
        _cleanup_free_ yaml_node_t **first = xcalloc(65536, sizeof(yaml_node_t *));
        FOREACH_PAIR(pair, n) {
                yaml_node_t *k = node(p, pair->key), *v = node(p, pair->value);
                unsigned long id;
                Pin *pin;

                if ((r = cfg_parse_uint(p, k, "an IOThread id", &id)) < 0)
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
                if ((r = cfg_parse_cpulist(p, v, what, &pin->cpus)) < 0)
                        return r;
        }
        return 0;
}

/* libvirt: {uri: ..., domain: ...} */
static int parse_vm_libvirt(Parser *p, yaml_node_t *v, Vm *vm) {
        static const char *const lv_keys[] = { "uri", "domain", NULL };
        int r;

        if ((r = cfg_expect_mapping(p, v, "libvirt")) < 0 || (r = cfg_check_keys(p, v, lv_keys, "libvirt")) < 0)
                return r;
        FOREACH_PAIR(lp, v) {
                const char *lk = scalar(node(p, lp->key));
                yaml_node_t *lv = node(p, lp->value);
                if ((r = cfg_parse_string(p, lv, lk, streq(lk, "uri") ? &vm->uri : &vm->domain)) < 0)
                        return r;
                if (streq(lk, "domain") && !domain_name_valid(vm->domain))
                        return fail(p, lv, "libvirt domain name '%.80s' must be 1 to %u bytes without "
                                           "'/', '\\' or control characters",
                                    vm->domain, DOMAIN_NAME_MAX);
                if (streq(lk, "uri") && strcspn(vm->uri, "\t\n\r") != strlen(vm->uri))
                        return fail(p, lv, "libvirt uri must be one line");
        }
        return 0;
}

static int parse_vm(Parser *p, yaml_node_t *k, yaml_node_t *n) {
        static const char *const keys[] = { "activation", "libvirt", "cpus", "cores", "vcpu_pins", "emulator_pin",
                                            "iothread_pins", "power", "devices", "device_irqs", NULL };
        static const char *const acts[] = { "libvirt", "manual", "always", NULL };
        const char *name = scalar(k);
        Vm *vm;
        int r;

        if (!cfg_valid_name(name))
                return fail(p, k, "VM name '%.80s%s' must start with a letter or digit, contain only letters, digits, "
                                  "'_', '.', '-', and be at most %u characters long",
                            name, strlen(name) > 80 ? "..." : "", CONFIG_NAME_MAX);
        for (size_t i = 0; i < p->cfg->n_vms; i++)
                if (streq(p->cfg->vms[i].name, name))
                        return fail(p, k, "VM '%s' is already defined at %s:%u:%u", name, p->cfg->vms[i].loc.file,
                                    p->cfg->vms[i].loc.line, p->cfg->vms[i].loc.column);
        _cleanup_free_ char *where = xasprintf("VM '%s'", name);
        if ((r = cfg_expect_mapping(p, n, where)) < 0 || (r = cfg_check_keys(p, n, keys, where)) < 0)
                return r;

        if (p->cfg->n_vms >= CONFIG_VMS_MAX)
                return fail(p, k, "more than %u VMs", CONFIG_VMS_MAX);
        vm = array_push(&p->cfg->vms, &p->cfg->n_vms, sizeof(Vm));
        vm->name = xstrdup(name);
        vm->loc = loc_of(p, k);
        if ((r = cfg_parse_cpu_selector(p, n, where, &vm->cpus, &vm->cpus_loc)) < 0)
                return r;
        FOREACH_PAIR(pair, n) {
                const char *key = scalar(node(p, pair->key));
                yaml_node_t *v = node(p, pair->value);
                int e;

                if (streq(key, "activation")) {
                        if ((r = cfg_parse_enum(p, v, "activation", acts, &e)) < 0)
                                return r;
                        vm->activation = (Activation) e;
                } else if (streq(key, "libvirt")) {
                        if ((r = parse_vm_libvirt(p, v, vm)) < 0)
                                return r;
                } else if (streq(key, "vcpu_pins")) {
                        if ((r = parse_pin_list(p, v, vm)) < 0)
                                return r;
                } else if (streq(key, "emulator_pin")) {
                        if ((r = cfg_parse_cpulist(p, v, "emulator_pin", &vm->emulator_pin)) < 0)
                                return r;
                        vm->has_emulator_pin = true;
                        vm->emulator_loc = loc_of(p, v);
                } else if (streq(key, "iothread_pins")) {
                        if ((r = parse_iothreads(p, v, vm)) < 0)
                                return r;
                } else if (streq(key, "power")) {
                        if ((r = cfg_parse_string(p, v, "power", &vm->power)) < 0)
                                return r;
                        vm->power_loc = loc_of(p, v);
                } else if (streq(key, "devices")) {
                        if ((r = cfg_parse_devices(p, v, vm)) < 0)
                                return r;
                } else if (streq(key, "device_irqs")) {
                        if ((r = cfg_parse_device_irqs(p, v, vm)) < 0)
                                return r;
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
        if ((r = cfg_expect_mapping(p, n, what)) < 0 || (r = cfg_check_keys(p, n, NULL, what)) < 0)
                return r;
        FOREACH_PAIR(pair, n)
                if ((r = parse_one(p, node(p, pair->key), node(p, pair->value))) < 0)
                        return r;
        return 0;
}

int cfg_parse_root(Parser *p, yaml_node_t *root) {
        static const char *const keys[] = { "version", "host", "defaults", "power_profiles", "vms", NULL };
        int r;

        if (root->type == YAML_SCALAR_NODE && is_plain(root) && scalar(root)[0] == 0)
                return 0;
        if ((r = cfg_expect_mapping(p, root, "the configuration")) < 0 ||
            (r = cfg_check_keys(p, root, keys, "the configuration")) < 0)
                return r;
        FOREACH_PAIR(pair, root) {
                const char *key = scalar(node(p, pair->key));
                yaml_node_t *v = node(p, pair->value);
                unsigned long version;

                if (streq(key, "version")) {
                        if ((r = cfg_parse_uint(p, v, "version", &version)) < 0)
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
