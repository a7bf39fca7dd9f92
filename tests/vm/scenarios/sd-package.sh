#!/bin/sh
# sd-package: the Debian package on a systemd host (run.sh --guest systemd
# --file cpushield_*.deb:/root/cpushield.deb, no --binary): install, the
# apply service skipped without a configuration, the hardened apply service
# shielding the host and repairing drift, the timer enabled, verify, and
# purge giving the host back exactly as it was before the install.
. /lib/vmlib.sh
. /lib/sdlib.sh

info "kernel $(uname -r) cgroup=$VM_CGROUP $(systemctl --version | head -n1)"
[ -f /root/cpushield.deb ] || { fail package-present "no /root/cpushield.deb in the guest"; done_; exit 0; }
! command -v cpushield > /dev/null || fail no-cpushield-before "cpushield is already installed"

# Load as services, and a task pinned by hand to a VM CPU.
sd_load
sleep 1
phase snapshot
sd_state > /tmp/sd-before
snapshot > /tmp/before

phase install
dpkg -i /root/cpushield.deb > /tmp/dpkg 2>&1; rc=$?
expect_eq dpkg-install-exit "$rc" 0
[ $rc = 0 ] || sed 's/^/LOG dpkg: /' /tmp/dpkg
for f in /usr/sbin/cpushield /lib/systemd/system/cpushield-apply.service \
        /lib/systemd/system/cpushield-apply.timer /lib/systemd/system/cpushield-watch.service \
        /usr/lib/tmpfiles.d/cpushield.conf /etc/libvirt/hooks/qemu.d/cpushield; do
    check "installed-$(basename $f)" test -e $f
done
expect_eq run-dir "$(stat -c '%a %U' /run/cpushield 2>&1)" "700 root"
expect_eq units-not-enabled "$(systemctl is-enabled cpushield-apply.timer cpushield-watch.service 2>&1 | tr '\n' ' ')" "disabled disabled "

# No configuration: the service is skipped, not failed, and changes nothing.
systemctl start cpushield-apply.service
expect_eq apply-skipped-without-config "$(systemctl show -p ConditionResult --value cpushield-apply.service)" no
expect_eq apply-not-failed-without-config "$(systemctl show -p Result --value cpushield-apply.service)" success
check nothing-journaled-without-config test ! -e /run/cpushield/journal

mkdir -p /etc/cpushield
vm_config /etc/cpushield/cpushield.yaml always power

# The hardened service does the whole job.
phase apply-service
systemctl start cpushield-apply.service; rc=$?
expect_eq apply-service-exit "$rc" 0
expect_eq apply-service-result "$(systemctl show -p Result --value cpushield-apply.service)" success
[ $rc = 0 ] || journalctl -b -u cpushield-apply.service --no-pager | tail -n 30 | sed 's/^/LOG /'
host_tasks_off host-tasks-off-vm-cpus
check pinned-task-moved cpulist_eq "$(cpus_allowed $pinned)" $HOSTCPUS
if [ "$VM_CGROUP" = v2 ]; then
    expect_eq unit-machine-slice "$(systemctl show -p AllowedCPUs --value machine.slice)" $VMCPUS
    expect_eq partition "$(cat $C/machine.slice/cpuset.cpus.partition)" root
fi
nicirq=$(irq_of_name 'virtio[0-9]+-input' | head -n1)
check nic-irq-on-host cpulist_eq "$(cat /proc/irq/$nicirq/smp_affinity_list)" $HOSTCPUS
expect_eq pmqos-vm-cpu "$(cat /sys/devices/system/cpu/cpu5/power/pm_qos_resume_latency_us)" 10

# Drift, repaired by the next run of the service (what the timer does).
phase drift
echo 3 > /proc/irq/$nicirq/smp_affinity_list
systemctl start cpushield-apply.service
check drift-repaired cpulist_eq "$(cat /proc/irq/$nicirq/smp_affinity_list)" $HOSTCPUS
systemctl enable --now cpushield-apply.timer > /dev/null 2>&1
expect_eq timer-active "$(systemctl is-active cpushield-apply.timer)" active
cpushield verify > /tmp/verify 2>&1; rc=$?
expect_eq verify-clean "$rc" 0
[ $rc = 0 ] || sed 's/^/LOG verify: /' /tmp/verify

# Purge: the units stop, the host is given back, the files are gone. The
# configuration is the administrator's (not a conffile): removed by hand.
phase purge
dpkg --purge cpushield > /tmp/dpkg 2>&1; rc=$?
expect_eq dpkg-purge-exit "$rc" 0
sed 's/^/LOG dpkg: /' /tmp/dpkg
rm -rf /etc/cpushield
check program-gone test ! -e /usr/sbin/cpushield
check units-gone test ! -e /lib/systemd/system/cpushield-apply.service
check hook-gone test ! -e /etc/libvirt/hooks/qemu.d/cpushield
expect_eq timer-gone "$(systemctl is-active cpushield-apply.timer)" inactive
check journal-gone test ! -e /run/cpushield/journal
sd_state > /tmp/sd-after
compare systemd-state-restored /tmp/sd-before /tmp/sd-after
[ -s /tmp/d ] && sed 's/^/INFO after: /' /tmp/sd-after
# systemd keeps the cgroup it created for the inactive machine.slice
# (sd-shield.sh checks that cpushield says so): not compared here.
if [ "$VM_CGROUP" = v2 ] && ! grep -q "^cgroup-dir $C/machine.slice\$" /tmp/before; then
    grep -v "$C/machine.slice\( \|/\|\$\)" /tmp/before > /tmp/before-x
    snapshot_filter="$C/machine.slice"
else
    cp /tmp/before /tmp/before-x
fi
same_tasks /tmp/before-x purge-restores-everything
check pinned-task-back cpulist_eq "$(cpus_allowed $pinned)" 3
kill $pinned
done_
