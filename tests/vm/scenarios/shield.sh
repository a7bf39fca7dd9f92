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

vm_config /etc/cpushield.yaml manual power

# hex mask without VM CPU bits (bits 2-7 = 0xfc)
mask_clear_of_vm() { v=$(echo "$1" | tr -d ','); [ $(( 0x$v & 0xfc )) -eq 0 ]; }

# Everything cpushield may touch, as the kernel shows it, one line per item
# (vmhelper.c: task PID@STARTTIME ALLOWED CGROUP, irq, wq, pmqos,
# cgroup-dir, cgroup); tasks keyed by PID and start time so that only tasks
# alive in both snapshots compare. One process: the shell loop it replaced
# took 30-45 s per snapshot under TCG.
snapshot() { vmhelper snapshot $C; }

# Compares two snapshots; tasks only where both have them (awk: busybox
# has no comm(1), and a `comm -12` here once left the task list empty, so
# no task was ever compared). Fails as well when fewer than 20 tasks are
# common: the load's sleepers and the pinned task live through the whole
# scenario. Two kinds of kernel threads get their masks from the kernel,
# not from cpushield, and are left out of the equality: unbound kworkers
# and rescuers (PF_NO_SETAFFINITY, not per-CPU: they follow the workqueue
# masks, which are compared; a 6.1 rescuer reads 2 after rescuing work on
# CPU 2), and threaded IRQ handlers (irq/N-name), which take their mask
# from IRQ N whenever it changes (DESIGN.md): those must lie within IRQ
# N's list, and IRQ N itself is compared with the rest.
same_as() {
    snapshot > /tmp/now
    vmhelper tasks > /tmp/tasks
    awk "$CPULIST_AWK"'
        FILENAME == ARGV[1] { if ($1 == "irq") irq[$2] = $3; next }
        $2 == "kthread+nosetaffinity" {
            comm = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ /, "", comm)
            if (comm !~ /\/[0-9]$/ && comm !~ /\/[0-9]:/) print "skip " $1
        }
        $2 ~ /kthread/ && $4 ~ /^irq\/[0-9]+-/ {
            n = $4; sub(/^irq\//, "", n); sub(/-.*/, "", n)
            print "skip " $1
            if ((n in irq) && !cpulist_subset($3, irq[n]))
                print "bad " $4 "@" $1 " on " $3 ", IRQ " n " on " irq[n]
        }' /tmp/now /tmp/tasks > /tmp/irqthreads
    awk 'FILENAME == ARGV[1] { if ($1 == "skip") skip[$2] = 1; next }
         FILENAME == ARGV[2] { if ($1 == "task") a[$2] = 1; next }
         $1 == "task" && ($2 in a) && !($2 in skip) { print $2 }' \
        /tmp/irqthreads "$1" /tmp/now > /tmp/both
    n=$(wc -l < /tmp/both)
    common='FILENAME == ARGV[1] { both[$1] = 1; next } $1 != "task" || ($2 in both)'
    awk "$common" /tmp/both "$1" > /tmp/x
    awk "$common" /tmp/both /tmp/now > /tmp/y
    bad_irqthreads=$(sed -n 's/^bad //p' /tmp/irqthreads | tr '\n' '|')
    if [ "$n" -lt 20 ]; then
        fail "$2" "only $n tasks in both snapshots"
    elif diff /tmp/x /tmp/y > /tmp/d && [ -z "$bad_irqthreads" ]; then
        pass "$2"
    else
        fail "$2" "$(grep '^[-+][^-+]' /tmp/d | head -n 12 | tr '\n' '|')$bad_irqthreads"
        # which tasks (vmhelper tasks: PID@START KIND ALLOWED COMM)
        awk 'FILENAME == ARGV[1] { if ($1 ~ /^[-+]task$/) d[$2] = 1; next }
             $1 in d { print "INFO differs: " $0 }' /tmp/d /tmp/tasks
    fi
}

# A task pinned by hand onto a VM CPU before cpushield runs.
sleep 1000 & pinned=$!
vmhelper setaffinity $pinned 3 > /dev/null
# The stand-in VM: spins, and goes into the VM's cgroup once it exists.
sh -c 'while :; do :; done' & vmproc=$!

