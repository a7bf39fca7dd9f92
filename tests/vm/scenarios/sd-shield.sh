#!/bin/sh
# sd-shield: cpushield on a systemd host (Debian 12, systemd 252 as PID 1;
# run.sh --guest systemd). Host keeps core 0 (CPUs 0-1), the VM takes cores
# 1-3 (CPUs 2-7); its partition is machine.slice, inactive at the start as
# on a host whose first VM has not started yet. The checks read the kernel's
# and systemd's own view: Cpus_allowed_list, unit properties over D-Bus
# (systemctl show), the runtime drop-ins in /run/systemd/system.control and
# the cgroup tree. After deactivate + revert all of it must be as before.
#
# Units the scenario starts itself are named cst-* and left out of the
# comparison of cgroup directories (their tasks compare like any other).
. /lib/vmlib.sh
. /lib/sdlib.sh

CS="cpushield --config /etc/cpushield.yaml"
info "kernel $(uname -r) cgroup=$VM_CGROUP $(systemctl --version | head -n1)"

vm_config /etc/cpushield.yaml manual power

# Load as services, as on a real host, and a task pinned by hand to a VM CPU.
systemd-run -q --unit=cst-sleep sh -c 'i=0; while [ $i -lt 20 ]; do sleep 100000 & i=$((i + 1)); done; wait'
sd_load
sleep 1

phase snapshot
sd_state > /tmp/sd-before
snapshot > /tmp/before
sed 's/^/INFO before: /' /tmp/sd-before

# --- 1. activate and revert while no VM runs ---------------------------------
# machine.slice is inactive and has no cgroup: systemd creates it and enables
# the cpuset controller when the units get AllowedCPUs. What activate prints
# as systemd's must not be in the journal; after revert everything is back.
phase activate-no-vm
out=$($CS --verbose activate vm 2>&1); rc=$?
echo "$out" | sed 's/^/LOG /'
expect_eq activate-no-vm-exit "$rc" 0
out_no_vm=$out
cp /run/cpushield/journal /tmp/journal.seen
info "machine.slice after activate: $(systemctl show -p ActiveState --value machine.slice)," \
    "cgroup $(test -d $C/machine.slice && echo present || echo absent)," \
    "root controllers: $(cat $C/cgroup.subtree_control)"
