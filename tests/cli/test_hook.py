#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The libvirt hook never gets in libvirt's way: nothing on stdout for any
operation, exit 0 whatever happens (errors on stderr, which libvirt logs),
other operations return at once, the domain XML on stdin is read but never
waited for."""
import os
import subprocess
import tempfile
import time

from common import BIN, EX, check, finish, fixture_copy, state_dir, tree_digest

CFG = os.path.join(EX, "desktop-4790k.yaml")
BROKEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "configs", "bad", "02-unknown-key.yaml")
XML = "<domain type='kvm'><name>win10</name><cputune><vcpupin vcpu='0' cpuset='1'/></cputune></domain>\n"


def hook(root, cfg, *args, stdin=XML, state=None, timeout=30):
    return subprocess.run([BIN, "--state-dir", state or state_dir(), "--root", root, "--config", cfg, "hook", "qemu",
                           *args], input=stdin, capture_output=True, text=True, timeout=timeout)


@check("prepare begin with a broken configuration: exit 0, nothing on stdout, file:line:col on stderr, no change")
def _():
    root = fixture_copy("i7-4790k")
    before = tree_digest(root)
    p = hook(root, BROKEN, "win10", "prepare", "begin")
    assert p.returncode == 0, p.returncode
    assert p.stdout == "", repr(p.stdout)
    assert "02-unknown-key.yaml:" in p.stderr and "unknown key" in p.stderr, p.stderr
    assert tree_digest(root) == before


for op, sub in [("migrate", "begin"), ("restore", "begin"), ("reconnect", "begin"), ("attach", "begin"),
                ("started", "begin"), ("no-such-op", "-")]:
    @check(f"{op} {sub}: exit 0 at once, nothing on stdout, nothing changed")
    def _(op=op, sub=sub):
        root = fixture_copy("i7-4790k")
        before = tree_digest(root)
        t = time.monotonic()
        p = hook(root, CFG, "win10", op, sub)
        assert time.monotonic() - t < 5
        assert (p.returncode, p.stdout) == (0, ""), (p.returncode, p.stdout, p.stderr)
        assert tree_digest(root) == before


@check("prepare begin shields, release end gives back, neither prints on stdout")
def _():
    root = fixture_copy("i7-4790k")
    state = state_dir()
    before = tree_digest(root)
    p = hook(root, CFG, "win10", "prepare", "begin", state=state)
    assert (p.returncode, p.stdout) == (0, ""), (p.returncode, p.stdout, p.stderr)
    assert tree_digest(root) != before, "prepare begin changed nothing"
    p = hook(root, CFG, "win10", "release", "end", state=state)
    assert (p.returncode, p.stdout) == (0, ""), (p.returncode, p.stdout, p.stderr)
    p = subprocess.run([BIN, "--state-dir", state, "--root", root, "--config", CFG, "revert"], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert tree_digest(root) == before


@check("stdin that is never closed does not block the hook")
def _():
    root = fixture_copy("i7-4790k")
    r, w = os.pipe()
    try:
        t = time.monotonic()
        p = subprocess.run([BIN, "--state-dir", state_dir(), "--root", root, "--config", CFG, "hook", "qemu", "win10",
                            "prepare", "begin"], stdin=r, capture_output=True, text=True, timeout=30)
        took = time.monotonic() - t
    finally:
        os.close(r)
        os.close(w)
    assert (p.returncode, p.stdout) == (0, ""), (p.returncode, p.stdout, p.stderr)
    assert took < 10, f"took {took:.1f} s"


@check("a usage error still exits 0 with nothing on stdout")
def _():
    p = subprocess.run([BIN, "hook", "lxc", "x"], capture_output=True, text=True, timeout=30)
    assert (p.returncode, p.stdout) == (0, ""), (p.returncode, p.stdout)
    assert "usage" in p.stderr


finish()
