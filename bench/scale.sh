#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# How cpushield's cost grows with the size of the host: CPUs, IRQs and
# threads.  Synthetic hosts from bench/gen-host.py (cached), every command
# run below --root on a copy of one, never on this machine's own files.
#
#   bench/scale.sh [options] [BUILD_DIR]        (BUILD_DIR default: build)
#
#   -n N          repetitions, the median is reported (default 5)
#   --huge        also 1024 CPUs / 8192 IRQs / 100k threads (about 4 GB of tmpfs)
#   --v1          also hosts with legacy cgroup v1 (16c/1k and 64c/5k: below --root
#                 a v1 task move is emulated at a cost quadratic in threads)
#   --only LIST   only these sizes, e.g. --only 16c,256c-1k (names as printed)
#   --syscalls    count syscalls of each command once with strace -c (slow)
#   --no-opens    skip counting the file opens of a no-op apply (needs strace)
#   --dir DIR     where trees, copies and state live (default: /dev/shm/cpushield-bench,
#                 or $TMPDIR when /dev/shm is missing); generated trees are kept
#                 there for the next run
#
# Per size and repetition, on one fresh copy of the generated tree:
#   plan --activate big | activate big | apply (no-op) | deactivate big + revert
# CPU seconds (user + sys) and peak RSS come from wait4(); the repetitions of
# all sizes are interleaved, so that ratios between sizes are measured under
# the same load when the machine is shared.  After the last repetition the
# copy must be byte-identical to the generated tree again.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v python3 > /dev/null || { echo "scale.sh: needs python3" >&2; exit 1; }
exec python3 - "$here" "$@" <<'PY'
import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter

HERE = sys.argv[1]
TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
SRC = os.path.dirname(HERE)
SIZES = [  # name, cpus, irqs, threads, cgroup[, more gen-host.py arguments]
    ("16c", 16, 64, 1000, "v2"),
    ("64c", 64, 512, 5000, "v2"),
    ("256c-1k", 256, 4096, 1000, "v2"),
    ("256c-50k", 256, 4096, 50000, "v2"),
    # as on Debian's kernels: no irq debugfs, the managed IRQs are learnt by
    # refusal and sit in the journal as refused records
    ("256c-50k-nodbg", 256, 4096, 50000, "v2", ("--no-irq-debugfs",)),
]
HUGE = ("1024c-100k", 1024, 8192, 100000, "v2")
# cgroup v1 stops at 5k threads: below --root, a v1 task move is emulated by
# rewriting the cpuset's whole tasks file per thread (quadratic in threads,
# unlike the kernel), so bigger v1 hosts would measure the emulation.
V1 = [("16c-v1", 16, 64, 1000, "v1"), ("64c-v1", 64, 512, 5000, "v1")]
STEPS = ["plan", "activate", "no-op apply", "deactivate+revert"]
RATIOS = [("256c-50k", "256c-1k"), ("256c-50k", "16c"), ("256c-50k-nodbg", "256c-50k"), ("1024c-100k", "256c-50k"),
          ("64c-v1", "16c-v1"), ("64c-v1", "64c")]


def die(msg):
    sys.exit(f"scale.sh: {msg}")


def parse():
    p = argparse.ArgumentParser(prog="scale.sh")
    p.add_argument("build", nargs="?", default="build")
    p.add_argument("-n", type=int, default=5)
    p.add_argument("--huge", action="store_true")
    p.add_argument("--v1", action="store_true")
    p.add_argument("--only")
    p.add_argument("--syscalls", action="store_true")
    p.add_argument("--no-opens", action="store_true")
    default = "/dev/shm" if os.path.isdir("/dev/shm") else os.environ.get("TMPDIR", "/tmp")
    p.add_argument("--dir", default=os.path.join(default, "cpushield-bench"))
    a = p.parse_args(sys.argv[2:])
    a.bin = os.path.abspath(os.path.join(a.build, "cpushield"))
    if not os.access(a.bin, os.X_OK):
        die(f"no cpushield binary in {a.build}")
    a.strace = shutil.which("strace")
    return a


def generator_key():
    """Cached trees are only reused when made by the same generator."""
    h = hashlib.sha256()
    gen = os.path.join(SRC, "tests", "fixtures", "gen")
    for path in [os.path.join(HERE, "gen-host.py")] + sorted(
            os.path.join(gen, f) for f in os.listdir(gen) if f.endswith(".py")):
        with open(path, "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:10]


def generate(a, size):
    name, cpus, irqs, threads, cg = size[:5]
    more = list(size[5]) if len(size) > 5 else []
    dest = os.path.join(a.dir, "trees", f"{name}-{generator_key()}")
    if not os.path.exists(os.path.join(dest, "host.json")):
        print(f"# generating {name} in {dest}", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, os.path.join(HERE, "gen-host.py"), "--cpus", str(cpus),
                        "--irqs", str(irqs), "--threads", str(threads), "--cgroup", cg, *more, "--force", dest],
                       check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(dest, "host.json")) as f:
        return dest, json.load(f)


