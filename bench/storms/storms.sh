#!/usr/bin/env bash
# Issue 13's storms on hyvm's bt engine and in QEMU TCG (qemu-system-i386
# -accel tcg), the same guest and sizes, in one run: 10^6 INT 0x80 handled
# at CPL0, 2x10^5 page-table rewrites, 2x10^5 code rewrites (--scale F
# multiplies every size). The guest (bench/storms/storms.c) times each
# storm with RDTSC and checks its results; this script times each run
# from start to exit. A benchmark, not a test: it prints a table, writes
# a CSV (one row per storm and runner) and an SVG chart; it fails only
# when a run gives no figure or a wrong result.
#   bench/storms/storms.sh --hyvm PATH --guest STORMS_ELF [--out DIR]
#                          [--scale F] [--only int80,ptwrite,smc]
set -u
hyvm= guest= out=build/bench-storms scale=1 only=int80,ptwrite,smc
while (($#)); do
	case $1 in
	--hyvm) hyvm=$2; shift ;;
	--guest) guest=$2; shift ;;
	--out) out=$2; shift ;;
	--scale) scale=$2; shift ;;
	--only) only=$2; shift ;;
	*) echo "usage: storms.sh --hyvm PATH --guest STORMS_ELF [--out DIR] [--scale F] [--only LIST]" >&2
	   exit 2 ;;
	esac
	shift
done
[[ -x $hyvm && -f $guest ]] || { echo "storms.sh: --hyvm and --guest (a built storms.elf) are required" >&2; exit 2; }
[[ $scale =~ ^[0-9]*\.?[0-9]+$ ]] || { echo "storms.sh: --scale wants a positive number, not '$scale'" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
declare -A size=([int80]=1000000 [ptwrite]=200000 [smc]=200000)
for s in ${only//,/ }; do
	[[ -n ${size[$s]:-} ]] || { echo "storms.sh: no storm '$s' (int80, ptwrite, smc)" >&2; exit 2; }
done
now() { echo "${EPOCHREALTIME/,/.}"; }
deadline=${HYVM_STORMS_TIMEOUT:-1800}

runners=(hyvm-bt)
command -v qemu-system-i386 >/dev/null && runners+=(qemu-tcg) ||
	echo "storms.sh: no qemu-system-i386: QEMU's rows are left out" >&2
csv=$out/storms.csv
echo "storm,runner,n,guest_cycles,cycles_per_op,host_s,ops_per_s,status" >"$csv"
printf '%-8s %-9s %9s %16s %12s %9s %12s\n' storm runner n "guest cycles" "cycles/op" "host s" "ops/s"
failed=0
for s in ${only//,/ }; do
	n=$(awk -v a="${size[$s]}" -v f="$scale" 'BEGIN { n = int(a * f); print n < 1 ? 1 : n }')
	cmdline="storm=$s n=$n"
	for r in "${runners[@]}"; do
		log=$out/$s.$r.out
		start=$(now)
		case $r in
		hyvm-bt) timeout -k 5 "$deadline" "$hyvm" run --engine bt --mem 16 -p "$cmdline" "$guest" ;;
		qemu-tcg) timeout -k 5 "$deadline" qemu-system-i386 -accel tcg -m 16 -display none -monitor none \
			-serial stdio -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
			-kernel "$guest" -append "$cmdline" ;;
		esac >"$log" 2>"$out/$s.$r.err" </dev/null
		status=$?
		host=$(printf %.3f "$(echo "$(now) - $start" | bc)")
		read -r _ _ got cyc _ < <(tr -d '\r' <"$log" | grep -m1 "^STORM $s ")
		per="" rate=""
		# a figure counts only with the guest's own PASS line (its
		# checks held); the exit status (1 on both) goes into the CSV
		if [[ -n ${cyc:-} && $got == "$n" ]] && grep -q "^PASS storms.storms" <(tr -d '\r' <"$log"); then
			per=$(awk -v c="$cyc" -v n="$n" 'BEGIN { printf "%.0f", c / n }')
			rate=$(awk -v t="$host" -v n="$n" 'BEGIN { printf "%.0f", n / t }')
		else
			failed=1 cyc=""
			echo "  $s on $r: no figure or a wrong result (status $status): $(tr -d '\r' <"$log" | grep -m1 '^FAIL') $(tail -n 1 "$out/$s.$r.err")" >&2
		fi
		printf '%-8s %-9s %9s %16s %12s %9s %12s\n' "$s" "$r" "$n" "${cyc:--}" "${per:--}" "$host" "${rate:--}"
		echo "$s,$r,$n,${cyc:-},$per,$host,$rate,$status" >>"$csv"
		unset cyc got
	done
done
# the chart: host seconds per storm, a bar per runner
awk -F, 'NR > 1 { print $1 " (n=" $3 "),", $2 "," ($4 == "" ? "" : $6) }' OFS= "$csv" |
	awk -F, -v title="Issue 13's storms: bt vs QEMU TCG, seconds from start to exit" \
		-v footer="host seconds per run (lower is better); each storm scaled to its slowest" \
		-v unit=" s" -f "$here/../lib/bars.awk" >"$out/storms.svg"
echo "wrote $csv and $out/storms.svg"
exit $failed
