#!/usr/bin/env bash
# Boots Debian's i386 (-686) kernel with a busybox initramfs through the
# Linux boot protocol loader (tests/linux/fetch-kernels.sh fetches them into
# build/linux; SKIP when the packages cannot be had, or when the engine is
# absent on this host).
#   tests/linux/boot.sh HYVM [--full] [--engine E] [--append-extra STR]
#     (default)  early boot: the kernel's first lines show the zero page was
#                read (version, e820 as given, command line, initrd); the VM
#                is stopped as soon as they are seen
#     --full     the scripted session of tests/linux/init-session.sh: uname,
#                /proc/cpuinfo, a compute loop, pipes, fork/exec, a 10 s
#                sleep timed against the host's clock (+-10%), dmesg free of
#                errors hyvm causes, and the guest's own power-off (status 0)
# HYVM_BOOT_KEEP=FILE keeps the guest's serial output (dmesg included) there.
set -u
hyvm=$1; shift
mode=early engine=bt extra=""
while (($#)); do
	case $1 in
	--full) mode=full ;;
	--engine) engine=${2:?--engine needs a name}; shift ;;
	--append-extra) extra=${2?--append-extra needs a string}; shift ;;
	*) echo "boot.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
name="linux-boot $mode on $engine${extra:+ ($extra)}"
here=$(cd "$(dirname "$0")" && pwd)
out=$(dirname "$hyvm")/linux
"$here/fetch-kernels.sh" "$out" >/dev/null 2>"$out.fetch.err"
case $? in
0) ;;
77) echo "SKIP $name: $(tail -1 "$out.fetch.err")"; exit 0 ;;
*) echo "FAIL $name: fetch-kernels.sh failed:"; sed 's/^/    /' "$out.fetch.err"; exit 1 ;;
esac
if ! "$hyvm" engines | grep -q "^$engine present"; then
	echo "SKIP $name: $("$hyvm" engines -v | grep "^$engine " | cut -d' ' -f2-)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
work=$(mktemp -d)
trap '[[ -n ${HYVM_BOOT_KEEP:-} ]] && cp "$work/out" "$HYVM_BOOT_KEEP"; rm -rf "$work"' EXIT
marker="hyvm.test=$$"
append="console=ttyS0 earlyprintk=serial,ttyS0,115200 $extra $marker"
append=${append//  / }
. "$here/session-lib.sh"
session_want "$append" "$mode"
deadline=30
bar0=0xc0000000-0xc0000fff
[[ " $extra " == *" acpi=off "* ]] && bar0=0x08000000-0x08000fff
if [[ $mode == full ]]; then
	deadline=300
	want+=(
		"hyvm-session: pci 0000:00:00.0 class 0x060000 id 0x8086:0x1237"
		"hyvm-session: pci 0000:00:01.0 class 0x060100 id 0x8086:0x7000"
		# --device pci_testdev: its BARs placed in the _CRS windows, its
		# INTA# (slot 2: PIRQC) at the IRQ the interrupt line register says;
		# with acpi=off there is no _CRS and Linux assigns from the e820 gap
		# above RAM ("[mem 0x08000000-0xffffffff] available for PCI devices",
		# arch/x86/kernel/e820.c e820__setup_pci_gap)
		"pci 0000:00:02.0: BAR 0 [mem $bar0]: assigned"
		"hyvm-session: pci 0000:00:02.0 class 0x00ff00 id 0x1b36:0x0005 irq 10"
		# enabled through sysfs: its INTA# routed by the tables, no warning
		"pci 0000:00:02.0: enabling device (0000 -> 0003)"
		"hyvm-session: pci 0000:00:02.0 enabled 1 irq 10"
	)
fi
start=$(session_now)
# the console through session_stamp, which times the sleep's lines as they come
exec 4> >(session_stamp "$work/out")
stamper=$!
"$hyvm" run --engine "$engine" --mem 128 --device pci_testdev -k "$out/vmlinuz-686" \
	-i "$out/initramfs.cpio.gz" -p "$append" >&4 2>"$work/err" </dev/null &
pid=$!
exec 4>&-	# the stamper ends when hyvm does
session_watch "$pid" "$work/out" "$deadline"
if [[ $mode == full ]] && ((seen == ${#want[@]})); then
	wait "$pid"; status=$?	# /init ends with poweroff -f
else
	kill -INT "$pid" 2>/dev/null; wait "$pid"; status=$?
fi
secs=$(session_sub "$(session_now)" "$start")
for ((i = 0; i < 100; i++)); do	# its last lines written
	kill -0 "$stamper" 2>/dev/null || break
	sleep 0.05
done
problems=()
if [[ $mode == full ]] && ((seen == ${#want[@]})); then
	session_judge "$work/out" "$status" "$marker"
fi
session_report "$name" "$work/out" "$work/err" "$secs" "$status"
exit $?
