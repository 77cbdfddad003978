#!/usr/bin/env bash
# QMP system_powerdown presses the ACPI power button: tests/cli/power-button.asm
# waits for PM1_STS.PWRBTN_STS, then powers off. On hyvm (hyvm ctl PATH
# system_powerdown) and, as the oracle, in QEMU's pc machine through its
# own QMP socket (when qemu-system-i386 is installed): the same output and
# status 0 on both.
#   tests/ctl/power-button.sh HYVM DIR-WITH-CLI-GUESTS ENGINE
set -u
hyvm=$1 dir=$2 engine=${3:-bt}
passed=0 failed=0 pid=
work=$(mktemp -d)
trap '[[ -n $pid ]] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
. "$(dirname "$0")/../lib/verdict.sh"
guest=$dir/power-button.bin
wait_for() { # file text secs
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
want=$'power-button: waiting\r\npower-button: pressed\r\n'

"$hyvm" run --engine "$engine" --control "$work/s.qmp" "$guest" >"$work/out" 2>"$work/err" </dev/null &
pid=$!
wait_for "$work/out" "waiting" 60
"$hyvm" ctl "$work/s.qmp" system_powerdown >"$work/ctl" 2>&1
ctl=$?
timeout 60 tail --pid=$pid -f /dev/null
wait $pid
st=$? pid=
verdict "system_powerdown on $engine" $([[ $ctl == 0 && $st == 0 && $(cat "$work/out"; echo .) == "$want." ]] && echo 1 || echo 0) \
	"ctl $ctl $(cat "$work/ctl"), status $st, stdout $(od -c "$work/out" | head -3), stderr $(cat "$work/err")"

if command -v qemu-system-i386 >/dev/null && command -v python3 >/dev/null; then
	qemu-system-i386 -M pc -display none -no-reboot -serial "file:$work/qout" -monitor none \
		-qmp "unix:$work/q.sock,server=on,wait=off" -kernel "$guest" </dev/null 2>"$work/qerr" &
	pid=$!
	wait_for "$work/qout" "waiting" 60
	python3 - "$work/q.sock" <<'PY' >"$work/qctl" 2>&1
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rw")
f.readline()
for c in ("qmp_capabilities", "system_powerdown"):
    f.write(json.dumps({"execute": c}) + "\n"); f.flush()
    while "return" not in (m := json.loads(f.readline())) and "error" not in m: pass
    print(m)
PY
	timeout 60 tail --pid=$pid -f /dev/null
	wait $pid
	st=$? pid=
	verdict "system_powerdown in QEMU (the oracle)" $([[ $st == 0 && $(cat "$work/qout"; echo .) == "$want." ]] && echo 1 || echo 0) \
		"status $st, $(cat "$work/qctl" "$work/qerr"), serial $(od -c "$work/qout" | head -3)"
else
	echo "SKIP QEMU oracle: no qemu-system-i386 or python3"
fi
echo "power-button.sh: $passed passed, $failed failed"
((failed == 0))
