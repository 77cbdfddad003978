#!/usr/bin/env bash
# The hostile guests (tests/hostile/*.c, built into HOSTILE_DIR) on bt:
# each must end cleanly (its own exit, status 1 = all its checks passed),
# within a generous time bound that only flags hangs, and with hyvm's peak
# RSS under guest RAM + an overhead: 32 MiB (hyvm's own ~8 MiB and at
# most TC_MAX_DEAD dead translations, bt/translate/translator.h) or, for
# ASan/UBSan builds (their shadow memory and quarantine), 256 MiB;
# HYVM_HOSTILE_OVERHEAD_MIB overrides. A memory bound, never a timing one.
#   tests/hostile/run.sh HYVM HOSTILE_DIR
set -u
hyvm=$1 dir=$2
mem_mib=16 timeout_s=${HYVM_HOSTILE_TIMEOUT:-900}
overhead=32
[[ $hyvm == *build-san* ]] && overhead=256
overhead=${HYVM_HOSTILE_OVERHEAD_MIB:-$overhead}
passed=0 failed=0 skipped=0
# How each guest may end; 1 (its own exit, all checks passed) unless
# listed: a guest that wrecks itself ends with a triple fault (3) or one
# engine error line (4).
declare -A ends=([cr3_outside_ram]="3 4" [pt_outside_ram]="1 3 4")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [[ ! -x /usr/bin/time ]]; then
	echo "SKIP hostile: no /usr/bin/time (GNU time) to measure the peak RSS"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
for elf in "$dir"/*.elf; do
	name=$(basename "$elf" .elf)
	start=$SECONDS
	/usr/bin/time -o "$work/rss" -f %M timeout "$timeout_s" \
		nice "$hyvm" run --engine bt --mem "$mem_mib" "$elf" >"$work/out" 2>"$work/err" </dev/null
	status=$? rss_kib=$(tail -1 "$work/rss")
	[[ $rss_kib =~ ^[0-9]+$ ]] || rss_kib=0
	rss=$((rss_kib / 1024)) bound=$((mem_mib + overhead)) took=$((SECONDS - start))
	why=""
	((status == 124)) && why="no end within ${timeout_s}s (a hang?)"
	want=${ends[$name]:-1}
	[[ -z $why ]] && [[ " $want " != *" $status "* ]] && why="status $status, not $want"
	[[ -z $why ]] && ((status != 1)) && (($(wc -l <"$work/err") > 1)) &&
		why="status $status with more than one error line"
	[[ -z $why ]] && grep -q '^FAIL' "$work/out" && why="a check failed"
	[[ -z $why ]] && ((rss >= bound)) && why="peak RSS ${rss} MiB over the bound ${bound} MiB"
	[[ -z $why ]] && grep -qE 'AddressSanitizer|runtime error' "$work/err" && why="a sanitizer report"
	if [[ -z $why ]]; then
		echo "PASS hostile $name on bt: status $status, peak RSS ${rss} MiB (bound ${bound}), ${took}s"
		passed=$((passed + 1))
	else
		echo "FAIL hostile $name on bt: $why"
		grep -E '^FAIL' "$work/out" | head -5 | sed 's/^/    /'
		head -5 "$work/err" | sed 's/^/    /'
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0 && passed > 0))
