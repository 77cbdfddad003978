#!/bin/bash
# The emulated-host harness for hyvm.ko's svm backend.
#
# Debian's own kernel (linux-image matching the installed linux-headers-amd64)
# boots in QEMU's software emulation with an AMD CPU model that has SVM and
# NPT; a busybox initramfs loads hyvm.ko and runs the tests; the serial log
# is parsed here. Needs only Debian packages: linux-headers-amd64,
# qemu-system-x86, busybox-static, cpio, gcc.
#
#   tests/kmod/run-svm.sh [--log FILE] [--timeout SEC] [--bench]
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
BENCH=0
while [ $# -gt 0 ]; do
	case $1 in
	--bench) BENCH=1; shift ;;
	--log) LOG=$2; shift 2 ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	*) echo "usage: $0 [--log FILE] [--timeout SEC] [--bench]" >&2; exit 2 ;;
	esac
done

die() { echo "run-svm: $*" >&2; exit 2; }

KD=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -1) ||
	true
[ -n "$KD" ] || die "no /usr/src/linux-headers-*-amd64 (apt-get install linux-headers-amd64)"
KVER=${KD#/usr/src/linux-headers-}
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] && "$BUSYBOX" --list | grep -x insmod >/dev/null ||
	die "$BUSYBOX with insmod missing (apt-get install busybox-static)"

mkdir -p "$CACHE/deb"

# 1. Debian's kernel image matching the headers, cached.
VMLINUZ=$CACHE/vmlinuz-$KVER
if [ ! -f "$VMLINUZ" ]; then
	(cd "$CACHE/deb" && apt-get download "linux-image-$KVER" >/dev/null) ||
		die "apt-get download linux-image-$KVER failed"
	DEB=$(ls "$CACHE"/deb/linux-image-"$KVER"_*.deb | head -1)
	dpkg-deb --fsys-tarfile "$DEB" | tar -xO "./boot/vmlinuz-$KVER" > "$VMLINUZ.tmp"
	mv "$VMLINUZ.tmp" "$VMLINUZ"
fi

# 2. The module and the test programs.
make -C "$ROOT" -s kmod >/dev/null
KO=$ROOT/kmod/hyvm.ko
VERMAGIC=$(strings "$KO" | sed -n 's/^vermagic=\([^ ]*\).*/\1/p' | head -1)
[ "$VERMAGIC" = "$KVER" ] || die "hyvm.ko vermagic '$VERMAGIC' is not $KVER"

STAGE=$CACHE/initramfs
rm -rf "$STAGE"
mkdir -p "$STAGE"/{bin,dev,proc,sys,tmp,tests,hyvm/guests}
cp "$BUSYBOX" "$STAGE/bin/busybox"
cp "$KO" "$STAGE/hyvm.ko"
TESTS=""
for src in "$ROOT"/tests/kmod/hyvm_*.c; do
	name=$(basename "$src" .c)
	cc -static -O2 -g -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Werror \
		-I"$ROOT/include" -o "$STAGE/tests/$name" "$src" -lpthread ||
		die "building $name failed"
	TESTS="$TESTS $name"
done

# The guest kernel's KVM, for the benchmark (depends: kvm_amd <- kvm, ccp;
# kvm <- irqbypass).
KVM_MODULES=""
if [ $BENCH = 1 ]; then
	DEB=$(ls "$CACHE"/deb/linux-image-"$KVER"_*.deb | head -1)
	mkdir -p "$STAGE/kvm"
	for m in virt/lib/irqbypass.ko arch/x86/kvm/kvm.ko drivers/crypto/ccp/ccp.ko \
		 arch/x86/kvm/kvm-amd.ko; do
		dpkg-deb --fsys-tarfile "$DEB" |
			tar -xO "./lib/modules/$KVER/kernel/$m" > "$STAGE/kvm/$(basename "$m")"
		KVM_MODULES="$KVM_MODULES $(basename "$m")"
	done
	cc -static -O2 -std=gnu11 -Wall -Wextra -Werror -I"$ROOT/include" \
		-o "$STAGE/tests/kmod_exitcost" "$ROOT/bench/kmod_exitcost.c" ||
		die "building bench/kmod_exitcost.c failed"
fi

# Copy a dynamically linked program with its libraries and loader.
copy_with_libs() {
	local bin=$1 dest=$2 lib
	mkdir -p "$STAGE$(dirname "$dest")"
	cp "$bin" "$STAGE$dest"
	for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
		mkdir -p "$STAGE$(dirname "$lib")"
		cp -L "$lib" "$STAGE$lib"
	done
}

