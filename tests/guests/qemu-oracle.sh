#!/usr/bin/env bash
# Runs one guest of the suite in QEMU, the oracle, as tests/run-guests.sh
# --qemu and tests/bt/differential.sh do: QEMU's software emulation (TCG)
# with its default CPU, unless the guest needs what TCG lacks (its
# .hyvm_requires): then the oracle that has it, or exit 77 with one
# "SKIP: reason" line on stderr, as hyvm does for an engine.
#
#   tests/guests/qemu-oracle.sh GUEST.elf
#
# tsc-deadline: QEMU's TCG has no TSC-deadline timer (7.2 warns "TCG
# doesn't support requested feature: CPUID.01H:ECX.tsc-deadline [bit 24]"
# and leaves the bit clear); KVM's in-kernel local APIC has one, so the
# guest runs under -accel kvm with it listed (-cpu qemu64: on kvm_pvm
# QEMU aborts with -cpu host, ../shared/notes/this-host-kvm.md).
# tsc-adjust: QEMU's TCG keeps IA32_TSC_ADJUST but its writes do not move
# the TSC (nor TSC writes it); KVM's do (SDM Vol. 3B, 17.17.3): -accel kvm
# with +tsc-adjust, as for tsc-deadline; but not kvm_pvm, whose guest TSC
# is the host's (tests/guests/tsc_adjust fails there: the MSR reads back,
# the TSC does not move), so no oracle on this project's machines.

# fp-exceptions: QEMU 7.2's TCG raises no #XM for an unmasked SIMD
# exception and reports an x87 error only at FWAIT, not at the next
# waiting x87 instruction (tests/guests/fpu_faults); no oracle here then.

set -u
elf=${1:?usage: qemu-oracle.sh GUEST.elf}
needs=" $(readelf -p .hyvm_requires "$elf" 2>/dev/null | sed -n 's/^ *\[ *[0-9a-f]*\] *//p' | tr '\n' ' ') "
accel=(-accel tcg)
kvm_flags=
[[ $needs == *" tsc-deadline "* ]] && kvm_flags+=,+tsc-deadline
if [[ $needs == *" tsc-adjust "* ]]; then
	kvm_flags+=,+tsc-adjust
	if [[ -d /sys/module/kvm_pvm ]]; then
		echo "SKIP: QEMU's TCG lacks tsc-adjust, and kvm_pvm runs the guest on the host's TSC: its IA32_TSC_ADJUST reads back but writes do not move the TSC" >&2
		exit 77
	fi
fi
if [[ -n $kvm_flags ]]; then
	if [[ -r /dev/kvm && -w /dev/kvm ]]; then
		accel=(-accel kvm -cpu "qemu64$kvm_flags")
	else
		echo "SKIP: QEMU's TCG lacks ${kvm_flags//,+/ } (needs KVM), and /dev/kvm is not usable here" >&2
		exit 77
	fi
fi
if [[ $needs == *" fp-exceptions "* ]]; then
	echo "SKIP: QEMU's TCG raises no #XM and reports x87 errors only at FWAIT (fp-exceptions)" >&2
	exit 77
fi
exec qemu-system-x86_64 "${accel[@]}" -M pc -display none -serial stdio \
	-device isa-debug-exit,iobase=0xf4,iosize=4 -no-reboot -kernel "$elf"
