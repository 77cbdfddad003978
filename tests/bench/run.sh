#!/usr/bin/env bash
# A functional test of `hyvm bench` (not a timing test: no figure is
# compared with anything): a short run writes a CSV that parses, with a
# row per benchmark, a column per place it ran, and in every cell a number
# or one of n/a, skip, fail, absent; every present engine's column and
# QEMU TCG's (when installed) hold numbers for the benchmarks they can
# run, and the SVG chart is well-formed XML.
#   tests/bench/run.sh HYVM GUEST_ELF
set -u
hyvm=$1 guest=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL bench: $*"; exit 1; }

for bad in "--engines nosuch" "--iterations 0" "--iterations x" "--guest $tmp/none" "stray"; do
	# shellcheck disable=SC2086
	"$hyvm" bench $bad >"$tmp/err" 2>&1
	st=$?
	[[ $st == 2 && $(wc -l <"$tmp/err") == 1 ]] || { cat "$tmp/err"; fail "hyvm bench $bad: status $st, want 2 and one line"; }
done

# qemu-kvm is left out: QEMU's start on kvm_pvm alone takes seconds.
engines=$("$hyvm" engines | awk '$2 == "present" { printf "%s%s", sep, $1; sep = "," }')
command -v qemu-system-i386 >/dev/null && engines+=,qemu-tcg
"$hyvm" bench --engines "$engines" --iterations 100 --guest "$guest" \
	--csv "$tmp/b.csv" --chart "$tmp/b.svg" >"$tmp/out" 2>&1 ||
	{ cat "$tmp/out"; fail "hyvm bench exited $?"; }
[[ -s $tmp/b.csv ]] || fail "no CSV written"

awk -F, -v want="$engines" '
	NR == 1 {
		if ($1 != "benchmark" || $2 != "native") { print "bad header: " $0; bad = 1 }
		cols = NF
		n = split(want, w, ",")
		for (i = 1; i <= n; i++) {
			found = 0
			for (c = 3; c <= NF; c++) if ($c == w[i]) { found = 1; col[w[i]] = c }
			if (!found) { print "no column for " w[i]; bad = 1 }
		}
		next
	}
	{
		rows++
		if (NF != cols) { print "row " $1 ": " NF " cells, header has " cols; bad = 1 }
		for (c = 2; c <= NF; c++) {
			if ($c ~ /^[0-9]+(\.[0-9]+)?$/) continue
			if ($c == "n/a" || $c == "skip" || $c == "fail" || $c == "absent") {
				if ($c == "fail") { print "row " $1 " column " c ": fail"; bad = 1 }
				continue
			}
			print "row " $1 " column " c ": not a figure: " $c; bad = 1
		}
		for (e in col) if ($col[e] !~ /^[0-9]/ && $col[e] != "skip") {
			print e " has no figure for " $1 ": " $col[e]; bad = 1
		}
	}
	END {
		if (rows != 10) { print rows " benchmark rows, want 10"; bad = 1 }
		exit bad
	}' "$tmp/b.csv" || { cat "$tmp/out"; fail "CSV does not parse as expected"; }

python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' "$tmp/b.svg" ||
	fail "SVG chart is not well-formed XML"
grep -q "Adams & Agesen 2006" "$tmp/out" || fail "no 2006 reference table printed"
echo "PASS bench (engines: $engines)"