class Host:
    """One fresh copy of a generated tree with its own state directory."""

    def __init__(self, a, size, work):
        self.a, self.name = a, size[0]
        self.gen, self.info = generate(a, size)
        self.root = os.path.join(work, self.name, "root")
        self.state = os.path.join(work, self.name, "state")
        self.cfg = os.path.join(self.gen, "cpushield.yaml")
        os.makedirs(self.state, mode=0o700)
        subprocess.run(["cp", "-a", os.path.join(self.gen, "root"), self.root], check=True)
        # never anything but a copy below the work directory
        real = os.path.realpath(self.root)
        if real == "/" or not real.startswith(os.path.realpath(work) + "/"):
            die(f"refusing to run with --root {real}")
        self.samples = {s: [] for s in STEPS}

    def argv(self, *args):
        return [self.a.bin, "--root", self.root, "--state-dir", self.state, "--config", self.cfg, *args]

    def run(self, *args, wrap=(), want=(0,)):
        """Runs one command; returns (user+sys seconds, max RSS KiB).  A
        child forked from this Python process starts its peak RSS at
        Python's (the kernel carries the high-water mark across exec), so
        where GNU time is installed it forks the command and reports its
        peak; the CPU time of wait4 includes the reaped grandchild."""
        rss_file = os.path.join(self.state, "..", "rss")
        timer = [TIME, "-q", "-f", "%M", "-o", rss_file] if TIME and not wrap else []
        argv = timer + list(wrap) + self.argv(*args)
        with open(os.path.join(self.state, "..", "stderr"), "w+") as err:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
            _, status, ru = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            if proc.returncode not in want:
                err.seek(0)
                die(f"{self.name}: {' '.join(args)} exited {proc.returncode}:\n{err.read()[-2000:]}")
        rss = ru.ru_maxrss
        if timer:
            with open(rss_file) as f:
                rss = int(f.read().split()[-1])
        return ru.ru_utime + ru.ru_stime, rss

    def cycle(self):
        s = self.samples
        s["plan"].append(self.run("plan", "--activate", "big"))
        s["activate"].append(self.run("activate", "big", "--detailed-exitcodes", want=(2,)))
        s["no-op apply"].append(self.run("apply", "--detailed-exitcodes", want=(0,)))
        c1, m1 = self.run("deactivate", "big")
        c2, m2 = self.run("revert")
        s["deactivate+revert"].append((c1 + c2, max(m1, m2)))
        if os.path.exists(os.path.join(self.state, "journal")):
            die(f"{self.name}: a journal is left after revert")

    def check_identical(self):
        p = subprocess.run(["diff", "-r", "-q", "--no-dereference", os.path.join(self.gen, "root"), self.root],
                           capture_output=True, text=True)
        return p.returncode == 0, p.stdout.splitlines()[:5]

    def opens(self):
        """File opens of a no-op apply (after activate): how many, how many
        distinct host files, and the host files opened more than once."""
        self.run("activate", "big")
        log = os.path.join(self.state, "..", "opens.log")
        self.run("apply", wrap=[self.a.strace, "-f", "-qq", "-e", "signal=none",
                                "-e", "trace=open,openat,openat2", "-o", log])
        self.run("deactivate", "big")
        self.run("revert")
        paths = Counter()
        total = 0
        with open(log) as f:
            for line in f:
                q = line.find('"')
                if q < 0 or "resumed>" in line:
                    continue
                total += 1
                path = line[q + 1:line.find('"', q + 1)]
                if "O_PATH" in line:                  # an existence check: opens, reads nothing
                    continue
                if not path.startswith("/"):          # relative to the root or the state directory
                    paths[path] += 1
        os.unlink(log)
        host = {p: n for p, n in paths.items() if p.split("/", 1)[0] in ("proc", "sys", "run", "etc", "dev")}
        again = sorted(((n, p) for p, n in host.items() if n > 1), reverse=True)
        return {"total": total, "host": sum(host.values()), "distinct": len(host), "again": again}

    def syscalls(self):
        out = {}
        for step, cmds in (("plan", [("plan", "--activate", "big")]), ("activate", [("activate", "big")]),
                           ("no-op apply", [("apply",)]), ("deactivate+revert", [("deactivate", "big"), ("revert",)])):
            calls, top = 0, Counter()
            for cmd in cmds:
                log = os.path.join(self.state, "..", "strace-c.log")
                self.run(*cmd, wrap=[self.a.strace, "-f", "-qq", "-c", "-o", log])
                with open(log) as f:
                    for line in f:
                        w = line.split()
                        if len(w) >= 5 and w[0][0].isdigit() and w[-1] != "total":
                            n = int(w[3])
                            top[w[-1]] += n
                            calls += n
                os.unlink(log)
            out[step] = (calls, top.most_common(4))
        return out


