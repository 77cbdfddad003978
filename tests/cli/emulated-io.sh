#!/usr/bin/env bash
# Guests whose accesses an engine may have to emulate: string port I/O
# (string-io.bin) and MMIO instruction forms on unbacked memory
# (mmio-forms.bin). Each must exit with status 1 (it wrote 0 to
# isa-debug-exit) and print its lines to the UART.
#   tests/cli/emulated-io.sh HYVM DIR-WITH-CLI-GUESTS ENGINE...
set -u
hyvm=$1 dir=$2
shift 2
passed=0 failed=0 skipped=0
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

check() { # engine guest expected-stdout-lines...
	local e=$1 name=$2
	shift 2
	timeout 120 "$hyvm" run --engine "$e" "$dir/$name.bin" >"$out" 2>"$err" </dev/null
	local status=$? missing=""
	for line in "$@"; do
		grep -qxF -- "$line" "$out" || missing="$missing [$line]"
	done
	if ((status == 77)); then
		echo "SKIP $name ($e): $(cat "$err")"
		skipped=$((skipped + 1))
	elif ((status == 1)) && [[ -z $missing ]]; then
		echo "PASS $name ($e)"
		passed=$((passed + 1))
	else
		echo "FAIL $name ($e): status $status, wanted 1;" \
			"missing output:${missing:- none}; stderr: $(head -c 300 "$err")"
		failed=$((failed + 1))
	fi
}

for e in "$@"; do
	check "$e" string-io "string-io: rep outsb forwards ok" \
		"string-io: rep outsb backwards ok" "string-io: rep insb/insd read all-ones"
	check "$e" mmio-forms "mmio-forms: all forms read all-ones"
done
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
