#!/bin/bash
# Runs inside an emulated host: boots Debian's amd64 kernel (the emulated
# host's own vmlinuz) with a busybox initramfs on one hyvm engine, through
# the Linux 64-bit boot protocol entry, and judges the guest's serial output.
#   linux-boot64.sh HYVM ENGINE TIMEOUT_SECS [MEM_MIB [APPEND]]
# The guest's /init (tests/kmod/linux-guest.sh) prints uname -a, the head of
# /proc/cpuinfo, a compute loop's result and powers off. Prints the guest's
# output prefixed "guest| " (host_judge ignores those lines), then one
# PASS or FAIL line with the time taken and the furthest milestone reached
# (and a FAIL if hyvm said the engine refused an interrupt it had offered
# to take: a vector lost to the guest);
# a guest that stalls is ended by timeout(1) (SIGINT, then SIGKILL) and is
# a FAIL naming the last milestone its console showed, followed by DIAG
# lines: hyvm's stop report (HYVM_STOP_REPORT, userspace/vmm/vm_report.h:
# the vCPU's RIP and IF, HLT or running, exits by kind in the last
# seconds, interrupts refused, the LAPIC's IRR/ISR/PPR and timer, the
# IOAPIC and the 8259) and the guest's last console lines.
set -u
hyvm=$1 engine=$2 limit=$3 mem=${4:-256}
# no options: the kernel finds the local APIC, IOAPIC and ACPI tables itself
append=${5:-"console=ttyS0 earlyprintk=serial,ttyS0,115200"}
out=/tmp/linux64-$engine.out err=/tmp/linux64-$engine.err stats=/tmp/linux64-$engine.json
rm -f "$stats"
start=$(date +%s)
# SIGINT first: hyvm ends the VM as for ^C and still writes its statistics
HYVM_STOP_REPORT=1 timeout -s INT -k 10 "$limit" "$hyvm" run --engine "$engine" --mem "$mem" -k /linux/vmlinuz \
	-i /linux/initrd.cpio.gz -p "$append" --stats-out "$stats" >"$out" 2>"$err" </dev/null
status=$?
secs=$(($(date +%s) - start))
tr -d '\r' <"$out" | sed 's/^/guest| /'
sed 's/^/guest-stderr| /' "$err"
# Milestones, in boot order: how far the guest got.
milestones=(
	"Linux version 6"
	"Kernel command line:"
	"Calibrating delay loop|tsc: Detected"
	"Freeing unused kernel image"
	"hyvm-linux64-init: Linux"
	"hyvm-linux64-compute:"
	"hyvm-linux64-done"
)
reached="nothing on the console"
for m in "${milestones[@]}"; do
	grep -qE -- "$m" "$out" || break
	reached="'${m%%|*}'"
done
what="linux64 on --engine $engine (--mem $mem)"
# hyvm's exit statistics (written when the VM ends, also at the timeout's SIGINT)
exits="no exit statistics"
[ -s "$stats" ] && exits="exits $(grep -o '"exits":[0-9]*' "$stats" | head -1 | cut -d: -f2) ($(
	grep -o '"name":"[a-z_]*","total":[0-9]*' "$stats" | sed 's/"name":"\([a-z_]*\)","total":/\1 /' |
	tr '\n' ',' | sed 's/,$//; s/,/, /g'))"
passed=0
if grep -q 'hyvm-linux64-done' "$out" && ((status == 0)) &&
	! grep -qE 'Kernel panic|Oops|BUG:' "$out"; then
	passed=1
	echo "PASS $what: /init ran and powered off in $secs s, $exits: $(grep -m1 -o 'Linux version [^ ]*' "$out")"
elif ((status == 124 || status == 137)); then
	echo "FAIL $what: stalled, ended by the ${limit} s timeout, $exits; furthest: $reached; last: $(tail -c 200 "$out" | tr -d '\r' | tr '\n' ' ')"
else
	echo "FAIL $what: status $status after $secs s, $exits; furthest: $reached; hyvm: $(tail -2 "$err" | tr '\n' ' ')"
fi
# an interrupt the engine refused after saying it would take one is lost
# to the guest (userspace/vmm/vm_report.h), whether or not it stalled
if grep -q '^hyvm: engine .* refused interrupt' "$err"; then
	passed=0
	echo "FAIL $what: $(grep -m1 '^hyvm: engine .* refused interrupt' "$err" | cut -c7-)"
fi
if ((!passed)); then
	sed -n 's/^hyvm: stop report: /DIAG linux64 /p' "$err"
	tr -d '\r' <"$out" | tail -n 12 | sed 's/^/DIAG linux64 console| /'
fi