# 3. The VMM and the guest suite, when they are built.
GUESTS=0
if [ -x "$ROOT/build/hyvm" ] && [ -x "$ROOT/tests/run-guests.sh" ] &&
   ls "$ROOT"/build/guests/*.elf >/dev/null 2>&1; then
	copy_with_libs "$ROOT/build/hyvm" /hyvm/hyvm
	copy_with_libs /bin/bash /bin/bash
	# run-guests.sh wants coreutils' timeout (--kill-after), not busybox's
	copy_with_libs "$(command -v timeout)" /usr/local/bin/timeout
	cp "$ROOT"/build/guests/*.elf "$STAGE/hyvm/guests/"
	cp "$ROOT/tests/run-guests.sh" "$STAGE/hyvm/run-guests.sh"
	# Misbehaving guests and emulated accesses (MMIO, INS/OUTS).
	mkdir -p "$STAGE/hyvm/cli"
	cp "$ROOT"/build/cli/*.bin "$ROOT/tests/cli/guest-faults.sh" \
		"$ROOT/tests/cli/emulated-io.sh" "$STAGE/hyvm/cli/"
	GUESTS=1
fi

cat > "$STAGE/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/shm && mount -t tmpfs shm /dev/shm
export PATH=/usr/local/bin:/bin:/hyvm
echo HARNESS-BEGIN
if insmod /hyvm.ko; then echo "PASS insmod"; else echo "FAIL insmod: status \$?"; fi
for t in$TESTS; do
	echo "== \$t"
	/tests/\$t || echo "FAIL \$t: exit status \$?"
done
if [ $GUESTS = 1 ]; then
	echo "== guest suite on --engine svm"
	cd /hyvm && bash ./run-guests.sh --hyvm /hyvm/hyvm --guests /hyvm/guests --engines svm
	echo "== guest faults on --engine svm"
	bash /hyvm/cli/guest-faults.sh /hyvm/hyvm /hyvm/cli svm
	echo "== emulated MMIO and string I/O on --engine svm"
	bash /hyvm/cli/emulated-io.sh /hyvm/hyvm /hyvm/cli svm
	cd /
fi
if [ $BENCH = 1 ]; then
	for m in$KVM_MODULES; do insmod /kvm/\$m || echo "FAIL insmod \$m"; done
	/tests/kmod_exitcost 5000
fi
if rmmod hyvm; then echo "PASS rmmod"; else echo "FAIL rmmod: status \$?"; fi
echo HARNESS-DMESG-BEGIN
dmesg
echo HARNESS-DMESG-END
echo HARNESS-END
poweroff -f
EOF
chmod +x "$STAGE/init"
INITRD=$CACHE/initramfs-svm.cpio.gz
CPIO="cpio --quiet"
command -v cpio >/dev/null || CPIO="$BUSYBOX cpio"
(cd "$STAGE" && find . | $CPIO -o -H newc -R 0:0 2>/dev/null | gzip -1) > "$INITRD"

# 4. Boot. One emulator at a time; the timeout bounds a hung guest.
START=$(date +%s)
# Two emulated CPUs: run-guests.sh runs two guests at once, and vCPUs
# migrate between host CPUs.
timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -cpu qemu64,+svm,+npt -m 1G -smp 2 \
	-nographic -no-reboot -kernel "$VMLINUZ" -initrd "$INITRD" \
	-append 'console=ttyS0 quiet' </dev/null > "$LOG" 2>&1 || true
END=$(date +%s)

# 5. Judge by the serial log.
tr -d '\r' < "$LOG" > "$LOG.txt"
grep -E '^(PASS|FAIL|SKIP|BENCH) ' "$LOG.txt" || true
grep -E '^[0-9]+ passed, [0-9]+ failed' "$LOG.txt" | sed 's/^/guest suite: /' || true
PASSED=$(grep -c '^PASS ' "$LOG.txt" || true)
FAILED=$(grep -c '^FAIL ' "$LOG.txt" || true)
BAD=0
if grep -nE 'Oops|WARNING:|BUG:|Call Trace|general protection fault|kernel panic' "$LOG.txt"; then
	echo "run-svm: kernel oops/warning in the log ($LOG)"
	BAD=1
fi
if ! grep -q '^HARNESS-END' "$LOG.txt"; then
	echo "run-svm: the emulated host did not finish (timeout ${TIMEOUT}s or crash); log: $LOG"
	BAD=1
fi
echo "emulated host: qemu tcg +svm +npt, 2 CPUs, kernel $KVER, ${TIMEOUT}s limit, ran $((END - START)) s"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ] && [ "$BAD" = 0 ] && [ "$PASSED" -gt 0 ]
