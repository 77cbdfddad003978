#!/usr/bin/env bash
# Runs the bench-bt kernels natively, on hyvm's bt engine and, if
# qemu-system-i386 is installed, under QEMU's software emulation (TCG),
# and prints each kernel's time as a ratio to native, and the geometric
# mean of those ratios per runner (issue 13's targets: bt at most 1.10x
# native and at least 3x faster than QEMU TCG). Checksums must agree
# everywhere, or the figures mean nothing and the script fails. --csv FILE
# also writes "kernel,runner,kcycles,x_native" rows, geomean included.
# Each runner runs --runs N times (default 5) and each kernel keeps its
# fewest cycles: on a loaded machine a run that was preempted counts the
# other processes' time too, and the fastest run is the one that was not.
set -u
hyvm= guest= native= csv= runs_n=5
while (($#)); do
	case $1 in
	--hyvm) hyvm=$2; shift ;;
	--guest) guest=$2; shift ;;
	--native) native=$2; shift ;;
	--csv) csv=$2; shift ;;
	--runs) runs_n=$2; shift ;;
	*) echo "usage: run.sh --hyvm PATH --guest ELF --native PROG [--csv FILE] [--runs N]" >&2; exit 2 ;;
	esac
	shift
done

[[ $runs_n =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --runs wants a positive integer, not '$runs_n'" >&2; exit 2; }
declare -A cyc sum
collect() {	# collect LABEL < output: keeps each kernel's fewest cycles
	local label=$1 tag name kc cs
	while read -r tag name kc cs _; do
		[[ $tag == BENCH ]] || continue
		[[ -z ${cyc[$label.$name]:-} ]] || ((kc < cyc[$label.$name])) && cyc[$label.$name]=$kc
		[[ -z ${sum[$label.$name]:-} || ${sum[$label.$name]} == "$cs" ]] && sum[$label.$name]=$cs ||
			sum[$label.$name]="differs between runs"
	done < <(tr -d '\r')
}

runs=(native bt)
command -v qemu-system-i386 >/dev/null && runs+=(qemu-tcg)
for ((i = 0; i < runs_n; i++)); do
	collect native < <("$native")
	collect bt < <(timeout 300 "$hyvm" run --engine bt "$guest" 2>/dev/null)
	[[ ${runs[2]:-} ]] && collect qemu-tcg < <(timeout 600 qemu-system-i386 -accel tcg -m 128 -display none \
		-monitor none -serial stdio -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-kernel "$guest" 2>/dev/null)
done
if [[ -z ${runs[2]:-} ]]; then
	echo "qemu-system-i386 not installed: no TCG figures"
fi

status=0
declare -A logsum nratio
[[ -z $csv ]] || echo "kernel,runner,kcycles,x_native" >"$csv"
printf '%-8s %14s' kernel "native kcyc"
for r in "${runs[@]:1}"; do printf ' %14s %8s' "$r kcyc" "x native"; done
echo
for k in sieve crc32 matmul sort; do
	n=${cyc[native.$k]:-}
	[[ -n $n ]] || { echo "$k: no native figure"; status=1; continue; }
	printf '%-8s %14s' "$k" "$n"
	[[ -z $csv ]] || echo "$k,native,$n,1.00" >>"$csv"
	for r in "${runs[@]:1}"; do
		c=${cyc[$r.$k]:-}
		if [[ -z $c ]]; then
			printf ' %14s %8s' "-" "-"; status=1; continue
		fi
		[[ ${sum[$r.$k]} == "${sum[native.$k]}" ]] || { echo; echo "$k on $r: checksum ${sum[$r.$k]} != native ${sum[native.$k]}"; status=1; }
		ratio=$(awk -v a="$c" -v b="$n" 'BEGIN { printf "%.4f", a / b }')
		logsum[$r]=$(awk -v s="${logsum[$r]:-0}" -v x="$ratio" 'BEGIN { printf "%.6f", s + log(x) }')
		nratio[$r]=$((${nratio[$r]:-0} + 1))
		printf ' %14s %8.2f' "$c" "$ratio"
		[[ -z $csv ]] || echo "$k,$r,$c,$ratio" >>"$csv"
	done
	echo
done
# geomean: exp of the mean log ratio, over the kernels that ran
printf '%-8s %14s' geomean "-"
for r in "${runs[@]:1}"; do
	g=""
	((${nratio[$r]:-0})) && g=$(awk -v s="${logsum[$r]}" -v n="${nratio[$r]}" 'BEGIN { printf "%.2f", exp(s / n) }')
	printf ' %14s %8s' "-" "${g:--}"
	[[ -z $csv ]] || echo "geomean,$r,,$g" >>"$csv"
done
echo
exit $status
