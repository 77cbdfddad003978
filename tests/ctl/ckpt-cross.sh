#!/usr/bin/env bash
# Checkpoints across engines: tests/guests/ckpt_mem.elf with --cpu
# pentium3 (the same CPUID on every engine) saved mid-run on engine A and
# restored on engine B, then saved on B and restored on A; each time the
# output of the halves together must equal an uninterrupted run. Then a
# checkpoint of the default CPU model on A restored on B is refused with
# one line and status 2 when B offers another model (bt has no long mode).
# Needs bash and busybox's tools only (it runs inside the emulated host:
# tests/kmod/run-svm.sh).
#   tests/ctl/ckpt-cross.sh HYVM GUEST-DIR ENGINE-A ENGINE-B
set -u
hyvm=$1 guests=$2 a=$3 b=$4
passed=0 failed=0 pid=
work=$(mktemp -d)
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
guest=$guests/ckpt_mem.elf
verdict() {
	if [ "$2" = 1 ]; then echo "PASS ckpt-cross $1"; passed=$((passed + 1))
	else echo "FAIL ckpt-cross $1: $3"; failed=$((failed + 1)); fi
}
wait_lines() {
	local i
	for ((i = 0; i < 2400; i++)); do
		[ -e "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}
for e in "$a" "$b"; do
	if ! "$hyvm" engines | grep -q "^$e present"; then
		echo "SKIP ckpt-cross $a <-> $b: engine $e is not present"
		exit 0
	fi
done

timeout 300 "$hyvm" run --engine "$a" --cpu pentium3 --control none "$guest" >"$work/ref" 2>"$work/e" </dev/null
st=$?
verdict "uninterrupted run on $a" $([ $st = 1 ] && grep -q '^PASS ckpt_mem.recompute' "$work/ref" && echo 1 || echo 0) \
	"status $st $(cat "$work/e")"

# save on $1 (after $3 rounds), restore on $2: the halves equal ref
cross() {
	local from=$1 to=$2 at=$3 ctl st
	rm -f "$work/c.ckpt"
	"$hyvm" run --engine "$from" --cpu pentium3 --control "$work/s.qmp" "$guest" \
		>"$work/p1" 2>"$work/e1" </dev/null &
	pid=$!
	wait_lines "$work/p1" "$at"
	"$hyvm" ctl "$work/s.qmp" save "$work/c.ckpt" --quit >"$work/ctl" 2>&1
	ctl=$?
	wait $pid
	st=$? pid=
	timeout 300 "$hyvm" restore "$work/c.ckpt" --engine "$to" >"$work/p2" 2>"$work/e2" </dev/null
	local rst=$?
	cat "$work/p1" "$work/p2" >"$work/both"
	verdict "saved on $from after $at rounds, restored on $to" \
		$([ $ctl = 0 ] && [ $st = 0 ] && [ $rst = 1 ] && cmp -s "$work/both" "$work/ref" && echo 1 || echo 0) \
		"save $ctl $(cat "$work/ctl"), run $st $(cat "$work/e1"), restore $rst $(cat "$work/e2"), $(wc -l <"$work/both") lines"
}
cross "$a" "$b" 20
cross "$b" "$a" 60

# the default (host) model: refused when the other engine's differs
"$hyvm" run --engine "$a" --control "$work/s.qmp" "$guest" >"$work/p1" 2>"$work/e1" </dev/null &
pid=$!
wait_lines "$work/p1" 5
"$hyvm" ctl "$work/s.qmp" save "$work/h.ckpt" --quit >/dev/null 2>&1
wait $pid
pid=
"$hyvm" restore "$work/h.ckpt" --engine "$b" >"$work/o" 2>"$work/e" </dev/null
st=$?
if grep -q "cannot honour" "$work/e"; then
	verdict "host model saved on $a, refused on $b" $([ $st = 2 ] && [ "$(wc -l <"$work/e")" = 1 ] && [ ! -s "$work/o" ] && echo 1 || echo 0) \
		"status $st $(cat "$work/e")"
else
	verdict "host model saved on $a, restored on $b (the same model there)" \
		$([ $st = 1 ] && grep -q '^PASS ckpt_mem.recompute' "$work/o" && echo 1 || echo 0) "status $st $(cat "$work/e")"
fi
echo "ckpt-cross.sh: $passed passed, $failed failed"
[ $failed = 0 ]
