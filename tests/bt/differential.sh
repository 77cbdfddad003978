#!/usr/bin/env bash
# Differential test: every 32-bit guest runs on hyvm's bt engine and under
# QEMU's software emulation (the oracle); the serial output (PASS/FAIL lines
# and anything the guest prints) and the exit status must be the same.
# Guests bt cannot run (it exits 77 with SKIP) are skipped, and say so.
#
#   tests/bt/differential.sh --hyvm build/hyvm --guests build/guests [--timeout SECS]
set -u
hyvm= dir= timeout_secs=60
while (($#)); do
	case $1 in
	--hyvm) hyvm=$2; shift ;;
	--guests) dir=$2; shift ;;
	--timeout) timeout_secs=$2; shift ;;
	*) echo "usage: differential.sh --hyvm PATH --guests DIR [--timeout SECS]" >&2; exit 2 ;;
	esac
	shift
done
[[ -x $hyvm && -d $dir ]] || { echo "differential: need --hyvm and --guests" >&2; exit 2; }
if ! command -v qemu-system-x86_64 >/dev/null; then
	echo "SKIP differential: qemu-system-x86_64 is not installed"
	exit 0
fi

same=0 differ=0 skipped=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for elf in "$dir"/*.elf; do
	name=$(basename "$elf" .elf)
	[[ $name == demo ]] && continue
	timeout "$timeout_secs" "$hyvm" run --engine bt "$elf" >"$tmp/bt" 2>"$tmp/bt.err"
	bt_status=$?
	if ((bt_status == 77)); then
		echo "SKIP $name: $(grep -m1 SKIP "$tmp/bt.err")"
		skipped=$((skipped + 1))
		continue
	fi
	timeout "$timeout_secs" qemu-system-x86_64 -accel tcg -M pc -display none -serial stdio \
		-device isa-debug-exit,iobase=0xf4,iosize=4 -no-reboot -kernel "$elf" \
		>"$tmp/qemu" 2>/dev/null
	qemu_status=$?
	# Not translation results: hyvm names its engine in the boot-loader
	# line, and CPUID identity is the host CPU's on bt, QEMU's model there.
	sed -i -e 's/\r$//' -e '/engine=/d' -e '/boot loader/d' -e '/^cpuid: vendor/d' "$tmp/bt" "$tmp/qemu"
	if [[ $bt_status == "$qemu_status" ]] && diff -q "$tmp/bt" "$tmp/qemu" >/dev/null; then
		echo "SAME $name (status $bt_status, $(wc -l <"$tmp/bt") lines)"
		same=$((same + 1))
	else
		echo "DIFFER $name: bt status $bt_status, qemu status $qemu_status"
		diff "$tmp/bt" "$tmp/qemu" | head -10
		differ=$((differ + 1))
	fi
done
echo "$same same, $differ differ, $skipped skipped"
((differ == 0))
