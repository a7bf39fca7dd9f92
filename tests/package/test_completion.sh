#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Drives the bash completion function as bash does on Tab: COMP_WORDS and
# COMP_CWORD set, _cpushield called, COMPREPLY compared.
# usage: test_completion.sh COMPLETION_FILE SOURCE_ROOT
set -u
comp=$1 src=$2
# shellcheck source=/dev/null
source "$comp" || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/dir/sub" && touch "$tmp/dir/a.yaml" "$tmp/dir/b.yaml"
cat >"$tmp/quoted.yaml" <<'YAML'
version: 1
host: {cpus: "0"}
vms:
    # a comment
    "first": {cpus: 1}
    second-vm:
        cpus: 2
        libvirt:
            domain: not-a-vm
power_profiles:
    p: {governor: performance}
YAML
fails=0 n=0

# expect "WORDS... |" "expected COMPREPLY, sorted, space separated"
# The word after the last one is the one being completed ("" if the
# words end in a space, written as a trailing '').
expect() {
	local line=$1 want=$2
	eval "COMP_WORDS=($line)"
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_cpushield
	local got
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//')
	n=$((n + 1))
	if [[ $got == "$want" ]]; then
		echo "ok - [$line] -> $got"
	else
		echo "not ok - [$line]: expected '$want', got '$got'"
		fails=$((fails + 1))
	fi
}

D=$src/examples/desktop-4790k.yaml
N=$src/examples/numa-2vm.yaml
expect "cpushield ''" "activate apply deactivate doctor hook plan revert status verify watch xml"
expect "cpushield de" "deactivate"
expect "cpushield --root / s" "status"
expect "cpushield --output ''" "json text"
expect "cpushield --libvirt ''" "auto no yes"
expect "cpushield --ver" "--verbose --version"
expect "cpushield apply --" "--check --config --detailed-exitcodes --diff --help --libvirt --output --quiet --root --state-dir --verbose --version --wait"
expect "cpushield revert --f" "--force"
expect "cpushield plan --act" "--activate"
expect "cpushield watch --in" "--interval"
expect "cpushield --config $D activate ''" "win10"
expect "cpushield --config $N deactivate ''" "db nfv"
expect "cpushield --config $N --config $D xml n" "nfv"
expect "cpushield --config $N plan --activate ''" "db nfv"
expect "cpushield plan --config $D --activate w" "win10"
expect "cpushield --config $N verify --activate d" "db"
expect "cpushield --config $tmp/quoted.yaml activate ''" "first second-vm"
expect "cpushield --config $D xml win10 ''" ""
expect "cpushield hook ''" "qemu"
expect "cpushield --config $tmp/dir/" "$tmp/dir/a.yaml $tmp/dir/b.yaml $tmp/dir/sub"
expect "cpushield --root $tmp/dir/" "$tmp/dir/sub"
expect "cpushield --state-dir $tmp/d" "$tmp/dir"
expect "cpushield --wait ''" ""

# The option list matches --help (a new option must be added here too).
if [[ $# -ge 3 ]]; then
	help_opts=$("$3" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u | tr '\n' ' ')
	COMP_WORDS=(cpushield plan --); COMP_CWORD=2; _cpushield; a=" ${COMPREPLY[*]} "
	COMP_WORDS=(cpushield apply --); _cpushield; a+=" ${COMPREPLY[*]} "
	COMP_WORDS=(cpushield revert --); _cpushield; a+=" ${COMPREPLY[*]} "
	COMP_WORDS=(cpushield watch --); _cpushield; a+=" ${COMPREPLY[*]} "
	COMP_WORDS=(cpushield verify --); _cpushield; a+=" ${COMPREPLY[*]} "
	missing=
	for o in $help_opts; do [[ $a == *" $o "* ]] || missing+=" $o"; done
	n=$((n + 1))
	if [[ -z $missing ]]; then echo "ok - every long option of --help completes"
	else echo "not ok - options of --help that do not complete:$missing"; fails=$((fails + 1)); fi
fi

echo "$((n - fails)) passed, $fails failed"
((fails == 0))
