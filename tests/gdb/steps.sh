#!/usr/bin/env bash
# gdb's single steps without breakpoints, for an engine whose breakpoints
# cannot be checked where it runs (kvm inside the emulated AMD host: a
# nested guest's hardware breakpoints do not fire under QEMU TCG, so
# tests/gdb/run.sh's would fail for the emulator's sake). From the first
# instruction of tests/guests/gdb_target.elf (--gdb-wait): _start's cli,
# cld and mov esp, imm32 are 1, 1 and 5 bytes; ESP is then the stack top
# the ELF names; memory reads; the guest runs on to its exit status.
#   tests/gdb/steps.sh HYVM GUEST_DIR [ENGINE]
set -u
hyvm=$1 guests=$2 engine=${3:-bt}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
. "$here/lib.sh"
if ! command -v gdb >/dev/null; then
	echo "SKIP gdb steps: no gdb here"
	exit 0
fi
why=$("$hyvm" engines 2>/dev/null | awk -v e="$engine" '$1 == e')
if [[ $why != "$engine present"* ]]; then
	echo "SKIP gdb steps: engine $engine: ${why:-unknown}"
	exit 0
fi
elf=$guests/gdb_target.elf
gdb_session steps "$here/steps.gdb" "$elf" --engine "$engine" "$elf"
g=$work/steps.gdb
start=$(sed -n 's/^START eip=\([0-9a-f]*\)$/\1/p' "$g")
if [[ -z $start ]]; then
	echo "FAIL gdb steps-attach ($engine): no START line"
	sed 's/^/    /' "$g" | head -20
	echo "0 passed, 1 failed"
	exit 1
fi
s1=$(printf '%x' $((0x$start + 1))) s2=$(printf '%x' $((0x$start + 2))) s3=$(printf '%x' $((0x$start + 7)))
expect_line "steps-1 ($engine)" "$g" "^STEP1 eip=$s1\$" "stepi over cli"
expect_line "steps-2 ($engine)" "$g" "^STEP2 eip=$s2\$" "stepi over cld"
expect_line "steps-3 ($engine)" "$g" "^STEP3 eip=$s3 esp=[0-9a-f]+\$" "stepi over mov esp, imm32"
expect_line "steps-mem ($engine)" "$g" '^MEM [0-9a-f]{2} fa$' "memory at EIP and _start (cli)"
expect_line "steps-exit ($engine)" "$g" 'exited with code 01' "continue to the guest's end, status 1"
echo "$passed passed, $failed failed"
((failed == 0))
