#!/bin/sh
# How long `plan` takes on each bundled fixture host (wall clock, mean of N
# runs, VM activated so every resource is planned). Usage:
#   bench/plan.sh [BUILD_DIR] [N]
set -eu
build=${1:-build}
n=${2:-20}
here=$(cd "$(dirname "$0")/.." && pwd)
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
for pair in i7-4790k:desktop-4790k.yaml:win10 ryzen-5950x:ryzen-5950x-l3.yaml:gaming \
            xeon-2s:numa-2vm.yaml:nfv; do
    fx=${pair%%:*}; rest=${pair#*:}; cfg=${rest%%:*}; vm=${rest#*:}
    start=$(date +%s%N)
    i=0
    while [ $i -lt "$n" ]; do
        "$build/cpushield" --state-dir "$state" plan --root "$here/tests/fixtures/$fx" \
            --config "$here/examples/$cfg" --activate "$vm" > /dev/null
        i=$((i + 1))
    done
    end=$(date +%s%N)
    tasks=$(ls -d "$here/tests/fixtures/$fx"/proc/[0-9]* | wc -l)
    irqs=$(ls -d "$here/tests/fixtures/$fx"/proc/irq/[0-9]* | wc -l)
    printf '%-14s %4d tasks %4d IRQs  %6.1f ms per plan\n' "$fx" "$tasks" "$irqs" \
        "$(awk -v a="$start" -v b="$end" -v n="$n" 'BEGIN { print (b - a) / n / 1000000 }')"
done
