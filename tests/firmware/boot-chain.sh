#!/bin/bash
# The boot chain through a real BIOS: hyvm run --bios --disk IMG, SeaBIOS
# -> the disk's boot code -> (linux) GRUB 2 -> Debian's i386 kernel ->
# the scripted session of tests/linux/ -> power-off.
#
#   tests/firmware/boot-chain.sh HYVM [--engine E|qemu] [--kind sector|linux|kernel]
#                                [--image IMG] [--bios FILE] [--limit SEC]
#                                [--kernel FILE --initrd FILE]
#
# --kind sector (default): tests/firmware/bootsector.S in the MBR, which
# prints the BIOS's boot drive (0x80) and powers off. --kind linux: the
# image of mkbootdisk.sh with build/linux's kernel and session initramfs
# (tests/linux/fetch-kernels.sh), judged by tests/linux/session-lib.sh
# (its lines, dmesg free of firmware and hyvm complaints, the sleep 10);
# the kernel's command line is IMG.append. --kind kernel: no disk; the
# same kernel and initramfs (or --kernel/--initrd) booted by the BIOS
# through fw_cfg and QEMU's linuxboot_dma.bin (hyvm run --bios --kernel,
# qemu -kernel), judged the same way. --image uses a prepared image
# (the emulated hosts have no GRUB tools); each run boots a copy.
# --engine qemu boots the same image and ROM in qemu-system-i386 (TCG), the
# reference. An engine that is absent, or cannot run the BIOS's real-mode
# code (hyvm run says so in one line, status 77), is a SKIP with the
# reason, never a failure.
# BOOT_CHAIN_POLL=SECS: how often the wait for the power-off looks (0.1);
# BOOT_CHAIN_PROGRESS=SECS: print the guest's last line that often.
# BOOT_CHAIN_STDERR=FILE keeps hyvm's stderr there (the hybrid's
# HYVM_HYBRID_STATS summary, for tests/kmod/run-vmx.sh --firmware).
# Prints PASS/FAIL/SKIP lines and "N passed, N failed, N skipped".
set -u
hyvm=${1:?usage: $0 HYVM [--engine E|qemu] [--kind sector|linux] [--image IMG] [--bios FILE] [--limit SEC]}
shift
engine=kvm kind=sector image="" bios=/usr/share/seabios/bios.bin limit=120 kernel="" initrd=""
while (($#)); do
	case $1 in
	--engine) engine=${2:?}; shift 2 ;;
	--kind) kind=${2:?}; shift 2 ;;
	--image) image=${2:?}; shift 2 ;;
	--bios) bios=${2:?}; shift 2 ;;
	--limit) limit=${2:?}; shift 2 ;;
	--kernel) kernel=${2:?}; shift 2 ;;
	--initrd) initrd=${2:?}; shift 2 ;;
	*) echo "boot-chain: unknown option '$1'" >&2; exit 2 ;;
	esac
done
[[ $kind == sector || $kind == linux || $kind == kernel ]] ||
	{ echo "boot-chain: --kind is sector, linux or kernel, not '$kind'" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
name="boot-chain $kind on $engine"
skip() { echo "SKIP $name: $*"; echo "0 passed, 0 failed, 1 skipped"; exit 0; }
[[ -f $bios ]] || skip "no BIOS image $bios (apt-get install seabios)"
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$work"' EXIT
pid=""

fetch() {
	out=$(cd "$(dirname "$hyvm")" && pwd)/linux
	"$here/../linux/fetch-kernels.sh" "$out" >/dev/null 2>"$work/fetch.err"
	case $? in 0) ;; 77) skip "$(tail -1 "$work/fetch.err")" ;;
	*) echo "FAIL $name: fetch-kernels.sh failed"; sed 's/^/    /' "$work/fetch.err"; exit 1 ;; esac
}
if [[ $kind == kernel ]]; then
	if [[ -z $kernel ]]; then
		fetch
		kernel=$out/vmlinuz-686 initrd=$out/initramfs.cpio.gz
	fi
	image=$work/none.img
	: >"$image"
	echo "console=ttyS0 earlyprintk=serial,ttyS0,115200 hyvm.test=$$" > "$image.append"
fi
if [[ -z $image ]]; then
	image=$work/made.img
	if [[ $kind == sector ]]; then
		"$here/mkbootdisk.sh" --sector "$image" 2>"$work/mk.err"
	else
		fetch
		echo "console=ttyS0 earlyprintk=serial,ttyS0,115200 hyvm.test=$$" > "$image.append"
		"$here/mkbootdisk.sh" "$image" "$out/vmlinuz-686" "$out/initramfs.cpio.gz" \
			"$(cat "$image.append")" 2>"$work/mk.err"
	fi
	case $? in 0) ;; 77) skip "$(tail -1 "$work/mk.err")" ;;
	*) echo "FAIL $name: mkbootdisk.sh failed"; sed 's/^/    /' "$work/mk.err"; exit 1 ;; esac
fi
[[ -f $image ]] || { echo "boot-chain: $image: no such image" >&2; exit 2; }
cp --sparse=always "$image" "$work/disk.img" 2>/dev/null || cp "$image" "$work/disk.img"

want=("SeaBIOS (version" "Booting from Hard Disk")
[[ $kind != kernel ]] || want=("SeaBIOS (version" "Booting from ROM")
if [[ $kind == sector ]]; then
	want+=("hyvm-bootsector: started by the BIOS, drive 0x80")
