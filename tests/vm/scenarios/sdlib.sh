# Shared functions for the systemd guest's scenarios (run.sh --guest
# systemd; POSIX sh). Packed as /lib/sdlib.sh, sourced after /lib/vmlib.sh.
# Host keeps core 0 (CPUs 0-1: QEMU numbers SMT siblings next to each
# other), the VM takes cores 1-3 (CPUs 2-7). Units the scenarios start
# themselves are named cst-* and left out of the comparisons of cgroup
# directories and drop-ins (their tasks compare like any other).

C=/sys/fs/cgroup
VMCPUS=2-7
HOSTCPUS=0-1
UNITS="-.slice init.scope system.slice user.slice machine.slice"

# systemd's side of the host: unit properties, drop-ins (runtime and
# persistent control directories), whether systemd would want a reload.
sd_state() {
    for u in $UNITS; do
        echo "unit $u $(systemctl show -p LoadState -p ActiveState -p AllowedCPUs \
            -p NeedDaemonReload -p DropInPaths "$u" | tr '\n' ' ')"
    done
    for d in /run/systemd/system.control /etc/systemd/system.control /run/systemd/transient; do
        [ -d $d ] || continue
        find $d | grep -v '/cst-' | LC_ALL=C sort | while read -r f; do
            if [ -f "$f" ]; then echo "dropin $f $(md5sum < "$f" | cut -c1-32)"; else echo "dropin-dir $f"; fi
        done
    done
}
# The kernel's side (vmhelper.c), without the cgroups of the scenario's own
# units.
snapshot() {
    vmhelper snapshot $C | grep -v '/cst-' |
        if [ -n "$snapshot_filter" ]; then grep -v "$snapshot_filter\( \|/\|\$\)"; else cat; fi
}
snapshot_filter=''

# compare NAME BEFORE-FILE NOW-FILE
compare() {
    if diff -u "$2" "$3" > /tmp/d; then
        pass "$1"
    else
        fail "$1" "$(grep '^[-+][^-+]' /tmp/d | head -n 12 | tr '\n' '|')"
    fi
}

# Tasks alive in both snapshots (keyed PID@START) compare; others are gone
# or new. Kernel threads whose masks the kernel sets itself are left out
# (shield.sh explains which): unbound kworkers/rescuers and irq/N-* threads.
same_tasks() {
    snapshot > /tmp/now
    vmhelper tasks > /tmp/tasks
    awk '$2 == "kthread+nosetaffinity" || $4 ~ /^irq\/[0-9]+-/ { print $1 }' /tmp/tasks > /tmp/skip
    awk 'FILENAME == ARGV[1] { skip[$1] = 1; next }
         FILENAME == ARGV[2] { if ($1 == "task") a[$2] = 1; next }
         $1 == "task" && ($2 in a) && !($2 in skip) { print $2 }' /tmp/skip "$1" /tmp/now > /tmp/both
    n=$(wc -l < /tmp/both)
    common='FILENAME == ARGV[1] { both[$1] = 1; next } $1 != "task" || ($2 in both)'
    awk "$common" /tmp/both "$1" > /tmp/x
    awk "$common" /tmp/both /tmp/now > /tmp/y
    if [ "$n" -lt 20 ]; then
        fail "$2" "only $n tasks in both snapshots"
    else
        compare "$2" /tmp/x /tmp/y
    fi
}

# host_tasks_off NAME [EXCEPT-PID]: no user task but EXCEPT may run on a VM CPU
host_tasks_off() {
    vmhelper tasks > /tmp/tasks
    bad=$(awk -v vm=$VMCPUS -v self="${2:-0}" "$CPULIST_AWK"'
        { split($1, k, "@") }
        k[1] != self && $2 !~ /kthread/ && $3 != "-" && cpulist_intersects($3, vm) { printf " %s:%s:%s", k[1], $3, $4 }' /tmp/tasks)
    expect_eq "$1" "${bad:-none}" none
}

# sd_load: two busy services (cst-busy1, cst-busy2), as on a real host, and
# a task pinned by hand to VM CPU 3 ($pinned)
sd_load() {
    for i in 1 2; do systemd-run -q --unit=cst-busy$i sh -c 'while :; do :; done'; done
    sleep 1000 & pinned=$!
    vmhelper setaffinity $pinned 3 > /dev/null
}
