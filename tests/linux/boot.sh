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
trap 'rm -rf "$work"' EXIT
marker="hyvm.test=$$"
append="console=ttyS0 earlyprintk=serial,ttyS0,115200 $extra $marker"
append=${append//  / }
want=(
	"Linux version 6."
	"BIOS-e820: [mem 0x0000000000100000-0x0000000007ffffff] usable"
	"RAMDISK: [mem 0x"
	"Kernel command line: $append"
)
deadline=30
if [[ $mode == full ]]; then
	# the values init-session.sh's compute loop and pipe must print
	s=0
	for ((i = 0; i < 3000; i++)); do s=$(((s * 31 + i) % 1000003)); done
	want+=(
		"hyvm-linux-init: hello from /init"
		"hyvm-session: uname Linux i686"
		"hyvm-session: cpus 1"
		"hyvm-session: compute $s"
		"hyvm-session: pipe 500500"
		"hyvm-session: fork 8"
		"hyvm-session: pci 0000:00:00.0 class 0x060000 id 0x8086:0x1237"
		"hyvm-session: pci 0000:00:01.0 class 0x060100 id 0x8086:0x7000"
		# --device pci_testdev: its BARs placed in the _CRS windows, its
		# INTA# (slot 2: PIRQC) at the IRQ the interrupt line register says
		"pci 0000:00:02.0: BAR 0 [mem 0xc0000000-0xc0000fff]: assigned"
		"hyvm-session: pci 0000:00:02.0 class 0x00ff00 id 0x1b36:0x0005 irq 10"
		# enabled through sysfs: its INTA# routed by the tables, no warning
		"pci 0000:00:02.0: enabling device (0000 -> 0003)"
		"hyvm-session: pci 0000:00:02.0 enabled 1 irq 10"
		"hyvm-session: sleep-start"
		"hyvm-session: sleep-end"
		"hyvm-session: done"
	)
	deadline=300
fi
start=$(date +%s.%N)
"$hyvm" run --engine "$engine" --mem 128 --device pci_testdev -k "$out/vmlinuz-686" \
	-i "$out/initramfs.cpio.gz" -p "$append" >"$work/out" 2>"$work/err" </dev/null &
pid=$!
seen=0 t_start="" t_end=""
for ((t = 0; t < deadline * 20; t++)); do
	seen=0
	for w in "${want[@]}"; do
		grep -qF -- "$w" "$work/out" && seen=$((seen + 1))
	done
	# the sleep is timed by when its lines appear, to 50 ms
	if [[ -z $t_start ]] && grep -qF "hyvm-session: sleep-start" "$work/out"; then
		t_start=$(date +%s.%N)
	fi
	if [[ -z $t_end ]] && grep -qF "hyvm-session: sleep-end" "$work/out"; then
		t_end=$(date +%s.%N)
	fi
	((seen == ${#want[@]})) && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.05
done
if [[ $mode == full ]] && ((seen == ${#want[@]})); then
	wait "$pid"; status=$?	# /init ends with poweroff -f
else
	kill -INT "$pid" 2>/dev/null; wait "$pid"; status=$?
fi
secs=$(echo "$(date +%s.%N) - $start" | bc)
problems=()
if [[ $mode == full ]] && ((seen == ${#want[@]})); then
	((status == 0)) || problems+=("hyvm exited with status $status after the guest's poweroff -f")
	slept=$(echo "$t_end - $t_start" | bc)
	if [[ $(echo "$slept < 9 || $slept > 11" | bc) == 1 ]]; then
		problems+=("the guest's sleep 10 took $slept s of host time (want 10 s +-10%)")
	fi
	# dmesg lines that mean hyvm gave the kernel something wrong
	bad='unchecked MSR access|Call Trace|Firmware Bug|BIOS Error|BUG:|WARNING:|Oops|panic|hyvm|spurious|timed out|APIC error|clocksource .* unstable'
	# and the PCI bus or its interrupt routing as the tables describe them
	bad+='|PCI: .*not found|_PRT|IRQ routing conflict|ACPI Error|pci .*(can.t claim|failed|no space)|can.t derive routing|no GSI'
	while IFS= read -r line; do
		problems+=("dmesg: $line")
	done < <(sed -n 's/^hyvm-dmesg: //p' "$work/out" | grep -E -- "$bad" | grep -vF "$marker")
fi
if ((seen == ${#want[@]})) && ((${#problems[@]} == 0)); then
	printf 'PASS %s: %d of %d lines in %.1f s%s (%s)\n' "$name" "$seen" "${#want[@]}" "$secs" \
		"${slept:+, sleep 10 took ${slept:0:5} s}" "$(grep -m1 -o 'Linux version [^ ]*' "$work/out")"
	echo "1 passed, 0 failed, 0 skipped"
	exit 0
fi
printf 'FAIL %s: %d of %d lines after %.1f s, status %d\n' "$name" "$seen" "${#want[@]}" "$secs" "$status"
for w in "${want[@]}"; do grep -qF -- "$w" "$work/out" || echo "    missing: $w"; done
for p in "${problems[@]}"; do echo "    $p"; done
echo "  last lines:"; grep -v '^hyvm-dmesg' "$work/out" | tail -8 | sed 's/^/    /'; tail -3 "$work/err" | sed 's/^/    /'
echo "0 passed, 1 failed, 0 skipped"
exit 1
