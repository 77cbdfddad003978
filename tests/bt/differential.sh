#!/usr/bin/env bash
# Differential test: every guest runs under QEMU (tests/guests/qemu-oracle.sh: TCG,
# the oracle) and on each of hyvm's engines present here that is bt, kvm,
# hybrid, vmx or svm; each run must end like QEMU's: the same exit status,
# the same serial output, and the same STATE line (registers and a CRC32 of
# guest memory, printed by tests/guests/lib/state.c at exit), compared
# field by field. A guest an engine cannot run (hyvm exits 77 with SKIP) is
# a skip for that pair, and says so.
#
#   tests/bt/differential.sh --hyvm build/hyvm --guests build/guests [--engines E1,E2] [--timeout SECS]
#
# One line per guest and engine: SAME, DIFFER (with the first field that
# differs) or SKIP; last "N same, N differ, N skipped". Exit status 0 iff
# nothing differed.
set -u
hyvm= dir= timeout_secs=60 engines=
while (($#)); do
	case $1 in
	--hyvm) hyvm=$2; shift ;;
	--guests) dir=$2; shift ;;
	--engines) engines=${2//,/ }; shift ;;
	--timeout) timeout_secs=$2; shift ;;
	*) echo "usage: differential.sh --hyvm PATH --guests DIR [--engines E1,E2] [--timeout SECS]" >&2; exit 2 ;;
	esac
	shift
done
[[ -x $hyvm && -d $dir ]] || { echo "differential: need --hyvm and --guests" >&2; exit 2; }
if ! command -v qemu-system-x86_64 >/dev/null; then
	echo "SKIP differential: qemu-system-x86_64 is not installed"
	exit 0
fi
if [[ -z $engines ]]; then
	# "NAME present DESCRIPTION": every engine this machine has, bt first.
	present=$("$hyvm" engines | awk '$2 == "present" { print $1 }')
	for e in bt kvm hybrid vmx svm; do
		grep -qx "$e" <<<"$present" && engines+=" $e"
	done
fi
[[ -n ${engines// /} ]] || { echo "differential: no engine to compare (hyvm engines lists none present)" >&2; exit 2; }

same=0 differ=0 skipped=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Splits a run's output into $1.state (the STATE line's fields, one
# "key=value" a line, in order) and $1 (everything else), without what is
# no translation result: hyvm names its engine in the boot-loader line, and
# CPUID (identity, and the leaves cpuid.elf prints) is hyvm's CPU model on
# every engine, QEMU's model there; "fw: " lines (acpi_tables.elf) say what
# the firmware tables hold: hyvm's own, SeaBIOS's in QEMU.
split_output() {
	sed -i -e 's/\r$//' -e '/engine=/d' -e '/boot loader/d' -e '/^cpuid: /d' -e '/^fw: /d' "$1"
	grep -m1 '^STATE ' "$1" | tr ' ' '\n' | grep '=' >"$1.state"
	sed -i '/^STATE /d' "$1"
}

# Prints the first difference between the reference run ($1: name, $2:
# file, $3: status) and an engine's ($4, $5, $6), or nothing.
first_difference() {
	if [[ $3 != "$6" ]]; then
		echo "exit status: $1 $3, $4 $6"
		return
	fi
	local field
	field=$(diff <(cat "$2.state") <(cat "$5.state") | grep -m1 '^[<>]')
	if [[ -n $field ]]; then
		local key=${field#[<>] }
		key=${key%%=*}
		echo "STATE $key: $1 $(grep -m1 "^$key=" "$2.state" | cut -d= -f2), $4 $(grep -m1 "^$key=" "$5.state" | cut -d= -f2)"
		return
	fi
	if ! cmp -s "$2" "$5"; then
		local line
		line=$(diff "$2" "$5" | grep -m1 '^[<>]')
		echo "serial output: ${line:0:1} '${line:2}' ($(diff "$2" "$5" | grep -c '^[<>]') lines differ; < $1, > $4)"
	fi
}

for elf in "$dir"/*.elf; do
	name=$(basename "$elf" .elf)
	[[ $name == demo ]] && continue
	timeout "$timeout_secs" "$(dirname "$0")/../guests/qemu-oracle.sh" "$elf" \
		>"$tmp/qemu" 2>"$tmp/qemu.err"
	qemu_status=$?
	if ((qemu_status == 77)); then
		echo "SKIP $name: no oracle: $(grep -m1 SKIP "$tmp/qemu.err")"
		skipped=$((skipped + 1))
		continue
	fi
	split_output "$tmp/qemu"
	for engine in $engines; do
		timeout "$timeout_secs" "$hyvm" run --engine "$engine" --no-stats "$elf" \
			</dev/null >"$tmp/$engine" 2>"$tmp/$engine.err"
		status=$?
		if ((status == 77)); then
			echo "SKIP $name on $engine: $(grep -m1 SKIP "$tmp/$engine.err")"
			skipped=$((skipped + 1))
			continue
		fi
		split_output "$tmp/$engine"
		why=$(first_difference qemu "$tmp/qemu" "$qemu_status" "$engine" "$tmp/$engine" "$status")
		# Without a STATE line from QEMU nothing but the output would be
		# compared: the guest did not reach guest_exit, so that is a failure.
		[[ -z $why && ! -s $tmp/qemu.state ]] && why="no STATE line from qemu (status $qemu_status)"
		if [[ -z $why ]]; then
			echo "SAME $name on $engine (status $status, $(wc -l <"$tmp/$engine") lines, $(grep '^crc=' "$tmp/$engine.state"))"
			same=$((same + 1))
		else
			echo "DIFFER $name on $engine: $why"
			differ=$((differ + 1))
		fi
	done
done
echo "$same same, $differ differ, $skipped skipped"
((differ == 0))
