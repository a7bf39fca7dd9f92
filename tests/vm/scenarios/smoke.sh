#!/bin/sh
# smoke: the guest kernel's own view, without cpushield (only
# `cpushield --version` when a binary is packed). CHECK lines assert what
# every supported kernel must offer; INFO lines report what differs between
# kernels (the facts the C code has to cope with).
. /lib/vmlib.sh

C=/sys/fs/cgroup
W=/sys/devices/virtual/workqueue
CPU=/sys/devices/system/cpu
info "kernel $(uname -r) cgroup=$VM_CGROUP"

phase topology
# --- CPUs and SMT topology -------------------------------------------------
expect_eq cpus-online "$(cat $CPU/online)" "0-7"
sib=$(cat $CPU/cpu0/topology/thread_siblings_list)
case $sib in
    0-1|0,4) pass "smt-siblings-cpu0" ;;
    *) fail "smt-siblings-cpu0" "thread_siblings_list of cpu0 is '$sib'" ;;
esac
info "smt: cpu0 siblings=$sib cpu1 siblings=$(cat $CPU/cpu1/topology/thread_siblings_list)" \
    "core_cpus(cpu4)=$(cat $CPU/cpu4/topology/core_cpus_list)" \
    "smt/active=$(cat $CPU/smt/active 2>/dev/null)"

phase irqs
# --- IRQs ------------------------------------------------------------------
nirq=0 managed='' refused=''
for d in /proc/irq/[0-9]*; do
    [ -f "$d/smp_affinity_list" ] || continue
    nirq=$((nirq + 1))
    i=${d#/proc/irq/}
    # Writing the current value back changes nothing, but a managed IRQ
    # (or one that cannot be moved at all, like the timer) refuses:
    # EIO on 6.1, EPERM on 6.12.
    read -r cur < "$d/smp_affinity_list"     # a builtin: no fork per IRQ
    r=$(write_errno "$d/smp_affinity_list" "$cur")
    case $r in
        "ERR EIO"*|"ERR EPERM"*)
            name=$(irq_name $i)
            e=${r#ERR }; e=${e%% *}
            refused="$refused $i:${name:-?}:$e"
            case $name in virtio*-req.*) managed="$managed $i" ;; esac
            ;;
    esac
done
[ $nirq -gt 0 ] && pass irqs-present || fail irqs-present "no /proc/irq/N/smp_affinity_list"
info "irqs: $nirq with smp_affinity_list; refused (irq:name:errno):$refused"
for i in $(irq_of_name 'virtio[0-9]+-'); do
    info "irq $i $(awk -v i="$i:" '$1 == i { print $NF }' /proc/interrupts)" \
        "affinity=$(cat /proc/irq/$i/smp_affinity_list)" \
        "effective=$(cat /proc/irq/$i/effective_affinity_list)"
done
[ -n "$managed" ] && pass managed-irq-refused ||
    fail managed-irq-refused "no virtio-blk queue IRQ refused an affinity write (EIO/EPERM)"

net=$(irq_of_name 'virtio[0-9]+-input' | head -n1)
if [ -z "$net" ]; then
    fail net-irq-affinity "no virtio-net input IRQ in /proc/interrupts"
else
    old=$(cat /proc/irq/$net/smp_affinity_list)
    r=$(write_errno /proc/irq/$net/smp_affinity_list 5)
    aff=$(cat /proc/irq/$net/smp_affinity_list)
    eff0=$(cat /proc/irq/$net/effective_affinity_list)
    n0=$(irq_count $net)
    net_irq_poke $net
    eff=$(cat /proc/irq/$net/effective_affinity_list)
    if [ "$r" = OK ] && [ "$aff" = 5 ] && [ "$eff" = 5 ]; then
        pass net-irq-affinity
    else
        fail net-irq-affinity "write 5 -> $r, smp_affinity_list=$aff effective_affinity_list=$eff"
    fi
    info "irq $net ($(irq_name $net)): after writing 5: effective=$eff0 before" \
        "the next interrupt, $eff after $(( $(irq_count $net) - n0 )) interrupts"
    write_errno /proc/irq/$net/smp_affinity_list "$old" >/dev/null
fi
info "default_smp_affinity=$(cat /proc/irq/default_smp_affinity)"

