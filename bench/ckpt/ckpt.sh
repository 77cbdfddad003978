#!/usr/bin/env bash
# Not a test: checkpoint cost on Debian's i386 kernel at its shell (the
# interactive initramfs) for each --mem given (default 256 and 2048 MiB):
# boot to shell, hyvm ctl save --quit, restore to a shell that answers,
# and the checkpoint's size; the same guest is saved once with RAM
# compressed (zstd, the default) and once raw (HYVM_CKPT_RAW=1). The
# figures are wall-clock times on whatever else this machine is doing:
# compare them within one run. CSV in OUT/ckpt.csv.
#   bench/ckpt/ckpt.sh --hyvm HYVM [--out DIR] [--engine E] [--mem "256 2048"]
set -u
hyvm= out= engine=bt mems="256 2048"
while (($#)); do
	case $1 in
	--hyvm) hyvm=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--engine) engine=$2; shift 2 ;;
	--mem) mems=$2; shift 2 ;;
	*) echo "bench/ckpt: unknown option $1" >&2; exit 2 ;;
	esac
done
[[ -n $hyvm ]] || { echo "usage: bench/ckpt/ckpt.sh --hyvm HYVM [--out DIR] [--engine E] [--mem LIST]" >&2; exit 2; }
out=${out:-$(dirname "$hyvm")/bench-ckpt}
mkdir -p "$out"
here=$(cd "$(dirname "$0")" && pwd)
echo "engine,mem_mib,ram,boot_to_shell_s,save_s,restore_to_shell_s,file_bytes" >"$out/ckpt.csv"
for m in $mems; do
	for ram in zstd raw; do
		if [[ $ram == raw ]]; then export HYVM_CKPT_RAW=1; else unset HYVM_CKPT_RAW; fi
		"$here/../../tests/linux/ckpt.sh" "$hyvm" --engine "$engine" --mem "$m" >"$out/log-$m-$ram" 2>&1
		line=$(sed -n 's/^linux-ckpt-csv: //p' "$out/log-$m-$ram")
		if [[ -z $line ]]; then
			echo "bench/ckpt: --mem $m ($ram) failed: $(grep -E 'FAIL|SKIP' "$out/log-$m-$ram" | head -2)"
			continue
		fi
		IFS=, read -r e mm boot save restore size <<<"$line"
		echo "$e,$mm,$ram,$boot,$save,$restore,$size" >>"$out/ckpt.csv"
		printf '%-4s %5s MiB %-4s boot to shell %6.1f s  save %6.2f s  restore to shell %6.2f s  file %7.1f MiB\n' \
			"$e" "$mm" "$ram" "$boot" "$save" "$restore" "$(awk -v s="$size" 'BEGIN { print s / 1048576 }')"
	done
done
echo "CSV: $out/ckpt.csv"
