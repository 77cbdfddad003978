#!/usr/bin/env bash
# Checkpoints of tests/guests/ckpt_mem.elf on bt: saved mid-run with
# hyvm ctl save --quit, restored in a new process (hyvm restore), the two
# halves' output together equal to an uninterrupted run; QMP's migrate
# file: URI with query-migrate and the postmigrate state; a save that
# continues; a VM with virtio-net saved and restored;
# restores refused with one line and status 2 (truncated, corrupted,
# another --mem, a changed disk).
#   tests/ctl/ckpt-guest.sh HYVM GUEST-DIR
set -u
hyvm=$1 guests=$2
passed=0 failed=0 pid=
work=$(mktemp -d)
trap '[[ -n $pid ]] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
. "$(dirname "$0")/../lib/verdict.sh"
guest=$guests/ckpt_mem.elf

wait_lines() { # file, lines: until the guest printed that many (60 s)
	local i
	for ((i = 0; i < 1200; i++)); do
		[[ -e $1 && $(wc -l <"$1") -ge $2 ]] && return 0
		sleep 0.05
	done
	return 1
}

timeout 120 "$hyvm" run --engine bt --control none "$guest" >"$work/ref" 2>/dev/null </dev/null
st=$?
verdict "uninterrupted run" $([[ $st == 1 ]] && grep -q '^PASS ckpt_mem.recompute' "$work/ref" && echo 1 || echo 0) "status $st"

# save --quit mid-run, restore in a new process, twice (early and late)
for at in 20 70; do
	rm -f "$work/c.ckpt"
	rm -f "$work/p1"	# the shell truncates it in the child: wait_lines could read the last run's
	"$hyvm" run --engine bt --control "$work/s.qmp" "$guest" >"$work/p1" 2>"$work/e1" </dev/null &
	pid=$!
	wait_lines "$work/p1" $at
	"$hyvm" ctl "$work/s.qmp" save "$work/c.ckpt" --quit >"$work/ctl" 2>&1
	ctl=$?
	wait $pid
	st=$? pid=
	verdict "save --quit after $at rounds" $([[ $ctl == 0 && $st == 0 && -s $work/c.ckpt ]] && echo 1 || echo 0) \
		"ctl $ctl $(cat "$work/ctl"), run status $st $(cat "$work/e1")"
	timeout 120 "$hyvm" restore "$work/c.ckpt" >"$work/p2" 2>"$work/e2" </dev/null
	st=$?
	cat "$work/p1" "$work/p2" >"$work/both"
	verdict "restore after $at rounds: same output as the uninterrupted run" \
		$([[ $st == 1 ]] && cmp -s "$work/both" "$work/ref" && echo 1 || echo 0) \
		"status $st $(cat "$work/e2"); $(diff <(tr -d '\r' <"$work/both") <(tr -d '\r' <"$work/ref") | head -5)"
done
cp "$work/c.ckpt" "$work/good.ckpt"

# the same with --engine bt named, and through run --incoming
timeout 120 "$hyvm" run --engine bt --control none --incoming "file:$work/good.ckpt" "$guest" \
	>"$work/p3" 2>"$work/e3" </dev/null
st=$?
verdict "run --incoming file:FILE" $([[ $st == 1 ]] && cmp -s <(cat "$work/p1" "$work/p3") "$work/ref" && echo 1 || echo 0) \
	"status $st $(cat "$work/e3")"

# QMP migrate to a file: completed, the VM stays paused (postmigrate)
rm -f "$work/p1"	# the shell truncates it in the child: wait_lines could read the last run's
"$hyvm" run --engine bt --control "$work/s.qmp" "$guest" >"$work/p1" 2>"$work/e1" </dev/null &
pid=$!
wait_lines "$work/p1" 10
"$hyvm" ctl "$work/s.qmp" migrate "file:$work/m.ckpt" >"$work/ctl" 2>&1
ctl=$?
"$hyvm" ctl "$work/s.qmp" query-status >"$work/status" 2>&1
verdict "migrate file: completed, status postmigrate" \
	$([[ $ctl == 0 ]] && grep -q '"completed"' "$work/ctl" && grep -q '"postmigrate"' "$work/status" && echo 1 || echo 0) \
	"ctl $ctl $(cat "$work/ctl" "$work/status"); guest lines $(wc -l <"$work/p1"), run: $(cat "$work/e1")"
# a save that continues: the guest finishes as if nothing happened (a
# relative FILE is ctl's directory's, not the VM's)
"$hyvm" ctl "$work/s.qmp" cont >/dev/null
hyvm_abs=$(cd "$(dirname "$hyvm")" && pwd)/$(basename "$hyvm")
(cd "$work" && "$hyvm_abs" ctl s.qmp save c2.ckpt) >"$work/ctl" 2>&1
ctl=$?
wait $pid
st=$? pid=
verdict "save and continue" $([[ $ctl == 0 && $st == 1 && -s $work/c2.ckpt ]] && cmp -s "$work/p1" "$work/ref" && echo 1 || echo 0) \
	"ctl $ctl, status $st"