phase workqueues
# --- workqueues --------------------------------------------------------------
old=$(cat $W/cpumask)
r=$(write_errno $W/cpumask 3)
new=$(cat $W/cpumask)
if [ "$r" = OK ] && [ "$new" = 03 ]; then
    pass workqueue-cpumask
else
    fail workqueue-cpumask "write 3 -> $r, reads '$new'"
fi
write_errno $W/cpumask "$old" >/dev/null
info "workqueue: cpumask was '$old', write 0 -> $(write_errno $W/cpumask 0);" \
    "files: $(ls $W | tr '\n' ' ')"
info "workqueue writeback: $(ls $W/writeback | tr '\n' ' ')"

phase power
# --- power -------------------------------------------------------------------
f=$CPU/cpu2/power/pm_qos_resume_latency_us
if [ -f $f ]; then
    old=$(cat $f)
    r=$(write_errno $f 20)
    new=$(cat $f)
    [ "$r" = OK ] && [ "$new" = 20 ] && pass pm-qos-resume-latency ||
        fail pm-qos-resume-latency "write 20 -> $r, reads '$new'"
    info "pm_qos_resume_latency_us: initial '$old';" \
        "write 0 -> $(write_errno $f 0) reads '$(cat $f)';" \
        "write n/a -> $(write_errno $f n/a) reads '$(cat $f)'"
    write_errno $f "$old" >/dev/null
else
    fail pm-qos-resume-latency "$f missing"
fi
info "cpuidle: driver=$(cat $CPU/cpuidle/current_driver 2>/dev/null)" \
    "governor=$(cat $CPU/cpuidle/current_governor 2>/dev/null)" \
    "cpu0/cpuidle: $(ls $CPU/cpu0/cpuidle 2>&1 | tr '\n' ' ')"
info "cpufreq: $(ls $CPU/cpu0/cpufreq 2>&1 | tr '\n' ' ')"
info "isolated='$(cat $CPU/isolated)' nohz_full='$(cat $CPU/nohz_full)'"

phase kthreads
# --- kernel threads ----------------------------------------------------------
# (one vmhelper listing: a `vmhelper flags` per PID took ~10 s under TCG)
info "kthreads: $(vmhelper tasks | awk '$2 ~ /kthread/ { nk++ }
    $2 ~ /nosetaffinity/ { nn++ } END { print nk + 0 ", of which PF_NO_SETAFFINITY: " nn + 0 }')"

phase cgroups
# --- cgroups -----------------------------------------------------------------
b1=$(sed -n 1p $VM_BUSY_PIDS)
s1=$(sed -n 1p $VM_SLEEP_PIDS)
s2=$(sed -n 2p $VM_SLEEP_PIDS)   # has a sched_setaffinity mask of its own
s3=$(sed -n 3p $VM_SLEEP_PIDS)   # lives in a sibling cgroup (v2)
vmhelper setaffinity $s2 2-5 >/dev/null
tasks() {
    echo "busy=$(cpus_allowed $b1) sleep=$(cpus_allowed $s1)" \
        "s2(setaffinity 2-5)=$(cpus_allowed $s2) s3=$(cpus_allowed $s3)" \
        "kthreadd=$(cpus_allowed 2)"
}

