#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A journal cpushield cannot read is an error in every command that reads
it, never "empty": a record of an unknown kind, of an unknown op, and a
truncated line each make revert, plan, status and verify exit 1 naming the
journal file and the line, and nothing is written (host tree and state
directory unchanged)."""
import os

from common import EX, check, finish, fixture_copy, run, state_dir, tree_digest

CFG = os.path.join(EX, "desktop-4790k.yaml")


def damaged_journal(mutate):
    """A real journal from activate, with one record replaced; returns
    (root, state, bad line number)."""
    root, state = fixture_copy("i7-4790k"), state_dir()
    p = run("--root", root, "--config", CFG, "--libvirt", "no", "activate", "win10", state=state)
    assert p.returncode == 0, p.stderr
    path = os.path.join(state, "journal")
    with open(path) as f:
        lines = f.read().split("\n")
    k = next(i for i, l in enumerate(lines) if l.startswith("item\t") and "\tirq/write\t/proc/irq/16/" in l)
    lines[k] = mutate(lines[k])
    with open(path, "w") as f:
        f.write("\n".join(lines))
    return root, state, k + 1


CASES = {
    "unknown kind": lambda l: l.replace("\tirq/write\t", "\tirqq/write\t"),
    "unknown op": lambda l: l.replace("\tirq/write\t", "\tirq/scribble\t"),
    "truncated line": lambda l: "\t".join(l.split("\t")[:4]),
}

for name, mutate in CASES.items():
    for cmd in (["revert"], ["plan"], ["status"], ["verify"], ["apply"]):
        @check(f"{name}: {cmd[0]} exits 1 naming journal:LINE and writes nothing")
        def _(mutate=mutate, cmd=cmd):
            root, state, line = damaged_journal(mutate)
            tree = tree_digest(root)
            files = {n: open(os.path.join(state, n), "rb").read() for n in os.listdir(state)
                     if os.path.isfile(os.path.join(state, n))}
            p = run("--root", root, "--config", CFG, "--libvirt", "no", *cmd, state=state)
            assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
            assert f"journal:{line}" in p.stderr, p.stderr
            assert tree_digest(root) == tree, "the host changed"
            after = {n: open(os.path.join(state, n), "rb").read() for n in os.listdir(state)
                     if os.path.isfile(os.path.join(state, n))}
            assert {n: v for n, v in after.items() if n != "lock"} == {n: v for n, v in files.items() if n != "lock"}


@check("revert --force restores the readable items, keeps the bad line, exits 1")
def _():
    root, state, line = damaged_journal(CASES["unknown kind"])
    p = run("--root", root, "--config", CFG, "--libvirt", "no", "revert", "--force", state=state)
    assert p.returncode == 1 and f"journal:{line}" in p.stderr, (p.returncode, p.stderr)
    with open(os.path.join(state, "journal")) as f:
        assert "irqq/write" in f.read(), "the unreadable record was dropped"
    with open(os.path.join(root, "proc/irq/1/smp_affinity_list")) as f:
        assert f.read().strip() != "0,4", "readable items were not restored"


finish()
