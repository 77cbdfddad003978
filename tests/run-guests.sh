#!/usr/bin/env bash
# Runs the self-checking guest suite in QEMU (the oracle) or on hyvm's engines.
#
#   tests/run-guests.sh --qemu --guests DIR [--timeout SECS]
#   tests/run-guests.sh --hyvm PATH --guests DIR [--engines all|E1,E2] [--timeout SECS]
#                       [--mem MIB]
#
# Every DIR/*.elf except demo.elf is a guest. A run passes iff it exits with
# status 1 (isa-debug-exit value 0), or 0 after a last line "POWEROFF" (an
# ACPI power-off), printed at least one "PASS" line and no "FAIL" line. hyvm exits 77 with "SKIP: reason" on stderr when an engine
# cannot run what the guest requires: that is a skip, never a pass; so
# does tests/guests/qemu-oracle.sh, which runs QEMU for a guest, when no
# QEMU here has what the guest needs. An
# engine absent from this machine is one "SKIP engine E" line and counts all
# its guests as skipped. Output ends with "N passed, N failed, N skipped";
# the exit status is 0 iff nothing failed.

set -u

usage() {
	sed -n '4,6p' "$0" | sed 's/^# *//' >&2
	exit 2
}

mode= hyvm= guest_dir= engines=all timeout_secs=60 max_jobs=2 mem_args=()
while (($#)); do
	case $1 in
	--qemu) mode=qemu ;;
	--hyvm) mode=hyvm; hyvm=${2:?--hyvm needs a path}; shift ;;
	--guests) guest_dir=${2:?--guests needs a directory}; shift ;;
	--engines) engines=${2:?--engines needs all or a list}; shift ;;
	--timeout) timeout_secs=${2:?--timeout needs seconds}; shift ;;
	--mem) mem_args=(--mem "${2:?--mem needs MiB}"); shift ;;	# hyvm only
	-h | --help) usage ;;
	*) echo "run-guests: unknown argument '$1'" >&2; usage ;;
	esac
	shift
done
[[ -n $mode && -n $guest_dir ]] || usage
[[ $timeout_secs =~ ^[0-9]+$ ]] || { echo "run-guests: --timeout wants whole seconds" >&2; exit 2; }

