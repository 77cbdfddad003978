#!/usr/bin/env bash
# Runs each libFuzzer harness: first over its committed seed corpus (every
# input once: the regression tests of crashes found before), then for
# SECONDS on new inputs from a scratch copy of the corpus. Any crash, leak,
# timeout or sanitizer report fails (libFuzzer exits non-zero and leaves
# the input as crash-*/leak-*/timeout-* in the scratch directory, printed).
#   tests/fuzz/run.sh FUZZ_DIR CORPUS_DIR SECONDS NAME...
set -u
dir=$(realpath "$1") corpus=$(realpath "$2") seconds=$3
shift 3
passed=0 failed=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for name in "$@"; do
	bin=$dir/$name seeds=$corpus/$name
	if [[ ! -x $bin ]] || [[ ! -d $seeds ]]; then
		echo "FAIL fuzz $name: no $bin or no seed corpus $seeds"
		failed=$((failed + 1))
		continue
	fi
	mkdir -p "$work/$name"
	cp "$seeds"/* "$work/$name"/
	if ! "$bin" -runs=0 "$seeds" >"$work/$name.seeds.log" 2>&1; then
		echo "FAIL fuzz $name: a seed input fails:"
		grep -E 'ERROR|SUMMARY|runtime error' "$work/$name.seeds.log" | head -5 | sed 's/^/    /'
		failed=$((failed + 1))
		continue
	fi
	if (cd "$work" && nice "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 "$work/$name" >"$work/$name.log" 2>&1); then
		stats=$(grep -E '^stat::number_of_executed_units|^stat::new_units_added' "$work/$name.log" |
			awk -F: '{gsub(/ /, "", $4); printf "%s=%s ", $3, $4}')
		cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$work/$name.log" | tail -1)
		echo "PASS fuzz $name: ${seconds}s, $stats$cov"
		passed=$((passed + 1))
	else
		echo "FAIL fuzz $name: libFuzzer found a failing input:"
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$work/$name.log" | head -6 | sed 's/^/    /'
		ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* 2>/dev/null | head -3 |
			while read -r f; do echo "    input: $(od -An -tx1 -N64 "$f" | tr -s ' ' | head -2)"; done
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed, 0 skipped"
((failed == 0))
