#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Runtime quieting: while a VM is shielded the watchdog runs only on the
host's CPUs and the vmstat refresh comes every 120 s; both are journaled and
revert puts them back byte for byte; a host without the files plans none."""
import json
import os
import shutil

from common import EX, check, finish, fixture_copy, read, run, state_dir, tree_digest, write

CFG = os.path.join(EX, "desktop-4790k.yaml")  # host 0,4; win10 1-3,5-7


def put(root, rel, value):
    """A kernel file below root, its directories made: VALUE and a newline."""
    os.makedirs(os.path.join(root, os.path.dirname(rel)), exist_ok=True)
    write(root, rel, value)


def add_sysctls(root, watchdog="0-7", interval="1"):
    put(root, "proc/sys/kernel/watchdog_cpumask", watchdog)
    put(root, "proc/sys/vm/stat_interval", interval)


@check("activate narrows the watchdog and slows vmstat; revert restores both")
def _():
    root = fixture_copy("i7-4790k")
    add_sysctls(root)
    before = tree_digest(root)
    state = state_dir()
    p = run("--root", root, "--config", CFG, "--libvirt", "no", "plan", "--activate", "win10", "--output", "json")
    quiet = [c for c in json.loads(p.stdout)["changes"] if c["kind"] == "quiet"]
    assert {c["target"]: c["to"] for c in quiet} == {"/proc/sys/kernel/watchdog_cpumask": "0,4",
                                                     "/proc/sys/vm/stat_interval": "120"}, quiet
    assert run("--root", root, "--config", CFG, "--libvirt", "no", "activate", "win10", state=state).returncode == 0
    assert read(root, "proc/sys/kernel/watchdog_cpumask") == "0,4"
    assert read(root, "proc/sys/vm/stat_interval") == "120"
    p = run("--root", root, "--config", CFG, "--libvirt", "no", "apply", "--detailed-exitcodes", state=state)
    assert p.returncode == 0, (p.returncode, p.stdout)
    assert run("--root", root, "--config", CFG, "--libvirt", "no", "deactivate", "win10", state=state).returncode == 0
    assert run("--root", root, "--config", CFG, "--libvirt", "no", "revert", state=state).returncode == 0
    assert tree_digest(root) == before


@check("a slower vmstat already, and a narrower watchdog, are kept")
def _():
    root = fixture_copy("i7-4790k")
    add_sysctls(root, watchdog="0", interval="300")
    p = run("--root", root, "--config", CFG, "--libvirt", "no", "plan", "--activate", "win10", "--output", "json")
    assert [c for c in json.loads(p.stdout)["changes"] if c["kind"] == "quiet"] == []


@check("no sysctl files: nothing planned")
def _():
    root = fixture_copy("i7-4790k")
    p = run("--root", root, "--config", CFG, "--libvirt", "no", "plan", "--activate", "win10", "--output", "json")
    assert [c for c in json.loads(p.stdout)["changes"] if c["kind"] == "quiet"] == []


def config_with(defaults, base=None):
    """The desktop example (or base) with a defaults section of its own."""
    path = os.path.join(state_dir(), "quiet.yaml")
    with open(base or CFG) as src:
        lines = [l for l in src.read().splitlines(True)
                 if not any(l.lstrip().startswith(k + ":") for k in defaults)]
    at = lines.index("defaults:\n") + 1
    lines[at:at] = [f"  {k}: {v}\n" for k, v in defaults.items()]
    with open(path, "w") as dst:
        dst.write("".join(lines))
    return path


# PSI off in the VMs' cgroups only, the host's groups left alone
DISABLE = config_with({"pressure": "disable"})


def quiet_plan(root, cfg):
    p = run("--root", root, "--config", cfg, "--libvirt", "no", "plan", "--activate", "win10", "--output", "json")
    assert p.returncode == 0, p.stderr
    return {c["target"]: c["to"] for c in json.loads(p.stdout)["changes"] if c["kind"] == "quiet"}


@check("defaults.watchdog: leave and defaults.vmstat_interval: 120 are what the plan does")
def _():
    root = fixture_copy("i7-4790k")
    add_sysctls(root)
    assert quiet_plan(root, config_with({"watchdog": "leave", "vmstat_interval": 10})) == \
        {"/proc/sys/vm/stat_interval": "10"}
    assert quiet_plan(root, config_with({"vmstat_interval": "leave"})) == \
        {"/proc/sys/kernel/watchdog_cpumask": "0,4"}


@check("switched to leave while shielded: apply puts the original values back")
def _():
    root = fixture_copy("i7-4790k")
    add_sysctls(root)
    state = state_dir()
    assert run("--root", root, "--config", CFG, "--libvirt", "no", "activate", "win10", state=state).returncode == 0
    assert read(root, "proc/sys/vm/stat_interval") == "120"
    leave = config_with({"watchdog": "leave", "vmstat_interval": "leave"})
    assert run("--root", root, "--config", leave, "--libvirt", "no", "apply", state=state).returncode == 0
    assert read(root, "proc/sys/vm/stat_interval") == "1"
    assert read(root, "proc/sys/kernel/watchdog_cpumask") == "0-7"


def assert_bad_default(key, values, prepare=lambda root: None):
    """Each value of defaults.KEY is an error naming the file, line, key
    and value, with nothing written and nothing on stdout."""
    root = fixture_copy("i7-4790k")
    prepare(root)
    before = tree_digest(root)
    for bad in values:
        cfg = config_with({key: bad})
        p = run("--root", root, "--config", cfg, "--libvirt", "no", "plan", "--activate", "win10")
        line = next(i for i, l in enumerate(open(cfg), 1) if key in l)
        assert p.returncode != 0 and p.stdout == "", (bad, p.returncode, p.stdout)
        assert f"{cfg}:{line}:" in p.stderr and f"defaults.{key}" in p.stderr and bad in p.stderr, p.stderr
    assert tree_digest(root) == before


@check("a vmstat_interval out of range is an error naming the file, line and value")
def _():
    assert_bad_default("vmstat_interval", ("0", "3601", "often"), add_sysctls)


NEIGH = {f"/proc/sys/net/{ip}/neigh/default/interval_probe_time_ms": ip for ip in ("ipv4", "ipv6")}


def add_neigh(root, ms="5000", tables=("ipv4", "ipv6")):
    """The neighbour tables' managed-entry probe interval (Linux 6.0+), as
    the kernel shows it in init's network namespace."""
    for ip in tables:
        put(root, f"proc/sys/net/{ip}/neigh/default/interval_probe_time_ms", ms)


