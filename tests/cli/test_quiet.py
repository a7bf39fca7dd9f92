#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Runtime quieting: while a VM is shielded the watchdog runs only on the
host's CPUs and the vmstat refresh comes every 120 s; both are journaled and
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


def config_with(defaults):
    """The desktop example with a defaults section of its own."""
    path = os.path.join(state_dir(), "quiet.yaml")
    with open(CFG) as src:
        lines = [l for l in src.read().splitlines(True)
                 if not any(l.lstrip().startswith(k + ":") for k in defaults)]
    at = lines.index("defaults:\n") + 1
    lines[at:at] = [f"  {k}: {v}\n" for k, v in defaults.items()]
    with open(path, "w") as dst:
        dst.write("".join(lines))
    return path


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


@check("a vmstat_interval out of range is an error naming the file, line and value")
def _():
    root = fixture_copy("i7-4790k")
    add_sysctls(root)
    before = tree_digest(root)
    for bad in ("0", "3601", "often"):
        cfg = config_with({"vmstat_interval": bad})
        p = run("--root", root, "--config", cfg, "--libvirt", "no", "plan", "--activate", "win10")
        line = next(i for i, l in enumerate(open(cfg), 1) if "vmstat_interval" in l)
        assert p.returncode != 0 and p.stdout == "", (bad, p.returncode, p.stdout)
        assert f"{cfg}:{line}:" in p.stderr and "vmstat_interval" in p.stderr and bad in p.stderr, p.stderr
    assert tree_digest(root) == before


finish()
