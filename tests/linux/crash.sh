#!/usr/bin/env bash
# SIGKILL of hyvm in the middle of a guest's disk writes, at random
# moments, many times: Debian's i386 kernel writes numbered records to a
# virtio-blk disk, each followed by fsync (a FLUSH), and says which ones
# were flushed (tests/linux/init-crash.sh). After each kill:
#   plain disk: every record the guest saw flushed is in the image (or a
#     later record for the same sector);
#   snapshot disk: the base image is byte-identical, and after hyvm disk
#     commit every flushed record is in it.
#   tests/linux/crash.sh HYVM [--runs N] [--engine E] [--kernel FILE
#       --modules-root DIR --busybox FILE | --initrd FILE] [--make-initrd FILE] [--mem MIB]
# (the guest's kernel and initramfs: tests/linux/guest-lib.sh; the default
# is Debian's i386 kernel; --limit SECS: the wait for the guest's first write)
set -u
hyvm=$1; shift
engine=bt runs=4
here=$(cd "$(dirname "$0")" && pwd)
. "$here/guest-lib.sh"
limit=60
while (($#)); do
	case $1 in
	--engine) engine=${2:?}; shift ;;
	--runs) runs=${2:?}; shift ;;
	*) guest_opt "$1" "${2:?$1 needs a value}" || { echo "crash.sh: unknown argument $1" >&2; exit 2; }; shift ;;
	esac
	shift
done
out=$(dirname "$hyvm")/linux
passed=0 failed=0
fail() { echo "FAIL linux-crash $*"; failed=$((failed + 1)); }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
guest_prepare linux-crash init-crash.sh "virtio_pci virtio_blk"
if ! "$hyvm" engines | grep -q "^$engine present"; then
	echo "SKIP linux-crash on $engine: engine absent"
	exit 0
fi

# check IMAGE CONSOLE: every flushed record (or a later one of its slot)
# is in IMAGE; prints how many slots were checked and the last record.
# Shell and awk only (busybox has them): the emulated hosts of
# tests/kmod/ run this too and have no python3. The 64 sectors become 64
# lines of 512 characters, every byte a record cannot hold turned into '.'
# (the record's newline too), so random bytes of a snapshot base cannot
# split or join lines.
check_records() {
	dd if="$1" bs=512 count=64 2>/dev/null | tr -c 'a-z0-9 -' '.' | fold -w 512 |
		awk -v con="$2" '
	BEGIN {
		while ((getline l < con) > 0)
			if (match(l, /hyvm-crash: flushed [0-9]+ [0-9]+/)) {
				split(substr(l, RSTART, RLENGTH), f, " ")
				last[f[4] + 0] = f[3] + 0
			}
	}
	{ img[NR - 1] = substr($0, 1, 27) }
	END {
		n = 0; max = 0; nbad = 0; bad = ""
		for (s in last) {
			n++; seq = last[s]; if (seq > max) max = seq
			r = img[s]; got = -1
			# leading zeros off: busybox awk reads "00000140" as octal
			if (r ~ /^hyvm-crash-record [0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][.]$/) {
				got = substr(r, 19, 8); sub(/^0+/, "", got); got += 0
			}
			if (got < seq || got % 64 != s + 0) {
				if (nbad++ < 3)
					bad = bad (bad == "" ? "" : "; ") "slot " s ": flushed " seq ", image has \"" substr(r, 1, 26) "\""
			}
		}
		if (nbad) { print bad; exit 1 }
		print n, max
	}'
}

# one run: boot, wait until the guest writes, kill at a random moment
run_and_kill() {
	local spec=$1
	# the last run's console must be gone before the loop below reads:
	# the redirection is done by the child, and a slow fork let the loop
	# find the previous run's "flushed" lines and kill the new hyvm in its
	# boot (seen under load: 2 of 24 kills "never flushed", console empty)
	rm -f "$work/out" "$work/err"
	"$hyvm" run --engine "$engine" --mem "$mem" -k "$kernel" -i "$initrd" \
		-p "console=ttyS0 quiet" --disk "$spec" >"$work/out" 2>"$work/err" </dev/null &
	local pid=$! t
	for ((t = 0; t < limit * 20; t++)); do	# 60 s (--limit) for the boot
		# the first flushed record, not "writing": under load a kill 0.0 s
		# after "writing" (below) could come before any fsync returned
		grep -q "hyvm-crash: flushed" "$work/out" 2>/dev/null && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.05
	done
	# 0.0-2.9 s more of writes, then SIGKILL
	sleep "$((RANDOM % 3)).$((RANDOM % 10))"
	local ended=
	kill -0 $pid 2>/dev/null || ended=1
	kill -KILL $pid 2>/dev/null
	wait $pid 2>/dev/null
	local st=$?
	# why a run never flushed: hyvm's end (by itself, or killed after the
	# boot's limit) and the last lines it and the guest wrote
	why_not="$([[ -n $ended ]] && echo "hyvm ended by itself, status $st" || echo "no flushed record within ${limit}s");"
	why_not+=" console: $(tail -n 2 "$work/out" | tr -d '\r' | tr '\n' '|') stderr: $(tail -n 2 "$work/err" | tr '\n' '|')"
	grep -q "hyvm-crash: flushed" "$work/out"
}

total=0
for ((r = 1; r <= runs; r++)); do
	# plain disk
	rm -f "$work/disk.img"
	truncate -s 1048576 "$work/disk.img"
	if ! run_and_kill "$work/disk.img"; then
		fail "plain run $r: the guest never flushed a record: $why_not"
		continue
	elif ! res=$(check_records "$work/disk.img" "$work/out"); then
		fail "plain run $r: flushed records missing after SIGKILL: $res"
		continue
	fi
	total=$((total + ${res%% *}))
	# snapshot disk over a base holding records of its own
	head -c 1048576 /dev/urandom >"$work/base.img"
	sum=$(sha256sum "$work/base.img" | cut -d' ' -f1)
	rm -f "$work/base.overlay"
	if ! run_and_kill "$work/base.img,snapshot,overlay=$work/base.overlay"; then
		fail "snapshot run $r: the guest never flushed a record: $why_not"
		continue
	fi
	if [[ $(sha256sum "$work/base.img" | cut -d' ' -f1) != "$sum" ]]; then
		fail "snapshot run $r: the base changed under a SIGKILL"
	elif ! "$hyvm" disk commit "$work/base.overlay" >"$work/commit" 2>&1; then
		fail "snapshot run $r: hyvm disk commit after the kill: $(tail -n 1 "$work/commit")"
	elif ! res=$(check_records "$work/base.img" "$work/out"); then
		fail "snapshot run $r: flushed records missing after commit: $res"
	else
		passed=$((passed + 1))
		total=$((total + ${res%% *}))
		continue
	fi
done
echo "linux-crash: $runs runs x 2 kills, $total flushed slots checked"
((failed == 0)) && echo "PASS linux-crash: flushed writes survive SIGKILL, snapshot bases untouched"
echo "$passed passed, $failed failed"
((failed == 0))
