#!/usr/bin/env bash
# One CPU model per VM: tests/guests/cpuid.elf prints a fixed list of
# CPUID leaves and checks the MSRs the model promises; this runs it on
# every engine present (bt, kvm, hybrid, svm, vmx) and requires each run
# to pass and to print the same leaves. Then the named models: --cpu
# pentium3 and core2duo must give their vendor and signature, and, where
# qemu-system-x86_64 is installed, the same leaf 0 and leaf 1 EAX as QEMU's
# model of the same name.
#
#   tests/cpu/same-cpuid.sh --hyvm build/hyvm --guests build/guests [--cpu NAME]
#                           [--expect FILE] [--save FILE]
#
# --save FILE writes the first engine's leaves; --expect FILE compares with
# leaves saved elsewhere (bt's on the outer host, for an emulated host).
# --cpu NAME (default host) is the model those two use; every engine also
# runs it and must print the same leaves. "host" differs from host to host,
# so a comparison across hosts wants a named model whose features every
# x86-64 host has (pentium3).
# The one difference allowed between engines is long mode: bt alone cannot
# run it, so its model lists neither LM nor SYSCALL (CPUID 0x80000001 EDX
# bits 29 and 11), which the comparison masks, and says so. So is
# TSC-deadline (leaf 1 ECX bit 24): listed only where the engine brings
# IA32_TSC_DEADLINE to the VMM's local APIC (every engine now; kept for
# a hyvm.ko or KVM without it). And TSC_ADJUST (leaf 7 EBX bit 1): listed
# only where every engine of the VM keeps IA32_TSC_ADJUST (bt; not kvm,
# svm, vmx or hybrid, whose CPU state does not carry it).
set -u
hyvm= dir= expect= save= xcpu=host
while (($#)); do
	case $1 in
	--hyvm) hyvm=$2; shift ;;
	--guests) dir=$2; shift ;;
	--expect) expect=$2; shift ;;
	--save) save=$2; shift ;;
	--cpu) xcpu=$2; shift ;;
	*) echo "usage: same-cpuid.sh --hyvm PATH --guests DIR [--cpu NAME] [--expect FILE] [--save FILE]" >&2; exit 2 ;;
	esac
	shift
