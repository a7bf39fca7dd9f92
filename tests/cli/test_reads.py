#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The host is read once per run: a no-op apply (after activate, and with no
VM active) opens each file below the fixture root at most once, counted
with strace. Also: activate reads no file twice either, except the items it
changes (read before the write and read back after it)."""
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile

from common import BIN, EX, check, finish, fixture_copy, run, state_dir

if not shutil.which("strace"):
    if os.environ.get("CI"):
        print("strace missing and CI is set: failing, not skipping")
        sys.exit(1)
    print("SKIP: strace is not installed (apt-get install strace)")
    sys.exit(77)

CASES = [
    ("i7-4790k", os.path.join(EX, "desktop-4790k.yaml"), "win10"),
    ("ryzen-5950x", os.path.join(EX, "ryzen-5950x-l3.yaml"), "gaming"),
    ("xeon-2s", os.path.join(EX, "numa-2vm.yaml"), "nfv"),
]

OPEN = re.compile(r'open(?:at2?)?\((?:\d+|AT_FDCWD), "([^"]+)"')


def opens_below_root(root, cfg, state, *args):
    """Paths opened relative to the root fd (relative names), with counts;
    the state directory's components (checked one by one) are not host files."""
    state_parts = set(os.path.realpath(state).strip("/").split("/"))
    with tempfile.NamedTemporaryFile("r", suffix=".strace") as out:
        p = subprocess.run(["strace", "-f", "-qq", "-e", "trace=open,openat,openat2", "-o", out.name,
                            BIN, "--state-dir", state, "--root", root, "--config", cfg, *args],
                           capture_output=True, text=True, timeout=300,
                           # LeakSanitizer cannot run under ptrace (sanitizer builds)
                           env={**os.environ, "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0"})
        assert p.returncode == 0, p.stderr
        counts = collections.Counter()
        for line in out.read().splitlines():
            # an O_PATH open reads nothing (a check that a cgroup exists)
            m = None if "O_PATH" in line else OPEN.search(line)
            # below the root the tool opens relative paths from its root fd
            if m and not m.group(1).startswith("/") and m.group(1) != "." and "cpushield-tmp" not in m.group(1) \
                    and m.group(1) not in state_parts:
                counts[m.group(1)] += 1
        return counts


for fixture, cfg, vm in CASES:
    @check(f"no-op apply on {fixture} reads each host file at most once")
    def _(fixture=fixture, cfg=cfg, vm=vm):
        root = fixture_copy(fixture)
        state = state_dir()
        p = run("--root", root, "--config", cfg, "activate", vm, state=state)
        assert p.returncode == 0, p.stderr
        counts = opens_below_root(root, cfg, state, "apply", "--detailed-exitcodes")
        assert len(counts) > 50, f"only {len(counts)} files opened: is strace counting the right calls?"
        twice = {k: v for k, v in counts.items() if v > 1}
        assert not twice, f"opened more than once: {sorted(twice.items())[:10]}"

    @check(f"no-op apply with no VM active on {fixture} reads each host file at most once")
    def _(fixture=fixture, cfg=cfg):
        root = fixture_copy(fixture)
        state = state_dir()
        p = run("--root", root, "--config", cfg, "apply", state=state)  # "always" VMs converge first
        assert p.returncode == 0, p.stderr
        counts = opens_below_root(root, cfg, state, "apply")
        twice = {k: v for k, v in counts.items() if v > 1}
        assert not twice, f"opened more than once: {sorted(twice.items())[:10]}"

def user_task_files(root, counts, name):
    """Of the files opened, the `name` files of user tasks (not children of
    kthreadd), by TID."""
    with open(os.path.join(root, "proc/2/task/2/children")) as f:
        kthreads = {2} | {int(x) for x in f.read().split()}
    tids = set()
    for path in counts:
        m = re.fullmatch(r"proc/(\d+)(?:/task/(\d+))?/" + name, path)
        if m and int(m.group(1)) not in kthreads:
            tids.add(int(m.group(2) or m.group(1)))
    return tids


