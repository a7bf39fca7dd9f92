#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""verify judges what the kernel applies: on 6.6+ a workqueue's requested
mask that still names the VMs' CPUs is not noise when the global effective
mask (request minus isolated CPUs) leaves them out, as a partition does.
verify --sample counts the runs of what ran on the VMs' CPUs from the
schedstat files the test changes in the tree during the window."""
import json
import os
import subprocess
import time

from common import BIN, EX, check, finish, fixture_copy, run, state_dir

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


def stat_with(text, comm=None, add_cputime=0, cpu=None):
    """A /proc/PID/stat line with its comm, utime (field 14) or last CPU (39) changed."""
    head, tail = text.rstrip("\n").rsplit(") ", 1)
    f = tail.split(" ")  # f[0] is field 3
    f[14 - 3] = str(int(f[14 - 3]) + add_cputime)
    if cpu is not None:
        f[39 - 3] = str(cpu)
    if comm is not None:
        head = head.split(" (", 1)[0] + " (" + comm
    return head + ") " + " ".join(f)


def schedstat(pcounts):
    """/proc/schedstat as 6.12 prints it with schedstats off: fields 1-6 zero."""
    lines = ["version 16", "timestamp 4294893631"]
    lines += [f"cpu{c} 0 0 0 0 0 0 1000 2000 {n}" for c, n in enumerate(pcounts)]
    return "\n".join(lines)


def read(root, rel):
    with open(os.path.join(root, rel)) as f:
        return f.read()


def replace(root, rel, text):
    tmp = os.path.join(root, rel + ".new")
    with open(tmp, "w") as f:
        f.write(text + "\n")
    os.replace(tmp, os.path.join(root, rel))


def sample_while_running(output):
    """verify --sample 2 on the Ryzen (gaming: CPUs 8-15,24-31) while, 1 s in,
    kworker/9:1 runs 7 times on CPU 9 (mm_percpu_wq), a firefox thread 3 times
    on CPU 11 (schedstat in task/TID), cron on CPU 10 (no schedstat: one
    tick of CPU time), and CPU 9's pcount goes up by 20."""
    root = fixture_copy("ryzen-5950x")
    ff = "proc/1840/task/1845"
    write(root, "proc/schedstat", schedstat([100] * 32))
    write(root, "proc/309/schedstat", "2000000 0 40")
    write(root, f"{ff}/schedstat", "5000000 100 900")
    kw, cron, thread = read(root, "proc/309/stat"), read(root, "proc/1236/stat"), read(root, f"{ff}/stat")
    p = subprocess.Popen([BIN, "--state-dir", state_dir(), "--root", root, "--config", CFG, "--libvirt", "no",
                          "--output", output, "verify", "--activate", "gaming", "--sample", "2"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    replace(root, "proc/schedstat", schedstat([100] * 9 + [120] + [100] * 22))
    replace(root, "proc/309/stat", stat_with(kw, comm="kworker/9:1-mm_percpu_wq", cpu=9))
    replace(root, "proc/309/schedstat", "2000900 0 47")
    replace(root, "proc/1236/stat", stat_with(cron, add_cputime=1, cpu=10))
    replace(root, f"{ff}/stat", stat_with(thread, cpu=11))
    replace(root, f"{ff}/schedstat", "5000300 100 903")
    out, err = p.communicate(timeout=60)
    return p.returncode, out, err


@check("--sample: runs counted by schedstat, a kworker's workqueue, CPU time without schedstat")
def _():
    rc, out, err = sample_while_running("text")
    assert rc == 1, (rc, out, err)
    rows = [l.split() for l in out.splitlines() if "sched:timeslices" in l]
    assert [r[0] for r in rows] == ["9"], out  # only CPU 9's pcount moved
    assert 20 / 2.5 < float(rows[0][2]) <= 20 / 2.0, out
    assert "note: per-CPU kernel thread 309 (kworker/9:1) ran on CPU 9 (7 runs in the window)\n" \
           "      workqueue mm_percpu_wq: vmstat refresh" in out, out
    assert "noise: task 1845 (Socket Thread) ran on CPU 11 (3 runs in the window)" in out, out
    assert "noise: task 1236 (cron) ran on CPU 10\n" in out, out  # no count without schedstat
    assert "sched:switches" not in out, out


@check("--sample --output json: percpu_kthreads with runs, workqueues and hints")
def _():
    rc, out, err = sample_while_running("json")
    assert rc == 1, (rc, out, err)
    doc = json.loads(out)
    assert doc["percpu_kthreads"] == [{"pid": 309, "thread": "kworker/9:1", "cpu": 9, "runs": 7, "hint":
                                       "work queued on this CPU", "workqueues": [
                                           {"name": "mm_percpu_wq", "hint": doc["percpu_kthreads"][0]["workqueues"][0]["hint"]}]}], out
    assert "vm.stat_interval" in doc["percpu_kthreads"][0]["workqueues"][0]["hint"], out
    assert any(r["source"] == "sched:timeslices" and r["cpu"] == 9 for r in doc["rates"]), out


finish()
