#!/usr/bin/env bash
# The hostile guests (tests/hostile/*.c, built into HOSTILE_DIR) on bt:
# each must end cleanly (its own exit, status 1 = all its checks passed),
# within a generous time bound that only flags hangs, and with hyvm's peak
# RSS under guest RAM + an overhead: 40 MiB (hyvm's own ~8 MiB and bt's
# translation cache, code and metadata, which never passes its 32 MiB
# bound, TC_LIMIT_DEFAULT in bt/translate/translator.h; the guests here
# peak at 16 MiB in all) or, for
# ASan/UBSan builds (their shadow memory and quarantine), 256 MiB;
# HYVM_HOSTILE_OVERHEAD_MIB overrides. A memory bound, never a timing one.
#   tests/hostile/run.sh HYVM HOSTILE_DIR
set -u
hyvm=$1 dir=$2
mem_mib=16 timeout_s=${HYVM_HOSTILE_TIMEOUT:-900}
overhead=40
[[ $hyvm == *build-san* ]] && overhead=256
overhead=${HYVM_HOSTILE_OVERHEAD_MIB:-$overhead}
passed=0 failed=0 skipped=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# virtio_blk_rings' disk (sector 0 starts "disk") and its ROM (virtio_net_rings' too)
{ printf disk; head -c 65532 /dev/zero; } >"$work/vblk.img"
head -c 4096 /dev/zero >"$work/rom.bin"
# How each guest may end; 1 (its own exit, all checks passed) unless
# listed: a guest that wrecks itself ends with a triple fault (3) or one
# engine error line (4).
declare -A ends=([cr3_outside_ram]="3 4" [pt_outside_ram]="1 3 4")
# triple_*: a triple fault in one CPU mode each (tests/hostile/triple_fault.h):
# status 3 and hyvm's "triple fault" line on bt, and in QEMU (-no-reboot,
# the oracle) a shutdown its cpu_reset log calls "Triple fault". An engine
# that cannot run the mode (bt: long mode) says SKIP, status 77.
for elf in "$dir"/triple_*.elf; do [[ -e $elf ]] && ends[$(basename "$elf" .elf)]=3; done
# options a guest needs beyond --engine bt --mem 16
declare -A opts=([fw_cfg_dma]="--device fw_cfg"
	[virtio_blk_rings]="--disk $work/vblk.img --rom $work/rom.bin@0xfffc0000"
	[virtio_net_rings]="--net user --rom $work/rom.bin@0xfffc0000")
# random_pages is driven by tests/hostile/random-pages.sh (make test-hostile
# runs it after this script)
skip_names=" random_pages "

if [[ ! -x /usr/bin/time ]]; then
	echo "SKIP hostile: no /usr/bin/time (GNU time) to measure the peak RSS"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
# oracle ELF: the triple fault in QEMU TCG, where QEMU is installed
oracle() {
	command -v qemu-system-x86_64 >/dev/null || { echo "SKIP hostile $1 in QEMU: no qemu-system-x86_64"; skipped=$((skipped + 1)); return; }
	timeout 120 qemu-system-x86_64 -accel tcg -M pc -m "$mem_mib" -display none -serial stdio \
		-device isa-debug-exit,iobase=0xf4,iosize=4 -no-reboot -d cpu_reset -D "$work/qlog" \
		-kernel "$2" >"$work/qout" 2>&1 </dev/null
	local st=$?
	if ((st == 0)) && grep -q "Triple fault" "$work/qlog" && grep -q "^triple_fault: " "$work/qout"; then
		echo "PASS hostile $1 in QEMU: shutdown on a triple fault"
		passed=$((passed + 1))
	else
		echo "FAIL hostile $1 in QEMU: status $st, $(grep -c "Triple fault" "$work/qlog" 2>/dev/null) triple faults logged"
		failed=$((failed + 1))
	fi
}
for elf in "$dir"/*.elf; do
	name=$(basename "$elf" .elf)
	[[ $skip_names == *" $name "* ]] && continue
	start=$SECONDS
	/usr/bin/time -o "$work/rss" -f %M timeout "$timeout_s" \
		nice "$hyvm" run --engine bt --mem "$mem_mib" ${opts[$name]:-} "$elf" >"$work/out" 2>"$work/err" </dev/null
	status=$? rss_kib=$(tail -1 "$work/rss")
	[[ $rss_kib =~ ^[0-9]+$ ]] || rss_kib=0
	rss=$((rss_kib / 1024)) bound=$((mem_mib + overhead)) took=$((SECONDS - start))
	why=""
	if ((status == 77)) && grep -q "^SKIP" "$work/err"; then
		echo "SKIP hostile $name on bt: $(head -n 1 "$work/err")"
		skipped=$((skipped + 1))
		[[ $name == triple_* ]] && oracle "$name" "$elf"
		continue
	fi
	((status == 124)) && why="no end within ${timeout_s}s (a hang?)"
	want=${ends[$name]:-1}
	[[ -z $why ]] && [[ " $want " != *" $status "* ]] && why="status $status, not $want"
	[[ -z $why ]] && ((status != 1)) && (($(wc -l <"$work/err") > 1)) &&
		why="status $status with more than one error line"
	[[ -z $why ]] && grep -q '^FAIL' "$work/out" && why="a check failed"
	[[ -z $why ]] && ((rss >= bound)) && why="peak RSS ${rss} MiB over the bound ${bound} MiB"
	[[ -z $why ]] && grep -qE 'AddressSanitizer|runtime error' "$work/err" && why="a sanitizer report"
	[[ -z $why && $name == triple_* ]] && ! grep -q "triple fault" "$work/err" && why="status 3 without hyvm's triple fault line"
	if [[ -z $why ]]; then
		echo "PASS hostile $name on bt: status $status, peak RSS ${rss} MiB (bound ${bound}), ${took}s"
		passed=$((passed + 1))
	else
		echo "FAIL hostile $name on bt: $why"
		grep -E '^FAIL' "$work/out" | head -5 | sed 's/^/    /'
		head -5 "$work/err" | sed 's/^/    /'
		failed=$((failed + 1))
	fi
	[[ $name == triple_* ]] && oracle "$name" "$elf"
done
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0 && passed > 0))