def neigh(root, ip):
    return read(root, f"proc/sys/net/{ip}/neigh/default/interval_probe_time_ms")


@check("the neighbour tables' managed-entry probes come every 120 s while shielded; revert gives back 5000 ms")
def _():
    root = fixture_copy("i7-4790k")
    add_neigh(root)
    before = tree_digest(root)
    state = state_dir()
    p = run("--root", root, "--config", CFG, "--libvirt", "no", "plan", "--activate", "win10", "--output", "json")
    quiet = {c["target"]: (c["from"], c["to"]) for c in json.loads(p.stdout)["changes"] if c["kind"] == "quiet"}
    assert quiet == {t: ("5000", "120000") for t in NEIGH}, quiet
    assert run("--root", root, "--config", CFG, "--libvirt", "no", "activate", "win10", state=state).returncode == 0
    assert [neigh(root, ip) for ip in ("ipv4", "ipv6")] == ["120000", "120000"]
    journal = open(os.path.join(state, "journal")).read()
    assert all(t in journal for t in NEIGH), journal
    # someone sets it back while shielded: drift that apply repairs
    add_neigh(root, tables=("ipv6",))
    p = run("--root", root, "--config", CFG, "--libvirt", "no", "apply", "--detailed-exitcodes", state=state)
    assert p.returncode == 2 and neigh(root, "ipv6") == "120000", (p.returncode, p.stdout)
    assert run("--root", root, "--config", CFG, "--libvirt", "no", "deactivate", "win10", state=state).returncode == 0
    assert run("--root", root, "--config", CFG, "--libvirt", "no", "revert", state=state).returncode == 0
    assert tree_digest(root) == before


