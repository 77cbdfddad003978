#!/usr/bin/env bash
# A guest's reset reboots it: tests/cli/reboot.asm counts its boots in
# CMOS RAM, resets through the i8042 and then port 0x92, and passes on the
# third boot (status 1) with one "guest reset, rebooting" line per reset;
# with --no-reboot the first reset ends the run with status 0. QEMU's pc
# machine, the oracle, must give the same output and status (when
# qemu-system-i386 is installed). Also: the demo guest's ACPI power-off
# ends the run with status 0.
#   tests/cli/reboot.sh HYVM DIR-WITH-CLI-GUESTS ENGINE...
set -u
hyvm=$1 dir=$2
shift 2
passed=0 failed=0
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
three=$'reboot: boot 1\r\nreboot: boot 2\r\nreboot: boot 3\r\n'
one=$'reboot: boot 1\r\n'

. "$(dirname "$0")/../lib/verdict.sh"

for e in "$@"; do
	timeout 60 "$hyvm" run --engine "$e" "$dir/reboot.bin" >"$out" 2>"$err" </dev/null
	status=$? ok=0
	[[ $status == 1 && $(cat "$out"; echo .) == "$three." &&
	   $(grep -c '^hyvm: guest reset, rebooting$' "$err") == 2 ]] && ok=1
	verdict "reboot twice ($e)" $ok "status $status, stdout $(od -c "$out" | head -3), stderr $(cat "$err")"

	timeout 60 "$hyvm" run --engine "$e" --no-reboot "$dir/reboot.bin" >"$out" 2>"$err" </dev/null
	status=$? ok=0
	[[ $status == 0 && $(cat "$out"; echo .) == "$one." ]] &&
		grep -q "guest requested a reset" "$err" && ! grep -q rebooting "$err" && ok=1
	verdict "--no-reboot ends at the reset ($e)" $ok "status $status, stdout $(cat "$out"), stderr $(cat "$err")"

	timeout 60 "$hyvm" run --engine "$e" >"$out" 2>"$err" </dev/null
	status=$? ok=0
	[[ $status == 0 ]] && grep -q "powering off" "$out" && ok=1
	verdict "ACPI power-off, status 0 ($e)" $ok "status $status, stderr $(cat "$err")"
done

if command -v qemu-system-i386 >/dev/null; then
	for flag in "" -no-reboot; do
		timeout 60 qemu-system-i386 -machine pc -display none -serial stdio -monitor none \
			-device isa-debug-exit,iobase=0xf4,iosize=4 $flag -kernel "$dir/reboot.bin" \
			>"$out" 2>"$err" </dev/null
		status=$? ok=0
		want=$three want_status=1
		[[ -n $flag ]] && want=$one want_status=0
		[[ $status == "$want_status" && $(cat "$out"; echo .) == "$want." ]] && ok=1
		verdict "QEMU pc ${flag:-reboots}" $ok "status $status, stdout $(od -c "$out" | head -3)"
	done
else
	echo "SKIP QEMU oracle: no qemu-system-i386"
fi
echo "$passed passed, $failed failed"
((failed == 0))
