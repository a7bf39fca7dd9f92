#!/bin/sh
# bench-cset: shield and give-back on a real kernel, cgroup v1 (v2: cpushield
# alone), against
# Debian's `cset shield --kthread on` / `cset shield --reset` and the
# kernel's floor (bench/cset-floor.c: one write(2) per TID into a new cpuset
# and back), at several thread counts, in one boot. A benchmark, not a test
# (not in meson): run it with bench/cset.sh, which packs cset-floor and
# cset-threads (--file) and prints the table.
#
# Host core 0 = CPUs 0-1, the VM's cores 1-3 = CPUs 2-7, as in sd-shield.sh,
# without a power profile (cset has none). cpushield's give-back is
# `deactivate` (what the libvirt hook runs); the `revert` after it is timed
# as its own step. Each step prints
#   INFO BENCH size=N tool=floor|cpushield|cset step=shield|giveback|revert run=R
#        wall=S cpu=S guestcpu=S rc=N
# and checks what it left: after a shield no user thread may run on CPUs
# 2-7, after a give-back as many user threads are narrower than all CPUs
# as before the first shield.
. /lib/vmlib.sh
. /lib/sdlib.sh

arg() { sed -n "s/.*cpushield\.$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
RUNS=$(arg bench_runs); RUNS=${RUNS:-3}
SIZES=$(arg bench_sizes | tr , ' '); SIZES=${SIZES:-100 1000 10000}
CS="cpushield --config /etc/cpushield.yaml"
T="cset-floor time"

info "kernel $(uname -r) cgroup=$VM_CGROUP $(systemctl --version | head -n1)" \
    "cset $(cset --version 2>&1 | head -n1) runs=$RUNS sizes=$SIZES"
# cgroup v2: cset cannot (it needs the v1 cpuset) and the partition moves
# nothing: the floor is the kernel's own work of an isolated partition
# (cset-floor partition: every task outside loses the CPUs), without
# systemd; cpushield also sets the units' AllowedCPUs through systemd.
TOOLS="floor cpushield cset"
[ "$VM_CGROUP" = v1 ] || TOOLS="floor cpushield"
info "cpuset mounts: $(grep cpuset /proc/mounts | tr '\n' ';') tools: $TOOLS"

# Room for 10,000 more threads (2 GiB guest: threads-max is about 16k).
echo 4194304 > /proc/sys/kernel/pid_max
echo 200000 > /proc/sys/kernel/threads-max

vm_config /etc/cpushield.yaml manual

# step SIZE TOOL STEP RUN CMD...: time CMD, print the BENCH line and the
# check of what it left
step() {
    _size=$1 _tool=$2 _step=$3 _run=$4; shift 4
    _t=$($T "$@" 2>/tmp/step.err)
    [ -s /tmp/step.err ] && head -n 5 /tmp/step.err | sed "s/^/LOG $_tool $_step: /"
    info "BENCH size=$_size tool=$_tool step=$_step run=$_run $_t"
    _c=$(cset-floor check $VMCPUS)
    case $_step in
        shield) _want="user_on_vm=0" ;;
        giveback|revert) _want="user_narrow=$narrow0" ;;
    esac
    case " $_c " in
        *" $_want "*) [ "$_run" = 1 ] && pass "$_tool-$_step-$_size" ;;
        *) fail "$_tool-$_step-$_size-run$_run" "$_c after '$*' ($_t), want $_want" ;;
    esac
    case $_t in *" rc=0") ;; *) fail "$_tool-$_step-$_size-run$_run-exit" "$_t" ;; esac
}

base=$(cset-floor check $VMCPUS)
narrow0=$(echo "$base" | sed -n 's/.*user_narrow=\([0-9]*\).*/\1/p')
info "before: $base"

for n in $SIZES; do
    phase "size $n"
    systemd-run -q --unit=cst-threads-$n -p TasksMax=infinity /usr/bin/cset-threads "$n"
    pid=$(systemctl show -p MainPID --value cst-threads-$n.service)
    i=0
    while [ "$(sed -n 's/^Threads:\t*//p' /proc/$pid/status 2>/dev/null)" != $((n + 1)) ] && [ $i -lt 600 ]; do
        sleep 0.5; i=$((i + 1))
    done
    info "size $n: cset-threads pid $pid, $(grep ^Threads: /proc/$pid/status | tr '\t' ' ')," \
        "$(wc -l < $C/cpuset/tasks) TIDs in the root cpuset, $(cset-floor check $VMCPUS)"
    r=1
    while [ $r -le "$RUNS" ]; do
        for tool in $TOOLS; do
            case $tool in
                floor)
                    if [ "$VM_CGROUP" = v1 ]; then
                        step $n floor shield $r cset-floor shield
                        step $n floor giveback $r cset-floor giveback
                    else
                        step $n floor shield $r cset-floor partition $VMCPUS
                        step $n floor giveback $r cset-floor unpartition
                    fi ;;
                cpushield)
                    # give-back: deactivate, as libvirt's hook does at
                    # "release end"; with the last VM gone it restores
                    # every journaled item and leaves no journal, so the
                    # revert after it (timed apart) has nothing to do
                    step $n cpushield shield $r $CS activate vm
                    step $n cpushield giveback $r $CS deactivate vm
                    if [ -e /run/cpushield/journal ]; then
                        fail "cpushield-deactivate-restores-all-$n-run$r" "$(grep -c '^item' /run/cpushield/journal) items left"
                    elif [ "$r" = 1 ]; then
                        pass "cpushield-deactivate-restores-all-$n"
                    fi
                    step $n cpushield revert $r $CS revert ;;
                cset)
                    step $n cset shield $r cset shield --cpu 2-7 --kthread on
                    step $n cset giveback $r cset shield --reset ;;
            esac
        done
        r=$((r + 1))
    done
    systemctl stop cst-threads-$n.service
done
phase end
info "after: $(cset-floor check $VMCPUS); cpusets left: $(cd $C/cpuset && find . -mindepth 1 -type d | tr '\n' ' ')"
done_
