/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Passed-through devices: PCI addresses, where each vector goes under a
 * VM's policy, and a domain's XML (its <cputune> against the
 * configuration, its <hostdev> devices). */
#include <criterion/criterion.h>

#include "build-config.h"
#include "config.h"
#include "devices.h"
#include "domain-xml.h"

static Host host;
static Config cfg;

static void load(const char *yaml) {
        char *err = NULL;

        cr_assert_eq(host_load(FIXTURES_DIR "/xeon-2s", HOST_TOPOLOGY, &host, &err), 0, "%s", strempty(err));
        cr_assert_eq(config_load_data("test.yaml", yaml, strlen(yaml), &host, &cfg, &err), 0, "%s", strempty(err));
}

static void teardown(void) {
        config_free(&cfg);
        host_free(&host);
}

static const char VM[] = "host: {cpus: \"0,16\"}\n"
                         "vms:\n"
                         "  r:\n"
                         "    cpus: 1-7,17-23\n"
                         "    vcpu_pins: [2, 3, 4]\n"
                         "    emulator_pin: 1,17\n"
                         "    iothread_pins: {1: 6-7}\n"
                         "    devices: [02:00.0]\n";

Test(devices, pci_addresses) {
        static const struct {
                const char *in, *want; /* want NULL: refused */
        } cases[] = {
                { "0000:01:00.0", "0000:01:00.0" }, { "01:00.0", "0000:01:00.0" }, { "ABCD:EF:1F.7", "abcd:ef:1f.7" },
                { "0000:01:20.0", NULL },           { "0000:01:00.8", NULL },      { "0000:01:00", NULL },
                { "1:00.0", NULL },                 { "0000:01:00.0 ", NULL },     { "", NULL },
                { "0000-01:00.0", NULL },           { "00000:01:00.0", NULL },     { "0x00:01:00.0", NULL },
        };
        char out[PCI_ADDR_LEN + 1];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int r = pci_addr_parse(cases[i].in, out);
                if (!cases[i].want)
                        cr_assert_lt(r, 0, "'%s' accepted", cases[i].in);
                else {
                        cr_assert_eq(r, 0, "'%s' refused", cases[i].in);
                        cr_assert_str_eq(out, cases[i].want);
                }
        }
        cr_assert_eq(pci_addr_from_parts("0x0000", "0x01", "0x1f", "0x7", out), 0);
        cr_assert_str_eq(out, "0000:01:1f.7");
        cr_assert_eq(pci_addr_from_parts(NULL, "2", "0", "0", out), 0);
        cr_assert_str_eq(out, "0000:02:00.0");
        cr_assert_lt(pci_addr_from_parts("0x0000", "0x100", "0x00", "0x0", out), 0);
        cr_assert_lt(pci_addr_from_parts("0x0000", "0x01", "0x20", "0x0", out), 0);
        cr_assert_lt(pci_addr_from_parts("0x0000", "-1", "0x00", "0x0", out), 0);
        cr_assert_lt(pci_addr_from_parts("0x0000", "0x01", "0x00", "", out), 0);
}

static char *vector_cpus(const char *yaml, size_t k) {
        Devices d;
        CpuSet s = {};
        char *out;

        load(yaml);
        devices_load(host.root_fd, &cfg, NULL, NULL, &d);
        cr_assert_eq(d.n, 1);
        cr_assert(d.v[0].present);
        cr_assert_str_eq(d.v[0].driver, "vfio-pci");
        cr_assert_eq(d.v[0].numa_node, 0);
        cr_assert_eq(d.v[0].n_vectors, 4);
        cr_assert_eq(d.v[0].vectors[0], 72);
        cr_assert_eq(devices_find_vector(&d, 75), &d.v[0]);
        cr_assert_null(devices_find_vector(&d, 71));
        out = device_vector_cpus(&d.v[0], k, &s) ? cpuset_format_list(&s) : xstrdup("host");
        cpuset_free(&s);
        devices_free(&d);
        teardown();
        return out;
}

