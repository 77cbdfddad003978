#!/usr/bin/env bash
# Guests that misbehave must end cleanly on every engine present:
# a triple fault gives status 3 and one line naming the engine and RIP;
# touching memory the guest does not have reads all-ones, never crashes.
#   tests/cli/guest-faults.sh HYVM DIR-WITH-CLI-GUESTS [ENGINE...]
# With ENGINEs, only those (the emulated hosts check their own engine).
set -u
hyvm=$1 dir=$2
shift 2
passed=0 failed=0 skipped=0
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

check() { # engine name guest expected-status stderr-fragment
	local e=$1 name=$2 guest=$3 want=$4 fragment=$5
	timeout 120 "$hyvm" run --engine "$e" "$guest" >"$out" 2>"$err" </dev/null
	local status=$?
	if ((status == 77)); then
		echo "SKIP $name ($e): $(cat "$err")"
		skipped=$((skipped + 1))
	elif ((status == want)) && { [[ -z $fragment ]] ||
		{ (($(wc -l <"$err") == 1)) && grep -qF -- "$fragment" "$err"; }; }; then
		echo "PASS $name ($e)${fragment:+: $(cat "$err")}"
		passed=$((passed + 1))
	else
		echo "FAIL $name ($e): status $status, wanted $want; stderr:"
		sed 's/^/    /' "$err" | head -5
		failed=$((failed + 1))
	fi
}

engines=${*:-$("$hyvm" engines | awk '$2 == "present" { print $1 }')}
for e in $engines; do
	check "$e" triple-fault "$dir/triple-fault.bin" 3 "triple fault on engine $e at rip=0x"
	check "$e" unbacked-memory "$dir/unbacked-memory.bin" 1 ""
done
(($# > 0)) || for e in $("$hyvm" engines | awk '$2 == "absent" { print $1 }'); do
	echo "SKIP engine $e: $("$hyvm" engines | awk -v e="$e" '$1 == e { $1 = $2 = ""; print }')"
done
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
