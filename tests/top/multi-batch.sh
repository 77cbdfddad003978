#!/usr/bin/env bash
# hyvm top --batch without a PID watches every VM: one report per VM per
# sample (JSON: one object a line, the single-PID object), exact counts for
# each, a VM that ends printed once more as ended, a VM that starts during
# the run picked up, a VM that dies named on stderr with status 1.
#   tests/top/multi-batch.sh HYVM DIR-WITH-TOP-GUESTS
set -u
hyvm=$1 dir=$2
. "$(dirname "$0")/lib.sh"

engine=$(present_engines | grep -x kvm || present_engines | head -1)
if [[ -z $engine ]]; then
	skip "multi-batch: no engine present here"
	summary
	exit
fi
# wait_file PID: its stats file is there within 5 s and the VM still runs.
wait_file() {
	for _ in $(seq 50); do [[ -e $work/hyvm-$1.stats ]] && break; sleep 0.1; done
	kill -0 "$1" 2>/dev/null && [[ -e $work/hyvm-$1.stats ]]
}
# check NAME JQ-EXPR: true of the JSON lines in $work/top.json, slurped.
check() {
	if jq -se "$2" "$work/top.json" >/dev/null 2>&1; then
		pass "$1"
	else
		fail "$1: not true: $2"
		jq -c '{pid, state, exit_status, exits: .vcpus[0].exits}' "$work/top.json" | head -20
	fi
}

start_vm "$engine" "$dir/busy.elf"; a=$vm_pid
start_vm "$engine" "$dir/exit-counts.elf"; b=$vm_pid
if ! wait_file "$a" || ! wait_file "$b"; then
	skip "multi-batch: the guests do not run on $engine: $(head -1 "$work/vm.err")"
	summary
	exit
fi
# The exit-counts guest is done once its HLT is counted.
for _ in $(seq 100); do
	"$hyvm" top --batch --json -d 0.1 "$b" 2>/dev/null |
		jq -e '.vcpus[0].categories | map(select(.name == "hlt")) | length == 1' \
			>/dev/null && break
	sleep 0.1
done

"$hyvm" top --batch --json -n 2 -d 0.2 >"$work/top.json" 2>"$work/top.err"
st=$?
((st == 0)) && pass "two VMs: status 0" || fail "two VMs: status $st: $(cat "$work/top.err")"
check "two VMs: one object per VM per sample" \
	"length == 4 and (map(.pid) | sort) == ([$a, $a, $b, $b] | sort)"
check "two VMs: each names its own guest" \
	"map(select(.pid == $a))[0].guest | endswith(\"/busy.elf\")"
check "two VMs: exact counts of the exit-counts guest, beside the busy one" "
	map(select(.pid == $b))[-1].vcpus[0] as \$v
	| (\$v.categories | map({(.name): .total}) | add) as \$c
	| \$c.io == 1300 and \$c.mmio == 200 and \$c.hlt == 1"
check "two VMs: the busy guest keeps exiting" \
	"map(select(.pid == $a)) | .[0].vcpus[0].exits < .[1].vcpus[0].exits"

text=$("$hyvm" top --batch -n 1 -d 0.1 2>&1)
if [[ $(grep -cE "^hyvm pid ($a|$b) " <<<"$text") == 2 ]]; then
	pass "two VMs: text has a report for each"
else
	fail "two VMs: text reports:"; grep -E "^hyvm pid" <<<"$text"
fi

# While a 4-sample run goes on: b ends (SIGTERM) and c starts.
"$hyvm" top --batch --json -n 4 -d 0.5 >"$work/top.json" 2>"$work/top.err" &
top=$!
# b must end after top has mapped its statistics file and before the first
# sample (0.5 s): wait for the mapping, not a fixed time (SAN builds on a
# loaded machine were slower than 0.2 s)
for _ in $(seq 200); do grep -q "hyvm-$b.stats" /proc/$top/maps 2>/dev/null && break; sleep 0.01; done
kill -TERM "$b"
start_vm "$engine" "$dir/busy.elf"; c=$vm_pid
wait "$top"
st=$?
((st == 0)) && pass "VMs come and go: status 0" ||
	fail "VMs come and go: status $st: $(cat "$work/top.err")"
check "the VM that ended: printed once, as ended with its status" "
	map(select(.pid == $b)) | length == 1 and .[0].state == \"ended\" and .[0].exit_status == 143"
check "the VM that keeps running: in every sample" \
	"map(select(.pid == $a and .state == \"running\")) | length == 4"
check "the VM that started meanwhile: picked up" \
	"map(select(.pid == $c and .state == \"running\")) | length >= 1"

# A VMM killed outright: named on stderr, status 1, the others still shown.
kill -KILL "$c"
wait "$c" 2>/dev/null
"$hyvm" top --batch --json -n 1 -d 0.1 >"$work/top.json" 2>"$work/top.err"
st=$?
# c's file is stale now: top does not watch what is already dead.
if ((st == 0)) && [[ ! -s $work/top.err ]]; then pass "a stale file is not watched"
else fail "a stale file is not watched: status $st: $(cat "$work/top.err")"; fi
check "a stale file is not watched: only the live VM" "length == 1 and .[0].pid == $a"
"$hyvm" top --batch --json -n 3 -d 0.3 >"$work/top.json" 2>"$work/top.err" &
top=$!
sleep 0.4
kill -KILL "$a"
wait "$a" 2>/dev/null
wait "$top"
st=$?
if ((st == 1)) && grep -qF "VM $a died without ending its stats" "$work/top.err"; then
	pass "a VM that dies while watched: named, status 1"
else
	fail "a VM that dies while watched: status $st: $(cat "$work/top.err")"
fi
"$hyvm" top --batch >/dev/null 2>"$work/top.err"
st=$?
((st == 1)) && grep -qF "no running VM" "$work/top.err" && pass "no VM left: refused" ||
	fail "no VM left: status $st: $(cat "$work/top.err")"
summary