# cgroup v1: host processes with threads. cpushield moves a process whose
# threads are all in the root set with one write of its TGID to
# cgroup.procs; $mt has a thread pinned by hand (its mask must come back),
# and one thread of $sp sits in another tool's cpuset (side, on the host's
# CPUs), which the kernel would move along with the TGID: $sp must go
# thread by thread.
if [ "$VM_CGROUP" = v1 ]; then
    vmhelper threads 60 & mt=$!
    vmhelper threads 4 & sp=$!
    i=0
    while { [ "$(ls /proc/$mt/task | wc -l)" != 61 ] || [ "$(ls /proc/$sp/task | wc -l)" != 5 ]; } && [ $i -lt 100 ]; do
        sleep 0.2; i=$((i + 1))
    done
    mtpin=$(ls /proc/$mt/task | sort -n | tail -n 1)
    spy=$(ls /proc/$sp/task | sort -n | tail -n 1)
    vmhelper setaffinity $mtpin 3 > /dev/null
    mkdir $C/cpuset/side
    echo $HOSTCPUS > $C/cpuset/side/cpuset.cpus
    cat $C/cpuset/cpuset.mems > $C/cpuset/side/cpuset.mems
    echo $spy > $C/cpuset/side/tasks
fi
# cpuset_of TID...: the cpuset of each (sorted, unique)
cpuset_of() {
    for t in "$@"; do sed -n 's/^[0-9]*:cpuset://p' /proc/$t/cgroup; done | sort -u | tr '\n' ' '
}
mt_threads() { ls /proc/$mt/task; }
sp_others() { ls /proc/$sp/task | grep -vx "$spy"; }

phase snapshot
snapshot > /tmp/before

# --- apply -------------------------------------------------------------------
# A busy v1 host: a loop forking sleepers in the root set while activate
# moves the set's tasks out; a child born before its parent moved must
# follow it, not stay on every CPU until the next run.
if [ "$VM_CGROUP" = v1 ]; then
    sh -c 'while :; do sleep 30 & sleep 0.05; done' & spawner=$!
    sleep 1
fi
phase activate
out=$($CS --verbose activate vm 2>&1); rc=$?
echo "$out" | sed 's/^/LOG /'
expect_eq activate-exit "$rc" 0
if [ "$VM_CGROUP" = v1 ]; then
    kill $spawner; wait $spawner 2>/dev/null
    cp $C/cpuset/tasks /tmp/roottasks
    vmhelper tasks > /tmp/tasks
    awk 'FILENAME == ARGV[1] { r[$1] = 1; next } { split($1, k, "@") } (k[1] in r) && $2 == "-" { print k[1] " " $4 }' \
        /tmp/roottasks /tmp/tasks > /tmp/rootleft
    expect_eq v1-no-user-task-left-in-root-set "$(wc -l < /tmp/rootleft)" 0
    sed 's/^/INFO left in the root set: /' /tmp/rootleft | head -n 5
fi

sleep 600 & late=$!   # started after apply

if [ "$VM_CGROUP" = v2 ]; then
    # The VM has no pins: its threads float over its CPUs, so the partition
    # is exclusive and load-balanced ("root"), not isolated.
    expect_eq partition-root "$(cat $C/machine.slice/cpuset.cpus.partition)" root
    echo $vmproc > $C/machine.slice/cgroup.procs
else
    check v1-vm-set test -d $C/cpuset/cpushield.vm
    echo $vmproc > $C/cpuset/cpushield.vm/tasks
fi
sleep 1
phase checks
check vm-process-on-vm-cpus cpulist_eq "$(cpus_allowed $vmproc)" $VMCPUS
s=$(cat /proc/$vmproc/stat); s=${s##*) }; set -- $s; ran_on=${37}
case $ran_on in 2|3|4|5|6|7) pass vm-process-runs-there ;; *) fail vm-process-runs-there "last ran on CPU $ran_on" ;; esac

