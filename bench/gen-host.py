#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes a synthetic big host for `cpushield --root`: the same files, in the
same formats, as the fixture trees of tests/fixtures (it uses their
generator's writers), at any size, plus a matching configuration.

Usage:
  bench/gen-host.py [--cpus N] [--irqs N] [--threads N] [--cgroup v2|v1]
                    [--kernel 6.1|6.12] [--seed N] [--no-irq-debugfs] [--force] DEST

writes DEST/root/ (the host), DEST/cpushield.yaml and DEST/host.json (what
was made: CPUs, IRQs, threads, files, seconds).  Presets by --cpus:

   16 = 1 socket  x   8 cores x 2 threads, 1 L3
   64 = 2 sockets x  16 cores x 2 threads, 4 L3 (8 cores each)
  256 = 2 sockets x  64 cores x 2 threads, 8 L3 (16 cores each)
 1024 = 4 sockets x 128 cores x 2 threads, 32 L3 (16 cores each)

CPUs are numbered as Linux does on x86: the first thread of every core, then
the second threads (core k of the machine = CPUs k and k + N/2).  --threads
is the total of kernel and user threads; a host never has fewer than its
per-CPU kernel threads and a systemd base system, so small targets on many
CPUs round up (host.json says how many there are).

The configuration keeps core 0 (both threads) for the host and gives VM
`big` (activation: manual, a low-latency power profile) the other cores of
socket 0.  Output is deterministic: the same arguments write the same tree.

--no-irq-debugfs writes no /sys/kernel/debug/irq, as on Debian's kernels
(no GENERIC_IRQ_DEBUGFS): cpushield learns the managed IRQs when the kernel
refuses to move them, and the fixture backend, which plays the kernel,
finds their flags in root/.fixture/irq-flags/N.
"""
import argparse
import json
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "fixtures"))
sys.dont_write_bytecode = True  # keep the fixture generator free of __pycache__

from gen import common, host, procs, userland  # noqa: E402
from gen.common import F_FREEZABLE_KTHREAD, Cpu, Host, Tree, cpulist, rng  # noqa: E402
from gen.irqs import IrqBuilder  # noqa: E402
from gen.kthreads import core_kthreads, late_kthreads  # noqa: E402
from gen.userland import SYS, USER, UMGR  # noqa: E402

# cpus -> (sockets, cores per socket, threads per core, cores per L3)
PRESETS = {16: (1, 8, 2, 8), 64: (2, 16, 2, 8), 256: (2, 64, 2, 16), 1024: (4, 128, 2, 16)}

INTEL_FLAGS = ("fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi "
               "mmx fxsr sse sse2 ss ht tm pbe syscall nx pdpe1gb rdtscp lm constant_tsc art arch_perfmon "
               "pebs bts rep_good nopl xtopology nonstop_tsc cpuid aperfmperf pni pclmulqdq dtes64 monitor "
               "ds_cpl vmx smx est tm2 ssse3 sdbg fma cx16 xtpr pdcm pcid dca sse4_1 sse4_2 x2apic movbe "
               "popcnt tsc_deadline_timer aes xsave avx f16c rdrand lahf_lm abm 3dnowprefetch cpuid_fault "
               "epb cat_l3 cdp_l3 invpcid_single intel_ppin ssbd mba ibrs ibpb stibp ibrs_enhanced "
               "tpr_shadow flexpriority ept vpid ept_ad fsgsbase tsc_adjust bmi1 hle avx2 smep bmi2 erms "
               "invpcid cqm rdt_a avx512f avx512dq rdseed adx smap avx512ifma clflushopt clwb intel_pt "
               "avx512cd sha_ni avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves cqm_llc cqm_occup_llc "
               "cqm_mbm_total cqm_mbm_local split_lock_detect wbnoinvd dtherm ida arat pln pts hwp "
               "hwp_act_window hwp_epp hwp_pkg_req vnmi avx512vbmi umip pku ospke waitpkg avx512_vbmi2 gfni "
               "vaes vpclmulqdq avx512_vnni avx512_bitalg tme avx512_vpopcntdq la57 rdpid sgx_lc fsrm "
               "md_clear pconfig flush_l1d arch_capabilities")


class FastTree(Tree):
    """The fixture writer with less work per file (no makedirs, no Python
    file object): at 100k threads writing files is most of the run time."""

    def __init__(self, root):
        super().__init__(root)
        self.dirs = set()

    def write(self, rel, content=""):
        if content and content[-1] != "\n":
            content += "\n"
        d, _, _ = rel.rpartition("/")
        if d not in self.dirs:
            os.makedirs(os.path.join(self.root, d), exist_ok=True)
            self.dirs.add(d)
        fd = os.open(os.path.join(self.root, rel), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
        try:
            os.write(fd, content.encode())
        finally:
            os.close(fd)
        self.files += 1

    def symlink(self, rel, target):
        d, _, _ = rel.rpartition("/")
        if d not in self.dirs:
            os.makedirs(os.path.join(self.root, d), exist_ok=True)
            self.dirs.add(d)
        os.symlink(target, os.path.join(self.root, rel))
        self.files += 1


class BigHost(Host):
    """Host with the topology queries answered from tables: the fixture
    model recomputes them from the CPU list on every call, which is fine
    for 32 CPUs and quadratic for 1024."""

    def __init__(self, name, kernel, root, cpus):
        super().__init__(name, kernel, root, cpus)
        self.tree = FastTree(root)
        by = {}
        for key, f in (("sib", lambda x: (x.pkg, x.core_id)), ("pkg", lambda x: x.pkg), ("l3", lambda x: x.l3)):
            groups = {}
            for x in cpus:
                groups.setdefault(f(x), set()).add(x.id)
            by[key] = [frozenset(groups[f(x)]) for x in cpus]
        self._sib, self._pkg, self._l3 = by["sib"], by["pkg"], by["l3"]
        keys = sorted({(x.pkg, x.core_id) for x in cpus})
        index = {k: i for i, k in enumerate(keys)}
        self._core = [index[(x.pkg, x.core_id)] for x in cpus]
        self._nodes = Host.nodes(self)
        self._mems = Host.mems_allowed(self)
        self._masks = {}

    def siblings(self, c):
        return self._sib[c]

    def package(self, c):
        return self._pkg[c]

    def l3(self, c):
        return self._l3[c]

    def core_index(self, c):
        return self._core[c]

    def nodes(self):
        return self._nodes

    def mems_allowed(self):
        return self._mems

    def mask(self, cpus):
        key = frozenset(cpus)
        m = self._masks.get(key)
        if m is None:
            m = self._masks[key] = common.cpumask(cpus, self.n)
        return m


_lists = {}


def _cpulist(cpus):
    """gen.common.cpulist, remembered: every thread's status prints its list."""
    key = frozenset(cpus)
    s = _lists.get(key)
    if s is None:
        s = _lists[key] = cpulist(key)
    return s


procs.cpulist = _cpulist  # the task writer looks the name up in its own module


def topology(ncpus, sockets=None, cores=None, threads=None, l3_cores=None):
    ps, pc, pt, pl = PRESETS.get(ncpus, (1, ncpus // 2, 2, 8))
    s, c, t, l3 = sockets or ps, cores or pc, threads or pt, l3_cores or pl
    if s * c * t != ncpus:
        sys.exit(f"gen-host.py: {s} sockets x {c} cores x {t} threads is not {ncpus} CPUs")
    ncores = s * c
    out = []
    for cpu in range(ncpus):
        core = cpu % ncores                    # machine-wide core; thread = cpu // ncores
        pkg, core_id = divmod(core, c)
        out.append(Cpu(cpu, pkg, core_id, node=pkg, l3=pkg * ((c + l3 - 1) // l3) + core_id // l3))
    return out, (s, c, t, l3)


def add_irqs(h, want, r):
    """Legacy and platform IRQs, then NVMe controllers (admin queue + managed
    I/O queues) and NICs (MSI-X TxRx queues, not managed) until `want`."""
    q = IrqBuilder(h)
    for num, pin, name, level in ((0, 2, "timer", False), (1, 1, "i8042", False), (8, 8, "rtc0", False),
                                  (9, 9, "acpi", True), (12, 12, "i8042", False)):
        q.ioapic(num, pin, [name], level=level)
    sockets = sorted(h.nodes())
    num = 24
    for s in sockets:
        q.msi(num, None, s, [f"dmar{s}"], chip="DMAR-MSI", node=s)
        num += 1
    ports = []
    for s in sockets:
        for p in range(2):
            dev = "0000:%02x:%02x.0" % (0x80 * s if s < 2 else 0x40 * s, 1 + p)
            q.msi(num, dev, 0, ["PCIe PME", "pciehp"] if p == 0 else ["PCIe PME"], node=s)
            if p == 0:
                ports.append(num)
            num += 1
    q.msi(num, "0000:00:14.0", 0, ["xhci_hcd"])
    q.msi(num + 1, "0000:00:17.0", 0, ["ahci[0000:00:17.0]"])
    num += 2
    dev_no = 0
    nvme = nic = 0
    while len(h.irqs) < want:
        left = want - len(h.irqs)
        bus = 0x10 + dev_no
        dev = "0000:%02x:00.0" % (bus % 256)
        node = sockets[dev_no % len(sockets)]
        dev_no += 1
        if dev_no % 2 == 1:                        # NVMe: queue k on CPUs k, k + nq, ...
            nq = min(h.n, 64, left - 1)
            q.msi(num, dev, 0, [f"nvme{nvme}q0"], msix=True, node=node)
            for k in range(1, nq + 1):
                q.msi(num + k, dev, k, [f"nvme{nvme}q{k}"], msix=True, node=node,
                      managed={c for c in range(h.n) if c % nq == k - 1})
            nvme += 1
            num += nq + 2
        else:                                      # NIC: one IRQ per queue, anywhere
            nq = min(h.n, 128, left - 1)
            q.msi(num, dev, 0, [f"ens{bus}f0"], msix=True, node=node)
            for k in range(nq):
                q.msi(num + 1 + k, dev, 1 + k, [f"ens{bus}f0-TxRx-{k}"], msix=True, node=node)
            nic += 1
            num += nq + 3
    del h.irqs[want:]
    return ports, nvme


def prec_of(h):
    """The kernel prints IRQ numbers %*d wide, the width of nr_irqs."""
    return max(3, len(str(max(q.num for q in h.irqs) + 64)))


# user-space programs that bring many threads: (comm, cgroup, threads per
# process, names of the threads)
APPS = [
    ("java", SYS + "/app-server.service", (200, 400, 800, 1500),
     ["GC Thread#{}", "C2 CompilerThre", "pool-1-thread-{}", "http-nio-8080-e", "VM Periodic Tas"]),
    ("postgres", SYS + "/postgresql@15-main.service", (1,), []),
    ("nginx", SYS + "/nginx.service", (1,), []),
    ("containerd", SYS + "/containerd.service", (40, 80, 160), ["containerd"]),
    ("prometheus", SYS + "/prometheus.service", (60, 120), ["prometheus"]),
    ("firefox-esr", UMGR + "/app.slice/app-firefox-esr-{}.scope", (60, 120),
     ["IPC I/O Parent", "Socket Thread", "DOM Worker", "StyleThread#{}", "Web Content"]),
    ("Isolated Web Co", UMGR + "/app.slice/app-firefox-esr-{}.scope", (20, 40), ["DOM Worker", "JS Helper"]),
    ("python3", USER + "/session-3.scope", (1, 4, 16), ["python3"]),
    ("rsyslogd", SYS + "/rsyslog.service", (4,), ["in:imuxsock", "in:imklog", "rs:main Q:Reg"]),
]


def add_users(h, first_pid, budget, r):
    """Processes until `budget` threads more: a mix of big multi-threaded
    servers, desktop apps and many single-threaded workers."""
    tasks = []
    pid = first_pid
    group = {}
    while budget > 0:
        comm, cg, sizes, names = APPS[r.randrange(len(APPS))]
        n = min(budget, sizes[r.randrange(len(sizes))])
        if n == 1 and names == []:
            n = min(budget, r.randrange(8, 40))     # a pool of single-threaded workers
            count, per = n, 1
        else:
            count, per = 1, n
        if "{}" in cg:                              # a scope per app instance, a few instances
            inst = group.setdefault(cg, [])
            if len(inst) < 6:
                inst.append(pid)
            cg = cg.format(inst[r.randrange(len(inst))])
        for _ in range(count):
            threads = [(pid + 1 + i, names[i % len(names)].format(i)) for i in range(per - 1)]
            tasks.append(procs.user(pid, comm, 1, cg, uid=0 if cg.startswith(SYS) else 1000, threads=threads))
            pid += per + r.randrange(1, 4)
            budget -= per
    return tasks


def build(args, root):
    cpus, shape = topology(args.cpus, args.sockets, args.cores, args.smt, args.l3_cores)
    kernel = args.kernel or ("6.1" if args.cgroup == "v1" else "6.12")
    name = f"synth-{args.cpus}c-{args.irqs}i-{args.threads}t-{args.cgroup}-{kernel}-s{args.seed}" \
        + ("-nodbg" if args.no_irq_debugfs else "")
    h = BigHost(name, kernel, root, cpus)
    if args.cgroup == "v1":
        h.cgroup = "v1"
    if args.no_irq_debugfs:
        h.debugfs, h.kernel_knows_irq_flags = False, True
    h.cache = {"L1d": "48K", "L1i": "32K", "L2": "2048K", "L3": "%dK" % (shape[3] * 1920)}
    h.sigq = 4126400
    h.spec = ("thread vulnerable", "conditional enabled")
    h.cpufreq = {
        "driver": "intel_pstate", "governors": "performance powersave", "governor": "powersave",
        "min": 800000, "max": 3800000, "epp": True, "global": {"intel_pstate/status": "active"}}
    h.cpuidle = {"driver": "intel_idle", "states": [
        ("POLL", "CPUIDLE CORE POLL IDLE", 0, 0), ("C1", "MWAIT 0x00", 1, 1),
        ("C1E", "MWAIT 0x01", 4, 4), ("C6", "MWAIT 0x20", 170, 600)]}
    r = rng(name, "bench")

    ports, nvme = add_irqs(h, args.irqs, r)
    k = core_kthreads(h)
    for num in ports:
        k.irq_thread(num, "pciehp", gap=1)
    for wq in ("nvme-wq", "nvme-reset-wq", "nvme-delete-wq"):
        k.rescuer(wq)
    for n in range(4):
        k.add(f"scsi_eh_{n}")
        k.rescuer(f"scsi_tmf_{n}")
    k.add("jbd2/nvme0n1p2-8", flags=F_FREEZABLE_KTHREAD, gap=20)
    busy = sorted({(c * 7) % h.n for c in range(min(h.n, 24))})
    h.tasks = late_kthreads(k, busy)

    # user space after the kernel threads, leaving room for more workers below
    base = ((k.pid + 3 * h.n + 64) // 100 + 2) * 100
    users = userland.systemd_host(h, base, desktop=False, pinned=("ffmpeg", {1}))
    have = sum(1 + len(t.threads) for t in h.tasks + users)
    budget = args.threads - have
    # busy hosts have more per-CPU workers than just booted ones
    if budget > 20 * h.n:
        for c in range(h.n):
            k.worker(c, 2, "events")
            k.worker(c, 3, "mm_percpu_wq" if c % 2 else "")
        for i in range(min(h.n, 64)):
            k.uworker(10 + i, "events_unbound" if i % 3 else "writeback")
        h.tasks = k.tasks
        budget -= 2 * h.n + min(h.n, 64)
    if k.pid >= base:
        sys.exit("gen-host.py: kernel threads ran into user-space PIDs")
    h.tasks += users
    h.tasks += add_users(h, base + 1200, max(budget, 0), r)

    files = host.finish(
        h, prec=prec_of(h),
        cpuinfo_spec={"vendor": "GenuineIntel", "family": 6, "model": 143,
                      "name": "Intel(R) Xeon(R) Platinum 8480+", "stepping": 8, "microcode": "0x2b0004b1",
                      "mhz": 2000, "cache_kb": 107520, "level": 32, "flags": INTEL_FLAGS,
                      "bogomips": "4000.00", "bugs": "spectre_v1 spectre_v2 spec_store_bypass swapgs eibrs_pbrsb bhi",
                      "addr": "46 bits physical, 57 bits virtual", "pkg_shift": 8},
        cmdline=f"BOOT_IMAGE=/boot/vmlinuz-{'6.12.38+deb13' if kernel == '6.12' else '6.1.0-28'}-amd64 "
                "root=UUID=7c0e5d1a-3b9f-4e62-a8d4-51f2c6b90e37 ro quiet intel_iommu=on iommu=pt"
                + (" systemd.unified_cgroup_hierarchy=0" if args.cgroup == "v1" else ""),
        boot_id="0b6f3e2a-9c41-4d85-b7a0-e2d51c8f3a96",
        mounts=host.debian_mounts(h, "/dev/nvme0n1p2", 512),
        cgroup_kw={"root_subtree": "cpu io memory pids", "extra_paths": ["/machine.slice"], "pressure": True}
        if args.cgroup == "v2" else {"systemd_paths": ["/machine.slice"]})
    threads = sum(1 + len(t.threads) for t in h.tasks)
    kthreads = sum(1 for t in h.tasks if t.kthread)
    return h, shape, {"name": name, "cpus": h.n, "sockets": shape[0], "cores_per_socket": shape[1],
                      "threads_per_core": shape[2], "l3_domains": len({x.l3 for x in cpus}),
                      "irqs": len(h.irqs), "managed_irqs": sum(1 for q in h.irqs if q.managed),
                      "threads": threads, "processes": len(h.tasks), "kernel_threads": kthreads,
                      "cgroup": args.cgroup, "kernel": kernel, "irq_debugfs": not args.no_irq_debugfs,
                      "files": files}


def config(shape):
    sockets, cores, smt, _ = shape
    vm = ", ".join(str(c) for c in range(1, cores))
    return ("# written by bench/gen-host.py: host = core 0, VM big = the rest of socket 0\n"
            "version: 1\n"
            "host:\n  cores: [0]\n"
            "power_profiles:\n  low-latency:\n    governor: performance\n    max_wakeup_latency_us: 20\n"
            f"vms:\n  big:\n    activation: manual\n    cores: [{vm}]\n    power: low-latency\n")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dest")
    p.add_argument("--cpus", type=int, default=16)
    p.add_argument("--irqs", type=int, default=64)
    p.add_argument("--threads", type=int, default=1000)
    p.add_argument("--cgroup", choices=("v2", "v1"), default="v2")
    p.add_argument("--kernel", choices=("6.1", "6.12"), help="default: 6.12 on v2, 6.1 on v1")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--sockets", type=int)
    p.add_argument("--cores", type=int, help="cores per socket")
    p.add_argument("--smt", type=int, help="threads per core")
    p.add_argument("--l3-cores", type=int, help="cores per L3 domain")
    p.add_argument("--no-irq-debugfs", action="store_true",
                   help="no /sys/kernel/debug/irq (as Debian's kernels): managed IRQs are learnt by refusal")
    p.add_argument("--force", action="store_true", help="replace DEST/root if it exists")
    args = p.parse_args()
    if args.irqs < 32:
        sys.exit("gen-host.py: --irqs must be at least 32")
    if args.cgroup == "v1" and args.kernel == "6.12":
        sys.exit("gen-host.py: Debian's 6.12 has no cgroup v1 cpuset (CONFIG_CPUSETS_V1 is off)")
    root = os.path.join(args.dest, "root")
    if os.path.lexists(root):
        if not args.force:
            sys.exit(f"gen-host.py: {root} exists (--force replaces it)")
        shutil.rmtree(root)
    os.makedirs(root)
    start = time.monotonic()
    _, shape, info = build(args, root)
    info["seconds"] = round(time.monotonic() - start, 1)
    with open(os.path.join(args.dest, "cpushield.yaml"), "w") as f:
        f.write(config(shape))
    with open(os.path.join(args.dest, "host.json"), "w") as f:
        json.dump(info, f, indent=1)
        f.write("\n")
    print(" ".join(f"{k}={v}" for k, v in info.items()))


if __name__ == "__main__":
    main()
