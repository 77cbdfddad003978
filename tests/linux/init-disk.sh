#!/bin/busybox sh
# /init of the disk test's initramfs (tests/linux/disk.sh builds it): loads
# virtio and ext4, then does what hyvm.disk= on the command line says with
# /dev/vda, printing "hyvm-disk:" lines disk.sh checks, and powers off.
#   write     mount, check the host's file, write a small and a 1 MiB file
#   readonly  mount -o ro, check the host's file, a write must be refused
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /mnt
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mode=$(sed -n 's/.*hyvm\.disk=\([a-z]*\).*/\1/p' /proc/cmdline)
tag=$(sed -n 's/.*hyvm\.test=\([0-9]*\).*/\1/p' /proc/cmdline)
for m in virtio_pci virtio_blk crc32c_generic ext4; do
	modprobe $m || echo "hyvm-disk: modprobe $m failed"
done
for d in /sys/bus/pci/devices/*; do
	echo "hyvm-disk: pci $(basename $d) $(cat $d/vendor):$(cat $d/device)"
done
echo "hyvm-disk: size $(cat /sys/block/vda/size)"
if [ "$mode" = readonly ]; then
	mount -t ext4 -o ro /dev/vda /mnt && echo "hyvm-disk: mounted"
	echo "hyvm-disk: ro $(cat /sys/block/vda/ro)"
	echo "hyvm-disk: host-file $(sha256sum /mnt/host.bin | cut -d' ' -f1)"
	if dd if=/dev/zero of=/dev/vda bs=512 count=1 2>/dev/null; then
		echo "hyvm-disk: write went through"
	else
		echo "hyvm-disk: write refused"
	fi
	umount /mnt
else
	mount -t ext4 /dev/vda /mnt && echo "hyvm-disk: mounted"
	echo "hyvm-disk: host-file $(sha256sum /mnt/host.bin | cut -d' ' -f1)"
	echo "written by the guest $tag" > /mnt/guest.txt
	dd if=/dev/urandom of=/mnt/guest.bin bs=64k count=16 2>/dev/null
	echo "hyvm-disk: guest-file $(sha256sum /mnt/guest.bin | cut -d' ' -f1)"
	sync
	umount /mnt && echo "hyvm-disk: unmounted"
fi
dmesg | grep -iE 'virtio|vda|EXT4-fs (error|warning)|I/O error|blk_update' |
	sed 's/^/hyvm-dmesg: /'
echo "hyvm-disk: done"
poweroff -f
