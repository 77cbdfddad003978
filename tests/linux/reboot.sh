#!/usr/bin/env bash
# Linux's reboot on bt: boot.sh's kernel with an initramfs whose /init
# prints its line and runs `reboot -f` (the kernel resets through the
# i8042, having no ACPI reset register). hyvm must reset the machine and
# boot the same kernel and initrd again: the test waits for /init's line
# twice with one "hyvm: guest reset, rebooting" between, then stops hyvm.
# With --no-reboot the first reset must end hyvm with status 0. About
# 90 s of bt per boot, so not part of make test: make test-linux-reboot.
#   tests/linux/reboot.sh HYVM
set -u
hyvm=$1
here=$(cd "$(dirname "$0")" && pwd)
out=$(dirname "$hyvm")/linux
"$here/fetch-kernels.sh" "$out" >/dev/null 2>"$out.fetch.err"
case $? in
0) ;;
77) echo "SKIP linux-reboot: $(tail -1 "$out.fetch.err")"; exit 0 ;;
*) echo "FAIL linux-reboot: fetch-kernels.sh failed"; exit 1 ;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -a "$out/initramfs" "$work/initramfs"
cat >"$work/initramfs/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox echo "hyvm-linux-init: hello from /init, rebooting"
/bin/busybox reboot -f
INIT
(cd "$work/initramfs" && find . | cpio -o -H newc --quiet | gzip -9) >"$work/initrd.gz"
append="console=ttyS0 nolapic noapic"
hello="hyvm-linux-init: hello from /init, rebooting"
passed=0 failed=0

run() { # deadline-s wanted-hellos extra-flags...
	local deadline=$1 want=$2 start t
	shift 2
	start=$(date +%s)
	"$hyvm" run --engine bt --mem 128 "$@" -k "$out/vmlinuz-686" -i "$work/initrd.gz" \
		-p "$append" >"$work/out" 2>"$work/err" </dev/null &
	pid=$!
	for ((t = 0; t < deadline * 10; t++)); do
		(($(grep -cF "$hello" "$work/out") >= want)) && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	secs=$(($(date +%s) - start))
}

run 400 2
hellos=$(grep -cF "$hello" "$work/out") resets=$(grep -c '^hyvm: guest reset, rebooting$' "$work/err")
kill -INT "$pid" 2>/dev/null; wait "$pid"
if ((hellos >= 2 && resets >= 1)); then
	echo "PASS linux-reboot: /init twice, $resets reset line(s), $secs s"
	passed=$((passed + 1))
else
	echo "FAIL linux-reboot: /init $hellos times, $resets reset lines after $secs s"
	tail -5 "$work/out" "$work/err" | sed 's/^/    /'
	failed=$((failed + 1))
fi

run 250 1 --no-reboot
for ((t = 0; t < 600; t++)); do	# the reset follows /init's line within seconds
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
kill -INT "$pid" 2>/dev/null; wait "$pid"; status=$?
if ((status == 0)) && grep -q "guest requested a reset" "$work/err"; then
	echo "PASS linux-reboot --no-reboot: status 0 after /init's reboot -f, $secs s"
	passed=$((passed + 1))
else
	echo "FAIL linux-reboot --no-reboot: status $status"
	tail -5 "$work/out" "$work/err" | sed 's/^/    /'
	failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
((failed == 0))
