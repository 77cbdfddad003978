#!/usr/bin/env bash
# Time through a real BIOS, in one run, on each hyvm engine here that runs
# it and on QEMU TCG with the same ROM and disk: from the start to SeaBIOS's
# "Booting from Hard Disk..." (POST done, the boot sector next), to the
# Linux shell (the session initramfs's "hyvm-linux-init: hello from /init"),
# and to the session's end. The disk is tests/firmware/mkbootdisk.sh's
# (GRUB 2 -> Debian's i386 kernel -> the session of tests/linux/). A
# benchmark, not a test: it prints figures and writes a CSV; an engine that
# cannot run the BIOS (bt until it runs 16-bit code) is a row with its
# reason and no times.
#   bench/firmware/boot-time.sh --hyvm PATH [--out DIR] [--engines E1,E2|all]
#                               [--image IMG] [--bios FILE] [--limit SEC]
#                               [--qemu BIN|none] [--qemu-accel tcg|kvm]
# Inside the emulated AMD host (tests/kmod/run-svm.sh --bench-firmware,
# make bench-firmware-svm): hyvm svm and kvm, and qemu-system-x86_64 with
# -accel kvm (kvm_amd), since TCG inside TCG would measure only that.
# Needs bash (EPOCHREALTIME), awk, grep, qemu-system-i386.
set -u
hyvm= out=build/bench-firmware engines=all image="" bios=/usr/share/seabios/bios.bin limit=300
qemu=qemu-system-i386 accel=tcg
while (($#)); do
	case $1 in
	--hyvm) hyvm=$2; shift ;;
	--out) out=$2; shift ;;
	--engines) engines=$2; shift ;;
	--image) image=$2; shift ;;
	--bios) bios=$2; shift ;;
	--limit) limit=$2; shift ;;
	--qemu) qemu=$2; shift ;;
	--qemu-accel) accel=$2; shift ;;
	*) echo "usage: boot-time.sh --hyvm PATH [--out DIR] [--engines LIST|all] [--image IMG] [--bios FILE] [--limit SEC] [--qemu BIN] [--qemu-accel tcg|kvm]" >&2
	   exit 2 ;;
	esac
	shift
done
[[ -x $hyvm ]] || { echo "boot-time: --hyvm PATH is required" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [[ -z $image ]]; then
	lin=$(cd "$(dirname "$hyvm")" && pwd)/linux
	"$here/../../tests/linux/fetch-kernels.sh" "$lin" >/dev/null || exit 1
	image=$work/linux.img
	"$here/../../tests/firmware/mkbootdisk.sh" "$image" "$lin/vmlinuz-686" "$lin/initramfs.cpio.gz" \
		"console=ttyS0 hyvm.bench=firmware" || exit 1
fi
if [[ $engines == all ]]; then
	engines=$("$hyvm" engines | awk '$2 == "present" { print $1 }' | paste -sd,)
fi
marks=("Booting from Hard Disk" "hyvm-linux-init: hello from /init" "hyvm-session: done")
csv=$out/boot-time.csv
echo "run,to_boot_sector_s,to_shell_s,to_session_end_s,note" >"$csv"

# one boot: the command in "$@", its output watched for the marks
measure() {
	local run=$1 t0 t i m now note=""
	shift
	local -a at=("" "" "")
	cp --sparse=always "$image" "$work/disk.img" 2>/dev/null || cp "$image" "$work/disk.img"
	: >"$work/out"	# before the child's own redirection: the watch reads it at once
	t0=$EPOCHREALTIME
	"$@" >"$work/out" 2>"$work/err" </dev/null &
	local pid=$!
	for ((t = 0; t < limit * 20; t++)); do
		for i in 0 1 2; do
			if [[ -z ${at[i]} ]] && tr -d '\r' <"$work/out" | grep -qF "${marks[i]}"; then
				now=$EPOCHREALTIME
				at[i]=$(awk -v a="${now/,/.}" -v b="${t0/,/.}" 'BEGIN { printf "%.2f", a - b }')
			fi
		done
		[[ -n ${at[2]} ]] && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.05
	done
	kill $pid 2>/dev/null
	wait $pid 2>/dev/null
	if grep -q '^SKIP' "$work/err"; then
		note=$(grep -m1 '^SKIP' "$work/err" | tr ',' ';')
	elif [[ -z ${at[2]} ]]; then
		note="did not reach the session's end in $limit s: $(tail -1 "$work/err" | tr ',' ';')"
	fi
	echo "$run,${at[0]},${at[1]},${at[2]},$note" >>"$csv"
	printf '%-12s boot sector %6ss  shell %6ss  session end %6ss  %s\n' "$run" \
		"${at[0]:--}" "${at[1]:--}" "${at[2]:--}" "$note"
}

IFS=, read -ra list <<<"$engines"
for e in "${list[@]}"; do
	measure "hyvm-$e" "$hyvm" run --engine "$e" --bios "$bios" --mem 128 --no-reboot \
		--disk "$work/disk.img"
done
if [[ $qemu != none ]] && command -v "$qemu" >/dev/null; then
	measure "qemu-$accel" "$qemu" -accel "$accel" -nographic -nodefaults -serial stdio \
		-bios "$bios" -m 128 -no-reboot -drive file="$work/disk.img",if=virtio,format=raw
fi
echo "wrote $csv"
