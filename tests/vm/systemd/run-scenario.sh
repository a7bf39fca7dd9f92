#!/bin/sh
# Test guest (systemd): the scenario's runner, started by
# cpushield-test.service after multi-user.target. The same protocol as
# tests/vm/init.sh: the scenario's output goes to the console (ttyS0) and to
# ttyS1, the host's clean result channel; BOOT and END carry the uptime.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
results=/dev/ttyS1
[ -c $results ] || results=/dev/null
uptime() { cut -d' ' -f1 /proc/uptime; }
log() { echo "INIT: $*" > /dev/console; }

if [ -e /sys/fs/cgroup/cgroup.controllers ]; then VM_CGROUP=v2; else VM_CGROUP=v1; fi
export VM_CGROUP VM_GUEST=systemd
[ -x /usr/bin/cpushield ] && export CPUSHIELD=/usr/bin/cpushield
mkdir -p /root /run/cpushield
log "kernel $(uname -r), $(nproc) CPUs online, $(systemctl --version | head -n1)," \
    "cgroup $VM_CGROUP, state $(systemctl is-system-running), uptime $(uptime)s"
echo "BOOT $(uptime)" > $results

cd /root || exit 1
{ sh /scenario.sh 2>&1; echo "INIT: scenario exit status $?"; } |
    tee /run/scenario.out /dev/console > $results
log "scenario ends at uptime $(uptime)s"
echo "END $(uptime)" > $results
if grep -q '^CHECK FAIL' /run/scenario.out || ! grep -q '^SCENARIO DONE' /run/scenario.out ||
        grep -q 'cpushield.dmesg=1' /proc/cmdline; then
    log "journal and dmesg follow"
    journalctl -b --no-pager -n 150 > /dev/console 2>&1
    dmesg | tail -n 60 > /dev/console
fi
sync
systemctl poweroff --force --force
echo o > /proc/sysrq-trigger