timeout 120 "$hyvm" restore "$work/m.ckpt" >"$work/p2" 2>"$work/e2" </dev/null
st=$?
verdict "restore of a migrate file" $([[ $st == 1 ]] && grep -q '^PASS ckpt_mem.recompute' "$work/p2" && echo 1 || echo 0) \
	"status $st $(cat "$work/e2")"

# a VM with a network card (virtio-net on slirp) saves and runs on; its
# checkpoint restores. 300 rounds (~6 s): the default 100 (~2 s) could
# end, and its control socket go, before a loaded host's ctl connects.
rm -f "$work/p1"	# the shell truncates it in the child: wait_lines could read the last run's
"$hyvm" run --engine bt --control "$work/s.qmp" --netdev user,id=n0 --device virtio-net,netdev=n0 \
	-p "rounds=300" "$guest" >"$work/p1" 2>"$work/e1" </dev/null &
pid=$!
wait_lines "$work/p1" 10
"$hyvm" ctl "$work/s.qmp" save "$work/n.ckpt" >"$work/ctl" 2>"$work/ctl.err"
ctl=$?
"$hyvm" ctl "$work/s.qmp" query-status >"$work/status" 2>&1
verdict "virtio-net: the save succeeds and the VM runs on" \
	$([[ $ctl == 0 && -s $work/n.ckpt ]] && grep -q '"running"' "$work/status" && echo 1 || echo 0) \
	"ctl $ctl $(cat "$work/ctl.err" "$work/status")"
"$hyvm" ctl "$work/s.qmp" quit >/dev/null 2>&1
wait $pid
pid=
timeout 120 "$hyvm" restore "$work/n.ckpt" --control none >"$work/p2" 2>"$work/e2" </dev/null
st=$?
verdict "virtio-net: the checkpoint restores" $([[ $st == 1 ]] && grep -q '^PASS ckpt_mem.recompute' "$work/p2" && echo 1 || echo 0) \
	"status $st $(cat "$work/e2")"

# refused restores: one line, status 2, no guest output
refused() { # name fragment args...
	local name=$1 frag=$2
	shift 2
	timeout 60 "$hyvm" "$@" >"$work/o" 2>"$work/e" </dev/null
	local st=$?
	verdict "refused: $name" $([[ $st == 2 && ! -s $work/o && $(wc -l <"$work/e") == 1 ]] && grep -qF -- "$frag" "$work/e" && echo 1 || echo 0) \
		"status $st: $(head -3 "$work/e")"
}
size=$(stat -c %s "$work/good.ckpt")
head -c $((size - 100)) "$work/good.ckpt" >"$work/trunc.ckpt"
refused truncated "truncated" restore "$work/trunc.ckpt"
cp "$work/good.ckpt" "$work/bad.ckpt"
# Flip the byte's bits (a fixed value is already there 1 time in 256)
byte=$(od -An -tu1 -j $((size - 50)) -N1 "$work/good.ckpt")
printf "\\x$(printf %02x $((255 - byte)))" | dd of="$work/bad.ckpt" bs=1 seek=$((size - 50)) conv=notrunc 2>/dev/null
refused corrupted "checksum" restore "$work/bad.ckpt"
cp "$work/good.ckpt" "$work/v9.ckpt"
printf '\x09' | dd of="$work/v9.ckpt" bs=1 seek=8 conv=notrunc 2>/dev/null
refused "another version" "version 9" restore "$work/v9.ckpt"
refused "not a checkpoint" "not a hyvm checkpoint" restore "$guest"
refused "another --mem" "memory map" run --engine bt --control none --mem 64 --incoming "file:$work/good.ckpt" "$guest"
refused "missing file" "cannot open" restore "$work/none.ckpt"
# bt's default model has no long mode; kvm's lists it wherever its
# engine runs long mode (kvm_pvm and VT-x/AMD-V alike): CPUID differs
if "$hyvm" engines 2>/dev/null | grep -q "^kvm present"; then
	refused "a CPU model kvm cannot honour" "cannot honour the checkpoint's CPU model" \
		restore "$work/good.ckpt" --engine kvm
else
	echo "SKIP refused: a CPU model kvm cannot honour: no kvm engine here"
fi

# a disk written after the checkpoint is refused
truncate -s 1M "$work/disk.img"
rm -f "$work/p1"	# the shell truncates it in the child: wait_lines could read the last run's
"$hyvm" run --engine bt --control "$work/s.qmp" --disk "$work/disk.img" "$guest" >"$work/p1" 2>"$work/e1" </dev/null &
pid=$!
wait_lines "$work/p1" 5
"$hyvm" ctl "$work/s.qmp" save "$work/d.ckpt" --quit >/dev/null 2>&1
wait $pid
pid=
sleep 0.01
echo changed | dd of="$work/disk.img" bs=1 seek=4096 conv=notrunc 2>/dev/null
refused "a disk changed since" "changed since the checkpoint" restore "$work/d.ckpt"

echo "ckpt-guest.sh: $passed passed, $failed failed"
((failed == 0))
