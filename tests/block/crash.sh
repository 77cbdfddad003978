#!/usr/bin/env bash
# Crash safety of the undoable disk (userspace/block/overlay_format.h):
# crash-driver writes random sectors through an overlay with periodic
# FLUSHes and is SIGKILLed at a random moment, RUNS times. After each kill
# the base must be byte-identical (sha256) and every flushed write must
# read back through a fresh open of the overlay (crash-driver verify).
# Every 5th run also commits, SIGKILLing `hyvm disk commit` at a random
# moment and running it again when the overlay is still there: the base
# must then hold exactly the disk the overlay showed.
#   tests/block/crash.sh HYVM CRASH_DRIVER [RUNS]
set -u
hyvm=$1 driver=$2 runs=${3:-50}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
base=$work/base.img ovl=$work/base.img.overlay log=$work/log
# 4 MiB and three sectors: the last cluster is short
head -c $(((4 << 20) + 1536)) /dev/urandom >"$work/pristine.img"
cp "$work/pristine.img" "$base"
want=$(sha256sum <"$base")
fail() { echo "FAIL crash-safety run $i: $*"; exit 1; }
commits=0 interrupted=0 writes=0 flushes=0
start=$SECONDS
for ((i = 1; i <= runs; i++)); do
	rm -f "$ovl" "$log"
	seed=$((RANDOM * 32768 + RANDOM))
	"$driver" write "$base" "$ovl" "$log" "$seed" 2>"$work/err" &
	pid=$!
	sleep "0.$(printf %03d $((RANDOM % 150 + 5)))"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	[[ -s $work/err ]] && fail "the writer said: $(cat "$work/err")"
	[[ $(sha256sum <"$base") == "$want" ]] || fail "the base changed"
	out=$("$driver" verify "$base" "$ovl" "$log" "$seed" "$work/disk.img" 2>&1) ||
		fail "$out"
	if [[ -e $log ]]; then
		writes=$((writes + $(grep -c '^W' "$log" || true)))
		flushes=$((flushes + $(grep -c '^F' "$log" || true)))
	fi
	# a kill while the overlay was made leaves only a temporary file
	rm -f "$ovl".tmp*
	if ((i == 1)); then	# what hyvm disk info says of a live overlay
		"$hyvm" disk info "$ovl" >"$work/info" 2>&1 || fail "disk info: $(cat "$work/info")"
		grep -q "^base: .*base.img (matches)$" "$work/info" &&
			grep -q "^clusters written: [0-9]* of 65 " "$work/info" ||
			fail "disk info said: $(tr '\n' '|' <"$work/info")"
	fi
	((i % 5 == 0)) || continue
	# a commit killed at a random moment, then finished
	commits=$((commits + 1))
	"$hyvm" disk commit "$ovl" >/dev/null 2>"$work/err" &
	pid=$!
	sleep "0.00$((RANDOM % 10))"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	if [[ -e $ovl ]]; then
		"$hyvm" disk info "$ovl" | grep -q "commit was interrupted" &&
			interrupted=$((interrupted + 1))
		"$hyvm" disk commit "$ovl" >"$work/out" 2>"$work/err" ||
			fail "commit after a kill: $(cat "$work/err")"
	fi
	[[ -e $ovl ]] && fail "the overlay outlived its commit"
	cmp -s "$base" "$work/disk.img" || fail "the committed base differs from the disk"
	cp "$work/pristine.img" "$base"
done
echo "PASS crash-safety: $runs SIGKILLs of the writer ($writes writes logged, $flushes flushes):" \
	"base unchanged, every flushed write read back; $commits commits," \
	"$interrupted interrupted by SIGKILL and finished, base = disk; $((SECONDS - start)) s"
