#!/bin/sh
# /init of the cpushield test guest (busybox sh). See tests/vm/README.md.
#
# Kernel command line options read here:
#   cpushield.cgroup=v2|v1|none  cgroup2 at /sys/fs/cgroup (default v2), or
#                                tmpfs there with the v1 cpuset at
#                                /sys/fs/cgroup/cpuset
#   cpushield.busy=N             busy-looping load processes (default 2)
#   cpushield.sleepers=N         sleeping load processes (default 30)
#   cpushield.load=flat|nested   nested: half of the load in a child cgroup
#                                (v2: /sys/fs/cgroup/load.slice/load.service,
#                                v1: /sys/fs/cgroup/cpuset/load) (default flat)
#   cpushield.dmesg=1            dump dmesg to the console at the end
#
# The scenario's output goes to the console (ttyS0) and to ttyS1, which the
# host reads as a clean result channel (no kernel messages in it).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mkdir -p /root /run/cpushield

log() { echo "INIT: $*"; }

opt() {
    # opt NAME DEFAULT: value of cpushield.NAME= on the kernel command line
    v=$(tr ' ' '\n' < /proc/cmdline | sed -n "s/^cpushield\.$1=//p" | tail -n1)
    echo "${v:-$2}"
}
cgroup=$(opt cgroup v2)
busy=$(opt busy 2)
sleepers=$(opt sleepers 30)
layout=$(opt load flat)
want_dmesg=$(opt dmesg 0)

log "kernel $(uname -r), $(nproc) CPUs online, uptime $(cut -d' ' -f1 /proc/uptime)s"

# Modules, dependencies first (fetch-kernel.sh wrote the order).
if [ -f /lib/modules/load.order ]; then
    while read -r m; do
        insmod "/lib/modules/$m.ko" || log "insmod $m failed"
    done < /lib/modules/load.order
fi

# Wait (at most ~10 s) for the virtio disk and NIC.
i=0
while [ $i -lt 100 ]; do
    [ -b /dev/vda ] && [ "$(ls /sys/class/net)" != lo ] && break
    sleep 0.1
    i=$((i + 1))
done
[ -b /dev/vda ] || log "no /dev/vda (virtio-blk)"
[ "$(ls /sys/class/net)" != lo ] || log "no network interface (virtio-net)"
# NICs up without addresses (IPv6 off: no autoconfiguration traffic), so
# they have RX buffers and take interrupts for frames sent on the hub.
echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 2>/dev/null
echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6 2>/dev/null
for n in /sys/class/net/*; do
    n=${n##*/}
    ip link set "$n" up || log "cannot bring $n up"
done

# cgroups
case $cgroup in
    v2)
        mount -t cgroup2 cgroup2 /sys/fs/cgroup || log "cannot mount cgroup2"
        ;;
    v1)
        mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup
        mkdir -p /sys/fs/cgroup/cpuset
        mount -t cgroup -o cpuset cpuset /sys/fs/cgroup/cpuset ||
            log "cannot mount the v1 cpuset (CONFIG_CPUSETS_V1 off?)"
        ;;
    none) ;;
    *) log "unknown cpushield.cgroup=$cgroup" ;;
esac

# Load: busy loops and sleepers, PIDs in /run/load.pids (all),
# /run/busy.pids and /run/sleep.pids.
: > /run/busy.pids
: > /run/sleep.pids
i=0
while [ $i -lt "$busy" ]; do
    sh -c 'while :; do :; done' &
    echo $! >> /run/busy.pids
    i=$((i + 1))
done
i=0
while [ $i -lt "$sleepers" ]; do
    sleep 1000000 &
    echo $! >> /run/sleep.pids
    i=$((i + 1))
done
cat /run/busy.pids /run/sleep.pids > /run/load.pids

if [ "$layout" = nested ]; then
    case $cgroup in
        v2) g=/sys/fs/cgroup/load.slice/load.service; mkdir -p $g ;;
        v1) g=/sys/fs/cgroup/cpuset/load; mkdir -p $g
            cat /sys/fs/cgroup/cpuset/cpuset.cpus > $g/cpuset.cpus
            cat /sys/fs/cgroup/cpuset/cpuset.mems > $g/cpuset.mems ;;
        *) g= ;;
    esac
    if [ -n "$g" ]; then
        # Every other load process, so both cgroups have busy and sleeping ones.
        n=0
        for p in $(cat /run/load.pids); do
            [ $((n % 2)) = 1 ] && echo "$p" > "$g/cgroup.procs"
            n=$((n + 1))
        done
    fi
fi

export VM_CGROUP="$cgroup" VM_LOAD_PIDS=/run/load.pids \
    VM_BUSY_PIDS=/run/busy.pids VM_SLEEP_PIDS=/run/sleep.pids
[ -x /usr/bin/cpushield ] && export CPUSHIELD=/usr/bin/cpushield

results=/dev/ttyS1
[ -c $results ] || results=/dev/null
log "cgroup=$cgroup busy=$busy sleepers=$sleepers load=$layout"
log "scenario starts at uptime $(cut -d' ' -f1 /proc/uptime)s"
echo "BOOT $(cut -d' ' -f1 /proc/uptime)" > $results

cd /root || exit 1
{ sh /scenario.sh 2>&1; echo "INIT: scenario exit status $?"; } |
    tee /run/scenario.out /dev/console > $results
log "scenario ends at uptime $(cut -d' ' -f1 /proc/uptime)s"
echo "END $(cut -d' ' -f1 /proc/uptime)" > $results

if [ "$want_dmesg" = 1 ] || grep -q '^CHECK FAIL' /run/scenario.out ||
        ! grep -q '^SCENARIO DONE' /run/scenario.out; then
    log "dmesg follows"
    dmesg
fi
sync
poweroff -f
echo o > /proc/sysrq-trigger
