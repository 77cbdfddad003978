#!/usr/bin/env bash
# The man pages lint clean: `mandoc -T lint -W warning` (less the "skipping
# paragraph macro" warnings, an artifact of every scdoc-made page: scdoc
# puts .PP after .SH and between items) and `man --warnings -l` (groff's
# own warnings). Each linter that is missing is a SKIP line.
#   tests/pkg/man-lint.sh PAGE...
set -u
passed=0 failed=0 skipped=0

check() { # linter page output
	if [[ -z $3 ]]; then
		echo "PASS $1 $(basename "$2")"
		passed=$((passed + 1))
	else
		echo "FAIL $1 $(basename "$2"):"
		printf '%s\n' "$3" | sed 's/^/    /'
		failed=$((failed + 1))
	fi
}

for page in "$@"; do
	if [[ ! -s $page ]]; then
		echo "FAIL $page: missing or empty"
		failed=$((failed + 1))
		continue
	fi
	if command -v mandoc >/dev/null; then
		out=$(mandoc -T lint -W warning "$page" 2>&1 | grep -v 'skipping paragraph macro')
		check mandoc "$page" "$out"
	else
		echo "SKIP mandoc $(basename "$page"): mandoc not installed (apt-get install mandoc)"
		skipped=$((skipped + 1))
	fi
	if command -v man >/dev/null && man --help 2>&1 | grep -q -- --warnings; then
		out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null)
		check man "$page" "$out"
	else
		echo "SKIP man $(basename "$page"): man-db's man not installed"
		skipped=$((skipped + 1))
	fi
done
echo "man-lint: $passed passed, $failed failed, $skipped skipped"
[[ $failed -eq 0 ]]
