# Shared functions for guest scenarios (busy box sh). Packed as /lib/vmlib.sh;
# a scenario starts with `. /lib/vmlib.sh`.
#
# Protocol (read by run.sh on the result channel):
#   CHECK PASS <name>
#   CHECK FAIL <name>: <details>
#   SCENARIO DONE              (last line; missing = the scenario died)
# Anything else is log.

pass() { echo "CHECK PASS $1"; }
fail() { n=$1; shift; echo "CHECK FAIL $n: $*"; }
info() { echo "INFO $*"; }
done_() { echo "SCENARIO DONE"; }
# phase LABEL: guest uptime at this point, for finding where a guest spends
# its time (run.sh prints INFO lines in the test log)
phase() { echo "INFO phase $(cut -d' ' -f1 /proc/uptime) $*"; }

# check NAME CMD...: PASS if CMD succeeds, else FAIL with its output.
check() {
    _n=$1; shift
    if _out=$("$@" 2>&1); then
        pass "$_n"
    else
        fail "$_n" "'$*' failed: $(echo "$_out" | tr '\n' ' ')"
    fi
}

# expect_eq NAME GOT WANT
expect_eq() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', want '$3'"; fi
}

# awk functions for CPU lists, for scenarios that judge many lines in one
# awk run instead of a few processes per line (each fork costs tens of
# milliseconds under TCG):
#   awk "$CPULIST_AWK"' ... cpulist_intersects(a, b) ...'
#   cpulist_set(list, arr): arr[cpu] = 1 for every CPU of "0-2,5"; count
#   cpulist_expand(list):   "0 1 2 5" (sorted, one space apart)
#   cpulist_eq(a, b), cpulist_intersects(a, b), cpulist_subset(a, b): 1 or 0
CPULIST_AWK='
function cpulist_set(l, arr,    n, parts, i, r, a, b, c, cnt) {
    split("", arr); cnt = 0
    n = split(l, parts, ",")
    for (i = 1; i <= n; i++) {
        if (parts[i] !~ /^[0-9]+(-[0-9]+)?$/) continue
        split(parts[i], r, "-"); a = r[1] + 0; b = (r[2] == "") ? a : r[2] + 0
        for (c = a; c <= b; c++) if (!(c in arr)) { arr[c] = 1; cnt++ }
    }
    return cnt
}
function cpulist_expand(l,    arr, c, out, max) {
    cpulist_set(l, arr); out = ""; max = -1
    for (c in arr) if (c + 0 > max) max = c + 0
    for (c = 0; c <= max; c++) if (c in arr) out = out (out == "" ? "" : " ") c
    return out
}
function cpulist_eq(a, b) { return cpulist_expand(a) == cpulist_expand(b) }
function cpulist_intersects(a, b,    x, y, c) {
    cpulist_set(a, x); cpulist_set(b, y)
    for (c in x) if (c in y) return 1
    return 0
}
function cpulist_subset(a, b,    x, y, c) {
    cpulist_set(a, x); cpulist_set(b, y)
    for (c in x) if (!(c in y)) return 0
    return 1
}'

# cpulist_expand "0-2,5" -> "0 1 2 5" (sorted, one space apart)
cpulist_expand() { awk -v l="$1" "$CPULIST_AWK"' BEGIN { print cpulist_expand(l) }'; }

# cpulist_eq A B: same set of CPUs ("0-3" = "0,1,2,3")
cpulist_eq() { awk -v a="$1" -v b="$2" "$CPULIST_AWK"' BEGIN { exit !cpulist_eq(a, b) }'; }

# cpulist_intersects A B: the lists share a CPU
cpulist_intersects() {
    awk -v a="$1" -v b="$2" "$CPULIST_AWK"' BEGIN { exit !cpulist_intersects(a, b) }'
}

# cpus_allowed PID -> Cpus_allowed_list of the task
cpus_allowed() { sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$1/status"; }

# write_errno PATH VALUE -> "OK" or "ERR EIO Input/output error"
# (vmhelper when packed, else a busybox approximation without errno names)
# shellcheck disable=SC2116  # $(echo 2>&1 >FILE) captures the write error
write_errno() {
    if command -v vmhelper >/dev/null; then
        vmhelper write "$1" "$2"
    elif _e=$(echo "$2" 2>&1 > "$1"); then
        echo OK
    else
        echo "ERR $_e"
    fi
}

# write_errno_ok PATH VALUE: the write succeeded
write_errno_ok() { [ "$(write_errno "$1" "$2")" = OK ]; }

# irq_name IRQ -> its name in /proc/interrupts (e.g. virtio1-input.0)
irq_name() { awk -v i="$1:" '$1 == i { print $NF }' /proc/interrupts; }

# irq_count IRQ -> interrupts taken so far, all CPUs together
irq_count() {
    awk -v i="$1:" '$1 == i { n = 0; for (c = 2; c <= NF; c++)
        if ($c ~ /^[0-9]+$/) n += $c; else break; print n }' /proc/interrupts
}

# net_irq_poke IRQ: make the virtio-net IRQ (virtioN-input.Q) fire by sending
# frames from another NIC on the QEMU hub. On x86 without interrupt
# remapping a new affinity takes effect at the next interrupt, so this is
# what makes effective_affinity_list follow smp_affinity_list.
net_irq_poke() {
    _dev=$(irq_name "$1" | sed -n 's/^\(virtio[0-9]*\)-.*/\1/p')
    _me=$(ls "/sys/bus/virtio/devices/$_dev/net" 2>/dev/null | head -n1)
    for _n in /sys/class/net/*; do
        _n=${_n##*/}
        [ "$_n" = lo ] || [ "$_n" = "$_me" ] || { vmhelper sendframe "$_n" 4 >/dev/null; break; }
    done
    sleep 0.2
}

# irq_of_name REGEX -> IRQ numbers whose /proc/interrupts name matches
irq_of_name() {
    awk -v re="$1" '$1 ~ /^[0-9]+:$/ && $NF ~ re { sub(":", "", $1); print $1 }' \
        /proc/interrupts
}

# vm_config FILE ACTIVATION [power]: the scenarios' configuration. The host
# keeps core 0 (CPUs 0-1: QEMU numbers SMT siblings next to each other), VM
# "vm" takes cores 1-3 (CPUs 2-7); with "power", a profile asking for 10 us
# of wakeup latency on the VM's CPUs.
vm_config() {
    mkdir -p "$(dirname "$1")"
    {
        echo "version: 1"
        echo "host: {cores: [0]}"
        [ "${3:-}" != power ] || printf 'power_profiles:\n  ll: {max_wakeup_latency_us: 10}\n'
        printf 'vms:\n  vm:\n    activation: %s\n    cores: [1, 2, 3]\n' "$2"
        [ "${3:-}" != power ] || echo "    power: ll"
    } > "$1"
}
