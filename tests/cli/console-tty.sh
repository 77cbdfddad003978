#!/usr/bin/env bash
# The serial console: on a pseudo-terminal (tests/cli/console_tty.py:
# raw mode, echo through the guest, Ctrl-A x / h / Ctrl-A Ctrl-A, --escape,
# the terminal restored after quit, SIGTERM, SIGHUP, SIGABRT, Ctrl-C), and
# with a pipe on stdin, where nothing is filtered: a Ctrl-A x reaches the
# guest as two bytes.
#   tests/cli/console-tty.sh HYVM DIR-WITH-CLI-GUESTS ENGINE...
set -u
hyvm=$1 dir=$2
shift 2
here=$(dirname "$0")
passed=0 failed=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

for e in "$@"; do
	printf 'ab\001xcd!' | timeout 60 "$hyvm" run --engine "$e" "$dir/serial-echo.bin" >"$out" 2>&1
	status=$?
	if ((status == 1)) && grep -q $'ab\001xcd' "$out"; then
		echo "PASS console-tty pipe input unfiltered ($e)"
		passed=$((passed + 1))
	else
		echo "FAIL console-tty pipe input unfiltered ($e): status $status, output $(od -c "$out" | head -5)"
		failed=$((failed + 1))
	fi
	if python3 "$here/console_tty.py" "$hyvm" "$dir" "$e"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
((failed == 0))
