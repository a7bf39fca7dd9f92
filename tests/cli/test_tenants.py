#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Other tenants of the VMs' cgroup: a process in machine.slice that no
active VM owns (another libvirt domain, a container) would be confined to
the VMs' CPUs by the partition. Forming the partition is refused with a
message naming it; the VM's own machine scope is not a tenant; verify
counts a tenant as noise (once the partition stands, a no-op apply reads no
task at all: verify is where a later tenant shows)."""
import json
import os

from common import BIN, EX, check, finish, fixture_copy, run, state_dir, tree_digest

CFG = os.path.join(EX, "desktop-4790k.yaml")  # win10: activation libvirt


def put_in(root, pid, cgroup, cpus=None):
    with open(os.path.join(root, "proc", str(pid), "cgroup"), "w") as f:
        f.write(f"0::{cgroup}\n")
    if cpus:  # what the kernel shows once the partition confines it
        path = os.path.join(root, "proc", str(pid), "status")
        with open(path) as f:
            lines = [f"Cpus_allowed_list:\t{cpus}" if l.startswith("Cpus_allowed_list:") else l
                     for l in f.read().splitlines()]
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")


@check("a foreign domain in machine.slice: plan refuses to form the partition and names it")
def _():
    root = fixture_copy("i7-4790k")
    put_in(root, 1470, "/machine.slice/machine-qemu\\x2d2\\x2dother.scope")
    p = run("--root", root, "--config", CFG, "--libvirt", "no", "plan", "--activate", "win10", "--output", "json")
    assert p.returncode == 1, (p.returncode, p.stderr)
    doc = json.loads(p.stdout)
    assert any("process 1470 (ffmpeg)" in e and "machine.slice" in e for e in doc["errors"]), doc["errors"]
    before = tree_digest(root)
    state = state_dir()
    p = run("--root", root, "--config", CFG, "--libvirt", "no", "activate", "win10", state=state)
    assert p.returncode == 1 and "process 1470" in p.stderr, (p.returncode, p.stderr)
    assert tree_digest(root) == before, "a refused plan changed the host"


@check("the VM's own machine scope is not a tenant")
def _():
    root = fixture_copy("i7-4790k")
    put_in(root, 1470, "/machine.slice/machine-qemu\\x2d1\\x2dwin10.scope/libvirt/emulator")
    p = run("--root", root, "--config", CFG, "--libvirt", "no", "plan", "--activate", "win10", "--output", "json")
    assert p.returncode == 0, p.stdout + p.stderr
    assert json.loads(p.stdout)["errors"] == []


@check("after the partition formed, verify counts a tenant as noise")
def _():
    root = fixture_copy("i7-4790k")
    state = state_dir()
    p = run("--root", root, "--config", CFG, "--libvirt", "no", "activate", "win10", state=state)
    assert p.returncode == 0, p.stderr
    put_in(root, 1470, "/machine.slice/machine-qemu\\x2d2\\x2dother.scope", cpus="1-3,5-7")
    # a no-op apply reads no task while the partition stands: it goes on
    p = run("--root", root, "--config", CFG, "--libvirt", "no", "apply", "--detailed-exitcodes", state=state)
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    p = run("--root", root, "--config", CFG, "--libvirt", "no", "verify", state=state)
    assert p.returncode == 1 and "task 1470 (ffmpeg)" in p.stdout, (p.returncode, p.stdout)


@check("6.2+ (Ryzen fixture, 6.12): the tenant is found in the partition cgroup, without reading every task")
def _():
    root = fixture_copy("ryzen-5950x")
    scope = "/machine.slice/machine-qemu\\x2d2\\x2dother.scope"
    put_in(root, 2120, scope)
    cg = os.path.join(root, "sys", "fs", "cgroup") + scope
    os.makedirs(cg)
    with open(os.path.join(cg, "cgroup.procs"), "w") as f:
        f.write("2120\n")
    cfg = os.path.join(EX, "ryzen-5950x-l3.yaml")
    p = run("--root", root, "--config", cfg, "--libvirt", "no", "plan", "--activate", "gaming", "--output", "json")
    assert p.returncode == 1, (p.returncode, p.stderr)
    doc = json.loads(p.stdout)
    assert any("process 2120 (ffmpeg)" in e and scope in e for e in doc["errors"]), doc["errors"]


finish()
