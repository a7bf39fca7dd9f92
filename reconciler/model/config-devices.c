/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A VM's passed-through PCI devices and where their interrupts go:
 *
 *   devices: ["0000:01:00.0", "01:00.1"]
 *   device_irqs: vm        # vm (default) | host | a CPU list inside the VM's CPUs
 */
#include "config-yaml.h"
#include "devices.h"

int cfg_parse_devices(Parser *p, yaml_node_t *n, Vm *vm) {
        int r = cfg_expect_sequence(p, n, "devices", "PCI addresses like [\"0000:01:00.0\"]", CONFIG_DEVICES_MAX);

        if (r < 0)
                return r;
        FOREACH_ITEM(item, n) {
                yaml_node_t *v = node(p, *item);
                const char *s = scalar(v);
                char addr[PCI_ADDR_LEN + 1];

                if (!s || pci_addr_parse(s, addr) < 0)
                        return fail(p, v, "devices: %s%.80s%s is not a PCI address (expected DOMAIN:BUS:SLOT.FUNCTION "
                                          "as lspci -D prints it, e.g. \"0000:01:00.0\")",
                                    s ? "'" : "", s ? s : cfg_type_name(v), s ? "'" : "");
                for (size_t i = 0; i < vm->devices.n; i++)
                        if (streq(vm->devices.v[i], addr))
                                return fail(p, v, "device %s is listed twice (first at line %u, column %u)", addr,
                                            vm->device_locs[i].line, vm->device_locs[i].column);
                strlist_add(&vm->devices, addr);
                vm->device_locs = xrealloc(vm->device_locs, vm->devices.n * sizeof(Loc));
                vm->device_locs[vm->devices.n - 1] = loc_of(p, v);
        }
        return 0;
}

int cfg_parse_device_irqs(Parser *p, yaml_node_t *n, Vm *vm) {
        const char *s = scalar(n);
        int r;

        vm->device_irqs_loc = loc_of(p, n);
        if (s && is_plain(n) && streq(s, "vm"))
                vm->device_irqs = DEVICE_IRQS_VM;
        else if (s && is_plain(n) && streq(s, "host"))
                vm->device_irqs = DEVICE_IRQS_HOST;
        else if (s && (s[0] >= '0' && s[0] <= '9')) {
                if ((r = cfg_parse_cpulist(p, n, "device_irqs", &vm->device_irq_cpus)) < 0)
                        return r;
                vm->device_irqs = DEVICE_IRQS_CPUS;
        } else
                return fail(p, n, "device_irqs must be 'vm' (spread over the VM's vCPU pins), 'host', or a CPU list "
                                  "inside the VM's CPUs like \"2,3\", got %s%.80s%s",
                            s ? "'" : "", s ? s : cfg_type_name(n), s ? "'" : "");
        return 0;
}
