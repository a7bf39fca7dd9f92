#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The Ansible module against a copy of the i7-4790K fixture host: check+diff
reports the changes and writes nothing; a real run changes the tree; a
second run reports changed=0; state=reverted restores the tree byte for
byte. Skipped (77) without ansible-playbook, unless CI is set.

usage: test_ansible.py CPUSHIELD SOURCE_ROOT"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from common import BIN, EX, SRC, check, finish, fixture_copy, state_dir, tree_diff, tree_digest  # noqa: E402

if not shutil.which("ansible-playbook"):
    print("ansible-playbook not installed (Debian: ansible-core)")
    sys.exit(1 if os.environ.get("CI") else 77)

FIXTURE = os.path.join(SRC, "tests", "fixtures", "i7-4790k")
PLAYBOOK = os.path.join(SRC, "tests", "package", "ansible", "fixture.yml")
root, state = fixture_copy("i7-4790k"), state_dir()
home = tempfile.mkdtemp(prefix="cpushield-ansible-")
before = tree_digest(root)


def play(*args, **extra):
    """Runs the playbook; returns (exit code, the module's result, the recap's
    counts, the screen output)."""
    evars = {"state": "applied", "config": os.path.join(EX, "desktop-4790k.yaml"), "root": root,
             "state_dir": state, "binary": BIN, "ansible_python_interpreter": sys.executable, **extra}
    tree = tempfile.mkdtemp(dir=home)
    env = {**os.environ, "HOME": home, "ANSIBLE_LIBRARY": os.path.join(SRC, "packaging", "ansible", "library"),
           "ANSIBLE_CALLBACKS_ENABLED": "ansible.builtin.tree", "ANSIBLE_CALLBACK_TREE_DIR": tree,
           "ANSIBLE_LOCAL_TEMP": os.path.join(home, "tmp"), "ANSIBLE_REMOTE_TEMP": os.path.join(home, "tmp"),
           "ANSIBLE_RETRY_FILES_ENABLED": "false", "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0",
           "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false"}
    p = subprocess.run(["ansible-playbook", "-i", "localhost,", PLAYBOOK, "-e", json.dumps(evars), *args],
                       capture_output=True, text=True, env=env, timeout=300)
    try:
        with open(os.path.join(tree, "localhost")) as f:
            res = json.load(f)
    except (OSError, ValueError):
        raise AssertionError(f"ansible-playbook rc={p.returncode}: {p.stdout[-2000:]} {p.stderr[-2000:]}")
    m = re.search(r"^localhost\s+:(.*)$", p.stdout, re.M)
    stats = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(1))} if m else {}
    return p.returncode, res, stats, p.stdout


@check("check+diff: reports the changes per item and changes no file")
def _():
    rc, res, stats, out = play("--check", "--diff", activate=["win10"])
    assert rc == 0, (rc, res)
    assert res["changed"] and stats["changed"] == 1, (res, stats)
    assert len(res["changes"]) > 50, len(res["changes"])
    # Ansible shows the diff as -before/+after lines, one per item.
    line = "irq /proc/irq/24/smp_affinity_list = "
    assert re.search("^-" + re.escape(line) + "0-7(  #.*)?$", out, re.M), out[:3000]
    assert re.search("^\\+" + re.escape(line) + "0,4(  #.*)?$", out, re.M), out[:3000]
    assert tree_digest(root) == before, tree_diff(FIXTURE, root)


@check("apply: changed, the tree changes")
def _():
    rc, res, stats, out = play("--diff", activate=["win10"])
    assert rc == 0 and res["changed"] and stats["changed"] == 1, (rc, res, stats)
    assert res["active"] == ["win10"], res["active"]
    assert tree_digest(root) != before


@check("apply again: ok, changed=0 (idempotent)")
def _():
    rc, res, stats, out = play(activate=["win10"])
    assert rc == 0 and not res["changed"] and stats["changed"] == 0, (rc, res, stats)
    rc, res, stats, out = play()
    assert rc == 0 and not res["changed"] and stats["changed"] == 0, (rc, res, stats)
    rc, res, stats, out = play("--check", "--diff")
    assert rc == 0 and not res["changed"] and res["changes"] == [], (rc, res)


@check("revert in check mode: reports changed, changes no file")
def _():
    now = tree_digest(root)
    rc, res, stats, out = play("--check", "--diff", state="reverted")
    assert rc == 0 and res["changed"] and len(res["changes"]) > 50, (rc, res)
    assert tree_digest(root) == now


@check("state=reverted restores the tree byte for byte; again: changed=0")
def _():
    rc, res, stats, out = play("--diff", state="reverted")
    assert rc == 0 and res["changed"], (rc, res)
    assert tree_digest(root) == before, tree_diff(FIXTURE, root)
    rc, res, stats, out = play(state="reverted")
    assert rc == 0 and not res["changed"] and stats["changed"] == 0, (rc, res)


@check("a failure returns cpushield's error lines")
def _():
    rc, res, stats, out = play(activate=["nosuchvm"])
    assert rc != 0 and res["rc"] == 1, (rc, res)
    assert any("nosuchvm" in e for e in res["errors"]), res
    bad = os.path.join(home, "bad.yaml")
    shutil.copy(os.path.join(EX, "desktop-4790k.yaml"), bad)
    with open(bad, "a") as f:
        f.write("bogus: 1\n")
    rc, res, stats, out = play(config=bad)
    assert rc != 0 and any("bad.yaml" in e and "bogus" in e for e in res["errors"]), res
    assert tree_digest(root) == before


shutil.rmtree(home, ignore_errors=True)
finish()
