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

from common import BIN, EX, check, finish, fixture_copy, state_dir, tree_digest, xml_check

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


# --- the domain's <cputune> against the configuration (desktop-4790k.yaml:
# win10 pins vCPUs 0-2 to CPUs 1, 2, 3 and the emulator to 5-7) ------------

def domain(tune, name="win10", extra=""):
    return f"<domain type='kvm'><name>{name}</name><vcpu>3</vcpu><cputune>{tune}</cputune>{extra}</domain>\n"


AGREE = ("<vcpupin vcpu='0' cpuset='1'/><vcpupin vcpu='1' cpuset='2'/><vcpupin vcpu='2' cpuset='3'/>"
         "<emulatorpin cpuset='5,6,7'/>")


@xml_check("a <cputune> that agrees with the configuration (by meaning: 5,6,7 = 5-7): no warning")
def _():
    p = hook(fixture_copy("i7-4790k"), CFG, "win10", "prepare", "begin", stdin=domain(AGREE))
    assert (p.returncode, p.stdout) == (0, ""), (p.returncode, p.stdout, p.stderr)
    assert "warning" not in p.stderr, p.stderr


@xml_check("the <cputune> 'cpushield xml' prints agrees with the configuration")
def _():
    root = fixture_copy("i7-4790k")
    x = subprocess.run([BIN, "--state-dir", state_dir(), "--root", root, "--config", CFG, "xml", "win10"],
                       capture_output=True, text=True, timeout=30)
    assert x.returncode == 0, x.stderr
    xml = f"<domain type='kvm'><name>win10</name>{x.stdout}</domain>\n"
    p = hook(root, CFG, "win10", "prepare", "begin", stdin=xml)
    assert (p.returncode, p.stdout) == (0, ""), (p.returncode, p.stdout, p.stderr)
    assert "warning" not in p.stderr, p.stderr


@xml_check("a <cputune> that disagrees: one warning naming both values, exit 0, nothing on stdout")
def _():
    tune = AGREE.replace("vcpu='1' cpuset='2'", "vcpu='1' cpuset='0-3,^1'").replace("'5,6,7'", "'4'")
    p = hook(fixture_copy("i7-4790k"), CFG, "win10", "prepare", "begin", stdin=domain(tune))
    assert (p.returncode, p.stdout) == (0, ""), (p.returncode, p.stdout, p.stderr)
    warn = [ln for ln in p.stderr.splitlines() if "<cputune> disagrees" in ln]
    assert len(warn) == 1, p.stderr
    w = warn[0]
    assert "hook win10 prepare begin: warning:" in w, w
    assert "vCPU 1 pinned to 0-3,^1 in the domain, to 2 in the configuration (line 61, column 20)" in w, w
    assert "the emulator pinned to 4 in the domain, to 5-7 in the configuration (line 64, column 19)" in w, w
    assert "vCPU 0" not in w and "vCPU 2" not in w, w
    assert "desktop-4790k.yaml" in w, w


@xml_check("a <cputune> pinning a vCPU the configuration does not, or missing one it does: both said")
def _():
    tune = AGREE.replace("<vcpupin vcpu='2' cpuset='3'/>", "<vcpupin vcpu='3' cpuset='7'/>")
    p = hook(fixture_copy("i7-4790k"), CFG, "win10", "prepare", "begin", stdin=domain(tune))
    assert (p.returncode, p.stdout) == (0, ""), (p.returncode, p.stdout, p.stderr)
    assert "vCPU 2 pinned to nothing in the domain, to 3 in the configuration" in p.stderr, p.stderr
    assert "vCPU 3 pinned to 7 in the domain, not pinned in the configuration" in p.stderr, p.stderr


@xml_check("a domain without <cputune> pins (cpushield pins it live): no warning")
def _():
    p = hook(fixture_copy("i7-4790k"), CFG, "win10", "prepare", "begin", stdin=domain(""))
    assert (p.returncode, p.stdout, "warning" in p.stderr) == (0, "", False), (p.returncode, p.stdout, p.stderr)


@check("unreadable or hostile XML: one warning, no entity expanded, nothing fetched, the VM still shielded")
def _():
    secret = "/etc/hostname"
    cases = ["<domain><name>win10</name><cputune>",                    # cut short
             "not xml at all",
             f"<?xml version='1.0'?><!DOCTYPE domain [<!ENTITY x SYSTEM 'file://{secret}'>]>"
             "<domain><name>win10</name><cputune><vcpupin vcpu='0' cpuset='&x;'/></cputune></domain>",
             "<?xml version='1.0'?><!DOCTYPE d [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;'>"
             "<!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;'><!ENTITY d '&c;&c;&c;&c;&c;&c;&c;&c;'>]>"
             "<domain><name>win10</name><cputune><vcpupin vcpu='0' cpuset='&d;'/></cputune></domain>",
             "<?xml version='1.0'?><!DOCTYPE d SYSTEM 'http://127.0.0.1:9/d.dtd'><domain><name>win10</name></domain>"]
    hostname = open(secret).read().strip() if os.path.exists(secret) else "\0"
    for xml in cases:
        root = fixture_copy("i7-4790k")
        before = tree_digest(root)
        t = time.monotonic()
        p = hook(root, CFG, "win10", "prepare", "begin", stdin=xml)
        assert time.monotonic() - t < 10
        assert (p.returncode, p.stdout) == (0, ""), (xml, p.returncode, p.stdout, p.stderr)
        assert hostname not in p.stderr, (xml, p.stderr)
        assert "aaaaaaaaaa" not in p.stderr, p.stderr
        assert tree_digest(root) != before, "the VM was not shielded"


finish()
