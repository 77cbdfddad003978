#!/bin/bash
# The emulated-host harness for hyvm.ko's svm backend.
#
# Debian's own kernel (linux-image matching the installed linux-headers-amd64)
# boots in QEMU's software emulation with an AMD CPU model that has SVM and
# NPT; the busybox initramfs of tests/kmod/host-lib.sh loads hyvm.ko and runs
# the tests; the serial log is judged here. Needs only Debian packages:
# linux-headers-amd64, qemu-system-x86, busybox-static, cpio, gcc.
#
#   tests/kmod/run-svm.sh [--log FILE] [--timeout SEC] [--bench] [--high-ram]
#
# --high-ram gives the emulated host 6 GiB and also runs five guests with
# --mem 5000 (a second slot at 4 GiB; hyvm.ko pins all 5000 MiB): 25-50 s
# a guest under TCG, 209 s for the whole run against 38 s, so not default.
#
# --bench also loads the guest kernel's own kvm_amd and runs
# bench/kmod_exitcost.c: hyvm.ko's cost per exit as a ratio to KVM's.
#
# Prints the log's PASS/FAIL/SKIP lines, then "N passed, N failed"; exits 1
# on any failure, on a kernel Oops/WARNING/BUG/Call Trace in the log, or if
# the run did not reach its end marker.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=$ROOT/build/kmod-host
TIMEOUT=600
LOG=$CACHE/serial-svm.log
BENCH=0 HIGHRAM=0 MEM=1G
while [ $# -gt 0 ]; do
	case $1 in
	--bench) BENCH=1; shift ;;
	--high-ram) HIGHRAM=1 MEM=6G; shift ;;
	--log) LOG=$2; shift 2 ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	*) echo "usage: $0 [--log FILE] [--timeout SEC] [--bench] [--high-ram]" >&2; exit 2 ;;
	esac
done

die() { echo "run-svm: $*" >&2; exit 2; }
. "$ROOT/tests/kmod/host-lib.sh"

command -v qemu-system-x86_64 >/dev/null ||
	die "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
host_kernel
mkdir -p "$CACHE"

# The guest kernel's KVM, for the benchmark (depends: kvm_amd <- kvm, ccp;
# kvm <- irqbypass).
KVM_MODULES="irqbypass.ko kvm.ko ccp.ko kvm-amd.ko"
bench_files() {
	local stage=$1 deb m
	deb=$(ls "$CACHE"/deb/linux-image-"$KVER"_*.deb | head -1)
	mkdir -p "$stage/kvm"
	for m in virt/lib/irqbypass.ko arch/x86/kvm/kvm.ko drivers/crypto/ccp/ccp.ko \
		 arch/x86/kvm/kvm-amd.ko; do
		dpkg-deb --fsys-tarfile "$deb" |
			tar -xO "./lib/modules/$KVER/kernel/$m" > "$stage/kvm/$(basename "$m")"
	done
	cc -static -O2 -std=gnu11 -Wall -Wextra -Werror -I"$ROOT/include" \
		-o "$stage/tests/kmod_exitcost" "$ROOT/bench/kmod_exitcost.c" ||
		die "building bench/kmod_exitcost.c failed"
}

# What /init runs after the mounts ($BENCH and $KVM_MODULES filled in here).
BODY=$CACHE/init-svm.sh
cat > "$BODY" <<EOF
if insmod /hyvm.ko; then echo "PASS insmod"; else echo "FAIL insmod: status \$?"; fi
for t in /tests/hyvm_*; do
	echo "== \${t##*/}"
	\$t || echo "FAIL \${t##*/}: exit status \$?"
done
cd /hyvm
echo "== guest suite on --engine svm"
bash ./run-guests.sh --hyvm /hyvm/hyvm --guests /hyvm/guests --engines svm
echo "== guest faults on --engine svm"
bash /hyvm/cli/guest-faults.sh /hyvm/hyvm /hyvm/cli svm
echo "== emulated MMIO and string I/O on --engine svm"
bash /hyvm/cli/emulated-io.sh /hyvm/hyvm /hyvm/cli svm
echo "== ROM (read-only slot) on --engine svm"
bash /hyvm/cli/memory-map.sh --rom-only /hyvm/hyvm /hyvm/cli /hyvm/guests svm
[ $HIGHRAM = 0 ] || for g in alu paging32 pae longmode cpuid; do
	s=\$(date +%s); hyvm run --engine svm --mem 5000 /hyvm/guests/\$g.elf >/tmp/out 2>&1 </dev/null; r=\$?
	if [ \$r = 1 ] && grep -q '^PASS' /tmp/out && ! grep -q '^FAIL' /tmp/out; then echo "PASS \$g --mem 5000 (svm) \$((\$(date +%s) - s)) s"
	else echo "FAIL \$g --mem 5000 (svm): status \$r: \$(tail -c 300 /tmp/out | tr '\n' ' ')"; fi
done
cd /
if [ $BENCH = 1 ]; then
	for m in $KVM_MODULES; do insmod /kvm/\$m || echo "FAIL insmod \$m"; done
	/tests/kmod_exitcost 5000
fi
if rmmod hyvm; then echo "PASS rmmod"; else echo "FAIL rmmod: status \$?"; fi
EOF
INITRD=$CACHE/initramfs-svm.cpio.gz
EXTRA=""
[ $BENCH = 0 ] || EXTRA=bench_files
host_initramfs "$INITRD" "$BODY" $EXTRA

# Boot. One emulator at a time; the timeout bounds a hung guest. Two
# emulated CPUs: run-guests.sh runs two guests at once, and vCPUs migrate
# between host CPUs.
START=$(date +%s)
timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -cpu qemu64,+svm,+npt -m $MEM -smp 2 \
	-nographic -no-reboot -kernel "$VMLINUZ" -initrd "$INITRD" \
	-append 'console=ttyS0 quiet' </dev/null > "$LOG" 2>&1 || true
END=$(date +%s)

tr -d '\r' < "$LOG" > "$LOG.txt"
echo "emulated host: qemu tcg +svm +npt, 2 CPUs, kernel $KVER, ${TIMEOUT}s limit, ran $((END - START)) s"
host_judge "$LOG.txt" run-svm
