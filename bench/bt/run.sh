#!/usr/bin/env bash
# Runs the bench-bt kernels natively, on hyvm's bt engine and, if
# qemu-system-i386 is installed, under QEMU's software emulation (TCG),
# and prints each kernel's time as a ratio to native. Checksums must agree
# everywhere, or the figures mean nothing and the script fails.
set -u
hyvm= guest= native=
while (($#)); do
	case $1 in
	--hyvm) hyvm=$2; shift ;;
	--guest) guest=$2; shift ;;
	--native) native=$2; shift ;;
	*) echo "usage: run.sh --hyvm PATH --guest ELF --native PROG" >&2; exit 2 ;;
	esac
	shift
done

declare -A cyc sum
collect() {	# collect LABEL < output
	local label=$1 tag name kc cs
	while read -r tag name kc cs _; do
		[[ $tag == BENCH ]] || continue
		cyc[$label.$name]=$kc
		sum[$label.$name]=$cs
	done < <(tr -d '\r')
}

runs=(native bt)
collect native < <("$native")
collect bt < <(timeout 300 "$hyvm" run --engine bt "$guest" 2>/dev/null)
if command -v qemu-system-i386 >/dev/null; then
	runs+=(qemu-tcg)
	collect qemu-tcg < <(timeout 600 qemu-system-i386 -accel tcg -m 128 -display none -monitor none \
		-serial stdio -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel "$guest" 2>/dev/null)
else
	echo "qemu-system-i386 not installed: no TCG figures"
fi

status=0
printf '%-8s %14s' kernel "native kcyc"
for r in "${runs[@]:1}"; do printf ' %14s %8s' "$r kcyc" "x native"; done
echo
for k in sieve crc32 matmul sort; do
	n=${cyc[native.$k]:-}
	[[ -n $n ]] || { echo "$k: no native figure"; status=1; continue; }
	printf '%-8s %14s' "$k" "$n"
	for r in "${runs[@]:1}"; do
		c=${cyc[$r.$k]:-}
		if [[ -z $c ]]; then
			printf ' %14s %8s' "-" "-"; status=1; continue
		fi
		[[ ${sum[$r.$k]} == "${sum[native.$k]}" ]] || { echo; echo "$k on $r: checksum ${sum[$r.$k]} != native ${sum[native.$k]}"; status=1; }
		printf ' %14s %8s' "$c" "$(awk -v a="$c" -v b="$n" 'BEGIN { printf "%.2f", a / b }')"
	done
	echo
done
exit $status
