#!/usr/bin/env bash
# The memory map on every engine present (or the ENGINEs given):
#  - rom-write.bin with a 64 KiB ROM (`--rom FILE`, ending at 4 GiB, its
#    last 64 KiB also at 0xf0000) must read the file and keep it through
#    guest writes (status 1). An engine that cannot map ROM read-only must
#    say so in one line (status 2): a SKIP with that reason, never a pass;
#    so is an engine that cannot run 32-bit paging, which it turns on.
#  - the guest suite with --mem 5000 (RAM above 4 GiB) must pass, or be
#    skipped with the engine's reason (bt: its 32-bit physical addresses).
#   tests/cli/memory-map.sh [--rom-only] HYVM DIR-WITH-CLI-GUESTS DIR-WITH-GUESTS [ENGINE...]
# --rom-only: rom-write alone (the emulated hosts: --mem 5000 pins 5000 MiB,
# more than their RAM; tests/kmod/run-svm.sh --high-ram runs that part).
set -u
rom_only=0
[[ ${1:-} == --rom-only ]] && { rom_only=1; shift; }
hyvm=$1 dir=$2 guests=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
passed=0 failed=0 skipped=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# 16384 "ROM!" dwords, without python or perl (the emulated hosts lack them)
printf 'ROM!%.0s' $(seq 4096) >"$work/quarter" &&
	cat "$work/quarter" "$work/quarter" "$work/quarter" "$work/quarter" >"$work/rom.bin"

engines=${*:-$("$hyvm" engines | awk '$2 == "present" { print $1 }')}
for e in $engines; do
	# rom-write.bin reads the ROM through 32-bit paging too (kvm_pvm: no)
	why=$("$hyvm" engines -v | awk -v e="$e" '/^[^ ]/ { cur = $1 } cur == e && $1 == "cannot" && $2 == "paging32:" { $1 = $2 = ""; print substr($0, 3) }')
	if [[ -n $why ]]; then
		echo "SKIP rom-write ($e): it turns on 32-bit paging, and $why"
		skipped=$((skipped + 1))
		continue
	fi
	timeout -k 5 120 "$hyvm" run --engine "$e" --rom "$work/rom.bin" "$dir/rom-write.bin" \
		>"$work/out" 2>"$work/err" </dev/null
	status=$?
	if ((status == 1)) && grep -qxF "rom-write: ROM reads its file and ignores writes" "$work/out"; then
		echo "PASS rom-write ($e)"
		passed=$((passed + 1))
	elif { ((status == 2)) && (($(wc -l <"$work/err") == 1)) &&
		grep -q "cannot map ROM read-only" "$work/err"; } || ((status == 77)); then
		echo "SKIP rom-write ($e): $(cat "$work/err")"
		skipped=$((skipped + 1))
	else
		echo "FAIL rom-write ($e): status $status, wanted 1; stdout: $(head -c 200 "$work/out");" \
			"stderr: $(head -c 300 "$work/err")"
		failed=$((failed + 1))
	fi
done
(($# > 0)) || for e in $("$hyvm" engines | awk '$2 == "absent" { print $1 }'); do
	echo "SKIP engine $e: $("$hyvm" engines | awk -v e="$e" '$1 == e { $1 = $2 = ""; print }')"
done

# --mem 5000: 3 GiB below the PCI hole, 1904 MiB from 4 GiB.
((rom_only)) && { echo "$passed passed, $failed failed, $skipped skipped"; exit $((failed > 0)); }
list=$(tr ' ' ',' <<<"$engines")
bash "$here/../run-guests.sh" --hyvm "$hyvm" --guests "$guests" --engines "$list" \
	--mem 5000 >"$work/suite" 2>&1
suite_status=$?
sed 's/^/    --mem 5000: /' "$work/suite"
# A skip must give the reason (the engine cannot reach RAM above 4 GiB).
if ((suite_status != 0)) || grep -q '^SKIP .*: *$' "$work/suite"; then
	echo "FAIL guest suite --mem 5000"
	failed=$((failed + 1))
else
	echo "PASS guest suite --mem 5000 (every run passed or skipped with a reason)"
	passed=$((passed + 1))
fi
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