done
[[ -x $hyvm && -f $dir/cpuid.elf ]] || { echo "same-cpuid: need --hyvm and --guests with cpuid.elf" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 runs=0

fail() { echo "FAIL $*"; fails=$((fails + 1)); }

# The leaves, with the long-mode bits masked (see above).
leaves() {
	local tag leaf a b c d
	tr -d '\r' <"$1" | grep '^cpuid: [0-9a-f]\{8\}\.' | while read -r tag leaf a b c d; do
		[[ $leaf == 80000001.0 ]] && d=$(printf '%08x' $((0x$d & ~0x20000800)))
		[[ $leaf == 00000001.0 ]] && c=$(printf '%08x' $((0x$c & ~0x01000000)))
		# leaf 7's TSC_ADJUST, and every leaf past the model's last
		# basic, hypervisor or extended leaf, which reads as that leaf 7
		# on an Intel model (SDM Vol. 2A, CPUID: "the data for the
		# highest basic information leaf"; seen in Bochs: 0xa-0xd,
		# 0x40000001, 0x8000000a, 0x8000001d)
		((0x${leaf%%.*} >= 7)) && b=$(printf '%08x' $((0x$b & ~0x2)))
		echo "$tag $leaf $a $b $c $d"
	done
}

# kvm_pvm (this project's development and CI machines: a software KVM,
# ../shared/notes/this-host-kvm.md) shows the guest the host's feature
# bits (leaf 1 ECX/EDX, leaf 7) and XSAVE leaves (0xd) whatever KVM_SET_CPUID2
# said, on some hosts: its guests' user code runs natively, with the
# host's FPU state. True when kvm is kvm_pvm and the two files differ
# only there.
pvm_leaf1_only() {
	[[ -d /sys/module/kvm_pvm ]] || return 1
	local mask='$2 == "00000001.0" { $5 = $6 = "-" } $2 ~ /^0000000[7d]\./ { $3 = $4 = $5 = $6 = "-" } 1'
	cmp -s <(awk "$mask" "$1") <(awk "$mask" "$2")
}

# The first lines that differ, in either diff's format (the emulated
# hosts' busybox diff writes only unified diffs, without '<' and '>')
leaves_differ() {
	diff "$1" "$2" | grep -m4 -E '^[<>]|^[-+]cpuid' | tr '\n' ' '
}

# run ENGINE CPU OUT: the guest must pass (exit status 1)
run() {
	timeout -k 5 60 "$hyvm" run --engine "$1" --cpu "$2" "$dir/cpuid.elf" </dev/null >"$3" 2>"$3.err"
	local st=$?
	runs=$((runs + 1))
	if [[ $st != 1 ]]; then
		fail "cpuid on $1 --cpu $2: exit status $st ($(grep -m1 -E '^FAIL|hyvm' "$3" "$3.err" | head -1))"
		return 1
	fi
	return 0
}

present=$("$hyvm" engines | awk '$2 == "present" { print $1 }')
models=host
[[ $xcpu == host ]] || models="host $xcpu"
ref=
for e in bt kvm hybrid svm vmx; do
	if ! grep -qx "$e" <<<"$present"; then
		echo "SKIP engine $e: $("$hyvm" engines | awk -v e="$e" '$1 == e { $1 = $2 = ""; print substr($0, 3) }')"
		continue
	fi
	for m in $models; do
		run "$e" "$m" "$tmp/$e.$m.out" || continue
		leaves "$tmp/$e.$m.out" >"$tmp/$e.$m.leaves"
		[[ $(wc -l <"$tmp/$e.$m.leaves") -ge 29 ]] ||
			fail "cpuid on $e --cpu $m printed $(wc -l <"$tmp/$e.$m.leaves") leaves, want 29"
		echo "cpuid on $e --cpu $m: $(wc -l <"$tmp/$e.$m.leaves") leaves, $(grep -m1 '^cpuid: vendor' "$tmp/$e.$m.out" | cut -d' ' -f3-)"
		if [[ -z $ref ]]; then
			:
		elif [[ ! -f $tmp/$ref.$m.leaves ]]; then
			fail "cpuid on $e --cpu $m: no leaves of $ref to compare with"
		elif [[ $e == kvm ]] && pvm_leaf1_only "$tmp/$ref.$m.leaves" "$tmp/$e.$m.leaves"; then
			echo "note: CPUID --cpu $m on kvm: leaf 1 ECX/EDX, leaves 7 and 0xd are the host's, not the model's (kvm_pvm does not apply KVM_SET_CPUID2 there; every other leaf is the same as $ref's)"
		elif ! cmp -s "$tmp/$ref.$m.leaves" "$tmp/$e.$m.leaves"; then
			fail "CPUID --cpu $m differs between $ref and $e: $(leaves_differ "$tmp/$ref.$m.leaves" "$tmp/$e.$m.leaves")"
		fi
	done
	[[ -n $ref ]] || ref=$e
done
[[ -n $ref ]] && grep -q '80000001.0' "$tmp/$ref.host.leaves" 2>/dev/null &&
	echo "note: CPUID 0x80000001 EDX LM/SYSCALL masked: they depend on whether the VM's engines run long mode"
[[ -n $ref ]] &&
	echo "note: CPUID 1 ECX TSC-deadline masked: it depends on whether the engine routes IA32_TSC_DEADLINE"
[[ -n $ref ]] &&
	echo "note: CPUID 7 EBX TSC_ADJUST masked: it depends on whether every engine of the VM keeps IA32_TSC_ADJUST"
if [[ -n $expect && -n $ref ]]; then
	if [[ ! -f $expect ]]; then
		fail "--expect $expect: no such file"
	elif cmp -s "$expect" "$tmp/$ref.$xcpu.leaves"; then
		echo "cpuid on $ref --cpu $xcpu matches $expect"
	else
		fail "CPUID --cpu $xcpu on $ref differs from $expect: $(diff "$expect" "$tmp/$ref.$xcpu.leaves" | grep -m2 '^[<>]' | tr '\n' ' ')"
	fi
fi
[[ -n $save && -n $ref ]] && cp "$tmp/$ref.$xcpu.leaves" "$save"

# Named models: vendor, family and signature (leaf 1 EAX).
engine=${ref:-}
if [[ -z $engine ]]; then
	echo "SKIP named models: no engine present"
else
	for spec in pentium3:GenuineIntel:00000673 core2duo:GenuineIntel:000006fb; do
		IFS=: read -r cpu vendor sig <<<"$spec"
		run "$engine" "$cpu" "$tmp/$cpu.out" || continue
		got_vendor=$(grep -m1 '^cpuid: vendor' "$tmp/$cpu.out" | awk '{ print $3 }')
		got_sig=$(grep -m1 '^cpuid: 00000001\.0' "$tmp/$cpu.out" | awk '{ print $3 }')
		if [[ $got_vendor != "$vendor" || $got_sig != "$sig" ]]; then
			fail "--cpu $cpu: vendor $got_vendor signature $got_sig, want $vendor $sig"
			continue
		fi
		echo "--cpu $cpu on $engine: $vendor, signature $sig"
		if ! command -v qemu-system-x86_64 >/dev/null; then
			echo "SKIP --cpu $cpu against QEMU: qemu-system-x86_64 is not installed"
			continue
		fi
		timeout -k 5 60 qemu-system-x86_64 -accel tcg -M pc -cpu "$cpu" -display none -serial stdio \
			-device isa-debug-exit,iobase=0xf4,iosize=4 -no-reboot -kernel "$dir/cpuid.elf" \
			</dev/null >"$tmp/$cpu.qemu" 2>&1
		for l in 00000000.0 00000001.0; do
			q=$(grep -m1 "^cpuid: $l" "$tmp/$cpu.qemu" | sed 's/\r$//' | awk '{ print $3, $4 }')
			h=$(grep -m1 "^cpuid: $l" "$tmp/$cpu.out" | awk '{ print $3, $4 }')
			# leaf 0: max leaf and vendor (EBX); leaf 1: EAX only
			[[ $l == 00000001.0 ]] && { q=${q%% *}; h=${h%% *}; }
			[[ $q == "$h" ]] || fail "--cpu $cpu leaf $l: hyvm '$h', QEMU '$q'"
		done
		echo "--cpu $cpu: leaf 0 and leaf 1 EAX as QEMU's $cpu"
	done
fi
echo "$runs runs, $fails failed"
((fails == 0))