@check("neighbour probes: a longer interval is kept, IPv6 absent plans IPv4 only, leave and seconds are obeyed")
def _():
    root = fixture_copy("i7-4790k")
    add_neigh(root, ms="600000")
    assert quiet_plan(root, CFG) == {}
    root = fixture_copy("i7-4790k")
    add_neigh(root, tables=("ipv4",))
    assert quiet_plan(root, CFG) == {"/proc/sys/net/ipv4/neigh/default/interval_probe_time_ms": "120000"}
    assert quiet_plan(root, config_with({"neigh_probe_interval": 30})) == \
        {"/proc/sys/net/ipv4/neigh/default/interval_probe_time_ms": "30000"}
    assert quiet_plan(root, config_with({"neigh_probe_interval": "leave"})) == {}
    # switched to leave while shielded: apply puts 5000 back
    state = state_dir()
    assert run("--root", root, "--config", CFG, "--libvirt", "no", "activate", "win10", state=state).returncode == 0
    assert neigh(root, "ipv4") == "120000"
    leave = config_with({"neigh_probe_interval": "leave"})
    assert run("--root", root, "--config", leave, "--libvirt", "no", "apply", state=state).returncode == 0
    assert neigh(root, "ipv4") == "5000"


@check("a neigh_probe_interval out of range is an error naming the file, line and value")
def _():
    assert_bad_default("neigh_probe_interval", ("0", "3601", "often", "-5"), add_neigh)


SCOPE = "machine.slice/machine-qemu\\x2d1\\x2dwin10.scope"
PSI = ["machine.slice", SCOPE, SCOPE + "/libvirt", SCOPE + "/libvirt/vcpu0"]


def add_pressure(root, cgroups=PSI, value="1", mount="sys/fs/cgroup"):
    """cgroup.pressure (Linux 6.1+) in these cgroups ("" = the root), by
    default the VMs' cgroup and a running VM's own."""
    for rel in cgroups:
        put(root, os.path.join(mount, rel, "cgroup.pressure"), value)


def pressure(root, rel):
    return read(root, f"sys/fs/cgroup/{rel}/cgroup.pressure")


@check("PSI off in the VMs' cgroup and every one below it while shielded; a VM's cgroup gone by revert is forgotten")
def _():
    root = fixture_copy("i7-4790k")
    add_pressure(root)
    state = state_dir()
    p = run("--root", root, "--config", DISABLE, "--libvirt", "no", "plan", "--activate", "win10", "--output", "json")
    quiet = {c["target"]: (c["from"], c["to"]) for c in json.loads(p.stdout)["changes"] if c["kind"] == "quiet"}
    assert quiet == {f"/sys/fs/cgroup/{rel}/cgroup.pressure": ("1", "0") for rel in PSI}, quiet
    assert run("--root", root, "--config", DISABLE, "--libvirt", "no", "activate", "win10", state=state).returncode == 0
    assert [pressure(root, rel) for rel in PSI] == ["0"] * 4
    p = run("--root", root, "--config", DISABLE, "--libvirt", "no", "apply", "--detailed-exitcodes", state=state)
    assert p.returncode == 0, (p.returncode, p.stdout)
    # someone switches it on again: drift the next apply repairs
    add_pressure(root, [SCOPE], "1")
    p = run("--root", root, "--config", DISABLE, "--libvirt", "no", "apply", "--detailed-exitcodes", state=state)
    assert p.returncode == 2 and pressure(root, SCOPE) == "0", (p.returncode, p.stdout)
    # the VM stops: libvirt removes its cgroups; the VMs' cgroup gets its PSI back
    shutil.rmtree(os.path.join(root, "sys/fs/cgroup", SCOPE))
    p = run("--root", root, "--config", DISABLE, "--libvirt", "no", "deactivate", "win10", state=state)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert pressure(root, "machine.slice") == "1"
    assert not os.path.exists(os.path.join(state, "journal")), open(os.path.join(state, "journal")).read()


@check("a VM started after activate: the next apply switches its cgroups' PSI off too")
def _():
    root = fixture_copy("i7-4790k")
    add_pressure(root, ["machine.slice"])
    state = state_dir()
    before = tree_digest(root)
    assert run("--root", root, "--config", CFG, "--libvirt", "no", "activate", "win10", state=state).returncode == 0
    assert pressure(root, "machine.slice") == "0"
    add_pressure(root, PSI[1:])
    p = run("--root", root, "--config", CFG, "--libvirt", "no", "apply", "--detailed-exitcodes", state=state)
    assert p.returncode == 2, (p.returncode, p.stdout)
    assert [pressure(root, rel) for rel in PSI] == ["0"] * 4
    shutil.rmtree(os.path.join(root, "sys/fs/cgroup", SCOPE))
    assert run("--root", root, "--config", CFG, "--libvirt", "no", "deactivate", "win10", state=state).returncode == 0
    assert tree_digest(root) == before


