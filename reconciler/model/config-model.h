/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The configuration as loaded: its types, limits and lookups. Loading it
 * is config.h's. */

#include "cpuset.h"
#include "host.h"
#include "util.h"

#define CONFIG_DEFAULT_FILE "/etc/cpushield/cpushield.yaml"
#define CONFIG_DEFAULT_DIR "/etc/cpushield/conf.d"
#define CONFIG_DEFAULT_PARTITION "machine.slice"
#define CONFIG_DEFAULT_URI "qemu:///system"

/* Limits of one configuration, so that no input takes seconds or
 * gigabytes (README, "Configuration limits"). */
#define CONFIG_FILE_MAX (1024u * 1024)  /* bytes per file */
#define CONFIG_VMS_MAX 256u             /* VMs in all files together */
#define CONFIG_PROFILES_MAX 64u         /* power profiles in all files */
#define CONFIG_PINS_MAX 1024u           /* vcpu_pins, and iothread_pins, per VM */
#define CONFIG_DEPTH_MAX 32u            /* nesting of YAML collections */
#define CONFIG_NODES_MAX 200000u        /* YAML nodes per file */
#define CONFIG_NAME_MAX 64u             /* VM and power profile names */
#define CONFIG_DEVICES_MAX 64u          /* passed-through PCI devices per VM */

/* Where a value was written: file (owned by Config.files), 1-based. */
typedef struct Loc {
        const char *file;
        unsigned line, column;
} Loc;

typedef enum Mode { MODE_MOVE, MODE_LEAVE } Mode;
typedef enum Activation { ACTIVATION_LIBVIRT, ACTIVATION_MANUAL, ACTIVATION_ALWAYS } Activation;

/* cgroup v2 partition type: chosen from the pins (auto), or forced. */
typedef enum PartitionType { PARTITION_AUTO, PARTITION_ISOLATED, PARTITION_ROOT } PartitionType;

/* Where a VM's passed-through devices' interrupts (MSI/MSI-X vectors) go
 * while it runs: spread over its vCPU pins (or its CPUs), over the CPUs
 * named, or onto the host's CPUs like any other IRQ. */
typedef enum DeviceIrqs { DEVICE_IRQS_VM, DEVICE_IRQS_CPUS, DEVICE_IRQS_HOST } DeviceIrqs;

typedef enum MinFreq { MIN_FREQ_UNSET, MIN_FREQ_KHZ, MIN_FREQ_MAX } MinFreq;

typedef struct PowerProfile {
        char *name;
        Loc loc;
        char *governor;
        Loc governor_loc;
        bool has_max_latency;
        unsigned max_wakeup_latency_us;
        MinFreq min_freq;
        unsigned long min_freq_khz;
        char *epp;
        Loc epp_loc;
} PowerProfile;

typedef struct Pin {
        unsigned id; /* vCPU number or IOThread id */
        CpuSet cpus;
        Loc loc;
} Pin;

typedef struct Vm {
        char *name;
        Loc loc;
        Activation activation;
        char *uri, *domain;
        CpuSet cpus;
        Loc cpus_loc;
        Pin *vcpu_pins;
        size_t n_vcpu_pins;
        bool has_emulator_pin;
        CpuSet emulator_pin;
        Loc emulator_loc;
        Pin *iothread_pins;
        size_t n_iothread_pins;
        char *power;
        Loc power_loc;
        StrList devices;   /* PCI addresses, "0000:01:00.0" */
        Loc *device_locs;  /* one per device */
        DeviceIrqs device_irqs;
        CpuSet device_irq_cpus; /* DEVICE_IRQS_CPUS */
        Loc device_irqs_loc;
} Vm;

typedef struct Config {
        StrList files;
        bool has_host;
        CpuSet host_cpus;
        Loc host_loc;
        char *partition;
        PartitionType partition_type;
        Loc partition_type_loc;
        Mode irqs, kthreads, workqueues;
        /* quiet: the watchdog's CPUs (move: the host's; leave) and
         * vm.stat_interval while shielded (0: the default, QUIET_STAT_INTERVAL, 120 s) */
        Mode watchdog, vmstat;
        /* quiet: the neighbour tables' managed-entry probe interval
         * (net.ipv{4,6}.neigh.default.interval_probe_time_ms) while
         * shielded (0: the default, QUIET_NEIGH_INTERVAL, 120 s), or left */
        Mode neigh;
        unsigned neigh_interval;
        /* quiet: PSI accounting in the VMs' cgroup and below (cgroup v2,
         * cgroup.pressure) off while shielded (MODE_MOVE), or left */
        Mode pressure;
        /* "disable": only that. Otherwise ("move", the default) the
         * averaging work of every other cgroup's PSI is moved to the host's
         * CPUs when the shield forms (switched off, left to lapse, switched
         * on again from a host CPU): see config_pressure_moves() */
        bool pressure_vms_only;
        unsigned vmstat_interval;
        PowerProfile *profiles;
        size_t n_profiles;
        Vm *vms;
        size_t n_vms;
        StrList warnings;
} Config;

void config_free(Config *c);

/* defaults.pressure: move (the default) */
static inline bool config_pressure_moves(const Config *c) {
        return c->pressure != MODE_LEAVE && !c->pressure_vms_only;
}
const Vm *config_find_vm(const Config *c, const char *name);
const PowerProfile *config_find_profile(const Config *c, const char *name);
const char *activation_to_string(Activation a);
/* "host", the name of the VM owning cpu, or NULL (unassigned, or no config). */
const char *config_cpu_owner(const Config *c, unsigned cpu);
