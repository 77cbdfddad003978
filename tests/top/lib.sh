# Shared by the hyvm top tests: counters, a private stats directory, and
# starting a guest whose pid the tests then watch.
passed=0 failed=0 skipped=0
pass() { echo "PASS $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
skip() { echo "SKIP $*"; skipped=$((skipped + 1)); }
summary() {
	echo "$passed passed, $failed failed, $skipped skipped"
	((failed == 0))
}

# Each test run has its own stats directory, so other VMs on the machine
# are not seen and nothing is left in /dev/shm.
work=$(mktemp -d)
export HYVM_STATS_DIR=$work
vm_pids=()
cleanup() {
	for p in "${vm_pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# start_vm ENGINE GUEST [RUN-OPTIONS...]: sets vm_pid; stdout/stderr of the
# VM go to $work/vm.out and $work/vm.err.
start_vm() {
	local engine=$1 guest=$2
	shift 2
	"$hyvm" run --engine "$engine" "$@" "$guest" >"$work/vm.out" 2>"$work/vm.err" </dev/null &
	vm_pid=$!
	vm_pids+=("$vm_pid")
}

# The engine to watch: kvm where present, else the first present engine.
present_engines() { "$hyvm" engines | awk '$2 == "present" { print $1 }'; }
