#!/bin/bash
# hyvm.ko's ioctl fuzzer (tests/kmod/hyvm_fuzz.c) inside an emulated host,
# hyvm.ko loaded: the fuzzer for SECONDS with THREADS workers, then the
# checks the fuzzer cannot make itself: every page it pinned as guest RAM
# released once its fds are closed (/proc/vmstat's nr_foll_pin_acquired
# and nr_foll_pin_released move together), and kmemleak's report when the
# kernel has it (Debian's does not: CONFIG_DEBUG_KMEMLEAK is not set, so
# that is a SKIP line). The harness (run-svm.sh, run-vmx.sh) then judges
# dmesg (Oops, WARNING, BUG) and rmmod's status: a reference leaked by an
# error path keeps the module loaded.
#   fuzz-stage.sh SECONDS [THREADS] [SEED] [HYVM_FUZZ ARGS...]  (--ops, --trace 1|2: to narrow a finding)
set -u
seconds=$1 threads=${2:-4} seed=${3:-}
shift $(($# < 3 ? $# : 3))
if [ "$seconds" = 0 ]; then
	echo "SKIP hyvm_fuzz in this run: FUZZ_SECONDS=0 asked for none"
	exit 0
fi
# Pinned pages outstanding. /proc/vmstat sums only the counters already
# folded from each CPU's own delta (mm/vmstat.c: a CPU keeps up to its
# stat_threshold, /proc/zoneinfo, and folds it every second), so a bare
# read was off by the CPUs' unfolded pins: 8 outstanding after a 120 s
# run, 11 and 16 before others. Writing /proc/sys/vm/stat_refresh folds
# every CPU's first (root only, as here); the DIAG line shows both reads.
pins_raw() {
	awk '$1 == "nr_foll_pin_acquired" { a = $2 } $1 == "nr_foll_pin_released" { r = $2 }
	END { print a - r }' /proc/vmstat; }
pins() {
	echo 1 > /proc/sys/vm/stat_refresh 2>/dev/null
	pins_raw
}
if [ -d /sys/kernel/debug ] && [ ! -e /sys/kernel/debug/kmemleak ]; then
	mount -t debugfs none /sys/kernel/debug 2>/dev/null
fi
[ ! -e /sys/kernel/debug/kmemleak ] || echo clear > /sys/kernel/debug/kmemleak
before=$(pins)
echo "== hyvm_fuzz: $seconds s, $threads threads${seed:+, seed $seed}"
start=$(date +%s)
/tests/hyvm_fuzz --seconds "$seconds" --threads "$threads" ${seed:+--seed "$seed"} "$@" ||
	echo "FAIL hyvm_fuzz: exit status $?"
echo "TIME hyvm_fuzz $(( $(date +%s) - start )) s"
raw=$(pins_raw)
after=$(pins)
echo "DIAG hyvm_fuzz-pins: $raw outstanding in /proc/vmstat as read, $after once stat_refresh folded every CPU's"
if [ -z "$before" ] || [ -z "$after" ]; then
	echo "SKIP hyvm_fuzz-pins: no nr_foll_pin_* in /proc/vmstat"
elif [ "$after" -le "$before" ]; then
	echo "PASS hyvm_fuzz-pins: no more pinned pages outstanding after than before ($before before, $after after)"
else
	# a pin another part of the kernel holds for a moment (I/O in
	# flight) is gone a second later; hyvm.ko's are not
	sleep 2
	after=$(pins)
	if [ "$after" -le "$before" ]; then
		echo "PASS hyvm_fuzz-pins: no more pinned pages outstanding after than before ($before before, $after after, read again after 2 s)"
	else
		echo "FAIL hyvm_fuzz-pins: $((after - before)) more pinned pages outstanding after every fd was closed ($before before, $after after, read again after 2 s)"
	fi
fi
if [ -e /sys/kernel/debug/kmemleak ]; then
	echo scan > /sys/kernel/debug/kmemleak
	sleep 1
	echo scan > /sys/kernel/debug/kmemleak
	leaks=$(grep -c 'unreferenced object' /sys/kernel/debug/kmemleak)
	if [ "$leaks" = 0 ]; then
		echo "PASS hyvm_fuzz-kmemleak: no unreferenced object"
	else
		echo "FAIL hyvm_fuzz-kmemleak: $leaks unreferenced objects"
		head -40 /sys/kernel/debug/kmemleak
	fi
else
	echo "SKIP hyvm_fuzz-kmemleak: this kernel has no kmemleak (CONFIG_DEBUG_KMEMLEAK not set in Debian's)"
fi
