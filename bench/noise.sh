#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The outcome, measured: how quiet the VM's CPUs are under host stress with
# no shield, with the cgroup step only, with full cpushield but
# `defaults.pressure: disable`, and with full cpushield and its defaults
# (last: what `pressure: move` moves stays moved), in one QEMU boot per guest (tests/vm/scenarios/noise.sh; see tests/vm/README.md for
# the harness). Under TCG only the kernel's counters compare: wall-clock
# gaps include the host machine's own scheduling of the emulator.
#
#   bench/noise.sh [BUILD_DIR] [SECONDS]     (default build, 10 s per probe)
#
# Prints, per kernel and configuration, the mean over the six VM CPUs of
# involuntary context switches, runqueue wait and device interrupts per
# probe-second, and the ratios against full cpushield.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
secs=${2:-10}
out=$(mktemp -d "${TMPDIR:-/tmp}/cpushield-noise.XXXXXX")
# NOISE_LOGS=DIR keeps each guest's log (its verify and verify --sample
# output included) there.
trap '[ -z "${NOISE_LOGS:-}" ] || { mkdir -p "$NOISE_LOGS" && cp "$out"/* "$NOISE_LOGS"/; }; rm -rf "$out"' EXIT

# The busybox guest for each kernel and layout; the systemd guest (Debian 12,
# systemd 252, cset installed) on cgroup v2, as Debian installs, and on
# cgroup v1, where cset is one more configuration.
for kvg in "6.1 v2 busybox" "6.12 v2 busybox" "6.1 v1 busybox" "6.1 v2 systemd" "6.1 v1 systemd"; do
    set -- $kvg
    label=$1-$2; [ "$3" = busybox ] || label=$label-$3
    log=$out/$label.log
    "$here/tests/vm/run.sh" --guest "$3" --kernel "$1" --cgroup "$2" --scenario "$here/tests/vm/scenarios/noise.sh" \
        --binary "$build/cpushield" --timeout 1800 --stall 900 --append "cpushield.noise_secs=$secs" > "$log" 2>&1 ||
        { echo "noise: $label failed, see below" >&2; cat "$log" >&2; exit 1; }
    grep '^INFO NOISE ' "$log" | sed "s/^INFO NOISE /kernel=$label /"
    # the device IRQ lines that still fired on a probe's CPU under full cpushield
    grep '^INFO NOISE config=full ' "$log" | grep -v ' irqs=-' |
        sed -n "s/.* cpu=\([0-9]*\) .* irqs=\(.*\)/$label: CPU \1: IRQ \2/p" >> "$out/irqs.txt" || true
    # what verify --sample named during the full configuration's window
    grep '^INFO SAMPLE config=full ' "$log" | sed "s/^INFO SAMPLE config=full /$label: /" |
        grep -E ': (note|noise|      workqueue)' >> "$out/sample.txt" || true
done > "$out/probes.txt"

python3 - "$out/probes.txt" <<'PY'
import collections, re, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    f = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
    s = float(f["secs"])
    rows[(f["kernel"], f["config"])].append((int(f["invol"]) / s, int(f["wait_ns"]) / 1e6 / s, int(f["devirq"]) / s))
print("| kernel | config | involuntary switches/s | runqueue wait ms/s | device IRQs/s per VM CPU |")
print("| --- | --- | --- | --- | --- |")
mean = {}
for (k, c), v in sorted(rows.items(), key=lambda x: (x[0][0], ["none", "cgroup", "cset", "disable", "full"].index(x[0][1]))):
    m = tuple(sum(x[i] for x in v) / len(v) for i in range(3))
    mean[(k, c)] = m
    print(f"| {k} | {c} | {m[0]:.2f} | {m[1]:.3f} | {m[2]:.2f} |")
print()
def ratio(a, b, ref):
    if b == 0:
        return f"all gone ({ref}: 0)" if a > 0 else "both 0"
    r = a / b
    return f"{r:.0f}x" if r >= 10 else f"{r:.2f}x"
for k in sorted({k for k, _ in mean}):
    for ref in ("full",):
        full = mean.get((k, ref))
        if not full:
            continue
        for c in ("none", "cgroup", "cset", "disable"):
            if (k, c) in mean:
                m = mean[(k, c)]
                print(f"- {k}: {c} / {ref}: involuntary switches {ratio(m[0], full[0], ref)}, "
                      f"runqueue wait {ratio(m[1], full[1], ref)}, device IRQs {ratio(m[2], full[2], ref)}")
PY
echo
echo "Device IRQs (line:count) on a probe's CPU in the full configuration's window:"
cat "$out/irqs.txt" 2>/dev/null || true
echo
echo "Named by 'cpushield verify --sample' inside the full configuration's window:"
cat "$out/sample.txt"