v2_partition() {
    info "v2 root files: $(ls $C | grep cpuset | tr '\n' ' ')"
    check v2-enable-cpuset write_errno_ok $C/cgroup.subtree_control +cpuset
    mkdir $C/test $C/sib
    echo $s3 > $C/sib/cgroup.procs
    # Emptying cpuset.cpus (= inherit the parent's) with and without tasks.
    mkdir $C/e
    r1=$(write_errno $C/e/cpuset.cpus 4-7)
    r2=$(write_errno $C/e/cpuset.cpus '')
    rmdir $C/e
    info "v2 cgroup without tasks: cpuset.cpus 4-7 -> $r1; then empty -> $r2"
    r1=$(write_errno $C/sib/cpuset.cpus 4-7)
    r2=$(write_errno $C/sib/cpuset.cpus '')
    info "v2 cgroup with a task: cpuset.cpus 4-7 -> $r1; then empty -> $r2" \
        "(reads '$(cat $C/sib/cpuset.cpus)')"
    echo $s3 > $C/cgroup.procs
    write_errno $C/sib/cpuset.cpus '' >/dev/null
    echo $s3 > $C/sib/cgroup.procs
    info "v2 emptied without the task, task back: cpuset.cpus='$(cat $C/sib/cpuset.cpus)'" \
        "effective=$(cat $C/sib/cpuset.cpus.effective)"
    check v2-test-cpus write_errno_ok $C/test/cpuset.cpus 2-3
    r=$(write_errno $C/test/cpuset.cpus.partition isolated)
    expect_eq v2-partition-isolated "$(cat $C/test/cpuset.cpus.partition)" isolated
    info "v2 write isolated -> $r; root effective=$(cat $C/cpuset.cpus.effective)" \
        "isolated=$(cat $C/cpuset.cpus.isolated 2>/dev/null || echo '(no file)')" \
        "sib(empty cpuset.cpus) effective=$(cat $C/sib/cpuset.cpus.effective)"
    info "v2 isolated: $(tasks)"
    info "v2 isolated: workqueue cpumask=$(cat $W/cpumask)" \
        "writeback=$(cat $W/writeback/cpumask)"
    a=$(cpus_allowed $s1)
    cpulist_intersects "$a" 2-3 &&
        fail v2-partition-excludes-outside "root task Cpus_allowed_list=$a" ||
        pass v2-partition-excludes-outside
    a=$(cpus_allowed $s3)
    cpulist_intersects "$a" 2-3 &&
        fail v2-partition-excludes-sibling "sibling task Cpus_allowed_list=$a" ||
        pass v2-partition-excludes-sibling

    # A sibling asking for partition CPUs while the partition is valid.
    info "v2 sibling cpus 2-5 while partition valid -> $(write_errno $C/sib/cpuset.cpus 2-5);" \
        "partition='$(cat $C/test/cpuset.cpus.partition)'" \
        "sib effective=$(cat $C/sib/cpuset.cpus.effective)"
    write_errno $C/sib/cpuset.cpus 0-7 >/dev/null

    # Revert.
    r=$(write_errno $C/test/cpuset.cpus.partition member)
    expect_eq v2-partition-member "$(cat $C/test/cpuset.cpus.partition)" member
    a=$(cpus_allowed $s1)
    cpulist_eq "$a" 0-7 && pass v2-revert-restores-tasks ||
        fail v2-revert-restores-tasks "root task Cpus_allowed_list=$a after member"
    info "v2 after member: $(tasks) (s2 keeps 2-5 only where the kernel keeps user masks)"

    # Invalid request: a sibling's cpuset.cpus overlaps.
    write_errno $C/sib/cpuset.cpus 2-5 >/dev/null
    r=$(write_errno $C/test/cpuset.cpus.partition isolated)
    p=$(cat $C/test/cpuset.cpus.partition)
    case $p in
        "isolated invalid"*) pass v2-invalid-reads-invalid ;;
        *) fail v2-invalid-reads-invalid "write -> $r, reads '$p'" ;;
    esac
    info "v2 overlapping sibling: write isolated -> $r; reads '$p'; $(tasks)"
    info "v2 empty cpuset.cpus of sibling with tasks -> $(write_errno $C/sib/cpuset.cpus '')"
    r=$(write_errno $C/sib/cpuset.cpus 4-5)
    info "v2 sibling moves off to 4-5 ($r): partition now '$(cat $C/test/cpuset.cpus.partition)'"
    r=$(write_errno $C/test/cpuset.cpus.partition isolated)
    info "v2 isolated written again ($r): '$(cat $C/test/cpuset.cpus.partition)'"
    write_errno $C/test/cpuset.cpus.partition member >/dev/null
    r=$(write_errno $C/test/cpuset.cpus.partition isolated)
    info "v2 member then isolated ($r): '$(cat $C/test/cpuset.cpus.partition)'"
    write_errno $C/test/cpuset.cpus.partition member >/dev/null

    # A partition that would take every CPU (the sibling is empty now).
    echo $s3 > $C/cgroup.procs
    write_errno $C/sib/cpuset.cpus '' >/dev/null
    write_errno $C/test/cpuset.cpus 0-7 >/dev/null
    r=$(write_errno $C/test/cpuset.cpus.partition isolated)
    info "v2 isolated with all CPUs ($r): '$(cat $C/test/cpuset.cpus.partition)'"
    write_errno $C/test/cpuset.cpus.partition member >/dev/null
    info "v2 bogus partition value -> $(write_errno $C/test/cpuset.cpus.partition bogus)"

    echo $s3 > $C/cgroup.procs
    rmdir $C/test $C/sib && pass v2-cleanup || fail v2-cleanup "rmdir failed"
    info "v2 end: $(tasks)"
}

