# bash completion for cpushield(8)                      -*- shell-script -*-
# SPDX-License-Identifier: GPL-2.0-or-later

# VM names of the configuration: the files given with --config on the line
# being completed, else /etc/cpushield/cpushield.yaml and conf.d/*.yaml.
# Reads the keys under the top-level "vms:" mapping; runs nothing.
_cpushield_vms()
{
	local -a files=()
	local i
	for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
		case ${COMP_WORDS[i]} in
			--config) files+=("${COMP_WORDS[i + 1]/#\~/$HOME}") ;;
			--config=*) files+=("${COMP_WORDS[i]#--config=}") ;;
		esac
	done
	if ((${#files[@]} == 0)); then
		files=(/etc/cpushield/cpushield.yaml)
		for i in /etc/cpushield/conf.d/*.yaml; do
			[[ -e $i ]] && files+=("$i")
		done
	fi
	local f
	for f in "${files[@]}"; do
		[[ -r $f ]] || continue
		awk '
			/^[^ \t#]/ { invms = ($0 ~ /^vms:[ \t]*(#.*)?$/); indent = ""; next }
			!invms || /^[ \t]*(#.*)?$/ { next }
			{
				match($0, /^[ \t]+/)
				lead = substr($0, 1, RLENGTH)
				if (indent == "") indent = lead
				if (lead != indent) next
				rest = substr($0, RLENGTH + 1)
				sub(/^["'\'']/, "", rest)
				if (match(rest, /^[A-Za-z0-9][A-Za-z0-9_.-]*/))
					print substr(rest, 1, RLENGTH)
			}' "$f" 2>/dev/null
	done
}

_cpushield()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	local commands="plan apply revert activate deactivate status xml doctor verify hook watch"
	local global="--config --root --state-dir --output --detailed-exitcodes --libvirt --wait
				  --quiet --verbose --help --version"

	case $prev in
		--config)
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -f -- "$cur"))
			return ;;
		--root | --state-dir)
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -d -- "$cur"))
			return ;;
		--output)
			COMPREPLY=($(compgen -W "text json" -- "$cur"))
			return ;;
		--libvirt)
			COMPREPLY=($(compgen -W "auto yes no" -- "$cur"))
			return ;;
		--activate)
			COMPREPLY=($(compgen -W "$(_cpushield_vms)" -- "$cur"))
			return ;;
		--wait | --interval | --sample | --threshold)
			return ;;
	esac

	# The command and its arguments: the words that are neither options
	# nor option values.
	local i cmd= nargs=0
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
			--config | --root | --state-dir | --output | --libvirt | --activate | --wait | --interval | --sample | --threshold)
				((i++)) ;;
			-*) ;;
			*)
				if [[ -z $cmd ]]; then cmd=${COMP_WORDS[i]}; else ((nargs++)); fi ;;
		esac
	done

	if [[ $cur == -* ]]; then
		local extra=
		case $cmd in
			plan) extra="--activate" ;;
			verify) extra="--activate --sample --threshold" ;;
			apply) extra="--check --diff" ;;
			revert) extra="--force" ;;
			watch) extra="--interval" ;;
		esac
		COMPREPLY=($(compgen -W "$global $extra" -- "$cur"))
		return
	fi

	case $cmd in
		"")
			COMPREPLY=($(compgen -W "$commands" -- "$cur")) ;;
		activate | deactivate | xml)
			((nargs == 0)) && COMPREPLY=($(compgen -W "$(_cpushield_vms)" -- "$cur")) ;;
		hook)
			((nargs == 0)) && COMPREPLY=($(compgen -W "qemu" -- "$cur")) ;;
	esac
}
complete -F _cpushield cpushield
