#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Fixture-host tier: drives the real cpushield binary with --root pointing at
copies of real machines' files, and checks what a user would see.

Usage: test_cli.py CPUSHIELD SOURCE_ROOT
Prints one line per check and a closing "N passed, N failed"."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from common import BIN, EX, FIX, SRC, state_dir, check, cpulist, finish, fixture_copy, read, run, tree_digest

BAD = os.path.join(SRC, "tests", "configs", "bad")

# fixture, example, VM to activate
PAIRS = [
    ("i7-4790k", "desktop-4790k.yaml", "win10"),
    ("ryzen-5950x", "ryzen-5950x-l3.yaml", "gaming"),
    ("xeon-2s", "numa-2vm.yaml", "nfv"),
]
FIXTURES = ["i7-4790k", "ryzen-5950x", "xeon-2s", "cloud-vm-2cpu"]


# --- plan on the bundled example host --------------------------------------

@check("partition type: isolated when every thread has one CPU, root when one floats")
def _():
    root = os.path.join(FIX, "i7-4790k")
    cases = [("emulator_pin: 5", "isolated", None),
             ("emulator_pin: 5-7", "root", "emulator"),
             ("emulator_pin: 5\n    iothread_pins: {1: 6-7}", "root", "IOThread 1"),
             ("# no emulator pin", "root", "no emulator_pin")]
    for extra, want, why in cases:
        cfg = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
        cfg.write(f"host: {{cpus: '0,4'}}\nvms:\n  win10:\n    cpus: 1-3,5-7\n    vcpu_pins: [1, 2, 3]\n    {extra}\n")
        cfg.close()
        p = run("plan", "--root", root, "--config", cfg.name, "--activate", "win10", "--libvirt", "no",
                "--output", "json")
        os.unlink(cfg.name)
        assert p.returncode == 0, p.stderr
        doc = json.loads(p.stdout)
        assert doc["partition"]["type"] == want, (extra, doc["partition"])
        assert why is None or why in doc["partition"]["why"], (extra, doc["partition"])
        part = [c for c in doc["changes"] if c["target"].endswith("cpuset.cpus.partition")]
        assert part and part[0]["to"] == want, part
    for forced in ("isolated", "root"):
        cfg = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
        cfg.write(f"host: {{cpus: '0,4', partition_type: {forced}}}\nvms:\n  win10: {{cpus: 1-3}}\n")
        cfg.close()
        p = run("plan", "--root", root, "--config", cfg.name, "--activate", "win10", "--libvirt", "no",
                "--output", "json")
        d = run("doctor", "--root", root, "--config", cfg.name)
        os.unlink(cfg.name)
        doc = json.loads(p.stdout)
        assert doc["partition"]["type"] == forced and "partition_type" in doc["partition"]["why"], doc["partition"]
        floats = any("no vcpu_pins" in w for w in doc["warnings"])
        assert floats == (forced == "isolated"), doc["warnings"]
        assert ("partition_type is isolated" in d.stdout) == (forced == "isolated"), d.stdout
    cfg = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    cfg.write("host: {cpus: '0,4'}\nvms:\n  win10: {cpus: 1-3}\n")
    cfg.close()
    p = run("plan", "--root", root, "--config", cfg.name, "--activate", "win10", "--libvirt", "no", "--output", "json")
    os.unlink(cfg.name)
    assert json.loads(p.stdout)["partition"]["type"] == "root" and "no vcpu_pins" in p.stdout