def fmt_cpu(sec):
    return f"{sec * 1000:.0f} ms" if sec < 10 else f"{sec:.1f} s"


def med(samples, i):
    return statistics.median(x[i] for x in samples)


def main():
    a = parse()
    known = SIZES + V1 + [HUGE]
    sizes = SIZES + (V1 if a.v1 else []) + ([HUGE] if a.huge else [])
    if a.only:
        want = a.only.split(",")
        sizes = [s for s in known if s[0] in want]
        if not sizes:
            die(f"--only {a.only}: no such size (known: {', '.join(s[0] for s in known)})")
    if (a.syscalls or not a.no_opens) and not a.strace:
        print("# no strace: syscalls and file opens are not counted", file=sys.stderr)
        a.syscalls, a.no_opens = False, True
    os.makedirs(a.dir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="run-", dir=a.dir)
    try:
        hosts = [Host(a, s, work) for s in sizes]
        for rep in range(a.n):
            print(f"# repetition {rep + 1}/{a.n}", file=sys.stderr, flush=True)
            for h in hosts:
                h.cycle()
        for h in hosts:
            h.same, h.diff = h.check_identical()
            h.open_counts = None if a.no_opens else h.opens()
            h.calls = h.syscalls() if a.syscalls else None
        report(a, hosts)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(a, hosts):
    ver = subprocess.run([a.bin, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{ver}, {os.cpu_count()} CPUs, load {load:.1f}, median of {a.n}, CPU = user + sys")
    print()
    head = "| host | CPUs | IRQs | threads | " + " | ".join(STEPS) + " | peak RSS |"
    if not a.no_opens:
        head += " opens in no-op apply |"
    print(head)
    print("|" + " --- |" * (head.count("|") - 1))
    for h in hosts:
        i = h.info
        row = f"| {h.name} ({i['cgroup']}, {i['kernel']}) | {i['cpus']} | {i['irqs']} | {i['threads']:,} | "
        row += " | ".join(fmt_cpu(med(h.samples[s], 0)) for s in STEPS)
        rss = max(med(h.samples[s], 1) for s in STEPS)
        row += f" | {rss / 1024:.0f} MB |"
        if h.open_counts:
            o = h.open_counts
            row += f" {o['host']:,} ({o['distinct']:,} files) |"
        print(row)
    print()
    names = {h.name: h for h in hosts}
    lines = []
    for x, y in RATIOS:
        if x in names and y in names:
            hx, hy = names[x], names[y]
            parts = []
            for s in STEPS:
                # paired per repetition: the two were measured moments apart
                r = statistics.median(p[0] / max(q[0], 1e-6) for p, q in zip(hx.samples[s], hy.samples[s]))
                parts.append(f"{s} {r:.1f}x")
            lines.append(f"- {x} / {y}: " + ", ".join(parts))
    if lines:
        print("Same-run ratios of CPU time (median of per-repetition ratios):")
        print("\n".join(lines))
        print()
    for h in hosts:
        if not h.same:
            print(f"- {h.name}: NOT identical to the generated tree after revert: {h.diff}")
        if h.open_counts and h.open_counts["again"]:
            again = h.open_counts["again"]
            print(f"- {h.name}: no-op apply opened {len(again):,} host files more than once, "
                  f"e.g. " + ", ".join(f"{p} ({n}x)" for n, p in again[:3]))
    if all(h.same for h in hosts):
        print("- every copy was byte-identical to its generated tree after the last revert")
    if a.syscalls:
        print()
        print("| host | " + " | ".join(f"syscalls: {s}" for s in STEPS) + " |")
        print("|" + " --- |" * (len(STEPS) + 1))
        for h in hosts:
            cells = []
            for s in STEPS:
                calls, top = h.calls[s]
                cells.append(f"{calls:,} ({', '.join(f'{n} {c:,}' for n, c in top[:3])})")
            print(f"| {h.name} | " + " | ".join(cells) + " |")


main()
PY
