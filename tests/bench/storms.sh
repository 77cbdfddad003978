#!/usr/bin/env bash
# A functional test of bench/storms/storms.sh (not a timing test: no figure
# is compared with anything): bad options end with status 2 and one line;
# a run at 1/1000 of the issue's sizes (a few seconds) writes a CSV with a
# row per storm and runner (bt, and QEMU TCG when installed), each with a
# figure and the guest's checks passed, and an SVG chart that is
# well-formed XML; a storm the guest does not know gives no figure and
# fails the script.
#   tests/bench/storms.sh HYVM STORMS_ELF
set -u
hyvm=$1 guest=$2
here=$(cd "$(dirname "$0")" && pwd)
script=$here/../../bench/storms/storms.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL bench-storms: $*"; exit 1; }

for bad in "--scale x" "--only nosuch" "--guest $tmp/none" "stray"; do
	# shellcheck disable=SC2086
	"$script" --hyvm "$hyvm" --guest "$guest" $bad --out "$tmp/bad" >"$tmp/err" 2>&1
	st=$?
	[[ $st == 2 && $(wc -l <"$tmp/err") == 1 ]] || { cat "$tmp/err"; fail "storms.sh $bad: status $st, want 2 and one line"; }
done

"$script" --hyvm "$hyvm" --guest "$guest" --out "$tmp/run" --scale 0.001 >"$tmp/out" 2>&1 ||
	{ cat "$tmp/out"; fail "storms.sh exited $?"; }
runners=hyvm-bt
command -v qemu-system-i386 >/dev/null && runners+=" qemu-tcg"
csv=$tmp/run/storms.csv
[[ $(head -1 "$csv") == storm,runner,n,guest_cycles,cycles_per_op,host_s,ops_per_s,status ]] ||
	fail "bad CSV header: $(head -1 "$csv")"
for s in int80 ptwrite smc; do
	for r in $runners; do
		line=$(grep "^$s,$r," "$csv") || fail "no row for $s on $r"
		IFS=, read -r _ _ n cyc per host rate _ <<<"$line"
		for v in "$n" "$cyc" "$per" "$host" "$rate"; do
			[[ $v =~ ^[0-9.]+$ ]] || fail "$s on $r: '$line' has an empty or bad field"
		done
	done
done
[[ $(grep -c . "$csv") == $((1 + 3 * $(wc -w <<<"$runners"))) ]] || fail "extra rows in $csv"
python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$tmp/run/storms.svg" ||
	fail "storms.svg is not well-formed XML"

# a storm the guest does not know: its own FAIL line, no figure, status 1
sed 's/storm=\$s n=\$n/storm=nosuch n=$n/' "$script" >"$tmp/storms-wrong.sh"
bash "$tmp/storms-wrong.sh" --hyvm "$hyvm" --guest "$guest" --out "$tmp/wrong" --scale 0.001 --only smc \
	>"$tmp/out" 2>&1 && fail "a guest that ran no storm still gave figures"
grep -q "^smc,hyvm-bt,200,,,[0-9.]*,,33$" "$tmp/wrong/storms.csv" || fail "no empty row for the failed storm: $(cat "$tmp/wrong/storms.csv")"
echo "PASS bench-storms: every storm on $runners, CSV and SVG well-formed, a failed storm gives no figure"
