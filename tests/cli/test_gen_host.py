#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The synthetic hosts of bench/gen-host.py are valid hosts: small ones pass
the fixture checks, plan every kind of change for their VM, and activate /
revert restores them byte for byte.  (What the scale benchmark measures is
only worth something if the big trees are real hosts too.)"""
import json
import os
import shutil
import subprocess
import sys

from common import FIX, SRC, _mkdtemp, check, finish, run, tree_diff, tree_digest

GEN = os.path.join(SRC, "bench", "gen-host.py")


def generate(*args):
    dest = _mkdtemp("cpushield-gen-")
    p = subprocess.run([sys.executable, GEN, "--cpus", "16", "--irqs", "64", "--threads", "300", *args, dest],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    with open(os.path.join(dest, "host.json")) as f:
        return dest, json.load(f)


def cs(dest, *args, root=None, state=None):
    return run("--root", root or os.path.join(dest, "root"), "--config", os.path.join(dest, "cpushield.yaml"),
               *args, state=state)


V2, V2_INFO = generate()
V1, V1_INFO = generate("--cgroup", "v1")


@check("gen-host: the tree has the size asked for and passes the fixture checks")
def _():
    assert (V2_INFO["cpus"], V2_INFO["irqs"], V2_INFO["threads"]) == (16, 64, 300), V2_INFO
    assert V2_INFO["managed_irqs"] > 0 and V2_INFO["kernel_threads"] > 16 * 4, V2_INFO
    p = subprocess.run([sys.executable, os.path.join(FIX, "check-fixtures.py"), os.path.join(V2, "root"),
                        os.path.join(V1, "root")], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr


@check("gen-host: the same arguments write the same tree")
def _():
    again, _ = generate()
    assert tree_digest(os.path.join(again, "root")) == tree_digest(os.path.join(V2, "root")), \
        tree_diff(os.path.join(V2, "root"), os.path.join(again, "root"))


for dest, cg in ((V2, "v2"), (V1, "v1")):
    @check(f"gen-host ({cg}): plan --activate big changes cpusets, IRQs, kthreads, workqueues and power")
    def _(dest=dest):
        p = cs(dest, "plan", "--activate", "big", "--output", "json")
        assert p.returncode == 0, p.stderr
        doc = json.loads(p.stdout)
        assert doc["errors"] == [], doc["errors"]
        kinds = {c["kind"] for c in doc["changes"]}
        assert kinds >= {"cpuset", "irq", "kthread", "workqueue", "power"}, kinds

    @check(f"gen-host ({cg}): activate, no-op apply, revert to the identical tree")
    def _(dest=dest):
        root = _mkdtemp("cpushield-gen-copy-")
        shutil.copytree(os.path.join(dest, "root"), root, symlinks=True, dirs_exist_ok=True)
        before, state = tree_digest(root), _mkdtemp("cpushield-state-")
        p = cs(dest, "activate", "big", "--detailed-exitcodes", root=root, state=state)
        assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
        assert tree_digest(root) != before
        p = cs(dest, "apply", "--detailed-exitcodes", root=root, state=state)
        assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
        p = cs(dest, "revert", "--detailed-exitcodes", root=root, state=state)
        assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
        assert tree_digest(root) == before, tree_diff(os.path.join(dest, "root"), root)


finish()