@check("defaults.pressure: leave plans no PSI change, and switched to leave while shielded gives it back")
def _():
    root = fixture_copy("i7-4790k")
    add_pressure(root)
    leave = config_with({"pressure": "leave"})
    assert quiet_plan(root, leave) == {}
    state = state_dir()
    assert run("--root", root, "--config", CFG, "--libvirt", "no", "activate", "win10", state=state).returncode == 0
    assert pressure(root, SCOPE) == "0"
    assert run("--root", root, "--config", leave, "--libvirt", "no", "apply", state=state).returncode == 0
    assert [pressure(root, rel) for rel in PSI] == ["1"] * 4


@check("the VMs' cgroup made by this activate (no systemd): its PSI goes off in the same run, and apply is a no-op")
def _():
    root = fixture_copy("cloud-vm-2cpu")
    cfg = os.path.join(state_dir(), "cloud.yaml")
    with open(cfg, "w") as f:
        f.write("host: {cpus: 0}\nvms:\n  guest: {cpus: 1, activation: manual}\n")
    add_pressure(root, [""])
    assert not os.path.exists(os.path.join(root, "sys/fs/cgroup/machine.slice"))
    before, state = tree_digest(root), state_dir()
    p = run("--root", root, "--config", cfg, "activate", "guest", "--detailed-exitcodes", state=state)
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert pressure(root, "machine.slice") == "0"
    assert read(root, "sys/fs/cgroup/cgroup.pressure") == "1", "the root's (host-wide PSI) is on again"
    p = run("--root", root, "--config", cfg, "apply", "--detailed-exitcodes", state=state)
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    p = run("--root", root, "--config", cfg, "deactivate", "guest", state=state)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert tree_digest(root) == before

@check("a kernel without cgroup.pressure (before 6.1, psi=0): nothing planned")
def _():
    root = fixture_copy("i7-4790k")
    os.makedirs(os.path.join(root, "sys/fs/cgroup", SCOPE))
    assert quiet_plan(root, CFG) == {}


@check("defaults.pressure other than disable or leave is an error naming the file, line and value")
def _():
    assert_bad_default("pressure", ("off", "0", "yes"), add_pressure)


NUMA = os.path.join(EX, "numa-2vm.yaml")  # xeon-2s: cgroup v1 with systemd's unified hierarchy
U = "sys/fs/cgroup/unified"
NFV = "machine.slice/machine-qemu\\x2d2\\x2dnfv.scope"
U_PSI = ["machine.slice", NFV, NFV + "/libvirt", NFV + "/libvirt/vcpu0"]


def numa_with_pressure(value):
    return config_with({"pressure": value}, NUMA)


def add_unified_pressure(root, cgroups=U_PSI):
    """cgroup.pressure in the unified hierarchy of a hybrid host, its root's included."""
    add_pressure(root, [""] + cgroups, mount=U)


@check("cgroup v1 with systemd's unified hierarchy: PSI off in that tree's machine.slice and below, revert exact")
def _():
    root = fixture_copy("xeon-2s")
    add_unified_pressure(root)
    before, state = tree_digest(root), state_dir()
    numa = numa_with_pressure("disable")
    p = run("--root", root, "--config", numa, "--libvirt", "no", "plan", "--activate", "nfv", "--output", "json")
    assert p.returncode == 0, p.stderr
    psi = {c["target"]: (c["from"], c["to"]) for c in json.loads(p.stdout)["changes"]
           if c["target"].endswith("cgroup.pressure")}
    assert psi == {f"/{U}/{rel}/cgroup.pressure": ("1", "0") for rel in U_PSI}, psi
    assert all(c["kind"] == "quiet" for c in json.loads(p.stdout)["changes"] if c["target"] in psi)
    assert run("--root", root, "--config", numa, "--libvirt", "no", "activate", "nfv", state=state).returncode == 0
    assert [read(root, f"{U}/{rel}/cgroup.pressure") for rel in U_PSI] == ["0"] * 4
    assert read(root, f"{U}/cgroup.pressure") == "1", "with disable the root's (host-wide PSI) is never written"
    assert f"/{U}/cgroup.pressure" not in open(os.path.join(state, "journal")).read()
    p = run("--root", root, "--config", numa, "--libvirt", "no", "apply", "--detailed-exitcodes", state=state)
    assert p.returncode == 0, (p.returncode, p.stdout)
    assert run("--root", root, "--config", numa, "--libvirt", "no", "revert", state=state).returncode == 0
    assert tree_digest(root) == before


