#!/bin/sh
# noise: the outcome, measured (bench/noise.sh runs this; not a meson test).
# Host CPUs 0-1, VM CPUs 2-7. Under host stress (busy loops, a disk written
# with fsync, frames into a NIC, movable IRQs spread over every CPU as
# irqbalance would), one stand-in vCPU per VM CPU busy-loops for a few
# seconds (after settling 6 s) and reports what the kernel counted: involuntary context
# switches, runqueue wait, interrupts on its CPU. The configurations, in one
# boot: no shield (the probes only pinned), on cgroup v1 where Debian's
# `cset` is installed (the systemd guest) `cset shield --cpu 2-7 --kthread
# on`, cgroup only (irqs, kthreads, workqueues: leave; pressure: disable), full cpushield with
# `defaults.pressure: disable` (PSI off in the VMs' cgroups only), and full
# cpushield with its defaults (`pressure: move`).
# Lines "NOISE config=C PROBE ...". Runs in the busybox and the systemd
# guest alike.
. /lib/vmlib.sh

SECS=$(sed -n 's/.*cpushield.noise_secs=\([0-9]*\).*/\1/p' /proc/cmdline)
SECS=${SECS:-10}
C=/sys/fs/cgroup
info "kernel $(uname -r) cgroup=$VM_CGROUP probe seconds=$SECS"

write_config() { # $1: extra defaults
    cat > /etc/cpushield.yaml <<YAML
version: 1
host: {cores: [0], partition_type: isolated}
$1
power_profiles:
  ll: {max_wakeup_latency_us: 10}
vms:
  vm:
    activation: manual
    cores: [1, 2, 3]
    power: ll
YAML
}
CS="cpushield --config /etc/cpushield.yaml"

# Host stress for the whole run.
echo 65536 > /proc/sys/vm/dirty_background_bytes 2>/dev/null
stress=
i=0; while [ $i -lt 8 ]; do sh -c 'while :; do :; done' </dev/null >/dev/null 2>&1 & stress="$stress $!"; i=$((i + 1)); done
sh -c 'while :; do dd if=/dev/zero of=/dev/vda bs=64k count=64 conv=fsync 2>/dev/null; done' </dev/null >/dev/null 2>&1 &
stress="$stress $!"
nic=$(for n in /sys/class/net/*; do n=${n##*/}; [ "$n" = lo ] || { echo "$n"; break; }; done)
sh -c "while :; do vmhelper sendframe $nic 8 >/dev/null; sleep 0.05; done" </dev/null >/dev/null 2>&1 &
stress="$stress $!"

spread_irqs() { # as irqbalance would: round-robin over every CPU
    k=0
    for d in /proc/irq/[0-9]*; do
        [ -f $d/smp_affinity_list ] || continue
        echo $((k % 8)) > $d/smp_affinity_list 2>/dev/null && k=$((k + 1))
    done
}

# A VM's threads live in its scope in machine.slice (libvirt's, made by
# systemd-machined); on cgroup v1 that scope is in systemd's unified
# hierarchy beside the cpusets, and pressure stall accounting follows it.
# In the systemd guest the probes join such a scope, made before any
# configuration runs; in the busybox guest the probes' cgroup is the VMs' own.
scope='' scope_pid=''
if command -v systemd-run >/dev/null; then
    U=$C; [ "$VM_CGROUP" = v1 ] && U=$C/unified
    systemd-run --scope --slice=machine.slice --unit=noise-vm sleep 100000 >/dev/null 2>&1 &
    scope_pid=$!
    i=0; while [ ! -d $U/machine.slice/noise-vm.scope ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
    scope=$U/machine.slice/noise-vm.scope/cgroup.procs
    info "probes in $scope"
fi

probes() { # $1: config name, $2: cgroup procs file or "", $3: sample (run verify --sample inside the window)
    for cpu in 2 3 4 5 6 7; do
        if [ -n "$scope" ]; then
            sh -c "echo \$\$ > $scope && exec vmhelper probe $cpu $SECS $2" | sed "s/^/INFO NOISE config=$1 /" &
        else
            vmhelper probe $cpu $SECS $2 | sed "s/^/INFO NOISE config=$1 /" &
        fi
    done
    if [ -n "${3:-}" ]; then
        # inside the probes' window (they settle 6 s first): what ran there, by name
        sleep 7
        $CS verify --sample $((SECS - 2)) > /tmp/vs 2>&1
        info "verify --sample $((SECS - 2)) during the window: exit $?"
        sed "s/^/INFO SAMPLE config=$1 /" /tmp/vs
    fi
    wait_probes
}
wait_probes() { sleep $((SECS + 7)); while pgrep -f "vmhelper probe" >/dev/null 2>&1; do sleep 0.5; done; }

vmcgroup() {
    if [ "$VM_CGROUP" = v2 ]; then [ -n "$scope" ] || echo $C/machine.slice/cgroup.procs; else echo $C/cpuset/cpushield.vm/tasks; fi
}

phase none
spread_irqs
probes none ""

if [ "$VM_CGROUP" = v1 ] && command -v cset >/dev/null; then
    phase cset
    spread_irqs
    # Python under the host stress: minutes under TCG (bench/noise.sh allows for it)
    cset shield --cpu 2-7 --kthread on > /tmp/c 2>&1; rc=$?
    info "cset shield: exit $rc, shield cpuset $(cat $C/cpuset/user/cpuset.cpus 2>/dev/null)"
    [ $rc = 0 ] || sed 's/^/INFO cset: /' /tmp/c
    probes cset $C/cpuset/user/tasks
    cset shield --reset > /tmp/c 2>&1 || sed 's/^/INFO cset reset: /' /tmp/c
fi

# shielded PHASE CONFIG DEFAULTS [sample]: cpushield activated with these
# defaults, the probes in the VMs' cgroup, then revert; with "sample",
# verify --sample inside the window and verify after it.
shielded() {
    phase $1
    write_config "$3"
    spread_irqs
    $CS activate vm > /tmp/a 2>&1; rc=$?
    expect_eq "activate-$1" $rc 0
    [ $rc = 0 ] || sed 's/^/LOG activate: /' /tmp/a
    probes $2 "$(vmcgroup)" ${4:-}
    [ -z "${4:-}" ] || { $CS verify > /tmp/v 2>&1; info "verify after activate: exit $?"; }
    # under the host stress (a dd loop forking in the host's cgroup): what
    # follows needs the host given back whole
    $CS revert > /tmp/r 2>&1; rc=$?
    expect_eq "revert-$1" $rc 0
    [ $rc = 0 ] || sed 's/^/LOG revert: /' /tmp/r
}

shielded cgroup-only cgroup "defaults: {irqs: leave, kthreads: leave, workqueues: leave, pressure: disable}"
shielded disable disable "defaults: {pressure: disable}"
# Last, since what it moves stays where it was moved: full cpushield, whose
# default also moves the other cgroups' PSI averaging to the host's CPUs.
shielded full full "" sample

kill $stress $scope_pid 2>/dev/null   # by PID: the harness waits for every writer of its pipe
pass noise-measured
done_