Test(devices, vectors_spread_by_policy) {
        static const struct {
                const char *policy;
                size_t k;
                const char *want;
        } cases[] = {
                { "", 0, "2" },         { "", 2, "4" },           { "", 3, "2" }, /* round robin over the pins */
                { "vm", 4, "3" },       { "host", 0, "host" },    { "6-7", 1, "7" },
                { "6-7", 2, "6" },      { "\"5,23\"", 1, "23" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *yaml = cases[i].policy[0]
                                                    ? xasprintf("%s    device_irqs: %s\n", VM, cases[i].policy)
                                                    : xstrdup(VM);
                _cleanup_free_ char *got = vector_cpus(yaml, cases[i].k);
                cr_assert_str_eq(got, cases[i].want, "case %zu", i);
        }
        /* no pins: the VM's CPUs one by one */
        _cleanup_free_ char *nopins = xstrdup("host: {cpus: \"0,16\"}\nvms:\n  r: {cpus: 5-6, devices: [02:00.0]}\n");
        _cleanup_free_ char *a = vector_cpus(nopins, 0), *b = vector_cpus(nopins, 1), *c = vector_cpus(nopins, 2);
        cr_assert_str_eq(a, "5");
        cr_assert_str_eq(b, "6");
        cr_assert_str_eq(c, "5");
}

#if HAVE_LIBXML2
static char *disagreement(const char *xml) {
        DomainXml d;
        char *err = NULL, *out;

        cr_assert_eq(domain_xml_parse(xml, strlen(xml), &d, &err), 0, "%s", strempty(err));
        out = domain_xml_disagreement(&d, config_find_vm(&cfg, "r"));
        domain_xml_free(&d);
        return out;
}

#define TUNE(x) "<domain type='kvm'><name>r</name><cputune>" x "</cputune></domain>"
#define AGREE "<vcpupin vcpu='0' cpuset='2'/><vcpupin vcpu='1' cpuset='3'/><vcpupin vcpu='2' cpuset='4'/>" \
              "<emulatorpin cpuset='1,17'/><iothreadpin iothread='1' cpuset='6,7'/>"

Test(domain_xml, cputune_against_the_configuration, .fini = teardown) {
        static const struct {
                const char *xml, *want; /* want NULL: they agree */
        } cases[] = {
                { TUNE(AGREE), NULL },
                { TUNE(""), NULL },      /* nothing pinned in the domain: cpushield pins live */
                { TUNE("<vcpupin vcpu='0' cpuset='1-3,^1,^3'/><vcpupin vcpu='1' cpuset='3'/><vcpupin vcpu='2' cpuset='4'/>"
                       "<emulatorpin cpuset='17,1'/><iothreadpin iothread='1' cpuset='6-7'/>"), NULL },
                { TUNE("<vcpupin vcpu='0' cpuset='9'/>"), "vCPU 0 pinned to 9 in the domain, to 2 in the configuration (line 5, column 17)" },
                { TUNE("<vcpupin vcpu='0' cpuset='2'/>"), "vCPU 1 pinned to nothing in the domain, to 3 in the configuration" },
                { TUNE(AGREE "<vcpupin vcpu='3' cpuset='5'/>"), "vCPU 3 pinned to 5 in the domain, not pinned in the configuration" },
                { TUNE("<emulatorpin cpuset='0-31'/>"), "the emulator pinned to 0-31 in the domain, to 1,17 in the configuration (line 6, column 19)" },
                { TUNE("<iothreadpin iothread='1' cpuset='6'/>"), "IOThread 1 pinned to 6 in the domain, to 6-7 in the configuration" },
                { TUNE("<iothreadpin iothread='2' cpuset='0'/>"), "IOThread 2 pinned to 0 in the domain, outside the VM's CPUs 1-7,17-23" },
                { TUNE("<vcpupin vcpu='0' cpuset='x'/>"), "vCPU 0 pinned to 'x' in the domain, which cpushield cannot read" },
                { TUNE("<vcpupin vcpu='0' cpuset='^2'/>"), "cannot read" },
        };

        load(VM);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *got = disagreement(cases[i].xml);
                if (!cases[i].want)
                        cr_assert_null(got, "case %zu: %s", i, got);
                else {
                        cr_assert_not_null(got, "case %zu agrees", i);
                        cr_assert(strstr(got, cases[i].want), "case %zu: got '%s', want '%s'", i, got, cases[i].want);
                        cr_assert(strstr(got, "domain 'r' <cputune> disagrees with VM 'r' of test.yaml: "), "%s", got);
                        cr_assert_null(strchr(got, '\n'), "one line: %s", got);
                }
        }
}

Test(domain_xml, hostdevs_and_bad_input) {
        static const char xml[] =
                "<domain><name>r</name><devices>"
                "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
                "<address domain='0x0000' bus='0x02' slot='0x00' function='0x0'/></source></hostdev>"
                "<hostdev mode='subsystem' type='pci'><source><address bus='3' slot='0x1f' function='7'/></source></hostdev>"
                "<hostdev mode='subsystem' type='pci'><source><address domain='0x0000' bus='0x02' slot='0x00' function='0x0'/></source></hostdev>"
                "<hostdev mode='subsystem' type='usb'><source><vendor id='0x1234'/></source></hostdev>"
                "<hostdev mode='subsystem' type='pci'><source><address bus='0x100' slot='0' function='0'/></source></hostdev>"
                "</devices></domain>";
        DomainXml d;
        char *err = NULL;

        cr_assert_eq(domain_xml_parse(xml, strlen(xml), &d, &err), 0, "%s", strempty(err));
        cr_assert_str_eq(d.name, "r");
        cr_assert_eq(d.hostdevs.n, 2);
        cr_assert_str_eq(d.hostdevs.v[0], "0000:02:00.0");
        cr_assert_str_eq(d.hostdevs.v[1], "0000:03:1f.7");
        cr_assert(!d.has_cputune);
        domain_xml_free(&d);

        static const char *const bad[] = { "", "<domain>", "<vm><name>r</name></vm>", "\x01<domain/>" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                cr_assert_lt(domain_xml_parse(bad[i], strlen(bad[i]), &d, &err), 0, "case %zu accepted", i);
                cr_assert(strstr(err, "domain XML"), "%s", err);
                cr_assert_null(strchr(err, '\n'), "one line: %s", err);
                free(err);
                err = NULL;
        }
}
#endif