elif [[ $kind == kernel ]]; then
	append=$(cat "$image.append")
	. "$here/../linux/session-lib.sh"
	firmware=("${want[@]}")
	session_want "$append" full
	want=("${firmware[@]}" "${want[0]}" "${want[@]:2}")
else
	[[ -f $image.append ]] || { echo "boot-chain: $image.append (the kernel's command line) missing" >&2; exit 2; }
	append=$(cat "$image.append")
	. "$here/../linux/session-lib.sh"
	firmware=("${want[@]}")
	session_want "$append" full
	# the e820 map is the BIOS's now, and its ends differ from hyvm's own;
	# GRUB puts BOOT_IMAGE first on the command line
	want=("${firmware[@]}" "GRUB loading" "hyvm-grub: loading /boot/vmlinuz" "${want[0]}" "${want[2]}"
	      "Kernel command line: BOOT_IMAGE=/boot/vmlinuz $append" "${want[@]:4}")
fi

: >"$work/raw"	# the judge reads it before the run has opened it
if [[ $engine == qemu ]]; then
	command -v qemu-system-i386 >/dev/null || skip "qemu-system-i386 missing (apt-get install qemu-system-x86)"
	if [[ $kind == kernel ]]; then
		boot=(-kernel "$kernel" -initrd "$initrd" -append "$append")
	else
		boot=(-drive file="$work/disk.img",if=virtio,format=raw)
	fi
	qemu-system-i386 -nographic -nodefaults -serial stdio -bios "$bios" -m 128 -no-reboot \
		"${boot[@]}" >"$work/raw" 2>"$work/err" </dev/null &
else
	"$hyvm" engines 2>/dev/null | grep -q "^$engine present" ||
		skip "$("$hyvm" engines -v 2>/dev/null | grep "^$engine " | cut -d' ' -f2-)"
	if [[ $kind == kernel ]]; then
		boot=(--kernel "$kernel" --initrd "$initrd" --append "$append")
	else
		boot=(--disk "$work/disk.img")
	fi
	"$hyvm" run --engine "$engine" --bios "$bios" --mem 128 --no-reboot \
		"${boot[@]}" >"$work/raw" 2>"$work/err" </dev/null &
fi
pid=$!
start=${EPOCHREALTIME/,/.}
# SeaBIOS's serial console paints with VT100 sequences: judge plain lines
session_sub_s() { awk -v a="${EPOCHREALTIME/,/.}" -v b="$start" 'BEGIN { printf "%.0f", a - b }'; }
clean() { tr -d '\r' <"$work/raw" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' >"$work/out"; }
# The guest powers off itself: wait for that, or the limit. Only kill -0
# and sleep each turn: inside an emulated host of one CPU, judging the
# output each 0.1 s (tr, sed and a grep per wanted line) took most of
# that CPU from the guest it judges. BOOT_CHAIN_POLL: seconds per turn.
poll=${BOOT_CHAIN_POLL:-0.1}
deadline=$(awk -v a="$start" -v l="$limit" 'BEGIN { printf "%d", a + l }')
# BOOT_CHAIN_PROGRESS=SECS prints the guest's last line that often (a
# slow emulated host's serial log then shows where a run is).
every=${BOOT_CHAIN_PROGRESS:-0} next=$((EPOCHSECONDS + every))
while kill -0 $pid 2>/dev/null && ((EPOCHSECONDS < deadline)); do
	sleep "$poll"
	if ((every > 0 && EPOCHSECONDS >= next)); then
		next=$((EPOCHSECONDS + every))
		clean
		echo "PROGRESS $name $(session_sub_s) s: $(grep -v '^ *$' "$work/out" | tail -1 | cut -c1-100)"
	fi
done
kill $pid 2>/dev/null
wait $pid
status=$?
pid=""
[[ -z ${BOOT_CHAIN_STDERR:-} ]] || cp "$work/err" "$BOOT_CHAIN_STDERR"
clean
seen=0
for w in "${want[@]}"; do grep -qF -- "$w" "$work/out" && seen=$((seen + 1)); done
secs=$(awk -v a="${EPOCHREALTIME/,/.}" -v b="$start" 'BEGIN { printf "%.1f", a - b }')
if ((status == 77)) && grep -q '^SKIP' "$work/err"; then
	skip "$(grep -m1 '^SKIP' "$work/err")"
fi
if [[ $kind != sector ]]; then
	t_start="" t_end=""
	session_judge "$work/out" "$status" "hyvm.test="
	if session_report "$name" "$work/out" "$work/err" "$secs" "$status"; then exit 0; fi
	exit 1
fi
if ((seen == ${#want[@]})) && ((status == 0)); then
	echo "PASS $name: ${#want[@]} of ${#want[@]} lines, powered off, ${secs} s"
	echo "1 passed, 0 failed, 0 skipped"
	exit 0
fi
echo "FAIL $name: $seen of ${#want[@]} lines after ${secs} s, status $status"
for w in "${want[@]}"; do grep -qF -- "$w" "$work/out" || echo "    missing: $w"; done
echo "  last lines:"; tail -5 "$work/out" | sed 's/^/    /'; tail -3 "$work/err" | sed 's/^/    /'
echo "0 passed, 1 failed, 0 skipped"
exit 1