# every line activate prints as a change is in the journal, or is marked
# as systemd's (and then not in the journal)
# or is an interrupt the kernel refused to move (a note says so),
# or a PSI switch that went off and on again in the run (defaults.pressure: move)
bad=$(echo "$out" | awk 'FILENAME == "-" && / -> / && $1 ~ /^(\/|systemd:)/ { t[$1] = $0; next }
    FILENAME == "-" && /^note: .*refuses to move/ { sub(/:$/, "", $2); refused[$2] = 1; next }
    FILENAME != "-" && $1 == "item" { j[$4] = 1 }
    END { for (x in t) if (!(x in j) && !(x in refused) && t[x] !~ /systemd does this itself/ &&
                          t[x] !~ /averaging of .* moved to the host.s CPUs/) printf " %s", x }' - /run/cpushield/journal)
expect_eq printed-changes-recorded "${bad:-none}" none
bad=$(echo "$out" | awk 'FILENAME == "-" && /systemd does this itself/ { t[$1] = 1; next }
    FILENAME != "-" && $1 == "item" && ($4 in t) { printf " %s", $4 }' - /run/cpushield/journal)
info "side effects of systemd's cpushield recorded (it did them itself):${bad:- none}"
out=$($CS --verbose revert 2>&1); rc=$?
echo "$out" | sed 's/^/LOG /'
expect_eq revert-no-vm-exit "$rc" 0
info "machine.slice after revert: $(systemctl show -p ActiveState --value machine.slice)," \
    "cgroup $(test -d $C/machine.slice && echo present || echo absent)," \
    "root controllers: $(cat $C/cgroup.subtree_control)"
sd_state > /tmp/sd-after
compare no-vm-systemd-state-restored /tmp/sd-before /tmp/sd-after
[ -s /tmp/d ] && sed 's/^/INFO after: /' /tmp/sd-after
# The one difference allowed: machine.slice's cgroup, when activate said
# systemd would create it (systemd keeps an inactive slice's cgroup) and the
# journal does not claim it.
if [ "$VM_CGROUP" = v2 ] && ! grep -q "^cgroup-dir $C/machine.slice\$" /tmp/before &&
        echo "$out_no_vm" | grep -q "^  $C/machine.slice .*systemd does this itself" &&
        ! grep -q "	$C/machine.slice	" /tmp/journal.seen; then
    info "machine.slice's cgroup: created by systemd, as activate said; left out of the comparison"
    grep -v "$C/machine.slice\( \|/\|\$\)" /tmp/before > /tmp/before-no-vm
    snapshot_filter="$C/machine.slice"
else
    cp /tmp/before /tmp/before-no-vm
fi
same_tasks /tmp/before-no-vm no-vm-revert-restores-everything
snapshot_filter=''
# From here on as on a host where a VM has run: machine.slice active.

# --- 2. with a VM, daemon-reload and units started later --------------------
phase activate
out=$($CS --verbose activate vm 2>&1); rc=$?
echo "$out" | sed 's/^/LOG /'
expect_eq activate-exit "$rc" 0
sed 's/^/LOG journal: /' /run/cpushield/journal 2>/dev/null || ls -la /run/cpushield /var/lib/cpushield 2>&1 | sed 's/^/LOG /'

# The stand-in VM, started the way libvirt would: a unit in machine.slice.
systemd-run -q --unit=cst-vm --slice=machine.slice sh -c 'while :; do :; done'
vmpid=$(systemctl show -p MainPID --value cst-vm.service)
# cgroup v1: systemd knows nothing of cpusets; the VM's threads join the
# VM's cpuset (for libvirt domains the pins put them on the VM's CPUs)
[ "$VM_CGROUP" = v2 ] || echo "$vmpid" > $C/cpuset/cpushield.vm/tasks
sleep 1
phase checks
if [ "$VM_CGROUP" = v2 ]; then
    info "partition $(cat $C/machine.slice/cpuset.cpus.partition)"
    expect_eq unit-machine-slice "$(systemctl show -p AllowedCPUs --value machine.slice)" $VMCPUS
    for u in init.scope system.slice user.slice; do
        expect_eq "unit-$u" "$(systemctl show -p AllowedCPUs --value $u)" $HOSTCPUS
    done
fi
check vm-on-vm-cpus cpulist_eq "$(cpus_allowed "$vmpid")" $VMCPUS
host_tasks_off host-tasks-off-vm-cpus "$vmpid"
check pinned-task-moved cpulist_eq "$(cpus_allowed $pinned)" $HOSTCPUS

# What systemd does later must not undo the shield.
systemctl daemon-reload
host_tasks_off after-daemon-reload "$vmpid"
systemd-run -q --unit=cst-late sleep 600
check late-unit-on-host cpulist_eq "$(cpus_allowed "$(systemctl show -p MainPID --value cst-late.service)")" $HOSTCPUS
systemctl restart systemd-journald
check restarted-journald-on-host cpulist_eq "$(cpus_allowed "$(systemctl show -p MainPID --value systemd-journald.service)")" $HOSTCPUS

phase verify
$CS verify > /tmp/verify 2>&1; rc=$?
expect_eq verify-clean "$rc" 0
[ $rc = 0 ] || sed 's/^/LOG verify: /' /tmp/verify
# The VM's own cgroup appeared after activate: the next apply switches its
# PSI off (6.1+), as the watcher's or the timer's would; then all is done.
# PSI follows the v2 tree: on cgroup v1, systemd's unified hierarchy.
if [ "$VM_CGROUP" = v2 ]; then U=$C; else U=$C/unified; fi
if [ -f $U/cgroup.pressure ]; then
    $CS --verbose apply --detailed-exitcodes > /tmp/psi 2>&1; rc=$?
    expect_eq psi-vm-unit-apply "$rc" 2
    [ $rc = 2 ] || sed 's/^/LOG psi: /' /tmp/psi
    expect_eq psi-off-vm-unit "$(cat $U/machine.slice/cst-vm.service/cgroup.pressure)" 0
    expect_eq psi-off-vm-cgroup "$(cat $U/machine.slice/cgroup.pressure)" 0
    expect_eq psi-root-untouched "$(cat $U/cgroup.pressure)" 1
fi
$CS --verbose apply --detailed-exitcodes > /tmp/again 2>&1; rc=$?
expect_eq apply-again-converged "$rc" 0
[ $rc = 0 ] || sed 's/^/LOG again: /' /tmp/again

# --- deactivate + revert -----------------------------------------------------
phase revert
systemctl stop cst-vm.service cst-late.service
out=$($CS --verbose deactivate vm 2>&1); rc=$?
echo "$out" | sed 's/^/LOG /'
expect_eq deactivate-exit "$rc" 0
out=$($CS --verbose revert 2>&1); rc=$?
echo "$out" | sed 's/^/LOG /'
expect_eq revert-exit "$rc" 0
# The stand-in VM activated machine.slice (libvirt's machines do the same);
# that is the test's doing, undone here.
[ ! -f $U/machine.slice/cgroup.pressure ] || expect_eq psi-back-vm-cgroup "$(cat $U/machine.slice/cgroup.pressure)" 1
systemctl stop machine.slice
sd_state > /tmp/sd-after
compare systemd-state-restored /tmp/sd-before /tmp/sd-after
[ -s /tmp/d ] && sed 's/^/INFO after: /' /tmp/sd-after
same_tasks /tmp/before revert-restores-everything
check pinned-task-back cpulist_eq "$(cpus_allowed $pinned)" 3

# --- defaults.pressure: move (the default) and disable -------------------------
# As the shield forms, every other cgroup's PSI (the root's too) goes off
# and on again from a host CPU, so that its averaging work restarts there:
# afterwards all of it is on, and none of it journaled. With disable only
# the VMs' cgroups are switched, and the run does not wait.
if [ -f $U/cgroup.pressure ]; then
    phase pressure-move
    systemd-run -q --unit=cst-vm2 --slice=machine.slice sleep 600
    t0=$(date +%s)
    $CS --verbose activate vm > /tmp/move 2>&1; rc=$?
    t1=$(date +%s)
    expect_eq move-activate-exit "$rc" 0
    [ $rc = 0 ] || sed 's/^/LOG move: /' /tmp/move
    moved=$(grep -c "averaging of .* moved to the host's CPUs" /tmp/move)
    info "pressure move: $moved cgroups bounced, activate took $((t1 - t0)) s"
    check move-bounced-several test "$moved" -ge 3
    check move-waited test $((t1 - t0)) -ge 4
    expect_eq move-root-on "$(cat $U/cgroup.pressure)" 1
    expect_eq move-system-slice-on "$(cat $U/system.slice/cgroup.pressure)" 1
    expect_eq move-vm-unit-off "$(cat $U/machine.slice/cst-vm2.service/cgroup.pressure)" 0
    expect_eq move-none-journaled "$(grep -c "	$U/\(system.slice/\)\?cgroup.pressure	" /run/cpushield/journal)" 0
    $CS deactivate vm > /tmp/move 2>&1 || sed 's/^/LOG move deactivate: /' /tmp/move
    $CS revert > /tmp/move 2>&1 || sed 's/^/LOG move revert: /' /tmp/move

    phase pressure-disable
    echo "defaults: {pressure: disable}" >> /etc/cpushield.yaml
    $CS --verbose activate vm > /tmp/move 2>&1; rc=$?
    expect_eq disable-activate-exit "$rc" 0
    [ $rc = 0 ] || sed 's/^/LOG disable: /' /tmp/move
    expect_eq disable-none-bounced "$(grep -c "averaging of .* moved to the host's CPUs" /tmp/move)" 0
    expect_eq disable-vm-unit-off "$(cat $U/machine.slice/cst-vm2.service/cgroup.pressure)" 0
    expect_eq disable-root-on "$(cat $U/cgroup.pressure)" 1
    systemctl stop cst-vm2.service
    $CS deactivate vm > /tmp/move 2>&1 || sed 's/^/LOG disable deactivate: /' /tmp/move
    $CS revert > /tmp/move 2>&1 || sed 's/^/LOG disable revert: /' /tmp/move
    expect_eq move-vm-cgroup-back "$(cat $U/machine.slice/cgroup.pressure 2>/dev/null || echo 1)" 1
    systemctl stop machine.slice
fi

phase end
kill $pinned
done_
