/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A libvirt domain's XML: <cputune> pins and <hostdev type='pci'> devices,
 * and where the pins disagree with the configuration. libxml2 is dlopen()ed
 * (model/dlopen-libxml2.c). The text comes from libvirt through the hook's
 * standard input: it is parsed with XML_PARSE_NONET (no network), without
 * XML_PARSE_NOENT (entities are not substituted) or XML_PARSE_DTDLOAD (no
 * external DTD), without XML_PARSE_HUGE (libxml2's size and depth limits
 * hold), and only after checking its size. */
#include <stdio.h>

#include "devices.h"
#include "dlopen-libxml2.h"
#include "domain-xml.h"

#if HAVE_LIBXML2
/* libvirt's cpuset syntax: the kernel's list plus "^N" exclusions. */
static int parse_libvirt_cpuset(const char *s, CpuSet *ret) {
        _cleanup_free_ char *copy = xstrdup(s);
        CpuSet in = {}, out = {};
        char *save = NULL;
        int r = 0;

        for (char *item = strtok_r(copy, ",", &save); item && r >= 0; item = strtok_r(NULL, ",", &save)) {
                CpuSet one = {};
                bool exclude = *strstrip(item) == '^';
                r = cpuset_parse_list(strstrip(item) + exclude, &one);
                if (r >= 0 && cpuset_is_empty(&one))
                        r = -EINVAL;
                if (r >= 0)
                        cpuset_or(exclude ? &out : &in, &one);
                cpuset_free(&one);
        }
        if (r >= 0 && cpuset_is_empty(&in))
                r = -EINVAL;
        cpuset_andnot(&in, &out);
        cpuset_free(&out);
        if (r < 0) {
                cpuset_free(&in);
                return r;
        }
        *ret = in;
        return 0;
}

static bool is(const xmlNode *n, const char *name) {
        return n->type == XML_ELEMENT_NODE && streq((const char *) n->name, name);
}

/* An attribute's value, owned by the caller (malloc'ed), or NULL. */
static char *prop(xmlNode *n, const char *name) {
        xmlChar *v = sym_xmlGetProp(n, (const xmlChar *) name);
        char *s = v ? xstrdup((const char *) v) : NULL;

        if (v)
                (*sym_xmlFree)(v);
        return s;
}

static void pin_from(xmlNode *n, const char *id_attr, XmlPin *ret) {
        _cleanup_free_ char *id = id_attr ? prop(n, id_attr) : NULL;

        ret->cpuset = prop(n, "cpuset");
        ret->valid = ret->cpuset && parse_libvirt_cpuset(ret->cpuset, &ret->cpus) >= 0 &&
                     (!id_attr || (id && safe_atou(id, &ret->id) >= 0 && ret->id < 65536));
}

static void read_cputune(xmlNode *tune, DomainXml *d) {
        d->has_cputune = true;
        for (xmlNode *n = tune->children; n; n = n->next) {
                if (is(n, "vcpupin") && d->n_vcpu < DOMAIN_XML_PINS_MAX)
                        pin_from(n, "vcpu", array_push(&d->vcpu, &d->n_vcpu, sizeof(XmlPin)));
                else if (is(n, "iothreadpin") && d->n_iothread < DOMAIN_XML_PINS_MAX)
                        pin_from(n, "iothread", array_push(&d->iothread, &d->n_iothread, sizeof(XmlPin)));
                else if (is(n, "emulatorpin") && !d->has_emulator) {
                        pin_from(n, NULL, &d->emulator);
                        d->has_emulator = true;
                }
        }
}

/* <hostdev mode='subsystem' type='pci'><source><address domain= bus= slot= function=/>. */
static void read_hostdev(xmlNode *hd, DomainXml *d) {
        _cleanup_free_ char *type = prop(hd, "type");

        if (!streq_ptr(type, "pci") || d->hostdevs.n >= CONFIG_DEVICES_MAX)
                return;
        for (xmlNode *src = hd->children; src; src = src->next)
                for (xmlNode *a = is(src, "source") ? src->children : NULL; a; a = a->next) {
                        if (!is(a, "address"))
                                continue;
                        _cleanup_free_ char *dom = prop(a, "domain"), *bus = prop(a, "bus"), *slot = prop(a, "slot"),
                                            *fn = prop(a, "function");
                        char addr[PCI_ADDR_LEN + 1];
                        if (pci_addr_from_parts(dom, bus, slot, fn, addr) >= 0 && !strlist_contains(&d->hostdevs, addr))
                                strlist_add(&d->hostdevs, addr);
                }
}

int domain_xml_parse(const char *xml, size_t len, DomainXml *ret, char **ret_error) {
        DomainXml d = {};
        xmlDoc *doc;
        xmlNode *root;
        int r;

        if ((r = dlopen_libxml2(ret_error)) < 0)
                return r;
        if (len > DOMAIN_XML_MAX || len > INT32_MAX) {
                *ret_error = xasprintf("domain XML larger than %u bytes", DOMAIN_XML_MAX);
                return -EINVAL;
        }
        sym_xmlResetLastError();
        doc = sym_xmlReadMemory(xml, (int) len, "domain.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
                                                                      XML_PARSE_NOWARNING);
        if (!doc) {
                const xmlError *e = sym_xmlGetLastError();
                *ret_error = xasprintf("domain XML unreadable: %s", e && e->message ? strstrip(e->message) : "parse error");
                return -EINVAL;
        }
        root = sym_xmlDocGetRootElement(doc);
        if (!root || !is(root, "domain")) {
                sym_xmlFreeDoc(doc);
                *ret_error = xstrdup("domain XML: the root element is not <domain>");
                return -EINVAL;
        }
        for (xmlNode *n = root->children; n; n = n->next)
                if (is(n, "name") && !d.name && n->children && n->children->type == XML_TEXT_NODE)
                        d.name = xstrdup((const char *) n->children->content);
                else if (is(n, "cputune") && !d.has_cputune)
                        read_cputune(n, &d);
                else if (is(n, "devices"))
                        for (xmlNode *hd = n->children; hd; hd = hd->next)
                                if (is(hd, "hostdev"))
                                        read_hostdev(hd, &d);
        sym_xmlFreeDoc(doc);
        *ret = d;
        return 0;
}
#else
int domain_xml_parse(const char *xml, size_t len, DomainXml *ret, char **ret_error) {
        (void) xml;
        (void) len;
        (void) ret;
        return dlopen_libxml2(ret_error);
}
#endif

