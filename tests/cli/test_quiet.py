#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Runtime quieting: while a VM is shielded the watchdog runs only on the
host's CPUs and the vmstat refresh comes every 10 s; both are journaled and
revert puts them back byte for byte; a host without the files plans none."""
import json
import os

from common import EX, check, finish, fixture_copy, run, state_dir, tree_digest

CFG = os.path.join(EX, "desktop-4790k.yaml")  # host 0,4; win10 1-3,5-7


def add_sysctls(root, watchdog="0-7", interval="1"):
    for rel, v in (("proc/sys/kernel/watchdog_cpumask", watchdog), ("proc/sys/vm/stat_interval", interval)):
        os.makedirs(os.path.join(root, os.path.dirname(rel)), exist_ok=True)
        with open(os.path.join(root, rel), "w") as f:
            f.write(v + "\n")


def read(root, rel):
    with open(os.path.join(root, rel)) as f:
        return f.read().strip()


@check("activate narrows the watchdog and slows vmstat; revert restores both")
def _():
    root = fixture_copy("i7-4790k")
    add_sysctls(root)
    before = tree_digest(root)
    state = state_dir()
    p = run("--root", root, "--config", CFG, "--libvirt", "no", "plan", "--activate", "win10", "--output", "json")
    quiet = [c for c in json.loads(p.stdout)["changes"] if c["kind"] == "quiet"]
    assert {c["target"]: c["to"] for c in quiet} == {"/proc/sys/kernel/watchdog_cpumask": "0,4",
                                                     "/proc/sys/vm/stat_interval": "10"}, quiet
    assert run("--root", root, "--config", CFG, "--libvirt", "no", "activate", "win10", state=state).returncode == 0
    assert read(root, "proc/sys/kernel/watchdog_cpumask") == "0,4"
    assert read(root, "proc/sys/vm/stat_interval") == "10"
    p = run("--root", root, "--config", CFG, "--libvirt", "no", "apply", "--detailed-exitcodes", state=state)
    assert p.returncode == 0, (p.returncode, p.stdout)
    assert run("--root", root, "--config", CFG, "--libvirt", "no", "deactivate", "win10", state=state).returncode == 0
    assert run("--root", root, "--config", CFG, "--libvirt", "no", "revert", state=state).returncode == 0
    assert tree_digest(root) == before


@check("a slower vmstat already, and a narrower watchdog, are kept")
def _():
    root = fixture_copy("i7-4790k")
    add_sysctls(root, watchdog="0", interval="30")
    p = run("--root", root, "--config", CFG, "--libvirt", "no", "plan", "--activate", "win10", "--output", "json")
    assert [c for c in json.loads(p.stdout)["changes"] if c["kind"] == "quiet"] == []


@check("no sysctl files: nothing planned")
def _():
    root = fixture_copy("i7-4790k")
    p = run("--root", root, "--config", CFG, "--libvirt", "no", "plan", "--activate", "win10", "--output", "json")
    assert [c for c in json.loads(p.stdout)["changes"] if c["kind"] == "quiet"] == []


finish()
