#!/bin/busybox sh
# /init of bench/linux/work.sh's initramfs, the same on hyvm and QEMU: four
# workloads, each between a "begin" and an "end" line so the host can time
# it too, each timed by the guest's own clock (bin/worktool now,
# CLOCK_MONOTONIC) and checked, sizes from the command line:
#   fork   hyvm.forks x /bin/true, each a fork and an exec of busybox (a
#          path with a slash is never an ash builtin or NOFORK applet)
#   touch  hyvm.touchmib MiB of fresh anonymous memory, one write per page
#   pipe   hyvm.pipemib MiB from /dev/zero through a pipe, dd (64 KiB
#          writes) to wc -c
#   sha    busybox sha256sum of a hyvm.shamib MiB file of zeros in the
#          initramfs (the file is written before the clock starts)
# Lines: "hyvm-work: begin NAME", "hyvm-work: end NAME SECONDS CHECK",
# "hyvm-work: done", then power-off.
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /tmp
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
arg() { sed -n "s/.*hyvm\.$1=\([0-9]*\).*/\1/p" /proc/cmdline; }
forks=$(arg forks) touchmib=$(arg touchmib) pipemib=$(arg pipemib) shamib=$(arg shamib)
echo "hyvm-work: ready, kernel $(uname -r), $(grep MemTotal /proc/meminfo | tr -s ' ')"

# timed NAME CMD...: runs CMD, whose output is the check, between the lines
timed() {
	local name=$1 t0 t1 check
	shift
	echo "hyvm-work: begin $name"
	t0=$(worktool now)
	check=$("$@" 2>&1 | tr '\n' ' ')
	t1=$(worktool now)
	echo "hyvm-work: end $name $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') $check"
}
fork_loop() {
	local i=0 ok=0
	while [ $i -lt "$1" ]; do
		/bin/true && ok=$((ok + 1))
		i=$((i + 1))
	done
	echo "ok=$ok"
}
pipe_run() {
	# the reader's byte count is the check (Debian's busybox dd prints
	# records, not bytes, and a pipe may hand out short records)
	echo "bytes=$(dd if=/dev/zero bs=64k count=$(($1 * 16)) 2>/dev/null | wc -c)"
}
timed fork fork_loop "$forks"
timed touch worktool touch "$touchmib"
timed pipe pipe_run "$pipemib"
dd if=/dev/zero of=/tmp/zeros bs=1M count="$shamib" 2>/dev/null
timed sha sha256sum /tmp/zeros
rm -f /tmp/zeros
echo "hyvm-work: done"
poweroff -f
