#!/usr/bin/env bash
# Boots Debian's i386 (-686) kernel with a busybox initramfs on bt through
# the Linux boot protocol loader (tests/linux/fetch-kernels.sh fetches them
# into build/linux; SKIP when the packages cannot be had).
#   tests/linux/boot.sh HYVM            early boot: the kernel's first lines
#                                       show the zero page was read (version,
#                                       e820 as given, command line, initrd);
#                                       stops the VM as soon as they are seen
#   tests/linux/boot.sh HYVM --full     to /init's line and the halt
#                                       (50-110 s of bt on a shared 2-core host)
set -u
hyvm=$1 mode=${2:-early}
here=$(cd "$(dirname "$0")" && pwd)
out=$(dirname "$hyvm")/linux
"$here/fetch-kernels.sh" "$out" >/dev/null 2>"$out.fetch.err"
case $? in
0) ;;
77) echo "SKIP linux-boot: $(tail -1 "$out.fetch.err")"; exit 0 ;;
*) echo "FAIL linux-boot: fetch-kernels.sh failed:"; sed 's/^/    /' "$out.fetch.err"; exit 1 ;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
marker="hyvm.test=$$"
append="console=ttyS0 earlyprintk=serial,ttyS0,115200 nolapic noapic $marker"
want_early=(
	"Linux version 6."
	"BIOS-e820: [mem 0x0000000000100000-0x0000000007ffffff] usable"
	"RAMDISK: [mem 0x"
	"Kernel command line: $append"
)
want_full=("hyvm-linux-init: hello from /init")
if [[ $mode == --full ]]; then
	deadline=180 want=("${want_early[@]}" "${want_full[@]}")
else
	deadline=30 want=("${want_early[@]}")
fi
start=$(date +%s.%N)
"$hyvm" run --engine bt --mem 128 -k "$out/vmlinuz-686" \
	-i "$out/initramfs.cpio.gz" -p "$append" >"$work/out" 2>"$work/err" </dev/null &
pid=$!
seen=0
for ((t = 0; t < deadline * 10; t++)); do
	seen=0
	for w in "${want[@]}"; do
		grep -qF -- "$w" "$work/out" && seen=$((seen + 1))
	done
	((seen == ${#want[@]})) && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if [[ $mode == --full ]] && ((seen == ${#want[@]})); then
	wait "$pid"; status=$?	# the guest halts after /init's poweroff -f
else
	kill -INT "$pid" 2>/dev/null; wait "$pid"; status=$?
fi
secs=$(echo "$(date +%s.%N) - $start" | bc)
if ((seen == ${#want[@]})) && { [[ $mode != --full ]] || ((status == 0)); }; then
	printf 'PASS linux-boot %s: %d of %d lines in %.1f s (%s)\n' "${mode#--}" "$seen" "${#want[@]}" "$secs" \
		"$(grep -m1 -o 'Linux version [^ ]*' "$work/out")"
	echo "1 passed, 0 failed, 0 skipped"
	exit 0
fi
printf 'FAIL linux-boot %s: %d of %d lines after %.1f s, status %d; missing:\n' "${mode#--}" "$seen" \
	"${#want[@]}" "$secs" "$status"
for w in "${want[@]}"; do grep -qF -- "$w" "$work/out" || echo "    $w"; done
echo "  last lines:"; tail -8 "$work/out" "$work/err" | sed 's/^/    /'
echo "0 passed, 1 failed, 0 skipped"
exit 1