v1_cpuset() {
    V=$C/cpuset
    info "v1 root: cpus=$(cat $V/cpuset.cpus) exclusive=$(cat $V/cpuset.cpu_exclusive)" \
        "load_balance=$(cat $V/cpuset.sched_load_balance) tasks=$(wc -l < $V/tasks)"
    mkdir $V/host $V/vm
    check v1-host-set v1_sets
    # Every root task, one write(2) each, in one vmhelper process; which
    # moved tasks are kernel threads from one vmhelper listing (a fork
    # per task, twice, took ~25 s under TCG).
    vmhelper tasks > /tmp/tasks
    vmhelper write-each $V/host/tasks $(cat $V/tasks) > /tmp/moves
    einval=0 esrch=0 other= moved=
    while read -r p r; do
        case $r in
            OK) moved="$moved $p" ;;
            "ERR EINVAL"*) einval=$((einval + 1)) ;;
            "ERR ESRCH"*) esrch=$((esrch + 1)) ;;
            *) other="$other $p:$r" ;;
        esac
    done < /tmp/moves
    printf '%s\n' $moved > /tmp/moved
    info "v1 move root tasks to host: $(awk '
        FILENAME == ARGV[1] { split($1, k, "@"); kind[k[1]] = $2; next }
        NF == 0 { next } kind[$1] ~ /kthread/ { kok++; next } { ok++ }
        END { printf "user moved=%d kthreads moved=%d", ok, kok }' /tmp/tasks /tmp/moved)" \
        "EINVAL=$einval ESRCH(exited)=$esrch other=[$other]"
    vmhelper tasks > /tmp/tasks
    info "v1 kthreads left in root: $(awk '
        FILENAME == ARGV[1] { split($1, k, "@"); if ($2 ~ /kthread/) {
            c = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ /, "", c); comm[k[1]] = c }; next }
        $1 in comm { print comm[$1] }' /tmp/tasks $V/tasks |
        sed 's/[0-9/:].*//' | sort | uniq -c | awk '{ printf "%s*%s ", $2, $1 }')"
    info "v1 shielded: $(tasks)"
    a=$(cpus_allowed $s1)
    cpulist_intersects "$a" 2-3 && fail v1-host-excludes-vm "Cpus_allowed_list=$a" ||
        pass v1-host-excludes-vm
    info "v1 host cpus 0-7 overlapping exclusive vm -> $(write_errno $V/host/cpuset.cpus 0-7)"
    info "v1 root sched_load_balance 0 -> $(write_errno $V/cpuset.sched_load_balance 0)"
    # Revert: everything back to the root, remove the sets.
    for p in $(cat $V/host/tasks); do echo $p > $V/tasks; done 2>/dev/null
    write_errno $V/cpuset.sched_load_balance 1 >/dev/null
    a=$(cpus_allowed $s1)
    cpulist_eq "$a" 0-7 && pass v1-revert-restores-tasks ||
        fail v1-revert-restores-tasks "Cpus_allowed_list=$a"
    info "v1 reverted: $(tasks)"
    rmdir $V/host $V/vm && pass v1-cleanup || fail v1-cleanup "rmdir failed"
}

v1_sets() {
    write_errno_ok $V/host/cpuset.cpus 0-1,4-7 && write_errno_ok $V/host/cpuset.mems 0 &&
        write_errno_ok $V/vm/cpuset.cpus 2-3 && write_errno_ok $V/vm/cpuset.mems 0 &&
        write_errno_ok $V/vm/cpuset.cpu_exclusive 1
}

case $VM_CGROUP in
    v2) v2_partition ;;
    v1)
        if grep -q ' /sys/fs/cgroup/cpuset cgroup ' /proc/mounts; then
            v1_cpuset
        else
            fail v1-cpuset-mounted "no v1 cpuset on this kernel"
        fi
        ;;
esac

phase binary
# --- the binary ----------------------------------------------------------------
if [ -n "${CPUSHIELD:-}" ]; then
    if out=$($CPUSHIELD --version 2>&1); then
        pass binary-runs
        info "cpushield --version: $(echo "$out" | head -n 3 | tr '\n' ' ')"
    else
        fail binary-runs "$CPUSHIELD --version: $out"
    fi
fi

phase end
done_
