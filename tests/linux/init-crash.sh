#!/bin/busybox sh
# /init of the crash test's initramfs (tests/linux/crash.sh): writes
# numbered 512-byte records round-robin into 64 sectors of /dev/vda,
# each with fsync (a virtio-blk FLUSH), and prints "hyvm-crash: flushed
# SEQ SLOT" only after the fsync returned, until the host kills hyvm.
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_pci virtio_blk; do modprobe $m || echo "hyvm-crash: modprobe $m failed"; done
echo "hyvm-crash: writing"
i=1
while :; do
	slot=$((i % 64))
	printf 'hyvm-crash-record %08d\n' $i >/tmp/rec
	dd if=/tmp/rec of=/dev/vda bs=512 seek=$slot count=1 conv=notrunc,sync,fsync 2>/dev/null ||
		{ echo "hyvm-crash: write $i failed"; break; }
	echo "hyvm-crash: flushed $i $slot"
	i=$((i + 1))
done
poweroff -f
