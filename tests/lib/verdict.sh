# Sourced by the test scripts: one PASS/FAIL line per check, counted in
# the caller's passed/failed.
#   verdict NAME OK DETAIL     (OK 1: pass; else FAIL with DETAIL)
verdict() {
	if [[ $2 == 1 ]]; then
		echo "PASS $1"
		passed=$((passed + 1))
	else
		echo "FAIL $1: $3"
		failed=$((failed + 1))
	fi
}