@check("cgroup v1 with the unified hierarchy, the default (move): the root's PSI there goes off and on again")
def _():
    root = fixture_copy("xeon-2s")
    add_unified_pressure(root)
    before, state = tree_digest(root), state_dir()
    p = run("--root", root, "--config", NUMA, "--libvirt", "no", "plan", "--activate", "nfv", "--output", "json")
    psi = {c["target"]: (c["from"], c["to"]) for c in json.loads(p.stdout)["changes"]
           if c["target"].endswith("cgroup.pressure")}
    assert psi == {f"/{U}/{rel}cgroup.pressure": ("1", "0") for rel in [""] + [r + "/" for r in U_PSI]}, psi
    assert run("--root", root, "--config", NUMA, "--libvirt", "no", "activate", "nfv", state=state).returncode == 0
    assert [read(root, f"{U}/{rel}/cgroup.pressure") for rel in U_PSI] == ["0"] * 4
    assert read(root, f"{U}/cgroup.pressure") == "1", "on again after the pause"
    assert f"/{U}/cgroup.pressure" not in open(os.path.join(state, "journal")).read()
    assert run("--root", root, "--config", NUMA, "--libvirt", "no", "revert", state=state).returncode == 0
    assert tree_digest(root) == before


@check("cgroup v1 with the unified hierarchy but no machine.slice there yet: no PSI change, none made")
def _():
    root = fixture_copy("xeon-2s")
    add_unified_pressure(root, [])
    shutil.rmtree(os.path.join(root, U, "machine.slice"))
    p = run("--root", root, "--config", NUMA, "--libvirt", "no", "plan", "--activate", "nfv", "--output", "json")
    assert p.returncode == 0, p.stderr
    changes = json.loads(p.stdout)["changes"]
    unified = [(c["target"], c["from"], c["to"]) for c in changes if "unified" in c["target"]]
    # the default (move) bounces the root's; nothing is made or switched off there
    assert changes and unified == [(f"/{U}/cgroup.pressure", "1", "0")], unified


def revert_and_converge(crashed, state, cfg, before, converged, k):
    """After a run killed after its kth write: revert on the tree gives back
    `before`, and apply on a copy of it (and of its state) reaches
    `converged`. Returns the copy."""
    again, state2 = state_dir(), state_dir()
    shutil.copytree(crashed, again, symlinks=True, dirs_exist_ok=True)
    shutil.copytree(state, state2, dirs_exist_ok=True)
    p = run("--root", crashed, "--config", cfg, "--libvirt", "no", "revert", state=state)
    assert p.returncode == 0 and tree_digest(crashed) == before, (k, p.stdout, p.stderr)
    p = run("--root", again, "--config", cfg, "--libvirt", "no", "apply", state=state2)
    assert p.returncode == 0 and tree_digest(again) == converged, (k, p.stdout, p.stderr)
    return again


def legacy_v1(root):
    """The Xeon without systemd's unified hierarchy (cgroup v1 alone, as
    systemd's legacy mode or OpenRC's): no cgroup2 mounted; the kernel's
    cgroup2 root, which only a mount of cpushield's own reaches, is
    /.fixture/cgroup2 in a fixture tree."""
    mounts = os.path.join(root, "proc/mounts")
    lines = [l for l in open(mounts).read().splitlines(True) if " cgroup2 " not in l]
    os.chmod(mounts, 0o644)
    with open(mounts, "w") as f:
        f.write("".join(lines))
    shutil.rmtree(os.path.join(root, U))


ROOT2 = ".fixture/cgroup2/cgroup.pressure"


