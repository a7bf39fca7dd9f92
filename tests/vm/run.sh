#!/bin/bash
# run.sh --kernel 6.1|6.12 --cgroup v1|v2|none --scenario SCRIPT
#        [--binary PATH] [--timeout SECONDS] [--stall SECONDS] [--log FILE]
#        [--keep] [--load flat|nested] [--busy N] [--sleepers N]
#        [--append ARGS] [--smp SPEC] [--cpu MODEL] [--dmesg]
#        [--guest busybox|systemd] [--file SRC:DEST]...
#
# Boots Debian's packaged kernel under QEMU (single-threaded TCG: see
# README.md) with an initramfs holding busybox, the binary (as
# /usr/bin/cpushield), tests/vm/helpers and the scenario, and judges the
# scenario's result lines (--guest systemd: a Debian 12 root file system
# with systemd as PID 1 instead, from mkrootfs.sh, 2 GiB of memory; see
# README.md):
#   exit 0   at least one "CHECK PASS", no "CHECK FAIL", "SCENARIO DONE" seen
#   exit 1   otherwise (the console log is printed)
#   exit 77  QEMU, busybox-static or cpio missing and $CI unset (meson: skip)
#
# Time limits: --timeout (default 600, 0 = none) bounds the whole QEMU run;
# --stall (default 120, 0 = none) kills a guest whose console and result
# channel both stay silent that long (a hung guest: scenarios print a
# phase line at every step). The meson tests pass --timeout 0 so that
# meson's own timeout, scaled by --timeout-multiplier, is the limit; when
# meson (or anyone) sends SIGTERM/SIGINT, the checks so far and the end of
# the console log are printed before QEMU is killed.
#
# The guest: q35, 512 MiB, -smp 8,sockets=1,cores=4,threads=2, a virtio-blk
# disk with 4 queues (managed MSI-X IRQs), two virtio-net NICs (non-managed
# IRQs) joined by a QEMU hub and nothing else: no host network, no user-mode
# network; the second NIC only injects frames (vmhelper sendframe) so that
# the first one takes interrupts. Environment: CPUSHIELD_VM_CACHE (kernel
# and helper cache, default ~/.cache/cpushield-vm).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
me=vm-run

usage() { sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 1; }

kernel='' cgroup=v2 scenario='' binary='' timeout=600 stall=120 logcopy='' keep=0
load=flat busy=2 sleepers=30 append='' smp=8,sockets=1,cores=4,threads=2
dmesg=0 cpu=qemu64,vendor=GenuineIntel guest=busybox
files=()
while [ $# -gt 0 ]; do
    case $1 in
        --kernel) kernel=$2; shift 2 ;;
        --cgroup) cgroup=$2; shift 2 ;;
        --scenario) scenario=$2; shift 2 ;;
        --binary) binary=$2; shift 2 ;;
        --timeout) timeout=$2; shift 2 ;;
        --stall) stall=$2; shift 2 ;;
        --log) logcopy=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        --load) load=$2; shift 2 ;;
        --busy) busy=$2; shift 2 ;;
        --sleepers) sleepers=$2; shift 2 ;;
        --append) append=$2; shift 2 ;;
        --smp) smp=$2; shift 2 ;;
        --cpu) cpu=$2; shift 2 ;;
        --dmesg) dmesg=1; shift ;;
        --guest) guest=$2; shift 2 ;;
        --file) files+=(--file "$2"); shift 2 ;;
        -h|--help) usage ;;
        *) echo "$me: unknown argument $1" >&2; usage ;;
    esac
done
case $kernel in 6.1|6.12) ;; *) usage ;; esac
case $cgroup in v1|v2|none) ;; *) usage ;; esac
case $guest in busybox|systemd) ;; *) usage ;; esac
[ "$guest:$cgroup" != systemd:none ] || { echo "$me: a systemd guest always has cgroups" >&2; exit 1; }
case $timeout$stall in *[!0-9]*) usage ;; esac
[ -n "$scenario" ] || usage
[ -f "$scenario" ] || { echo "$me: no scenario $scenario" >&2; exit 1; }
[ -z "$binary" ] || [ -x "$binary" ] || { echo "$me: $binary is not executable" >&2; exit 1; }