# The tasks as the kernel shows them now, judged in one awk run each.
vmhelper tasks > /tmp/tasks
bad=$(awk -v vm=$VMCPUS -v self=$vmproc "$CPULIST_AWK"'
    { split($1, k, "@") }
    k[1] != self && $2 !~ /kthread/ && $3 != "-" && cpulist_intersects($3, vm) { printf " %s:%s", k[1], $3 }' /tmp/tasks)
expect_eq host-tasks-off-vm-cpus "${bad:-none}" none
check late-task-off-vm-cpus cpulist_eq "$(cpus_allowed $late)" $HOSTCPUS
check pinned-task-moved cpulist_eq "$(cpus_allowed $pinned)" $HOSTCPUS
if [ "$VM_CGROUP" = v1 ]; then
    expect_eq v1-threaded-process-in-host-set "$(cpuset_of $(mt_threads))" "/cpushield.host "
    check v1-pinned-thread-moved cpulist_eq "$(cpus_allowed $mtpin)" $HOSTCPUS
    expect_eq v1-other-cpuset-thread-stays "$(cpuset_of $spy)" "/side "
    expect_eq v1-split-process-rest-in-host-set "$(cpuset_of $(sp_others))" "/cpushield.host "
fi

# Kernel threads: movable ones on host CPUs. Per-CPU threads (ksoftirqd/3,
# migration/3, kworker/3:1) stay on their CPU. Unbound kworkers and
# rescuers (PF_NO_SETAFFINITY too) follow the workqueue mask: the kernel
# moves those itself. Prints three lines: bad, per-CPU count, followed.
awk -v vm=$VMCPUS "$CPULIST_AWK"'
    FILENAME == ARGV[1] { if ($1 == "task") before[$2] = $3; next }
    $2 !~ /kthread/ { next }
    {
        a = ($3 == "-") ? "" : $3
        comm = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ /, "", comm)
        split($1, k, "@")
        if ($2 ~ /nosetaffinity/) {
            b = ($1 in before) ? before[$1] : ""
            if (comm ~ /\/[0-9]$/ || comm ~ /\/[0-9]:/) {
                percpu++
                if (b != "" && a != b) bad = bad " " k[1] ":" b "->" a
            } else if (a != b) {
                followed = followed " " comm ":" b "->" a
            }
        } else if (cpulist_intersects(a, vm)) {
            bad = bad " " k[1] ":" a
        }
    }
    END { print bad; print percpu + 0; print followed }' /tmp/before /tmp/tasks > /tmp/kthreads
{ read -r bad; read -r percpu; read -r followed; } < /tmp/kthreads
expect_eq kthreads-movable-on-host-percpu-untouched "${bad:-none}" none
info "per-CPU kthreads left alone: $percpu; unbound PF_NO_SETAFFINITY kthreads the kernel moved: $followed"

