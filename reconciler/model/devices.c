/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Passed-through PCI devices, read from sysfs below the root fd.
 *
 * Why sysfs and not libudev: libudev reads the running system's /sys and
 * cannot be pointed at another root (it takes a fake tree only when it is
 * bind-mounted over /sys in a private mount namespace and
 * SYSTEMD_DEVICE_VERIFY_SYSFS=0 is set). Every other host file is read
 * through root_openat so that fixture trees are complete hosts; the three
 * things needed of a device (its driver link, numa_node and the msi_irqs/
 * directory) are plain sysfs entries, read here the same way. */
#include <stdio.h>

#include "devices.h"
#include "fs.h"

static int hex_field(const char *s, size_t len, unsigned long max, unsigned long *ret) {
        unsigned long v = 0;

        if (len == 0)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
                if (d < 0)
                        return -EINVAL;
                v = v * 16 + (unsigned long) d;
        }
        if (v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

int pci_addr_parse(const char *s, char ret[PCI_ADDR_LEN + 1]) {
        unsigned long dom = 0, bus, slot, fn;
        size_t n = strlen(s);

        if (n == PCI_ADDR_LEN) {
                if (s[4] != ':' || hex_field(s, 4, 0xffff, &dom) < 0)
                        return -EINVAL;
                s += 5;
                n -= 5;
        }
        /* "BB:SS.F" */
        if (n != 7 || s[2] != ':' || s[5] != '.' || hex_field(s, 2, 0xff, &bus) < 0 ||
            hex_field(s + 3, 2, 0x1f, &slot) < 0 || hex_field(s + 6, 1, 7, &fn) < 0)
                return -EINVAL;
        snprintf(ret, PCI_ADDR_LEN + 1, "%04lx:%02lx:%02lx.%lx", dom, bus, slot, fn);
        return 0;
}

static int xml_number(const char *s, unsigned long max, unsigned long *ret) {
        char *end;
        unsigned long v;

        if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 0);
        if (errno || *end || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

int pci_addr_from_parts(const char *domain, const char *bus, const char *slot, const char *function,
                        char ret[PCI_ADDR_LEN + 1]) {
        unsigned long d = 0, b, s, f;

        if ((domain && xml_number(domain, 0xffff, &d) < 0) || xml_number(bus, 0xff, &b) < 0 ||
            xml_number(slot, 0x1f, &s) < 0 || xml_number(function, 7, &f) < 0)
                return -EINVAL;
        snprintf(ret, PCI_ADDR_LEN + 1, "%04lx:%02lx:%02lx.%lx", d, b, s, f);
        return 0;
}

static int cmp_uint(const void *a, const void *b) {
        unsigned x = *(const unsigned *) a, y = *(const unsigned *) b;
        return x < y ? -1 : x > y;
}

/* Driver, NUMA node and MSI vectors of one device. Absent files are facts:
 * no driver, no node, no vectors (yet: they appear when the guest's driver
 * enables MSI). */
static void device_read(int root_fd, PciDevice *d) {
        _cleanup_free_ char *dir = xasprintf("/sys/bus/pci/devices/%s", d->addr);
        _cleanup_free_ char *link = NULL, *node = NULL, *p = NULL;
        StrList irqs = {};
        int n;

        d->numa_node = -1;
        d->present = is_dir(root_fd, dir);
        if (!d->present)
                return;
        p = xasprintf("%s/driver", dir);
        if (read_link(root_fd, p, &link) >= 0) {
                const char *slash = strrchr(link, '/');
                d->driver = xstrdup(slash ? slash + 1 : link);
        }
        free(p);
        p = xasprintf("%s/numa_node", dir);
        if (read_attr(root_fd, p, &node) >= 0 && sscanf(node, "%d", &n) == 1 && n >= 0)
                d->numa_node = n;
        free(p);
        p = xasprintf("%s/msi_irqs", dir);
        if (list_numeric(root_fd, p, &irqs) >= 0)
                for (size_t i = 0; i < irqs.n && d->n_vectors < DEVICE_VECTORS_MAX; i++) {
                        unsigned v;
                        if (safe_atou(irqs.v[i], &v) < 0)
                                continue;
                        d->vectors = xrealloc(d->vectors, (d->n_vectors + 1) * sizeof(unsigned));
                        d->vectors[d->n_vectors++] = v;
                }
        strlist_free(&irqs);
        if (d->n_vectors > 1)
                qsort(d->vectors, d->n_vectors, sizeof(unsigned), cmp_uint);
}

static bool devices_has(const Devices *d, const char *addr) {
        for (size_t i = 0; i < d->n; i++)
                if (streq(d->v[i].addr, addr))
                        return true;
        return false;
}

static void add_device(int root_fd, Devices *d, const Vm *vm, const char *addr, bool learned) {
        PciDevice *dev;

        if (devices_has(d, addr))
                return;
        dev = array_push(&d->v, &d->n, sizeof(PciDevice));
        snprintf(dev->addr, sizeof dev->addr, "%s", addr);
        dev->vm = vm;
        dev->learned = learned;
        device_read(root_fd, dev);
}

void devices_load(int root_fd, const Config *c, const StrList *learned, const StrList *only, Devices *ret) {
        Devices d = {};

        for (size_t i = 0; i < c->n_vms; i++) {
                const Vm *vm = &c->vms[i];

                if (only && !strlist_contains(only, vm->name))
                        continue;
                for (size_t k = 0; k < vm->devices.n; k++)
                        add_device(root_fd, &d, vm, vm->devices.v[k], false);
                for (size_t k = 0; learned && k < learned->n; k++) {
                        const char *sp = strchr(learned->v[k], ' ');
                        char addr[PCI_ADDR_LEN + 1];

                        if (!sp || (size_t) (sp - learned->v[k]) != strlen(vm->name) ||
                            strncmp(learned->v[k], vm->name, strlen(vm->name)) != 0 || pci_addr_parse(sp + 1, addr) < 0)
                                continue;
                        add_device(root_fd, &d, vm, addr, true);
                }
        }
        *ret = d;
}

bool device_passed_through(const PciDevice *d) {
        return d->present && d->driver && (strstr(d->driver, "vfio-pci") || strstr(d->driver, "vfio_pci"));
}

const PciDevice *devices_find_vector(const Devices *d, unsigned irq) {
        for (size_t i = 0; d && i < d->n; i++)
                if (bsearch(&irq, d->v[i].vectors, d->v[i].n_vectors, sizeof(unsigned), cmp_uint))
                        return &d->v[i];
        return NULL;
}

void devices_free(Devices *d) {
        for (size_t i = 0; i < d->n; i++) {
                free(d->v[i].driver);
                free(d->v[i].vectors);
        }
        free(d->v);
        memset(d, 0, sizeof *d);
}

/* The k-th CPU of s (k < its count). */
static int nth_cpu(const CpuSet *s, size_t k) {
        int cpu = cpuset_next(s, -1);

        while (k-- > 0 && cpu >= 0)
                cpu = cpuset_next(s, cpu);
        return cpu;
}

bool device_vector_cpus(const PciDevice *dev, size_t index, CpuSet *ret) {
        const Vm *vm = dev->vm;
        const CpuSet *pool = vm->device_irqs == DEVICE_IRQS_CPUS ? &vm->device_irq_cpus : &vm->cpus;

        if (vm->device_irqs == DEVICE_IRQS_HOST)
                return false;
        cpuset_clear(ret);
        if (vm->device_irqs == DEVICE_IRQS_VM && vm->n_vcpu_pins > 0) {
                cpuset_copy(ret, &vm->vcpu_pins[index % vm->n_vcpu_pins].cpus);
                return true;
        }
        unsigned n = cpuset_count(pool);
        if (n == 0)
                return false;
        (void) cpuset_add(ret, (unsigned) nth_cpu(pool, index % n));
        return true;
}
