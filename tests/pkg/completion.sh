#!/usr/bin/env bash
# bash completion (dist/hyvm.bash-completion) as bash calls it: COMP_WORDS
# and COMP_CWORD set, _hyvm run, COMPREPLY checked. The program completed
# is HYVM (its --help, engines, CPU and device models are read from it).
#   tests/pkg/completion.sh HYVM
set -u
hyvm=$1
passed=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. dist/hyvm.bash-completion

. "$(dirname "$0")/../lib/verdict.sh"

complete_words() { # WORDS...: the last is the word being completed
	COMP_WORDS=("$hyvm" "$@")
	COMP_CWORD=$#
	COMPREPLY=()
	_hyvm
	printf '%s\n' "${COMPREPLY[@]}" | sort | xargs
}

expect() { # name "expected reply" WORDS...
	local name=$1 want=$2
	shift 2
	local got
	got=$(complete_words "$@")
	verdict "$name: hyvm $* -> $want" "$([[ $got == "$want" ]] && echo 1)" "got '$got'"
}

contains() { # name "words that must be in the reply" WORDS...
	local name=$1 want=$2
	shift 2
	local got missing=
	got=" $(complete_words "$@") "
	for w in $want; do [[ $got == *" $w "* ]] || missing="$missing $w"; done
	verdict "$name: hyvm $* -> has $want" "$([[ -z $missing ]] && echo 1)" "missing$missing in '$got'"
}

expect subcommand "restore run" r
contains subcommands "run engines ps top ctl restore disk bench help" ""
expect "run option" "--engine" run --eng
contains "run options" "--disk --drive --no-acpi --initrd -i -k -p --netdev --stats-out" run -
expect "top option" "--batch" top --ba
expect "disk operation" "commit" disk com
expect "help COMMAND" "top" help to
engines=$("$hyvm" engines | awk '{ print $1 }' | xargs)
contains "engine names from hyvm engines" "auto $engines" run --engine ""
contains "bench --engines" "$engines" bench --engines ""
contains "--cpu models" "help host pentium3 core2duo" run --cpu ""
contains "--device models" "pci_testdev virtio-blk" run --device ""
touch "$tmp/guest.elf" "$tmp/disk.img" "$tmp/disk.img.overlay"
expect "files for --kernel" "$tmp/guest.elf" run -k "$tmp/gu"
expect "files for GUEST" "$tmp/guest.elf" run --engine bt "$tmp/gu"
expect "files for --disk" "$tmp/disk.img $tmp/disk.img.overlay" run --disk "$tmp/di"
expect "overlays for hyvm disk" "$tmp/disk.img.overlay" disk commit "$tmp/d"
expect "nothing for --mem" "" run --mem ""
echo "completion: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
