#!/bin/sh
# sd-irqbalance: cpushield beside Debian's irqbalance on a systemd host
# (run.sh --guest systemd). While a VM is shielded, irqbalance's banned CPUs
# (its runtime socket, the one irqbalance-ui uses) include the VM's CPUs, so
# that in 30 s of NIC traffic it moves no interrupt onto them; a restart of
# irqbalance (new PID, new socket, its own banned list again) is repaired by
# the next apply; revert gives irqbalance its own banned list back.
. /lib/vmlib.sh
. /lib/sdlib.sh

CS="cpushield --config /etc/cpushield.yaml"
vm_config /etc/cpushield.yaml manual

# irqbalance's socket (the newest), its "setup" reply's BANNED mask (hex).
sock() { ls -t /run/irqbalance/irqbalance*.sock 2>/dev/null | head -n1; }
wait_sock() {
    i=0
    while [ $i -lt 100 ] && [ -z "$(sock)" ]; do sleep 0.2; i=$((i + 1)); done
    [ -n "$(sock)" ]
}
banned() {
    python3 - "$(sock)" <<'PY'
import socket, sys, time
# irqbalance accepts one connection at a time, from its main loop: retry
# while its backlog is full (a rescan holds the loop for seconds here)
for attempt in range(100):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    try:
        s.connect(sys.argv[1])
        break
    except BlockingIOError:
        s.close()
        time.sleep(0.2)
s.sendall(b"setup")
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
words = data.decode(errors="replace").split()
print(words[words.index("BANNED") + 1] if "BANNED" in words else "none")
PY
}
# mask_covers_vm MASK: bits 2-7 (the VM's CPUs) all set
mask_covers_vm() { v=$(echo "$1" | tr -d ','); [ $(( 0x$v & 0xfc )) -eq $((0xfc)) ]; }

info "$(irqbalance --version 2>&1 | head -n1)"
systemctl start irqbalance.service
check irqbalance-socket wait_sock
before=$(banned)
info "irqbalance $(systemctl show -p MainPID --value irqbalance.service), socket $(sock), banned before: $before"

phase activate
out=$($CS --verbose activate vm 2>&1); rc=$?
echo "$out" | sed 's/^/LOG /'
expect_eq activate-exit "$rc" 0
check plan-shows-irqbalance sh -c "echo \"\$1\" | grep -q '^  irqbalance:banned_cpus '" _ "$out"
check journal-records-irqbalance grep -q '	irqbalance:banned_cpus	' /run/cpushield/journal
now=$(banned)
info "banned after activate: $now"
check banned-covers-vm-cpus mask_covers_vm "$now"

# 30 s of NIC traffic (three irqbalance intervals): no movable interrupt may
# land on the VM's CPUs. Managed ones stay where the kernel put them.
phase watch-30s
refused=$(echo "$out" | sed -n 's|^note: /proc/irq/\([0-9]*\)/smp_affinity_list.*refuses to move.*|\1|p' | tr '\n' ' ')
nicirq=$(irq_of_name 'virtio[0-9]+-input' | head -n1)
end=$(( $(cut -d. -f1 /proc/uptime) + 30 ))
while [ "$(cut -d. -f1 /proc/uptime)" -lt $end ]; do net_irq_poke "$nicirq"; done
bad=''
for f in /proc/irq/[0-9]*/smp_affinity_list; do
    i=${f#/proc/irq/}; i=${i%%/*}
    case " $refused " in *" $i "*) continue ;; esac
    a=$(cat "$f")
    cpulist_intersects "$a" $VMCPUS && bad="$bad $i:$a"
done
expect_eq no-irq-moved-onto-vm-cpus "${bad:-none}" none
info "managed (refused) IRQs left alone: $refused"

# irqbalance restarted: a new process with its own banned list.
phase restart
systemctl restart irqbalance.service
sleep 1
check irqbalance-socket-again wait_sock
info "banned after the restart: $(banned)"
$CS apply > /tmp/apply 2>&1; rc=$?
expect_eq apply-after-restart-exit "$rc" 0
[ $rc = 0 ] || sed 's/^/LOG apply: /' /tmp/apply
check banned-again-after-apply mask_covers_vm "$(banned)"

phase revert
$CS deactivate vm > /dev/null 2>&1
out=$($CS --verbose revert 2>&1); rc=$?
echo "$out" | sed 's/^/LOG /'
expect_eq revert-exit "$rc" 0
expect_eq banned-restored "$(banned)" "$before"
done_
