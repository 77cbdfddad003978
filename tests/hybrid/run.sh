#!/usr/bin/env bash
# The hybrid engine switching for real: realmode.elf and longmode.elf on
# --engine hybrid must PASS with the same output as on kvm alone, and the
# switches must have happened (bt runs the 32-bit, 16-bit and real-mode
# parts, kvm the long-mode part). Prints each switch with its cost.
#
#   tests/hybrid/run.sh HYVM GUEST_DIR
set -u
hyvm=${1:?usage: run.sh HYVM GUEST_DIR} guests=${2:?usage: run.sh HYVM GUEST_DIR}
failed=0 work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! "$hyvm" engines | grep -q '^hybrid present'; then
	echo "SKIP hybrid: $("$hyvm" engines | grep '^hybrid')"
	exit 0
fi

fail() { echo "FAIL $*"; failed=1; }

# guest, then the switches the trace must show (extended regexes), in order
check() {
	local g=$1 elf=$guests/$1.elf failed_before=$failed; shift
	failed=0
	# Mode residency 0: the move back to bt after real mode comes at the
	# first safe exit in 32-bit code, not after 5 ms the guest may not run.
	HYVM_HYBRID_MODE_RESIDENCY_MS=0 HYVM_HYBRID_TRACE=1 HYVM_HYBRID_STATS=1 timeout -k 5 60 "$hyvm" run --engine hybrid --no-stats \
		"$elf" </dev/null >"$work/$g.hybrid" 2>"$work/$g.err"
	local rc=$?
	timeout -k 5 60 "$hyvm" run --engine kvm --no-stats "$elf" </dev/null >"$work/$g.kvm" 2>/dev/null
	local rc_kvm=$?
	[[ $rc == 1 ]] || fail "$g (hybrid): exit status $rc, want 1: $(tail -n 3 "$work/$g.err" | tr '\n' ' ')"
	[[ $rc_kvm == 1 ]] || fail "$g (kvm): exit status $rc_kvm, want 1"
	grep -q '^PASS' "$work/$g.hybrid" || fail "$g (hybrid): no PASS line"
	cmp -s "$work/$g.hybrid" "$work/$g.kvm" ||
		fail "$g: output differs from kvm's: $(diff "$work/$g.kvm" "$work/$g.hybrid" | head -n 4 | tr '\n' ' ')"
	grep '^hybrid: [a-z]*->' "$work/$g.err" | sed 's/^/  /'
	local i=1
	for want in "$@"; do
		sed -n "${i}p" < <(grep '^hybrid: [a-z]*->' "$work/$g.err") | grep -Eq "$want" ||
			fail "$g: switch $i is not /$want/"
		i=$((i + 1))
	done
	local n
	n=$(grep -c '^hybrid: [a-z]*->' "$work/$g.err")
	(( n == $# )) || fail "$g: $n switches, want $#"
	grep -q "^hybrid: hybrid.switches *$# *\$" "$work/$g.err" ||
		fail "$g: read_stats does not count $# switches"
	((failed)) || echo "PASS $g (hybrid): output as on kvm, $n switches"
	((failed |= failed_before))
}

# The switches below are those the policy makes when the hardware engine is
# software (kvm_pvm). On true hardware (kvm on VT-x/AMD-V, as inside the
# emulated AMD host) the policy keeps these guests on kvm: check that, then
# make the same moves with HYVM_HYBRID_HW_AS_SOFTWARE=1.
if "$hyvm" engines | grep -q '^kvm present.*kvm_pvm'; then
	export HYVM_HYBRID_HW_AS_SOFTWARE=0
else
	echo "kvm is hardware assist: the policy keeps realmode and longmode on kvm"
	export HYVM_HYBRID_HW_AS_SOFTWARE=0
	check realmode
	check longmode
	echo "kvm is hardware assist: HYVM_HYBRID_HW_AS_SOFTWARE=1 for the moves kvm_pvm hosts make"
	export HYVM_HYBRID_HW_AS_SOFTWARE=1
fi
# bt runs real mode and 16-bit code: realmode stays on bt from start to end
check realmode
check longmode 'bt->kvm: bt cannot run long mode'
exit $failed
