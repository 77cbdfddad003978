#!/usr/bin/env bash
# The control socket on a running bt guest: tests/ctl/qmp_client.py (a
# QMP client in Python's standard library) drives it; then hyvm ctl, the
# default socket path and its removal, and hyvm ctl's errors.
#   tests/ctl/qmp.sh HYVM GUEST-DIR
set -u
hyvm=$1 guests=$2
passed=0 failed=0
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$work"' EXIT
. "$(dirname "$0")/../lib/verdict.sh"
guest=$guests/ckpt_mem.elf

wait_for() { # file, timeout s: until it exists
	local i
	for ((i = 0; i < $2 * 20; i++)); do [[ -e $1 ]] && return 0; sleep 0.05; done
	return 1
}

# 1. the Python client against an explicit path
"$hyvm" run --engine bt --control "$work/s.qmp" --append "rounds=100000 ticks=0" "$guest" \
	>"$work/out" 2>"$work/err" </dev/null &
pid=$!
wait_for "$work/s.qmp" 30
HYVM_VM_PID=$pid python3 "$(dirname "$0")/qmp_client.py" "$work/s.qmp" "$work/out"
py=$?
wait $pid
status=$?
verdict "python client" $((py == 0)) "see above"
verdict "quit ends the run with status 0" $((status == 0)) "status $status: $(cat "$work/err")"
verdict "socket removed after quit" $([[ ! -e $work/s.qmp ]] && echo 1 || echo 0) "still there"

# 2. the default path, hyvm ctl by PID, removal on SIGTERM
# (a stats directory of its own: ps --prune below touches only ours)
export XDG_RUNTIME_DIR=$work/xdg HYVM_STATS_DIR=$work/stats
mkdir -p "$XDG_RUNTIME_DIR" "$HYVM_STATS_DIR"
"$hyvm" run --engine bt --append "rounds=100000 ticks=0" "$guest" >"$work/out" 2>"$work/err" </dev/null &
pid=$!
sock=$XDG_RUNTIME_DIR/hyvm/$pid.qmp
wait_for "$sock" 30
verdict "default socket at \$XDG_RUNTIME_DIR/hyvm/PID.qmp, directory 0700" \
	$([[ -S $sock && $(stat -c %a "$XDG_RUNTIME_DIR/hyvm") == 700 ]] && echo 1 || echo 0) "$(ls -la "$XDG_RUNTIME_DIR/hyvm" 2>&1)"
"$hyvm" ps >"$work/ps" 2>&1
verdict "hyvm ps shows the socket" $(grep -q "$sock" "$work/ps" && echo 1 || echo 0) "$(cat "$work/ps")"
"$hyvm" ctl "$pid" query-status >"$work/ctl" 2>&1
verdict "hyvm ctl PID query-status" $(grep -q '"status": "running"' "$work/ctl" && echo 1 || echo 0) "$(cat "$work/ctl")"
"$hyvm" ctl "$pid" stop >/dev/null && "$hyvm" ctl "$pid" query-status >"$work/ctl" 2>&1
verdict "hyvm ctl PID stop" $(grep -q '"status": "paused"' "$work/ctl" && echo 1 || echo 0) "$(cat "$work/ctl")"
"$hyvm" ctl "$pid" no-such-command >"$work/ctl" 2>"$work/ctl.err"
st=$?
verdict "hyvm ctl: an error is one line, status 2" \
	$([[ $st == 2 && $(wc -l <"$work/ctl.err") == 1 && ! -s $work/ctl ]] && grep -q CommandNotFound "$work/ctl.err" && echo 1) \
	"status $st: $(cat "$work/ctl.err")"
"$hyvm" ctl "$pid" stop bad-argument >/dev/null 2>"$work/ctl.err"
st=$?
verdict "hyvm ctl: a bad argument is one line, status 2" \
	$([[ $st == 2 && $(wc -l <"$work/ctl.err") == 1 ]] && echo 1 || echo 0) "status $st: $(cat "$work/ctl.err")"
kill -TERM $pid
wait $pid
verdict "socket removed after SIGTERM" $([[ ! -e $sock ]] && echo 1 || echo 0) "$(ls -la "$sock" 2>&1)"
"$hyvm" ctl "$pid" query-status >/dev/null 2>"$work/ctl.err"
st=$?
verdict "hyvm ctl to a VM that is gone: one line, status 2" \
	$([[ $st == 2 && $(wc -l <"$work/ctl.err") == 1 ]] && echo 1 || echo 0) "status $st: $(cat "$work/ctl.err")"

# SIGABRT (no cleanup of the run) still removes the socket; SIGKILL
# leaves it, and hyvm ps --prune removes it with the stale stats file
for sig in ABRT KILL; do
	"$hyvm" run --engine bt --append "rounds=100000 ticks=0" "$guest" >/dev/null 2>&1 </dev/null &
	pid=$!
	sock=$XDG_RUNTIME_DIR/hyvm/$pid.qmp
	wait_for "$sock" 30
	kill -$sig $pid
	wait $pid 2>/dev/null
	pid=
	if [[ $sig == ABRT ]]; then
		verdict "socket removed after SIGABRT" $([[ ! -e $sock ]] && echo 1 || echo 0) "$(ls -la "$sock" 2>&1)"
	else
		"$hyvm" ps --prune >"$work/ps" 2>&1
		verdict "hyvm ps --prune removes the socket SIGKILL left" \
			$([[ ! -e $sock ]] && grep -q "removed $sock" "$work/ps" && echo 1 || echo 0) "$(ls -la "$sock" 2>&1; cat "$work/ps")"
	fi
done

echo "qmp.sh: $passed passed, $failed failed"
((failed == 0))