# Prerequisites: skip (77) on a developer machine without them, fail in CI.
missing=
command -v qemu-system-x86_64 >/dev/null || missing="$missing qemu-system-x86"
[ "$guest" = systemd ] || [ -x "${BUSYBOX:-/bin/busybox}" ] || missing="$missing busybox-static"
[ "$guest" = busybox ] || command -v debootstrap >/dev/null || missing="$missing debootstrap"
command -v cpio >/dev/null || missing="$missing cpio"
command -v apt-get >/dev/null || missing="$missing apt-get"
if [ -n "$missing" ]; then
    if [ -n "${CI:-}" ]; then
        echo "$me: missing:$missing (CI is set: failing, not skipping)" >&2
        exit 1
    fi
    echo "$me: SKIP: missing:$missing (apt-get install qemu-system-x86 busybox-static cpio)" >&2
    exit 77
fi

cache=${CPUSHIELD_VM_CACHE:-$HOME/.cache/cpushield-vm}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cpushield-vm.XXXXXX")
qemu_pid=
# shellcheck disable=SC2317  # called by the traps
# (the work directory goes before the wait for QEMU: meson sends SIGKILL
# half a second after SIGTERM)
cleanup() {
    [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null
    if [ "$keep" = 1 ]; then
        echo "$me: kept $tmp" >&2
    else
        rm -rf "$tmp"
    fi
    if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
        sleep 1
        kill -9 "$qemu_pid" 2>/dev/null || true
    fi
}
now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
t_start=$(now)
t_boot=''

# Killed from outside (meson's timeout sends SIGTERM to the process group,
# QEMU included, and SIGKILL half a second later): say so and show where
# the guest was, quickly, before the EXIT trap cleans up.
# shellcheck disable=SC2317  # called by the traps
on_signal() {
    trap - INT TERM HUP
    [ "$keep" = 1 ] || rm -f "$tmp/disk.raw" "$tmp/initrd.gz"
    echo "$me: got SIG$1 after $((EPOCHSECONDS - ${t_start%.*}))s (meson's timeout?" \
        "see --timeout-multiplier); results so far and the end of the console:" >&2
    if [ -n "$t_boot" ]; then
        grep -aE '^(CHECK|INFO|SCENARIO) ' "$tmp/results.log" >&2
        tail -n 40 "$tmp/console.log" >&2
    fi
    exit 1
}
trap cleanup EXIT
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
trap 'on_signal HUP' HUP

# 1. Kernel (cached after the first run).
kdir=$("$here/fetch-kernel.sh" "$kernel" "$cache")

# 2. Helper programs: static, built once per source version.
helpers=()
if command -v cc >/dev/null; then
    for src in "$here"/helpers/*.c; do
        name=$(basename "$src" .c)
        sum=$(sha256sum < "$src" | cut -c1-16)
        exe=$cache/helpers/$name-$sum
        if [ ! -x "$exe" ]; then
            mkdir -p "$cache/helpers"
            cc -static -O2 -Wall -o "$tmp/$name" "$src"
            mv -f "$tmp/$name" "$exe"     # atomic for parallel runs
        fi
        mkdir -p "$tmp/helpers"
        cp "$exe" "$tmp/helpers/$name"
        helpers+=(--helper "$tmp/helpers/$name")
    done
else
    echo "$me: no C compiler: guest helpers (vmhelper) left out" >&2
fi

# 3. initramfs (systemd: the cached root file system, then an overlay)
mem=512
if [ "$guest" = systemd ]; then
    base=$("$here/mkrootfs.sh" "$cache")
    "$here/mkinitramfs.sh" "$tmp/overlay.gz" --systemd "${base%.cpio.gz}.list" \
        --scenario "$scenario" --modules "$kdir/modules" \
        ${binary:+--binary "$binary"} "${helpers[@]}" "${files[@]}"
    cat "$base" "$tmp/overlay.gz" > "$tmp/initrd.gz"
    rm -f "$tmp/overlay.gz"
    mem=2048
    [ "$cgroup" = v2 ] || append="systemd.unified_cgroup_hierarchy=0 $append"
else
    "$here/mkinitramfs.sh" "$tmp/initrd.gz" --scenario "$scenario" \
        --modules "$kdir/modules" ${binary:+--binary "$binary"} "${helpers[@]}" "${files[@]}"
fi
t_built=$(now)

# 4. Boot.
truncate -s 64M "$tmp/disk.raw"
: > "$tmp/console.log"
: > "$tmp/results.log"
cmdline="console=ttyS0 panic=-1 cpushield.cgroup=$cgroup"
cmdline="$cmdline cpushield.load=$load cpushield.busy=$busy"
cmdline="$cmdline cpushield.sleepers=$sleepers cpushield.dmesg=$dmesg $append"
# Multi-threaded TCG crashes guests now and then (README.md): single.
tcg_thread=${CPUSHIELD_VM_TCG_THREAD:-single}
qemu-system-x86_64 \
    -nodefaults -no-user-config -M q35 -accel "tcg,thread=$tcg_thread" \
    -cpu "$cpu" -m "$mem" -smp "$smp" \
    -kernel "$kdir/vmlinuz" -initrd "$tmp/initrd.gz" -append "$cmdline" \
    -display none -no-reboot \
    -serial "file:$tmp/console.log" -serial "file:$tmp/results.log" \
    -drive "file=$tmp/disk.raw,if=none,id=d0,format=raw" \
    -device virtio-blk-pci,drive=d0,num-queues=4 \
    -netdev hubport,id=n0,hubid=0 \
    -device virtio-net-pci,netdev=n0,mq=on,vectors=6 \
    -netdev hubport,id=n1,hubid=0 \
    -device virtio-net-pci,netdev=n1 \
    </dev/null >"$tmp/qemu.log" 2>&1 &
qemu_pid=$!
t_boot=$(now)

# Whole seconds since the boot, and since either channel last grew.
timed_out=0 boot_wall='' last_size=-1 last_change=${EPOCHSECONDS}
boot_s=${EPOCHSECONDS}
while kill -0 "$qemu_pid" 2>/dev/null; do
    if [ -z "$boot_wall" ] && grep -q '^BOOT ' "$tmp/results.log"; then
        boot_wall=$(elapsed "$t_boot")
    fi
    size=$(( $(stat -c %s "$tmp/console.log") + $(stat -c %s "$tmp/results.log") ))
    if [ "$size" != "$last_size" ]; then
        last_size=$size last_change=${EPOCHSECONDS}
    fi
    why=''
    if [ "$timeout" != 0 ] && [ $((EPOCHSECONDS - boot_s)) -gt "$timeout" ]; then
        why="timeout after ${timeout}s"
    elif [ "$stall" != 0 ] && [ $((EPOCHSECONDS - last_change)) -gt "$stall" ]; then
        why="no output from the guest for ${stall}s (hung?)"
    fi
    if [ -n "$why" ]; then
        timed_out=1
        echo "$me: $why: killing QEMU (pid $qemu_pid)" >&2
        kill "$qemu_pid" 2>/dev/null || true
        sleep 1
        kill -9 "$qemu_pid" 2>/dev/null || true
        break
    fi
    sleep 0.2
done
wait "$qemu_pid" 2>/dev/null && qemu_rc=0 || qemu_rc=$?
qemu_pid=
run_wall=$(elapsed "$t_boot")
if [ -z "$boot_wall" ] && grep -q '^BOOT ' "$tmp/results.log"; then
    boot_wall="<$run_wall"      # the guest finished between two polls
fi

# 5. Judge.
tr -d '\r' < "$tmp/results.log" > "$tmp/results.txt"
n_pass=$(grep -c '^CHECK PASS ' "$tmp/results.txt" || true)
n_fail=$(grep -c '^CHECK FAIL ' "$tmp/results.txt" || true)
done_seen=0
grep -q '^SCENARIO DONE' "$tmp/results.txt" && done_seen=1
guest_boot=$(sed -n 's/^BOOT //p' "$tmp/results.txt" | head -n1)
guest_end=$(sed -n 's/^END //p' "$tmp/results.txt" | head -n1)

[ -z "$logcopy" ] || cp "$tmp/console.log" "$logcopy"

grep -E '^(CHECK|INFO|SCENARIO) ' "$tmp/results.txt" || true
echo "$me: kernel $kernel ($(cat "$kdir/release")), cgroup $cgroup," \
    "scenario $(basename "$scenario"): build $(awk -v a="$t_start" -v b="$t_built" 'BEGIN { printf "%.1f", b - a }')s," \
    "boot ${boot_wall:-?}s (guest uptime ${guest_boot:-?}s at scenario start)," \
    "scenario end at guest uptime ${guest_end:-?}s, QEMU total ${run_wall}s"
echo "$me: checks: pass=$n_pass fail=$n_fail done=$done_seen timeout=$timed_out qemu_exit=$qemu_rc"

if [ "$n_pass" -ge 1 ] && [ "$n_fail" = 0 ] && [ "$done_seen" = 1 ] && [ "$timed_out" = 0 ]; then
    exit 0
fi
echo "$me: FAILED; QEMU output:" >&2
cat "$tmp/qemu.log" >&2
echo "$me: console log:" >&2
tr -d '\r' < "$tmp/console.log" >&2
exit 1
