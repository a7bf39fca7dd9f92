#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""verify judges what the kernel applies: on 6.6+ a workqueue's requested
mask that still names the VMs' CPUs is not noise when the global effective
mask (request minus isolated CPUs) leaves them out, as a partition does."""
import os

from common import EX, check, finish, fixture_copy, run

CFG = os.path.join(EX, "ryzen-5950x-l3.yaml")  # gaming: CPUs 8-15,24-31


def write(root, rel, text):
    with open(os.path.join(root, rel), "w") as f:
        f.write(text + "\n")


WQ = "sys/devices/virtual/workqueue"


@check("6.12: writeback's request includes VM CPUs, the effective global mask does not: no noise")
def _():
    root = fixture_copy("ryzen-5950x")
    write(root, f"{WQ}/cpumask", "00ff00ff")  # what a partition of 8-15,24-31 leaves
    p = run("--root", root, "--config", CFG, "--libvirt", "no", "verify", "--activate", "gaming")
    assert "workqueue writeback" not in p.stdout, p.stdout
    assert "workqueue (global" not in p.stdout, p.stdout


@check("6.12: with the effective global mask on the VM CPUs, writeback is noise (the check can fail)")
def _():
    root = fixture_copy("ryzen-5950x")
    p = run("--root", root, "--config", CFG, "--libvirt", "no", "verify", "--activate", "gaming")
    assert p.returncode == 1 and "workqueue writeback" in p.stdout, p.stdout


finish()