# IRQs still on VM CPUs must be ones the kernel refuses to move.
snapshot > /tmp/applied
bad='' managed=''
for ia in $(awk -v vm=$VMCPUS "$CPULIST_AWK"'
        $1 == "irq" && $2 != "default" && cpulist_intersects($3, vm) { print $2 "=" $3 }' /tmp/applied); do
    i=${ia%%=*} a=${ia#*=}
    case $(write_errno /proc/irq/$i/smp_affinity_list $HOSTCPUS) in
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
# the neighbour tables' managed-entry probes (6.0+): every 120 s while shielded
for ip in ipv4 ipv6; do
    f=/proc/sys/net/$ip/neigh/default/interval_probe_time_ms
    [ ! -f $f ] || expect_eq neigh-probes-$ip "$(cat $f)" 120000
done

phase verify
$CS verify > /tmp/verify 2>&1; rc=$?
expect_eq verify-clean "$rc" 0
[ $rc = 0 ] || sed 's/^/LOG verify: /' /tmp/verify

phase apply-again
$CS apply --detailed-exitcodes > /tmp/again 2>&1; rc=$?
expect_eq apply-again-converged "$rc" 0
[ $rc = 0 ] || sed 's/^/LOG again: /' /tmp/again

# PSI's switch (6.1+): off in the VMs' cgroup from the activate on, and in a
# VM's own cgroup made after it (libvirt's scope) from the next apply; the
# VM stops and its cgroup goes before the revert, which forgets it.
if [ "$VM_CGROUP" = v2 ] && [ -f $C/cgroup.pressure ]; then
    phase pressure
    expect_eq psi-off-vm-cgroup "$(cat $C/machine.slice/cgroup.pressure)" 0
    expect_eq psi-root-untouched "$(cat $C/cgroup.pressure)" 1
    mkdir $C/machine.slice/vm.scope
    expect_eq psi-new-scope-on "$(cat $C/machine.slice/vm.scope/cgroup.pressure)" 1
    $CS apply --detailed-exitcodes > /tmp/psi 2>&1; rc=$?
    expect_eq psi-apply-changed "$rc" 2
    expect_eq psi-off-vm-scope "$(cat $C/machine.slice/vm.scope/cgroup.pressure)" 0
    check psi-files-hidden test ! -e $C/machine.slice/vm.scope/cpu.pressure
    rmdir $C/machine.slice/vm.scope
fi

# cgroup v1 with no cgroup2 mounted (this guest's v1 layout): the host-wide
# PSI's switch is the cgroup2 root's cgroup.pressure, which the activate
# reached through a mount of its own, switched off and on again; nothing of
# that mount is left in this namespace, and the switch is on. Read here
# through a mount in a private namespace of a child's.
if [ "$VM_CGROUP" = v1 ] && ! grep -q ' cgroup2 ' /proc/mounts && [ -e /proc/pressure/cpu ]; then
    phase pressure-v1
    expect_eq psi-root-bounced "$(echo "$out" | grep -c 'cgroup2:/cgroup.pressure.*1 -> 0')" 1
    check psi-no-mount-left sh -c "! grep -q cgroup2 /proc/mounts"
    d=$(mktemp -d)
    expect_eq psi-root-on "$(unshare -m sh -c "mount -t cgroup2 none $d && cat $d/cgroup.pressure")" 1
    rmdir "$d"
fi

# --- verify --sample: what did run on the VM's CPUs ---------------------------
# A movable NIC interrupt put back onto a VM CPU by hand, and the NIC fed
# frames: the sample names it as the first noise and exits 1; once apply
# has moved it off again, the same sample exits 0.
phase sample
nicirq=$(irq_of_name 'virtio[0-9]+-input' | head -n1)
poke() { i=0; while [ $i -lt 40 ]; do net_irq_poke "$nicirq"; i=$((i + 1)); done; }
if [ -n "$nicirq" ]; then
    echo 3 > /proc/irq/$nicirq/smp_affinity_list
    poke & poker=$!
    $CS verify --sample 4 > /tmp/sample 2>&1; rc=$?
    kill $poker 2>/dev/null; wait $poker 2>/dev/null
    expect_eq sample-noise-exit "$rc" 1
    check sample-names-the-irq-first sh -c "grep -m1 '^noise: IRQ' /tmp/sample | grep -q 'IRQ $nicirq '"
    head -n 12 /tmp/sample | sed 's/^/INFO sample: /'
    grep '^noise:' /tmp/sample | head -n 5 | sed 's/^/INFO sample: /'
    $CS apply > /tmp/reapply 2>&1 || sed 's/^/LOG reapply: /' /tmp/reapply
    poke & poker=$!
    $CS verify --sample 4 > /tmp/sample2 2>&1; rc=$?
    kill $poker 2>/dev/null; wait $poker 2>/dev/null
    expect_eq sample-quiet-after-apply "$rc" 0
    [ $rc = 0 ] || sed 's/^/LOG sample after apply: /' /tmp/sample2
else
    fail sample-noise-exit "no virtio-net input IRQ in /proc/interrupts"
fi

# --- revert ------------------------------------------------------------------
phase revert
kill $vmproc $late; wait $vmproc $late 2>/dev/null
# A busy host: a shell loop forking all the time in a cgroup that revert
# removes (v1: the host set, where this shell is now; v2: the VMs'). Its
# children are born there while revert moves their parents out.
sh -c 'while :; do /bin/true; done' & forker=$!
[ "$VM_CGROUP" = v1 ] || echo $forker > $C/machine.slice/cgroup.procs
sleep 1
out=$($CS --verbose revert 2>&1); rc=$?
echo "$out" | sed 's/^/LOG /'
expect_eq revert-exit "$rc" 0
[ "$VM_CGROUP" = v1 ] && expect_eq v1-forker-back "$(cpuset_of $forker)" "/ "
[ "$VM_CGROUP" = v1 ] || expect_eq v2-forker-back "$(sed -n 's/^0:://p' /proc/$forker/cgroup)" "/"
kill $forker; wait $forker 2>/dev/null
same_as /tmp/before revert-restores-everything
check pinned-task-back cpulist_eq "$(cpus_allowed $pinned)" 3
if [ "$VM_CGROUP" = v1 ]; then
    expect_eq v1-threaded-process-back "$(cpuset_of $(mt_threads))" "/ "
    check v1-pinned-thread-back cpulist_eq "$(cpus_allowed $mtpin)" 3
    expect_eq v1-other-cpuset-thread-still-there "$(cpuset_of $spy)" "/side "
    expect_eq v1-split-process-rest-back "$(cpuset_of $(sp_others))" "/ "
fi

# --- crash midway, then revert -----------------------------------------------
for k in 2 12 40; do
    phase crash-after-$k-writes
    CPUSHIELD_TEST_CRASH_AFTER_WRITES=$k $CS activate vm > /dev/null 2>&1; rc=$?
    [ $rc = 137 ] || info "crash point $k: exit $rc (fewer writes than $k?)"
    $CS revert > /tmp/rv 2>&1 || sed 's/^/LOG revert after crash: /' /tmp/rv
    same_as /tmp/before "crash-after-$k-writes-revert-restores"
done

phase end
kill $pinned
[ "$VM_CGROUP" = v1 ] && kill $mt $sp
done_