@check("cgroup v1 without cgroup2 mounted, the default (move): the host-wide PSI goes off and on again through the kernel's cgroup2 root")
def _():
    root = fixture_copy("xeon-2s")
    legacy_v1(root)
    put(root, ROOT2, "1")
    before, state = tree_digest(root), state_dir()
    p = run("--root", root, "--config", NUMA, "--libvirt", "no", "plan", "--activate", "nfv", "--output", "json")
    assert p.returncode == 0, p.stderr
    psi = [(c["target"], c["from"], c["to"], c["kind"]) for c in json.loads(p.stdout)["changes"]
           if "pressure" in c["target"]]
    assert psi == [("cgroup2:/cgroup.pressure", "1", "0", "quiet")], psi
    p = run("--root", root, "--config", NUMA, "--libvirt", "no", "activate", "nfv", state=state)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert read(root, ROOT2) == "1", "on again after the pause"
    assert "cgroup2:" not in open(os.path.join(state, "journal")).read(), "forgotten once on again"
    p = run("--root", root, "--config", NUMA, "--libvirt", "no", "plan", "--output", "json", state=state)
    assert not [c for c in json.loads(p.stdout)["changes"] if "pressure" in c["target"]], "no bounce without a reshape"
    assert run("--root", root, "--config", NUMA, "--libvirt", "no", "revert", state=state).returncode == 0
    assert tree_digest(root) == before
    # disable and leave never reach it; neither does a kernel without the switch
    for cfg in (numa_with_pressure("disable"), numa_with_pressure("leave")):
        p = run("--root", root, "--config", cfg, "--libvirt", "no", "plan", "--activate", "nfv", "--output", "json")
        assert not [c for c in json.loads(p.stdout)["changes"] if "pressure" in c["target"]], cfg
    shutil.rmtree(os.path.join(root, ".fixture/cgroup2"))
    p = run("--root", root, "--config", NUMA, "--libvirt", "no", "plan", "--activate", "nfv", "--output", "json")
    doc = json.loads(p.stdout)
    assert p.returncode == 0 and not [c for c in doc["changes"] if "pressure" in c["target"]]
    assert not [w for w in doc["warnings"] if "pressure" in w], doc["warnings"]
    # the root there but not to be had (the kernel: a mount refused, as in a
    # sandboxed unit): nothing planned, and the plan says why
    os.symlink("cgroup2", os.path.join(root, ".fixture/cgroup2"))  # ELOOP
    p = run("--root", root, "--config", NUMA, "--libvirt", "no", "plan", "--activate", "nfv", "--output", "json")
    doc = json.loads(p.stdout)
    assert p.returncode == 0 and not [c for c in doc["changes"] if "pressure" in c["target"]]
    assert [w for w in doc["warnings"] if "host-wide pressure stall" in w and "mounting it" in w], doc["warnings"]


@check("cgroup v1 without cgroup2: SIGKILL while the host-wide PSI is off; revert and apply switch it on again")
def _():
    def tree():
        root = fixture_copy("xeon-2s")
        legacy_v1(root)
        put(root, ROOT2, "1")
        return root
    ref = tree()
    before = tree_digest(ref)
    p = run("--root", ref, "--config", NUMA, "--libvirt", "no", "plan", "--activate", "nfv", "--output", "json")
    changes = json.loads(p.stdout)["changes"]
    assert run("--root", ref, "--config", NUMA, "--libvirt", "no", "activate", "nfv", state=state_dir()).returncode == 0
    converged = tree_digest(ref)
    def crash(k):
        root, state = tree(), state_dir()
        p = run("--root", root, "--config", NUMA, "--libvirt", "no", "activate", "nfv", state=state,
                env={"CPUSHIELD_TEST_CRASH_AFTER_WRITES": str(k)})
        assert p.returncode in (-9, 0), (k, p.returncode, p.stderr)
        return root, state
    # a kill after the kth write leaves it off from the write switching it
    # off to the one before the write switching it on again, the run's last
    lo, hi = 1, len(changes)
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if read(crash(mid)[0], ROOT2) == "0" else (mid + 1, hi)
    first, hi = lo, len(changes)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if read(crash(mid)[0], ROOT2) == "0" else (lo, mid - 1)
    for k in sorted({first, min(first + 1, lo), lo}):
        crashed, state = crash(k)
        assert read(crashed, ROOT2) == "0", k
        assert "cgroup2:/cgroup.pressure" in open(os.path.join(state, "journal")).read(), k
        again = revert_and_converge(crashed, state, NUMA, before, converged, k)
        assert read(again, ROOT2) == "1", k


HOST_GROUPS = ["", "init.scope", "system.slice", "user.slice"]  # "" = the root (host-wide PSI)


def add_host_pressure(root):
    add_pressure(root, HOST_GROUPS)