@check("cgroup v1: activate reads the name and start of pinned user tasks only, deactivate and revert none")
def _():
    root, state, cfg = fixture_copy("xeon-2s"), state_dir(), os.path.join(EX, "numa-2vm.yaml")
    with open(os.path.join(root, "sys/fs/cgroup/cpuset/tasks")) as f:
        root_set = len(f.read().split())
    counts = opens_below_root(root, cfg, state, "activate", "db")
    with open(os.path.join(state, "journal")) as f:
        assert "/proc/1860\t3\t" in f.read(), "pgbench's own mask (CPU 3) is not in the journal"
    assert user_task_files(root, counts, "stat") == {1860}, sorted(user_task_files(root, counts, "stat"))
    # below --root the mask comes from status (the kernel answers sched_getaffinity): one file per TID
    assert len(user_task_files(root, counts, "status")) <= root_set, root_set
    for cmd in (["deactivate", "db"], ["revert"]):
        counts = opens_below_root(root, cfg, state, *cmd)
        # (cgroup files are the simulator's: it writes what a move changes)
        touched = set().union(*(user_task_files(root, counts, n) for n in ("stat", "status")))
        assert touched <= {1860}, (cmd, sorted(touched)[:10])
    with open(os.path.join(root, "proc/1860/status")) as f:
        assert "Cpus_allowed_list:\t3\n" in f.read(), "pgbench did not get CPU 3 back"


@check("a no-op apply for its summary line reads no IRQ names; --verbose lists them")
def _():
    # i7-4790k: nvme0q2 (IRQ 36) is managed on a VM CPU, left alone by name
    root = fixture_copy("i7-4790k")
    cfg = os.path.join(EX, "desktop-4790k.yaml")
    state = state_dir()
    p = run("--root", root, "--config", cfg, "activate", "win10", state=state)
    assert p.returncode == 0, p.stderr
    counts = opens_below_root(root, cfg, state, "apply")
    assert counts["sys/kernel/debug/irq/irqs/36"] == 1, "the flags decide: read"
    assert "proc/interrupts" not in counts, "names are for a report"
    counts = opens_below_root(root, cfg, state, "apply", "--verbose")
    assert counts["proc/interrupts"] == 1
    p = run("--root", root, "--config", cfg, "apply", "--verbose", state=state)
    assert "/proc/irq/36/smp_affinity_list: nvme0q2: managed by the kernel" in p.stdout, p.stdout


@check("revert with nothing journaled (after the last deactivate) reads no task, IRQ or workqueue file")
def _():
    root, state = fixture_copy("xeon-2s"), state_dir()
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write('version: 1\nhost: {cpus: "0,16"}\nvms:\n  vm: {activation: manual, cpus: "1-7,17-23"}\n')
        cfg = f.name
    for cmd in (["activate", "vm"], ["deactivate", "vm"]):
        assert run("--root", root, "--config", cfg, *cmd, state=state).returncode == 0
    if os.path.exists(os.path.join(state, "journal")):
        with open(os.path.join(state, "journal")) as f:
            assert "\nitem\t" not in f.read(), "deactivate left items: not the case this checks"
    counts = opens_below_root(root, cfg, state, "revert")
    os.unlink(cfg)
    # (proc/1/comm says whether systemd is the init system: the cgroup layout)
    read = [p for p in counts if re.match(r"proc/\d|proc/irq/|sys/devices/virtual/workqueue/", p)
            and p != "proc/1/comm"]
    assert not read, sorted(read)[:10]


def libraries_loaded(*args, state=None):
    """Every shared object the dynamic loader opened for this run (LD_DEBUG)."""
    p = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "LD_DEBUG": "files"})
    return p, set(re.findall(r"file=(\S+) \[", p.stderr))


@check("--version loads no libvirt library")
def _():
    p, libs = libraries_loaded("--version")
    assert p.returncode == 0
    assert any("libyaml" in lib for lib in libs), f"LD_DEBUG shows no libraries at all: {sorted(libs)}"
    assert not [lib for lib in libs if "libvirt" in lib], sorted(libs)


@check("a no-op apply without libvirt VMs loads no libvirt library")
def _():
    root = fixture_copy("cloud-vm-2cpu")
    cfg = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    cfg.write("host: {cpus: 0}\nvms:\n  guest: {cpus: 1, activation: manual}\n")
    cfg.close()
    state = state_dir()
    assert run("--root", root, "--config", cfg.name, "apply", state=state).returncode == 0
    p, libs = libraries_loaded("--state-dir", state, "--root", root, "--config", cfg.name, "--libvirt", "yes", "apply")
    os.unlink(cfg.name)
    assert p.returncode == 0, p.stderr
    assert not [lib for lib in libs if "libvirt" in lib], sorted(libs)


@check("a libvirt VM with pins does load libvirt (the check above can fail)")
def _():
    root = fixture_copy("i7-4790k")
    p, libs = libraries_loaded("--state-dir", state_dir(), "--root", root, "--config",
                               os.path.join(EX, "desktop-4790k.yaml"), "--libvirt", "yes", "plan", "--activate", "win10")
    assert [lib for lib in libs if "libvirt.so" in lib], sorted(libs)


finish()