guests=()
for elf in "$guest_dir"/*.elf; do
	[[ -e $elf && $(basename "$elf") != demo.elf ]] && guests+=("$elf")
done
if ((${#guests[@]} == 0)); then
	echo "run-guests: no guests (*.elf) in $guest_dir" >&2
	exit 2
fi

passed=0 failed=0 skipped=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- what to run --------------------------------------------------------------
# Each task is a label and a command line; tasks run at most max_jobs at once
# and are reported in order.
task_labels=() task_cmds=() task_kinds=()

add_task() { # kind label command...
	task_kinds+=("$1")
	task_labels+=("$2")
	shift 2
	task_cmds+=("$(printf '%q ' "$@")")
}

if [[ $mode == qemu ]]; then
	for elf in "${guests[@]}"; do
		add_task qemu "$(basename "$elf" .elf)" "$(dirname "$0")/guests/qemu-oracle.sh" "$elf"
	done
else
	if [[ ! -x $hyvm ]]; then
		echo "run-guests: $hyvm is not an executable" >&2
		exit 2
	fi
	# "NAME present DESCRIPTION" or "NAME absent REASON", one engine a line.
	if ! engine_table=$("$hyvm" engines 2>"$work/engines.err"); then
		echo "FAIL engines: '$hyvm engines' failed: $(tr '\n' ' ' <"$work/engines.err")"
		echo "0 passed, 1 failed, 0 skipped"
		exit 1
	fi
	if [[ $engines == all ]]; then
		wanted=$(awk '{print $1}' <<<"$engine_table")
	else
		wanted=${engines//,/ }
	fi
	for engine in $wanted; do
		line=$(awk -v e="$engine" '$1 == e' <<<"$engine_table")
		state=$(awk '{print $2}' <<<"$line")
		if [[ $state == absent ]]; then
			echo "SKIP engine $engine: $(cut -d' ' -f3- <<<"$line")"
			skipped=$((skipped + ${#guests[@]}))
			continue
		fi
		# An engine hyvm does not list is still tried, so a typo fails loudly.
		for elf in "${guests[@]}"; do
			add_task hyvm "$(basename "$elf" .elf) ($engine)" \
				"$hyvm" run --engine "$engine" "${mem_args[@]}" "$elf"
		done
	done
fi

# --- running and judging ----------------------------------------------------

# userspace/engines/hyvm/engine_svm.c's line for HYVM_FAIL_HOST_STATE
host_state_lost="the VMCB held the host's own state"

run_task() { # index
	local i=$1 rc
	eval "timeout --kill-after=5 $timeout_secs ${task_cmds[$i]}" \
		</dev/null >"$work/$i.out" 2>"$work/$i.err"
	rc=$?
	# hyvm.ko refused a VMCB that the SVM below it had filled with
	# hyvm.ko's own host state (kmod/svm/svm_exit.c, HYVM_FAIL_HOST_STATE:
	# seen under QEMU 7.2's TCG SVM, the emulated host of
	# tests/kmod/run-svm.sh). The guest's state is lost through no fault
	# of the guest or of hyvm: the guest runs once more, and judge prints a
	# RETRY line with the first run's error, so it never passes silently.
	if grep -q "$host_state_lost" "$work/$i.err"; then
		grep -m1 "$host_state_lost" "$work/$i.err" >"$work/$i.retry"
		eval "timeout --kill-after=5 $timeout_secs ${task_cmds[$i]}" \
			</dev/null >"$work/$i.out" 2>"$work/$i.err"
		rc=$?
	fi
	# Renamed into place so a reader never sees a half-written file.
	echo "$rc" >"$work/$i.rc.tmp" && mv "$work/$i.rc.tmp" "$work/$i.rc"
}

# Last few lines of a run's output, on one line, for the FAIL reason.
tail_of() { # index
	cat "$work/$1.out" "$work/$1.err" | tr -d '\r' | grep -v '^[[:space:]]*$' |
		tail -n 4 | sed 's/$/ |/' | tr '\n' ' ' | sed 's/ | $//'
}

# A guest that ends by powering off (guest_exit_poweroff: ACPI PM1a_CNT)
# exits with status 0 in QEMU and hyvm alike: a pass only when POWEROFF is
# its last line and hyvm said nothing (a reset or halt also exits 0).
powered_off() { # index
	[[ $(grep -v '^[[:space:]]*$' "$work/$1.clean" | tail -n 1) == POWEROFF ]] &&
		! grep -q '^hyvm: ' "$work/$1.err"
}

judge() { # index: prints the verdict line and counts it
	local i=$1 label rc why
	label=${task_labels[$i]}
	rc=$(cat "$work/$i.rc")
	[[ ! -e $work/$i.retry ]] ||
		echo "RETRY $label: run once more after: $(cut -c1-300 "$work/$i.retry")"
	tr -d '\r' <"$work/$i.out" >"$work/$i.clean"
	if [[ $rc == 77 ]]; then
		why=$(grep -m1 '^SKIP: ' "$work/$i.err" | sed 's/^SKIP: //')
		if [[ -n $why && ${task_kinds[$i]} == qemu ]]; then
			echo "SKIP $label (qemu): $why"
			skipped=$((skipped + 1))
			return
		elif [[ -n $why ]]; then
			local guest=${label% (*} engine=${label##* (}
			echo "SKIP $guest (${engine%)}): $why"
			skipped=$((skipped + 1))
			return
		fi
		why="exit status 77 without a 'SKIP: reason' line on stderr"
	elif ((rc == 124 || rc == 137)); then
		why="timed out after ${timeout_secs}s"
	elif grep -q '^FAIL' "$work/$i.clean"; then
		why="$(grep '^FAIL' "$work/$i.clean" | head -n 3 | tr '\n' ';' | sed 's/;$//') (exit status $rc)"
	elif ((rc == 3)); then
		why="triple fault (exit status 3)"
	elif ((rc == 0)) && ! powered_off "$i"; then
		why="exit status 0 without a last line POWEROFF (the guest did not power off)"
	elif ((rc != 1 && rc != 0)); then
		why="exit status $rc, want 1"
	elif ! grep -q '^PASS' "$work/$i.clean"; then
		why="exit status 1 but no PASS line"
	else
		echo "PASS $label"
		passed=$((passed + 1))
		return
	fi
	# Long enough to diagnose, short enough to read: 300 characters each.
	echo "FAIL $label: ${why:0:300}; last output: $(tail_of "$i" | cut -c1-300)"
	failed=$((failed + 1))
}

next_report=0
report_finished() {
	while ((next_report < ${#task_cmds[@]})) && [[ -e $work/$next_report.rc ]]; do
		judge "$next_report"
		next_report=$((next_report + 1))
	done
}

running=0
for i in "${!task_cmds[@]}"; do
	run_task "$i" &
	running=$((running + 1))
	if ((running >= max_jobs)); then
		wait -n
		running=$((running - 1))
		report_finished
	fi
done
wait
report_finished

echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
