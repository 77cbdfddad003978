#!/usr/bin/env bash
# hyvm top and hyvm ps refuse what they cannot show with one clear line and
# a non-zero status, never a crash: no such VM, a process that is no VM, a
# stale stats file, a file of another format version, a file that is not
# a stats file, bad arguments.
#   tests/top/errors.sh HYVM DIR-WITH-TOP-GUESTS
set -u
hyvm=$1 dir=$2
. "$(dirname "$0")/lib.sh"

# expect NAME STATUS FRAGMENT CMD...: status and a one-line stderr with FRAGMENT.
expect() {
	local name=$1 want=$2 fragment=$3
	shift 3
	"$@" >"$work/out" 2>"$work/err" </dev/null
	local st=$?
	if ((st == want)) && (($(wc -l <"$work/err") == 1)) && grep -qF -- "$fragment" "$work/err"; then
		pass "$name: $(cat "$work/err")"
	else
		fail "$name: status $st (wanted $want), stderr:"
		sed 's/^/    /' "$work/err" | head -5
	fi
}

# A pid that is certainly not running: one that just ended.
sh -c 'exit 0' & gone=$!
wait $gone
expect "no such VM" 1 "no such VM" "$hyvm" top --batch "$gone"
expect "a process that is no VM" 1 "is not a running hyvm VM" "$hyvm" top --batch $$
expect "no VM at all" 1 "no running VM" "$hyvm" top --batch

# Another layout version: the magic is right, the version is not.
{ printf 'HHYVSTAT'; printf '\xe7\x03\x00\x00'; head -c 8180 /dev/zero; } >"$work/hyvm-$$.stats"
expect "version mismatch" 1 "has stats format version 999" "$hyvm" top --batch $$
head -c 8192 /dev/urandom >"$work/hyvm-$$.stats"
expect "not a stats file" 1 "is not a hyvm stats file" "$hyvm" top --batch $$
rm -f "$work/hyvm-$$.stats"

expect "--json without --batch" 2 "--json needs --batch" "$hyvm" top --json 1
expect "bad count" 2 "-n takes a count" "$hyvm" top --batch -n 0 1
expect "bad interval" 2 "-d takes seconds" "$hyvm" top --batch -d soon 1
expect "bad pid" 2 "is not a process id" "$hyvm" top --batch 12x
expect "--no-stats with --stats" 2 "--no-stats contradicts" "$hyvm" run --no-stats --stats

# A VMM killed outright leaves its file: top calls it stale, ps lists it
# as stale and --prune removes it.
engine=$(present_engines | head -1)
if [[ -z $engine ]]; then
	skip "stale stats file: no engine here"
else
	start_vm "$engine" "$dir/busy.elf"
	for _ in $(seq 50); do [[ -e $work/hyvm-$vm_pid.stats ]] && break; sleep 0.1; done
	if ! kill -0 "$vm_pid" 2>/dev/null; then
		skip "stale stats file: the busy guest does not run on $engine: $(head -1 "$work/vm.err")"
	else
		"$hyvm" ps | grep -qE "^ *$vm_pid +running " && pass "ps lists the running VM" ||
			fail "ps lists the running VM: $("$hyvm" ps)"
		kill -KILL "$vm_pid"
		wait "$vm_pid" 2>/dev/null
		expect "stale stats file" 1 "is stale: process $vm_pid" "$hyvm" top --batch "$vm_pid"
		"$hyvm" ps | grep -qE "^ *$vm_pid +stale " && pass "ps lists the stale file" ||
			fail "ps lists the stale file: $("$hyvm" ps)"
		"$hyvm" ps --prune >/dev/null
		[[ ! -e $work/hyvm-$vm_pid.stats ]] && pass "ps --prune removes it" ||
			fail "ps --prune left $work/hyvm-$vm_pid.stats"
	fi
fi
summary