def host_target(rel):
    return "/sys/fs/cgroup/" + (rel + "/" if rel else "") + "cgroup.pressure"


@check("defaults.pressure: move, the default: every other cgroup's PSI goes off and on again as the shield forms; nothing stays journaled")
def _():
    root = fixture_copy("i7-4790k")
    add_pressure(root, PSI[:1])
    add_host_pressure(root)
    assert not any(t in quiet_plan(root, DISABLE) for t in map(host_target, HOST_GROUPS)), "disable leaves them"
    move = CFG  # no defaults.pressure: move
    before, state = tree_digest(root), state_dir()
    p = run("--root", root, "--config", move, "--libvirt", "no", "plan", "--activate", "win10", "--output", "json")
    quiet = {c["target"]: (c["from"], c["to"]) for c in json.loads(p.stdout)["changes"] if c["kind"] == "quiet"}
    for rel in HOST_GROUPS:
        assert quiet.get(host_target(rel)) == ("1", "0"), (rel, quiet)
    assert quiet.get("/sys/fs/cgroup/machine.slice/cgroup.pressure") == ("1", "0"), quiet
    p = run("--root", root, "--config", move, "--libvirt", "no", "activate", "win10", state=state)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert [pressure(root, rel) for rel in HOST_GROUPS] == ["1"] * 4, "switched on again"
    assert pressure(root, "machine.slice") == "0"
    journal = open(os.path.join(state, "journal")).read()
    assert not any(host_target(rel) + "\t" in journal for rel in HOST_GROUPS), journal
    # the shield stands: nothing moves again
    p = run("--root", root, "--config", move, "--libvirt", "no", "apply", "--detailed-exitcodes", state=state)
    assert p.returncode == 0, (p.returncode, p.stdout)
    assert run("--root", root, "--config", move, "--libvirt", "no", "deactivate", "win10", state=state).returncode == 0
    assert tree_digest(root) == before


@check("defaults.pressure: move: SIGKILL after every write; revert restores, apply converges")
def _():
    ref = fixture_copy("i7-4790k")
    add_pressure(ref, PSI[:1])
    add_host_pressure(ref)
    move = config_with({"pressure": "move"})
    before = tree_digest(ref)
    p = run("--root", ref, "--config", move, "--libvirt", "no", "plan", "--activate", "win10", "--output", "json")
    n = len(json.loads(p.stdout)["changes"]) + len(HOST_GROUPS)  # the writes back too
    assert run("--root", ref, "--config", move, "--libvirt", "no", "activate", "win10", state=state_dir()).returncode == 0
    converged = tree_digest(ref)
    for k in range(n - 3 * len(HOST_GROUPS), n + 1):  # the quiet step and what follows
        crashed, state = fixture_copy("i7-4790k"), state_dir()
        add_pressure(crashed, PSI[:1])
        add_host_pressure(crashed)
        p = run("--root", crashed, "--config", move, "--libvirt", "no", "activate", "win10", state=state,
                env={"CPUSHIELD_TEST_CRASH_AFTER_WRITES": str(k)})
        assert p.returncode in (-9, 0), (k, p.returncode, p.stderr)
        again = revert_and_converge(crashed, state, move, before, converged, k)
        assert [pressure(again, rel) for rel in HOST_GROUPS] == ["1"] * 4, k


@check("defaults.pressure: move: a cgroup that ends while the run waits is forgotten, not an error")
def _():
    root = fixture_copy("i7-4790k")
    add_pressure(root, PSI[:1])
    add_host_pressure(root)
    job = "system.slice/cron-job.scope"
    add_pressure(root, [job])
    state = state_dir()
    p = run("--root", root, "--config", config_with({"pressure": "move"}), "--libvirt", "no", "activate", "win10",
            state=state, env={"CPUSHIELD_TEST_PAUSE_RMDIR": f"/sys/fs/cgroup/{job}"})
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    assert not os.path.exists(os.path.join(root, "sys/fs/cgroup", job)), "the hook removed it while paused"
    assert [pressure(root, rel) for rel in HOST_GROUPS] == ["1"] * 4
    assert "cgroup.pressure" not in open(os.path.join(state, "journal")).read().replace(
        "/sys/fs/cgroup/machine.slice/cgroup.pressure", ""), "nothing but the VMs' cgroup journaled"


finish()
