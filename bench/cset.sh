#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Shield and give-back on a real kernel with cgroup v1: cpushield against
# Debian's `cset shield --kthread on` / `cset shield --reset` and the
# kernel's floor (bench/cset-floor.c: one write per TID into a new cpuset,
# and back), at 100 / 1,000 / 10,000 extra threads (bench/cset-threads.c),
# in ONE boot of the systemd guest (tests/vm/scenarios/bench-cset.sh; Debian
# 12, kernel 6.1, hybrid cgroup layout; see tests/vm/README.md). Under QEMU
# TCG absolute times are meaningless; only ratios within one boot compare.
#
#   bench/cset.sh [BUILD_DIR] [RUNS] [SIZES] [LAYOUT]
#                 (default build, 3, 100,1000,10000, v1)
#
# LAYOUT: v1 (Linux 6.1, hybrid: the table below), or v2-6.1 / v2-6.12
# (unified: cset cannot, and the floor is the kernel's partition alone,
# `cset-floor partition`; each size also against the first).
#
# Prints the medians (wall seconds; CPU seconds of the command) and the
# ratios cpushield/floor and cset/cpushield per size. CSET_KEEP=1 keeps
# the work directory (the guest's log, run.log).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
runs=${2:-3}
sizes=${3:-100,1000,10000}
layout=${4:-v1}
case $layout in
    v1) kernel=6.1 cgroup=v1 ;;
    v2-6.1) kernel=6.1 cgroup=v2 ;;
    v2-6.12) kernel=6.12 cgroup=v2 ;;
    *) echo "cset.sh: LAYOUT is v1, v2-6.1 or v2-6.12, not '$layout'" >&2; exit 1 ;;
esac
out=$(mktemp -d "${TMPDIR:-/tmp}/cpushield-cset.XXXXXX")
trap '[ -n "${CSET_KEEP:-}" ] && echo "kept $out" >&2 || rm -rf "$out"' EXIT

cc -static -O2 -Wall -o "$out/cset-floor" "$here/bench/cset-floor.c"
cc -static -O2 -Wall -pthread -o "$out/cset-threads" "$here/bench/cset-threads.c"
"$here/tests/vm/run.sh" --guest systemd --kernel "$kernel" --cgroup "$cgroup" \
    --scenario "$here/tests/vm/scenarios/bench-cset.sh" --binary "$build/cpushield" \
    --file "$out/cset-floor:/usr/bin/cset-floor" --file "$out/cset-threads:/usr/bin/cset-threads" \
    --timeout 3600 --stall 300 --busy 0 --sleepers 0 \
    --append "cpushield.bench_runs=$runs cpushield.bench_sizes=$sizes" > "$out/run.log" 2>&1 ||
    { echo "cset: the guest failed, its log follows" >&2; cat "$out/run.log" >&2; exit 1; }
grep -E '^INFO (kernel|size|before|after)' "$out/run.log" | sed 's/^INFO /# /'
grep '^vm-run: kernel' "$out/run.log" | sed 's/^/# /'
grep '^INFO BENCH ' "$out/run.log" | sed 's/^INFO BENCH //' > "$out/bench.txt"

python3 - "$out/bench.txt" <<'PY'
import collections, statistics, sys
wall = collections.defaultdict(list)
cpu = collections.defaultdict(list)
for line in open(sys.argv[1]):
    f = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
    k = (int(f["size"]), f["tool"], f["step"])
    wall[k].append(float(f["wall"]))
    cpu[k].append(float(f["cpu"]))
med = {k: statistics.median(v) for k, v in wall.items()}
cmed = {k: statistics.median(v) for k, v in cpu.items()}
sizes = sorted({k[0] for k in med})
tools = ["cset", "cpushield", "floor"]
print("wall seconds, median (CPU seconds of the command), shield / give-back:")
print()
v2 = not any(k[1] == "cset" for k in med)
floor_name = "the kernel's partition alone (the floor)" if v2 else "one write per TID in C (the floor)"
print(f"| threads | `cset shield --kthread on` / `--reset` | cpushield activate / deactivate | {floor_name} |")
print("| --- | --- | --- | --- |")
def cell(n, t):
    s, g = (n, t, "shield"), (n, t, "giveback")
    if s not in med or g not in med:
        return "-"
    return f"{med[s]:.2f} s ({cmed[s]:.2f}) / {med[g]:.2f} s ({cmed[g]:.2f})"
for n in sizes:
    print(f"| {n:,} | " + " | ".join(cell(n, t) for t in tools) + " |")
print()
rv = [(n, med[(n, "cpushield", "revert")], cmed[(n, "cpushield", "revert")]) for n in sizes
      if (n, "cpushield", "revert") in med]
if rv:
    print("cpushield's revert after the deactivate (nothing journaled is left): " +
          ", ".join(f"{n:,} threads {w:.2f} s ({c:.2f})" for n, w, c in rv))
    print()
if v2:
    # v2: no cset; the floor is the kernel's partition alone
    first = sizes[0]
    g = lambda n, t, s: med.get((n, t, s), 0)
    def x(a, b):
        return f"{a / b:.2f}x" if b > 0 else "-"
    print(f"| threads | cpushield / floor: shield | give-back | cpushield against {first:,} threads: shield | give-back"
          f" | floor against {first:,} threads: shield | give-back |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for n in sizes:
        print(f"| {n:,} | {x(g(n, 'cpushield', 'shield'), g(n, 'floor', 'shield'))}"
              f" | {x(g(n, 'cpushield', 'giveback'), g(n, 'floor', 'giveback'))}"
              f" | {x(g(n, 'cpushield', 'shield'), g(first, 'cpushield', 'shield'))}"
              f" | {x(g(n, 'cpushield', 'giveback'), g(first, 'cpushield', 'giveback'))}"
              f" | {x(g(n, 'floor', 'shield'), g(first, 'floor', 'shield'))}"
              f" | {x(g(n, 'floor', 'giveback'), g(first, 'floor', 'giveback'))} |")
    print()
    print(f"runs per cell: {min(len(v) for v in wall.values())}")
    sys.exit(0)
def r(a, b):
    return f"{a / b:.1f}x" if b > 0 else "-"
print("| threads | cpushield / floor: shield | give-back | cset / cpushield: shield | give-back |")
print("| --- | --- | --- | --- | --- |")
for n in sizes:
    g = lambda t, s: med.get((n, t, s), 0)
    print(f"| {n:,} | {r(g('cpushield','shield'), g('floor','shield'))} | {r(g('cpushield','giveback'), g('floor','giveback'))}"
          f" | {r(g('cset','shield'), g('cpushield','shield'))} | {r(g('cset','giveback'), g('cpushield','giveback'))} |")
print()
print(f"runs per cell: {min(len(v) for v in wall.values())}")
PY
