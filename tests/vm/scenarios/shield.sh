#!/bin/sh
# shield: cpushield as root on a real kernel. Host keeps core 0 (CPUs 0-1:
# QEMU numbers SMT siblings next to each other), the VM takes cores 1-3
# (CPUs 2-7). Every check reads the kernel's own view (Cpus_allowed_list,
# smp_affinity_list, partition state, workqueue masks), not cpushield's report.
. /lib/vmlib.sh

C=/sys/fs/cgroup
W=/sys/devices/virtual/workqueue
VMCPUS=2-7
HOSTCPUS=0-1
CS="cpushield --config /etc/cpushield.yaml"
info "kernel $(uname -r) cgroup=$VM_CGROUP"

cat > /etc/cpushield.yaml <<'YAML'
version: 1
host: {cores: [0]}
power_profiles:
  ll: {max_wakeup_latency_us: 10}
vms:
  vm:
    activation: manual
    cores: [1, 2, 3]
    power: ll
YAML

# flags of a task (field 9 of stat, after the parenthesised comm)
task_flags() { s=$(cat /proc/$1/stat 2>/dev/null) || return 1; s=${s##*) }; set -- $s; echo $7; }
is_kthread() { f=$(task_flags $1) && [ $(( f & 0x200000 )) -ne 0 ]; }
is_pinned_kthread() { f=$(task_flags $1) && [ $(( f & 0x4000000 )) -ne 0 ]; }
start_time() { s=$(cat /proc/$1/stat 2>/dev/null) || return 1; s=${s##*) }; set -- $s; echo ${20}; }
# hex mask without VM CPU bits (bits 2-7 = 0xfc)
mask_clear_of_vm() { v=$(echo "$1" | tr -d ','); [ $(( 0x$v & 0xfc )) -eq 0 ]; }

# Everything cpushield may touch, as the kernel shows it; tasks keyed by
# PID and start time so that only tasks alive in both snapshots compare.
snapshot() {
    for d in /proc/[0-9]*; do
        p=${d#/proc/}
        st=$(start_time $p) || continue
        cg=$(sed -n 's/^[0-9]*:cpuset:\(.*\)/\1/p; s/^0::\(.*\)/\1/p' $d/cgroup 2>/dev/null | head -n1)
        echo "task $p@$st $(cpus_allowed $p) $cg"
    done
    for d in /proc/irq/[0-9]*; do
        [ -f $d/smp_affinity_list ] && echo "irq ${d#/proc/irq/} $(cat $d/smp_affinity_list)"
    done
    echo "irq default $(cat /proc/irq/default_smp_affinity)"
    for f in $W/cpumask $W/cpumask_requested $W/*/cpumask; do
        [ -f $f ] && echo "wq $f $(cat $f)"
    done
    for f in /sys/devices/system/cpu/cpu*/power/pm_qos_resume_latency_us; do echo "pmqos $f $(cat $f)"; done
    find $C -type d | sort | sed 's/^/cgroup-dir /'
    for f in $(find $C -name cgroup.subtree_control -o -name cpuset.cpus -o -name cpuset.mems \
               -o -name cpuset.cpus.partition | sort); do
        echo "cgroup $f $(cat $f)"
    done
}

# Compares two snapshots; tasks only where both have them.
same_as() {
    snapshot > /tmp/now
    grep '^task ' "$1" | awk '{print $2}' | sort > /tmp/a
    grep '^task ' /tmp/now | awk '{print $2}' | sort > /tmp/b
    comm -12 /tmp/a /tmp/b > /tmp/both
    { grep -v '^task ' "$1"; grep '^task ' "$1" | grep -F -w -f /tmp/both; } > /tmp/x
    { grep -v '^task ' /tmp/now; grep '^task ' /tmp/now | grep -F -w -f /tmp/both; } > /tmp/y
    if diff /tmp/x /tmp/y > /tmp/d; then pass "$2"; else fail "$2" "$(head -n 12 /tmp/d | tr '\n' '|')"; fi
}

# A task pinned by hand onto a VM CPU before cpushield runs.
sleep 1000 & pinned=$!
vmhelper setaffinity $pinned 3 > /dev/null
# The stand-in VM: spins, and goes into the VM's cgroup once it exists.
sh -c 'while :; do :; done' & vmproc=$!

snapshot > /tmp/before

# --- apply -------------------------------------------------------------------
out=$($CS --verbose activate vm 2>&1); rc=$?
echo "$out" | sed 's/^/LOG /'
expect_eq activate-exit "$rc" 0

sleep 600 & late=$!   # started after apply

if [ "$VM_CGROUP" = v2 ]; then
    expect_eq partition-isolated "$(cat $C/machine.slice/cpuset.cpus.partition)" isolated
    echo $vmproc > $C/machine.slice/cgroup.procs
else
    check v1-vm-set test -d $C/cpuset/cpushield.vm
    echo $vmproc > $C/cpuset/cpushield.vm/tasks
fi
sleep 1
check vm-process-on-vm-cpus cpulist_eq "$(cpus_allowed $vmproc)" $VMCPUS
s=$(cat /proc/$vmproc/stat); s=${s##*) }; set -- $s; ran_on=${37}
case $ran_on in 2|3|4|5|6|7) pass vm-process-runs-there ;; *) fail vm-process-runs-there "last ran on CPU $ran_on" ;; esac

bad=''
for d in /proc/[0-9]*; do
    p=${d#/proc/}
    [ $p = $vmproc ] && continue
    is_kthread $p && continue
    a=$(cpus_allowed $p) || continue
    [ -n "$a" ] && cpulist_intersects "$a" $VMCPUS && bad="$bad $p:$a"
done
expect_eq host-tasks-off-vm-cpus "${bad:-none}" none
check late-task-off-vm-cpus cpulist_eq "$(cpus_allowed $late)" $HOSTCPUS
check pinned-task-moved cpulist_eq "$(cpus_allowed $pinned)" $HOSTCPUS

bad='' percpu=0 followed=''
for d in /proc/[0-9]*; do
    p=${d#/proc/}
    is_kthread $p || continue
    a=$(cpus_allowed $p) || continue
    if is_pinned_kthread $p; then
        b=$(awk -v k="$p@$(start_time $p)" '$1 == "task" && $2 == k {print $3}' /tmp/before)
        # Per-CPU threads (ksoftirqd/3, migration/3, kworker/3:1) stay on
        # their CPU. Unbound kworkers and rescuers follow the workqueue
        # mask: the kernel moves those itself.
        case $(cat /proc/$p/comm) in
            */[0-9]|*/[0-9]:*) percpu=$((percpu + 1)); [ -n "$b" ] && [ "$a" != "$b" ] && bad="$bad $p:$b->$a" ;;
            *) [ "$a" != "$b" ] && followed="$followed $(cat /proc/$p/comm):$b->$a" ;;
        esac
    else
        cpulist_intersects "$a" $VMCPUS && bad="$bad $p:$a"
    fi
done
expect_eq kthreads-movable-on-host-percpu-untouched "${bad:-none}" none
info "per-CPU kthreads left alone: $percpu; unbound PF_NO_SETAFFINITY kthreads the kernel moved:$followed"

bad='' managed=''
for d in /proc/irq/[0-9]*; do
    [ -f $d/smp_affinity_list ] || continue
    i=${d#/proc/irq/}
    a=$(cat $d/smp_affinity_list)
    cpulist_intersects "$a" $VMCPUS || continue
    case $(write_errno $d/smp_affinity_list $HOSTCPUS) in
        "ERR EIO"*|"ERR EPERM"*) managed="$managed $i" ;;
        *) bad="$bad $i:$a" ;;
    esac
done
expect_eq irqs-on-host "${bad:-none}" none
for i in $managed; do
    echo "$out" | grep -Eq "/proc/irq/$i/smp_affinity_list.*(refuses|managed|per-CPU|not allow)" || bad="$bad $i"
done
expect_eq refused-irqs-reported "${bad:-none}" none
info "refused IRQs:$managed"
check default-irq-affinity mask_clear_of_vm "$(cat /proc/irq/default_smp_affinity)"

for f in $W/cpumask $W/cpumask_requested $W/*/cpumask; do
    [ -f $f ] || continue
    check "wq-$(basename $(dirname $f))-$(basename $f)" mask_clear_of_vm "$(cat $f)"
done
expect_eq pmqos-vm-cpu "$(cat /sys/devices/system/cpu/cpu5/power/pm_qos_resume_latency_us)" 10
expect_eq pmqos-host-cpu "$(cat /sys/devices/system/cpu/cpu0/power/pm_qos_resume_latency_us)" 0

$CS verify > /tmp/verify 2>&1; rc=$?
expect_eq verify-clean "$rc" 0
[ $rc = 0 ] || sed 's/^/LOG verify: /' /tmp/verify

$CS apply --detailed-exitcodes > /tmp/again 2>&1; rc=$?
expect_eq apply-again-converged "$rc" 0
[ $rc = 0 ] || sed 's/^/LOG again: /' /tmp/again

# --- revert ------------------------------------------------------------------
kill $vmproc $late; wait $vmproc $late 2>/dev/null
out=$($CS --verbose revert 2>&1); rc=$?
echo "$out" | sed 's/^/LOG /'
expect_eq revert-exit "$rc" 0
same_as /tmp/before revert-restores-everything
check pinned-task-back cpulist_eq "$(cpus_allowed $pinned)" 3

# --- crash midway, then revert -----------------------------------------------
for k in 2 12 40; do
    CPUSHIELD_TEST_CRASH_AFTER_WRITES=$k $CS activate vm > /dev/null 2>&1; rc=$?
    [ $rc = 137 ] || info "crash point $k: exit $rc (fewer writes than $k?)"
    $CS revert > /tmp/rv 2>&1 || sed 's/^/LOG revert after crash: /' /tmp/rv
    same_as /tmp/before "crash-after-$k-writes-revert-restores"
done

kill $pinned
done_