@check("plan 4790K desktop: IRQs, workqueue mask and pins")
def _():
    root = os.path.join(FIX, "i7-4790k")
    p = run("plan", "--root", root, "--config", os.path.join(EX, "desktop-4790k.yaml"), "--activate", "win10",
            "--output", "json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["active"] == ["win10"], doc["active"]
    assert doc["errors"] == [], doc["errors"]
    changes = {c["target"]: c for c in doc["changes"]}
    # every IRQ the kernel lets us move goes to 0,4; managed ones are reported
    managed = set()
    for n in os.listdir(os.path.join(root, "sys/kernel/debug/irq/irqs")):
        t = read(root, f"/sys/kernel/debug/irq/irqs/{n}")
        if re.search(r"IRQD_(AFFINITY_MANAGED|PER_CPU|NO_BALANCING)", t):
            managed.add(int(n))
    irqs = [int(n) for n in os.listdir(os.path.join(root, "proc/irq")) if n.isdigit()]
    assert len(irqs) > 10
    skipped = {s["target"] for s in doc["skipped"]}
    for n in irqs:
        target = f"/proc/irq/{n}/smp_affinity_list"
        cur = cpulist(read(root, target))
        if n in managed:
            assert target not in changes, f"managed IRQ {n} planned"
            if cur - {0, 4}:
                assert target in skipped, f"managed IRQ {n} not reported"
        elif cur <= {0, 4}:
            assert target not in changes
        else:
            assert target in changes, f"IRQ {n} ({cur}) not moved"
            assert changes[target]["to"] == "0,4", changes[target]
            assert changes[target]["kind"] == "irq" and changes[target]["vm"] == "win10"
    assert changes["/proc/irq/default_smp_affinity"]["to"] == "11"
    assert changes["/sys/devices/virtual/workqueue/cpumask"] == {
        "kind": "workqueue", "target": "/sys/devices/virtual/workqueue/cpumask", "from": "ff", "to": "11",
        "vm": "win10", "name": "unbound workqueues (global)"}
    for wq in ("writeback", "blkcg_punt_bio"):
        assert changes[f"/sys/devices/virtual/workqueue/{wq}/cpumask"]["to"] == "11"
    for i, cpu in enumerate(["1", "2", "3"]):
        c = changes[f"libvirt:win10/vcpu{i}"]
        assert c["to"] == cpu and c["kind"] == "libvirt", c
    assert changes["libvirt:win10/emulator"]["to"] == "5-7"
    # movable kthreads go to 0,4; per-CPU ones are not planned
    kthreads = [c for c in doc["changes"] if c["kind"] == "kthread"]
    assert kthreads and all(c["to"] == "0,4" for c in kthreads), kthreads
    assert any(c["name"] == "kthreadd" for c in kthreads)
    assert not any(c["name"].startswith(("ksoftirqd", "kworker", "migration")) for c in kthreads)
    # cgroup v2 + systemd: unit CPUs through systemd, the partition written directly
    assert changes["systemd:system.slice/AllowedCPUs"]["to"] == "0,4"
    assert changes["systemd:machine.slice/AllowedCPUs"]["to"] == "1-3,5-7"
    # the example pins the emulator to 5-7: an isolated partition would not
    # balance it, so the plan chooses a load-balanced one and says why
    assert changes["/sys/fs/cgroup/machine.slice/cpuset.cpus.partition"]["to"] == "root"
    assert doc["partition"]["type"] == "root" and "emulator" in doc["partition"]["why"], doc["partition"]


@check("plan text output lists the same changes as JSON")
def _():
    root = os.path.join(FIX, "i7-4790k")
    args = ["plan", "--root", root, "--config", os.path.join(EX, "desktop-4790k.yaml"), "--activate", "win10"]
    t = run(*args)
    j = run(*args, "--output", "json")
    assert t.returncode == 0 and j.returncode == 0, t.stderr + j.stderr
    doc = json.loads(j.stdout)
    m = re.search(r"^(\d+) changes", t.stdout, re.M)
    assert m and int(m.group(1)) == len(doc["changes"]), t.stdout[-300:]
    for c in doc["changes"]:
        assert c["target"] in t.stdout, c["target"]
    # json.tool, as a user would check it
    v = subprocess.run([sys.executable, "-m", "json.tool"], input=j.stdout, capture_output=True, text=True)
    assert v.returncode == 0, v.stderr


@check("plan without active VMs changes nothing; --detailed-exitcodes")
def _():
    root = os.path.join(FIX, "i7-4790k")
    cfg = os.path.join(EX, "desktop-4790k.yaml")
    p = run("plan", "--root", root, "--config", cfg, "--output", "json", "--detailed-exitcodes")
    assert p.returncode == 0, (p.returncode, p.stderr)
    assert json.loads(p.stdout)["changes"] == []
    p = run("plan", "--root", root, "--config", cfg, "--activate", "win10", "--detailed-exitcodes")
    assert p.returncode == 2, p.returncode


for fixture, example, vm in PAIRS:
    @check(f"plan on {fixture} with {example} writes nothing")
    def _(fixture=fixture, example=example, vm=vm):
        root = fixture_copy(fixture)
        state = state_dir()
        before = tree_digest(root)
        for extra in ([], ["--activate", vm], ["--activate", vm, "--output", "json"]):
            p = run("plan", "--root", root, "--config", os.path.join(EX, example), *extra, state=state)
            assert p.returncode == 0, p.stderr
            assert "warning" not in p.stderr
        assert tree_digest(root) == before, "plan changed the fixture tree"
        assert os.listdir(state) == [], "plan wrote into the state directory"
        shutil.rmtree(root)


@check("plan on the Xeon v1 host: shield sets, tasks moved, node-local kswapd")
def _():
    root = os.path.join(FIX, "xeon-2s")
    p = run("plan", "--root", root, "--config", os.path.join(EX, "numa-2vm.yaml"), "--activate", "nfv",
            "--output", "json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["active"] == ["db", "nfv"], doc["active"]  # db is activation: always
    ch = {c["target"]: c for c in doc["changes"]}
    assert ch["/sys/fs/cgroup/cpuset/cpushield.host"]["to"] == "(created)"
    assert ch["/sys/fs/cgroup/cpuset/cpushield.host/cpuset.cpus"]["to"] == "0,8,16,24"
    assert ch["/sys/fs/cgroup/cpuset/cpushield.host/cpuset.mems"]["to"] == "0-1"
    assert "/sys/fs/cgroup/cpuset/cpushield.nfv/cpuset.cpus" in ch
    moves = ch["/sys/fs/cgroup/cpuset/cpushield.host/tasks"]
    assert re.match(r"\d+ host tasks", moves["name"]), moves
    # kswapd1 is node-local (node 1 = 8-15,24-31): it keeps to node 1's host CPUs
    ks = [c for c in doc["changes"] if c.get("name") == "kswapd1"]
    assert ks and ks[0]["to"] == "8,24", ks


@check("plan on the cloud VM (no cpufreq, no cpuidle, no systemd)")
def _():
    root = os.path.join(FIX, "cloud-vm-2cpu")
    cfg = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    cfg.write("host: {cpus: 0}\npower_profiles:\n  ll: {governor: performance, max_wakeup_latency_us: 10}\n"
              "vms:\n  guest: {cpus: 1, activation: manual, power: ll}\n")
    cfg.close()
    p = run("plan", "--root", root, "--config", cfg.name, "--activate", "guest", "--output", "json")
    os.unlink(cfg.name)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    ch = {c["target"]: c for c in doc["changes"]}
    # no systemd: the partition is made in cgroupfs directly
    assert ch["/sys/fs/cgroup/cgroup.subtree_control"]["to"].startswith("cpuset")
    assert ch["/sys/fs/cgroup/machine.slice"]["to"] == "(created)"
    assert ch["/sys/fs/cgroup/machine.slice/cpuset.cpus"]["to"] == "1"
    assert not any(t.startswith("systemd:") for t in ch)
    reasons = " ".join(s["reason"] for s in doc["skipped"])
    assert "no cpufreq" in reasons, doc["skipped"]
    assert ch["/sys/devices/system/cpu/cpu1/power/pm_qos_resume_latency_us"]["to"] == "10"


# --- broken configurations ---------------------------------------------------

for name in sorted(os.listdir(BAD)):
    @check(f"bad config {name}: one-line error with position, exit 1, nothing written")
    def _(name=name):
        path = os.path.join(BAD, name)
        with open(path) as f:
            expect = f.readline().split("# expect:", 1)[1].strip()
        m = re.match(r"(\d+):(\d+) (.*)", expect)
        root = fixture_copy("i7-4790k")
        state = state_dir()
        before = tree_digest(root)
        p = run("plan", "--root", root, "--config", path, "--activate", "win10", state=state)
        assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
        lines = p.stderr.splitlines()
        assert len(lines) == 1, p.stderr
        if m:
            want = f"{path}:{m.group(1)}:{m.group(2)}: "
            assert lines[0].startswith(want), f"{lines[0]!r} does not start with {want!r}"
            assert m.group(3) in lines[0], f"{lines[0]!r} lacks {m.group(3)!r}"
        else:
            assert lines[0].startswith(path + ":") and expect in lines[0], lines[0]
        assert p.stdout == "", p.stdout
        assert tree_digest(root) == before
        assert os.listdir(state) == []
        shutil.rmtree(root)


# --- status and xml ------------------------------------------------------------

for fixture in FIXTURES:
    @check(f"status draws {fixture}")
    def _(fixture=fixture):
        root = os.path.join(FIX, fixture)
        p = run("status", "--root", root, "--config", "/dev/null")
        assert p.returncode == 1 and "no 'host:' section" in p.stderr  # an empty config is refused
        p = subprocess.run([BIN, "status", "--root", root], capture_output=True, text=True,
                           env={**os.environ})
        # without /etc/cpushield the map is drawn without owners
        assert p.returncode == 0, p.stderr
        online = cpulist(read(root, "/sys/devices/system/cpu/online"))
        for cpu in online:
            assert re.search(rf"\[\s*{cpu} ", p.stdout), f"CPU {cpu} missing"
        j = run("status", "--root", root, "--output", "json")
        doc = json.loads(j.stdout)
        assert {c["cpu"] for c in doc["cpus"]} == online


@check("status 4790K shows SMT pairs 0/4, 1/5, 2/6, 3/7 and owners")
def _():
    p = run("status", "--root", os.path.join(FIX, "i7-4790k"), "--config", os.path.join(EX, "desktop-4790k.yaml"))
    assert p.returncode == 0, p.stderr
    for k, (a, b) in enumerate([(0, 4), (1, 5), (2, 6), (3, 7)]):
        owner = "host" if k == 0 else "win10"
        assert re.search(rf"core {k}\s+\[\s*{a} {owner}\s*\] \[\s*{b} {owner}\s*\]", p.stdout), p.stdout


@check("status Ryzen shows two L3 domains")
def _():
    p = run("status", "--root", os.path.join(FIX, "ryzen-5950x"), "--config", os.path.join(EX, "ryzen-5950x-l3.yaml"))
    assert p.returncode == 0, p.stderr
    assert "L3 #0 (CPUs 0-7,16-23)" in p.stdout and "L3 #1 (CPUs 8-15,24-31)" in p.stdout, p.stdout
    assert re.search(r"core 8\s+\[\s*8 gaming\s*\] \[\s*24 gaming\s*\]", p.stdout), p.stdout


@check("xml prints the <cputune> of the example")
def _():
    p = run("xml", "win10", "--root", os.path.join(FIX, "i7-4790k"), "--config", os.path.join(EX, "desktop-4790k.yaml"))
    assert p.returncode == 0, p.stderr
    for i, cpu in enumerate([1, 2, 3]):
        assert f"<vcpupin vcpu='{i}' cpuset='{cpu}'/>" in p.stdout, p.stdout
    assert "<emulatorpin cpuset='5-7'/>" in p.stdout
    p = run("xml", "nosuch", "--root", os.path.join(FIX, "i7-4790k"), "--config", os.path.join(EX, "desktop-4790k.yaml"))
    assert p.returncode == 1 and "nosuch" in p.stderr


# --- power and doctor ---------------------------------------------------------

@check("power plan on the 4790K: governor, min frequency, PM QoS, deep idle states, VM CPUs only")
def _():
    p = run("plan", "--root", os.path.join(FIX, "i7-4790k"), "--config", os.path.join(EX, "desktop-4790k.yaml"),
            "--activate", "win10", "--output", "json")
    assert p.returncode == 0, p.stderr
    power = [c for c in json.loads(p.stdout)["changes"] if c["kind"] == "power"]
    cpus = set()
    for c in power:
        m = re.search(r"/(?:cpu|policy)(\d+)/", c["target"])
        cpus.add(int(m.group(1)))
    assert cpus == {1, 2, 3, 5, 6, 7}, cpus
    t = {c["target"]: c for c in power}
    base = "/sys/devices/system/cpu"
    for cpu in (1, 2, 3, 5, 6, 7):
        assert t[f"{base}/cpufreq/policy{cpu}/scaling_governor"]["to"] == "performance"
        assert t[f"{base}/cpufreq/policy{cpu}/scaling_min_freq"]["to"] == "4400000"
        assert t[f"{base}/cpu{cpu}/power/pm_qos_resume_latency_us"]["to"] == "20"
        assert t[f"{base}/cpu{cpu}/cpuidle/state3/disable"]["to"] == "1"  # C3, 33 us
        assert t[f"{base}/cpu{cpu}/cpuidle/state4/disable"]["to"] == "1"  # C6, 133 us
        assert f"{base}/cpu{cpu}/cpuidle/state2/disable" not in t  # C1E, 10 us


@check("power: an EPP intel_pstate refuses is a warning naming the file and the rule; the rest applies")
def _():
    cfg = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    cfg.write('host: {cpus: "0,4"}\npower_profiles:\n  p:\n    governor: performance\n'
              '    energy_performance_preference: balance_power\nvms:\n  w: {cpus: "1-3,5-7", power: p}\n')
    cfg.close()
    p = run("plan", "--root", os.path.join(FIX, "i7-4790k"), "--config", cfg.name, "--activate", "w",
            "--output", "json")
    os.unlink(cfg.name)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    w = [x for x in doc["warnings"] if "intel_pstate refuses" in x]
    assert w and f"{cfg.name}:5:36" in w[0], doc["warnings"]
    assert any(c["target"].endswith("policy1/scaling_governor") for c in doc["changes"])
    assert not any("energy_performance_preference" in c["target"] for c in doc["changes"])


@check("doctor: irqbalance on the Xeon, L3 split on the Ryzen, cpu_dma_latency explained")
def _():
    p = run("doctor", "--root", os.path.join(FIX, "xeon-2s"), "--config", os.path.join(EX, "numa-2vm.yaml"))
    assert p.returncode == 0, p.stderr
    assert "warning: irqbalance is running" in p.stdout and "/dev/cpu_dma_latency is not used" in p.stdout
    cfg = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    cfg.write("host: {cores: [0]}\nvms:\n  wide: {cores: [6, 7, 8, 9]}\n")
    cfg.close()
    p = run("doctor", "--root", os.path.join(FIX, "ryzen-5950x"), "--config", cfg.name, "--output", "json")
    os.unlink(cfg.name)
    doc = json.loads(p.stdout)
    assert p.returncode == 0 and any("spans 2 L3 domains" in w for w in doc["warnings"]), doc


@check("doctor: PSI's averaging work is named, and not with psi=0 on the command line")
def _():
    root = fixture_copy("i7-4790k")
    cfg = os.path.join(EX, "desktop-4790k.yaml")
    notes = lambda: json.loads(run("doctor", "--root", root, "--config", cfg, "--output", "json").stdout)["notes"]
    assert any("psi=0" in n for n in notes()), notes()
    # cgroup v2 and defaults.pressure (move): the note says cpushield switches it off in the VMs' cgroups,
    # and moves the others' work
    assert any("cgroup.pressure" in n and "switches it off" in n and "moves the other cgroups'" in n
               for n in notes()), notes()
    with open(os.path.join(root, "proc/cmdline")) as f:
        cmdline = f.read().strip()
    for value, named in (("psi=1", True), ("psi=0", False)):
        with open(os.path.join(root, "proc/cmdline"), "w") as f:
            f.write(f"{cmdline} {value}\n")
        assert any("psi=0" in n for n in notes()) == named, (value, notes())
    # cgroup v1 with systemd's unified hierarchy (the Xeon): PSI follows that tree, switched off there too
    doc = json.loads(run("doctor", "--root", os.path.join(FIX, "xeon-2s"), "--config",
                         os.path.join(EX, "numa-2vm.yaml"), "--output", "json").stdout)
    assert any("switches it off" in n and "unified hierarchy" in n for n in doc["notes"]), doc["notes"]
    # cgroup v1 with no cgroup2 mounted: the host-wide work is reached through a mount of cpushield's own
    root = fixture_copy("xeon-2s")
    with open(os.path.join(root, "proc/mounts")) as f:
        mounts = f.read()
    with open(os.path.join(root, "proc/mounts"), "w") as f:
        f.write("".join(l for l in mounts.splitlines(True) if " cgroup2 " not in l))
    doc = json.loads(run("doctor", "--root", root, "--config", os.path.join(EX, "numa-2vm.yaml"),
                         "--output", "json").stdout)
    assert any("no cgroup2 is mounted" in n and "cgroup2:/cgroup.pressure" in n and "only its own run sees" in n
               for n in doc["notes"]), doc["notes"]


@check("doctor: per-CPU power-efficient workqueues are named, not once the boot makes them unbound")
def _():
    root = fixture_copy("i7-4790k")
    cfg = os.path.join(EX, "desktop-4790k.yaml")
    named = lambda: any("workqueue.power_efficient=1" in n for n in json.loads(
        run("doctor", "--root", root, "--config", cfg, "--output", "json").stdout)["notes"])
    assert not named()  # no such parameter file: nothing said
    param = os.path.join(root, "sys/module/workqueue/parameters")
    os.makedirs(param)
    for value, said in (("N", True), ("Y", False)):
        with open(os.path.join(param, "power_efficient"), "w") as f:
            f.write(value + "\n")
        assert named() == said, value


finish()
