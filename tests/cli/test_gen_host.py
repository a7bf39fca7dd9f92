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


def cpulist(text):
    out = set()
    for part in text.strip().split(","):
        lo, _, hi = part.partition("-")
        out |= set(range(int(lo), int(hi or lo) + 1))
    return out


def ids(root, path):
    with open(os.path.join(root, path)) as f:
        return [int(x) for x in f.read().split()]


def put_ids(root, path, values):
    with open(os.path.join(root, path), "w") as f:
        f.write("".join(f"{v}\n" for v in sorted(values)))


@check("gen-host (v1): whole processes move in one write, a process with a thread in another cpuset one by one")
def _():
    root = _mkdtemp("cpushield-gen-copy-")
    shutil.copytree(os.path.join(V1, "root"), root, symlinks=True, dirs_exist_ok=True)
    cs_dir = "sys/fs/cgroup/cpuset"
    with open(os.path.join(root, "proc/2/task/2/children")) as f:
        kthreads = {2} | {int(x) for x in f.read().split()}
    root_tids = [t for t in ids(root, f"{cs_dir}/tasks") if t not in kthreads]
    leaders = [p for p in ids(root, f"{cs_dir}/cgroup.procs") if p not in kthreads]
    # cpushield goes by whole processes only where they pay: threads at least twice the processes
    assert len(root_tids) >= 2 * len(leaders), (len(root_tids), len(leaders))
    threads = {p: sorted(int(t) for t in os.listdir(os.path.join(root, f"proc/{p}/task")))
               for p in leaders if os.path.isdir(os.path.join(root, f"proc/{p}/task"))}
    multi = [p for p, t in threads.items() if len(t) >= 3]
    assert len(multi) >= 2, "no process with threads to split"
    split, whole = multi[0], multi[1]
    y = threads[split][-1]
    # another tool's cpuset holds one thread of `split`: the kernel would
    # move that thread too with the TGID, so `split` must go thread by thread
    side = f"{cs_dir}/side"
    os.mkdir(os.path.join(root, side))
    for name in ("cpuset.cpus", "cpuset.mems"):
        shutil.copy(os.path.join(root, cs_dir, name), os.path.join(root, side, name))
    put_ids(root, f"{side}/tasks", [y])
    put_ids(root, f"{side}/cgroup.procs", [split])
    put_ids(root, f"{cs_dir}/tasks", [t for t in ids(root, f"{cs_dir}/tasks") if t != y])
    cgf = os.path.join(root, f"proc/{split}/task/{y}/cgroup")
    with open(cgf) as f:
        text = f.read()
    assert ":cpuset:/\n" in text, text
    with open(cgf, "w") as f:
        f.write(text.replace(":cpuset:/\n", ":cpuset:/side\n"))
    before, state = tree_digest(root), _mkdtemp("cpushield-state-")

    p = cs(V1, "activate", "big", root=root, state=state)
    assert p.returncode == 0, (p.stdout, p.stderr)
    host = set(ids(root, f"{cs_dir}/cpushield.host/tasks"))
    assert ids(root, f"{side}/tasks") == [y], "the other cpuset's thread was moved"
    with open(cgf) as f:
        assert ":cpuset:/side\n" in f.read()
    assert set(threads[whole]) <= host and set(threads[split]) - {y} <= host, \
        (sorted(set(threads[whole]) - host), sorted(set(threads[split]) - {y} - host))
    assert host == set(root_tids) - {y}, sorted(host ^ (set(root_tids) - {y}))[:10]
    assert [t for t in ids(root, f"{cs_dir}/tasks") if t not in kthreads] == []
    p = cs(V1, "deactivate", "big", root=root, state=state)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert tree_digest(root) == before, tree_diff(os.path.join(V1, "root"), root)


@check("gen-host (no irq debugfs): managed IRQs are learnt by refusal, once, and a no-op apply then changes nothing")
def _():
    dest, info = generate("--no-irq-debugfs")
    assert not info["irq_debugfs"] and info["managed_irqs"] > 0, info
    root = _mkdtemp("cpushield-gen-copy-")
    shutil.copytree(os.path.join(dest, "root"), root, symlinks=True, dirs_exist_ok=True)
    assert not os.path.exists(os.path.join(root, "sys/kernel/debug/irq"))
    flags = os.path.join(root, ".fixture", "irq-flags")
    # managed (NVMe queues), and the timer (IRQD_NO_BALANCING): the kernel refuses to move them
    managed = sorted(int(n) for n in os.listdir(flags)
                     if any(f in open(os.path.join(flags, n)).read()
                            for f in ("IRQD_AFFINITY_MANAGED", "IRQD_PER_CPU", "IRQD_NO_BALANCING")))
    affinity = {n: open(os.path.join(root, f"proc/irq/{n}/smp_affinity_list")).read() for n in managed}
    before, state = tree_digest(root), _mkdtemp("cpushield-state-")
    p = cs(dest, "activate", "big", "--detailed-exitcodes", root=root, state=state)
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    for n, text in affinity.items():
        with open(os.path.join(root, f"proc/irq/{n}/smp_affinity_list")) as f:
            assert f.read() == text, f"managed IRQ {n} moved"
    with open(os.path.join(state, "journal")) as f:
        refused = sorted(int(line.split("/")[3]) for line in f if line.startswith("refused\t"))
    host_cpus = {0, V2_INFO["cpus"] // 2}  # core 0: its two threads (the configuration's host)
    on_vm = [n for n in managed if cpulist(affinity[n]) - host_cpus]
    assert refused == on_vm and on_vm, (refused, on_vm)
    p = cs(dest, "apply", "--detailed-exitcodes", root=root, state=state)
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    p = cs(dest, "plan", "--output", "json", root=root, state=state)
    skipped = {s["target"] for s in json.loads(p.stdout)["skipped"] if s["kind"] == "irq"}
    assert skipped == {f"/proc/irq/{n}/smp_affinity_list" for n in on_vm}, skipped
    p = cs(dest, "revert", "--detailed-exitcodes", root=root, state=state)
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert tree_digest(root) == before, tree_diff(os.path.join(dest, "root"), root)


finish()
