#!/bin/busybox sh
# /init of the test initramfs (tests/linux/fetch-kernels.sh puts it there):
# a scripted session whose "hyvm-session:" lines tests/linux/boot.sh checks
# against values computed on the host, then the guest's own power-off.
/bin/busybox --install -s /bin
mkdir -p /proc /sys /tmp
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "hyvm-linux-init: hello from /init, kernel $(uname -r)"
echo "hyvm-session: uname $(uname -sm)"
echo "hyvm-session: cpus $(grep -c ^processor /proc/cpuinfo)"
grep -m2 -E '^(model name|flags)' /proc/cpuinfo | sed 's/^/hyvm-session: cpuinfo /'
# a compute loop in the shell (boot.sh computes the same in bash)
i=0 s=0
while [ $i -lt 3000 ]; do s=$(((s * 31 + i) % 1000003)); i=$((i + 1)); done
echo "hyvm-session: compute $s"
# pipes through three processes
echo "hyvm-session: pipe $(seq 1 1000 | sort -rn | awk '{ s += $1 } END { print s }')"
# fork and exec: eight children at once, each appending a line
for j in 1 2 3 4 5 6 7 8; do /bin/sh -c "echo child $j >>/tmp/forked" & done
wait
echo "hyvm-session: fork $(sort /tmp/forked | uniq | wc -l)"
# the PCI functions the kernel found, as lspci -n would list them (Debian's
# busybox has no lspci applet): address, class, vendor:device, IRQ
for d in /sys/bus/pci/devices/*; do
	[ -e "$d/vendor" ] || continue
	echo "hyvm-session: pci ${d##*/} class $(cat $d/class) id $(cat $d/vendor):$(cat $d/device) irq $(cat $d/irq)"
done
# enabling a function without a driver makes the kernel route its INTx
# (ACPI _PRT, the MP table or the PIC), as a driver's pci_enable_device
for d in /sys/bus/pci/devices/*; do
	[ "$(cat $d/vendor 2>/dev/null):$(cat $d/device 2>/dev/null)" = 0x1b36:0x0005 ] || continue
	echo 1 >"$d/enable"
	echo "hyvm-session: pci ${d##*/} enabled $(cat $d/enable) irq $(cat $d/irq)"
done
# what keeps time and raises the tick (tsc or acpi_pm; lapic-deadline or
# lapic): for the reports, not compared
echo "hyvm-session: clock $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource) $(cat /sys/devices/system/clockevents/clockevent0/current_device 2>/dev/null)"
# the guest's clock against the host's: boot.sh times the two lines; each
# carries the guest's uptime (read by the shell, no fork), so the report
# says how long the sleep took on the guest's clock too
read up rest </proc/uptime
echo "hyvm-session: sleep-start $up"
sleep 10
read up rest </proc/uptime
echo "hyvm-session: sleep-end $up"
dmesg | sed 's/^/hyvm-dmesg: /'
echo "hyvm-session: done"
poweroff -f
