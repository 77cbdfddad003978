#!/bin/bash
# Issue 14: does the CPU keep DF and OF across bt's translated CMPXCHG8B
# (cmpxchg8b-flags.c says what it runs and checks)? Runs the program on
# this machine, then inside the emulated AMD host of tests/kmod/run-svm.sh
# (Debian's amd64 kernel in QEMU TCG, -cpu qemu64,+svm,+npt, 2 CPUs; only
# busybox and the static program in its initramfs, nothing of hyvm).
#
#   tests/kmod/tcg-cmpxchg8b/run.sh [ITERATIONS] [--no-emulated]
#
# Prints the program's lines prefixed "outer|" and "emulated|", then one
# PASS or FAIL line for each CPU; status 0 iff both keep DF/OF (and ZF,
# SF, PF, CF) as the SDM says.
set -u
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
CACHE=$ROOT/build/kmod-host
OUT=$ROOT/build/tcg-cmpxchg8b
ITERS=${1:-256}
EMULATED=1
[ "${2:-}" != --no-emulated ] || EMULATED=0
die() { echo "FAIL tcg-cmpxchg8b: $*"; exit 1; }
. "$ROOT/tests/kmod/host-lib.sh"
mkdir -p "$OUT"

cc -static -O2 -Wall -Wextra -Werror -o "$OUT/cmpxchg8b-flags" \
	"$ROOT/tests/kmod/tcg-cmpxchg8b/cmpxchg8b-flags.c" || die "building cmpxchg8b-flags.c failed"
status=0

"$OUT/cmpxchg8b-flags" "$ITERS" > "$OUT/outer.txt" 2>&1; r=$?
sed 's/^/outer| /' "$OUT/outer.txt"
if [ $r = 0 ]; then echo "PASS this machine's CPU ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)): CMPXCHG8B keeps DF and OF"
else echo "FAIL this machine's CPU: status $r (lines above)"; status=1; fi

# the program's self-check: with DF=1 put in before, every run must be bad
"$OUT/cmpxchg8b-flags" 4 --df-before > "$OUT/selfcheck.txt" 2>&1; r=$?
if [ $r = 1 ] && ! grep -q ' 0 bad' "$OUT/selfcheck.txt"; then echo "PASS self-check: DF=1 before is seen in every case"
else echo "FAIL self-check: DF=1 before was not seen in every case (status $r)"; status=1; fi

[ $EMULATED = 1 ] || exit $status
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing"
host_kernel
STAGE=$OUT/stage
rm -rf "$STAGE"; mkdir -p "$STAGE"/{bin,dev,proc,sys,tmp}
cp /bin/busybox "$STAGE/bin/busybox" || die "/bin/busybox missing (apt-get install busybox-static)"
cp "$OUT/cmpxchg8b-flags" "$STAGE/bin/"
cat > "$STAGE/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
echo HARNESS-BEGIN
grep -m1 'model name' /proc/cpuinfo
/bin/cmpxchg8b-flags $ITERS; echo "EXIT \$?"
/bin/cmpxchg8b-flags 4 --df-before > /tmp/selfcheck.txt; echo "SELFCHECK-EXIT \$? \$(grep -c ' 0 bad' /tmp/selfcheck.txt) cases without a bad run"
echo HARNESS-END
poweroff -f
EOF
chmod +x "$STAGE/init"
(cd "$STAGE" && find . | cpio --quiet -o -H newc -R 0:0 | gzip -1) > "$OUT/initramfs.cpio.gz"
timeout 900 qemu-system-x86_64 -accel tcg -cpu qemu64,+svm,+npt -m 512M -smp 2 \
	-nographic -no-reboot -kernel "$VMLINUZ" -initrd "$OUT/initramfs.cpio.gz" \
	-append "console=ttyS0 quiet panic=1" </dev/null 2>&1 | tr -d '\r' > "$OUT/emulated.txt"
sed -n '/HARNESS-BEGIN/,/^HARNESS-END/p' "$OUT/emulated.txt" | sed 's/^/emulated| /'
if ! grep -q '^HARNESS-END' "$OUT/emulated.txt"; then
	echo "FAIL emulated host: no end marker (log: $OUT/emulated.txt)"; status=1
elif ! grep -q '^SELFCHECK-EXIT 1 0 cases' "$OUT/emulated.txt"; then
	echo "FAIL emulated host: the self-check (DF=1 before) was not seen as bad in every case: $(grep '^SELFCHECK-EXIT' "$OUT/emulated.txt")"; status=1
elif grep -q '^EXIT 0' "$OUT/emulated.txt"; then
	echo "PASS emulated host (QEMU $(qemu-system-x86_64 --version | head -1 | awk '{print $4}') TCG): CMPXCHG8B keeps DF and OF"
else
	echo "FAIL emulated host (QEMU $(qemu-system-x86_64 --version | head -1 | awk '{print $4}') TCG): RFLAGS after CMPXCHG8B (as PUSHFQ reads them) are not what the SDM says (only ZF changes): $(sed -n 's/^FAIL: //p' "$OUT/emulated.txt" | head -1); with an ADD before it in the same block, RFLAGS get the ADD's source operand ORed in, so DF and OF come out set when that value has bits 10 and 11 (cases above; bt's SLUB block in Linux is one)"
	status=1
fi
exit $status
