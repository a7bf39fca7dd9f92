/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The PCI devices passed through to VMs: their addresses as the
 * configuration or libvirt's <hostdev> give them, and what sysfs says of
 * each (driver, NUMA node, MSI/MSI-X vectors). */

#include "config-model.h"

#define PCI_ADDR_LEN 12u             /* "0000:01:00.0" */
#define DEVICE_VECTORS_MAX 4096u     /* MSI-X allows 2048 per function */

/* "0000:01:00.0", or "01:00.0" for PCI domain 0, hex digits in either case,
 * into the kernel's form (lower case, with the domain). -EINVAL otherwise. */
int pci_addr_parse(const char *s, char ret[PCI_ADDR_LEN + 1]);
/* The same from libvirt's <address domain='0x0000' bus='0x01' slot='0x00'
 * function='0x0'/> attributes (decimal or 0x-hex, in range). */
int pci_addr_from_parts(const char *domain, const char *bus, const char *slot, const char *function,
                        char ret[PCI_ADDR_LEN + 1]);

typedef struct PciDevice {
        char addr[PCI_ADDR_LEN + 1];
        const Vm *vm;
        bool learned;      /* from the domain's XML, not the configuration */
        bool present;      /* /sys/bus/pci/devices/ADDR exists */
        char *driver;      /* the bound driver's name; NULL: none */
        int numa_node;     /* -1: none or unknown */
        unsigned *vectors; /* msi_irqs/ entries, ascending */
        size_t n_vectors;
} PciDevice;

typedef struct Devices {
        PciDevice *v;
        size_t n;
} Devices;

/* Reads the devices of the VMs in only (NULL: every VM) from sysfs below
 * root_fd: each VM's configured devices, then those learned from its
 * domain (learned: "VM ADDR" entries, as the state directory keeps them).
 * A device listed twice is read once, for the first VM naming it. */
void devices_load(int root_fd, const Config *c, const StrList *learned, const StrList *only, Devices *ret);
/* Bound to vfio-pci, or to a vendor's variant of it (mlx5_vfio_pci,
 * nvgrace-gpu-vfio-pci...): its interrupts are the guest's. Bound to
 * another driver, or to none, its interrupts (if any) are the host's. */
bool device_passed_through(const PciDevice *d);
/* The device whose vector irq is, or NULL. */
const PciDevice *devices_find_vector(const Devices *d, unsigned irq);
void devices_free(Devices *d);

/* Where vector number index (0-based, in the device's ascending order) of a
 * device goes under its VM's policy: false for DEVICE_IRQS_HOST (it is an
 * IRQ like any other); else *ret is one of the VM's vCPU pins or one of
 * its CPUs (or of the CPUs named), round robin. */
bool device_vector_cpus(const PciDevice *dev, size_t index, CpuSet *ret);