static void pin_free(XmlPin *p) {
        free(p->cpuset);
        cpuset_free(&p->cpus);
}

void domain_xml_free(DomainXml *d) {
        for (size_t i = 0; i < d->n_vcpu; i++)
                pin_free(&d->vcpu[i]);
        for (size_t i = 0; i < d->n_iothread; i++)
                pin_free(&d->iothread[i]);
        free(d->vcpu);
        free(d->iothread);
        pin_free(&d->emulator);
        free(d->name);
        strlist_free(&d->hostdevs);
        memset(d, 0, sizeof *d);
}

static const XmlPin *find_pin(const XmlPin *pins, size_t n, unsigned id) {
        for (size_t i = 0; i < n; i++)
                if (pins[i].valid && pins[i].id == id)
                        return &pins[i];
        return NULL;
}

/* One item: what is pinned (want NULL: the configuration pins nothing of the
 * kind, so the domain's pin must only lie inside the VM's CPUs). */
static void compare_pin(StrList *out, const char *what, const XmlPin *have, const Pin *want, bool tune_pins,
                        const Vm *vm) {
        if (have && !have->valid) {
                strlist_addf(out, "%s pinned to '%.40s' in the domain, which cpushield cannot read", what,
                             strempty(have->cpuset));
                return;
        }
        if (!want) {
                if (have && !cpuset_is_subset(&have->cpus, &vm->cpus)) {
                        _cleanup_free_ char *vl = cpuset_format_list(&vm->cpus);
                        strlist_addf(out, "%s pinned to %s in the domain, outside the VM's CPUs %s in the "
                                     "configuration", what, have->cpuset, vl);
                }
                return;
        }
        if (have && cpuset_equal(&have->cpus, &want->cpus))
                return;
        if (!have && !tune_pins)
                return;
        _cleanup_free_ char *wl = cpuset_format_list(&want->cpus);
        strlist_addf(out, "%s pinned to %s in the domain, to %s in the configuration (line %u, column %u)", what,
                     have ? have->cpuset : "nothing", wl, want->loc.line, want->loc.column);
}

char *domain_xml_disagreement(const DomainXml *d, const Vm *vm) {
        bool tune_pins = d->n_vcpu + d->n_iothread + d->has_emulator > 0;
        StrList out = {};

        for (size_t i = 0; i < vm->n_vcpu_pins; i++) {
                _cleanup_free_ char *what = xasprintf("vCPU %u", vm->vcpu_pins[i].id);
                compare_pin(&out, what, find_pin(d->vcpu, d->n_vcpu, vm->vcpu_pins[i].id), &vm->vcpu_pins[i],
                            tune_pins, vm);
        }
        for (size_t i = 0; i < d->n_vcpu; i++) {
                const XmlPin *x = &d->vcpu[i];
                _cleanup_free_ char *what = xasprintf("vCPU %u", x->id);
                if (x->valid && x->id < vm->n_vcpu_pins)
                        continue;
                if (x->valid && vm->n_vcpu_pins > 0)
                        strlist_addf(&out, "%s pinned to %s in the domain, not pinned in the configuration (its "
                                     "vcpu_pins has %zu entries)", what, x->cpuset, vm->n_vcpu_pins);
                else
                        compare_pin(&out, what, x, NULL, true, vm);
        }
        Pin emu = { .cpus = vm->emulator_pin, .loc = vm->emulator_loc };
        compare_pin(&out, "the emulator", d->has_emulator ? &d->emulator : NULL, vm->has_emulator_pin ? &emu : NULL,
                    tune_pins, vm);
        for (size_t i = 0; i < vm->n_iothread_pins; i++) {
                _cleanup_free_ char *what = xasprintf("IOThread %u", vm->iothread_pins[i].id);
                compare_pin(&out, what, find_pin(d->iothread, d->n_iothread, vm->iothread_pins[i].id),
                            &vm->iothread_pins[i], tune_pins, vm);
        }
        for (size_t i = 0; i < d->n_iothread; i++) {
                bool configured = false;
                for (size_t k = 0; k < vm->n_iothread_pins; k++)
                        configured |= d->iothread[i].valid && vm->iothread_pins[k].id == d->iothread[i].id;
                if (!configured) {
                        _cleanup_free_ char *what = xasprintf("IOThread %u", d->iothread[i].id);
                        compare_pin(&out, what, &d->iothread[i], NULL, true, vm);
                }
        }
        if (out.n == 0)
                return NULL;
        _cleanup_free_ char *list = strlist_join(&out, "; ");
        strlist_free(&out);
        return xasprintf("domain '%s' <cputune> disagrees with VM '%s' of %s: %s; 'cpushield xml %s' prints the "
                         "<cputune> the configuration means", vm->domain, vm->name, vm->loc.file, list, vm->name);
}
