#!/bin/busybox sh
# /init of tests/linux/disk-net.sh's initramfs: the checks of disk.sh and
# net.sh in one boot. Three virtio disks in the order of hyvm's --disk
# options: vda (plain) and vdb (undoable) are mounted, checked for the
# host's file, written (a small and a 1 MiB file), synced and unmounted;
# vdc (read-only) is mounted read-only and a write to it must be refused.
# Then eth0 takes an address by DHCP from libslirp and fetches the host's
# file from 10.0.2.2:PORT. Prints "hyvm-io:" lines disk-net.sh checks and
# powers off; every wait is bounded. Command line: hyvm.port=P,
# hyvm.test=TAG.
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /tmp /mnt /etc
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
port=$(sed -n 's/.*hyvm\.port=\([0-9]*\).*/\1/p' /proc/cmdline)
tag=$(sed -n 's/.*hyvm\.test=\([0-9]*\).*/\1/p' /proc/cmdline)
for m in virtio_pci virtio_blk virtio_net crc32c_generic ext4; do
	modprobe $m || echo "hyvm-io: modprobe $m failed"
done
for d in /sys/bus/pci/devices/*; do
	echo "hyvm-io: pci $(basename $d) $(cat $d/vendor):$(cat $d/device)"
done
for v in vda vdb vdc; do
	echo "hyvm-io: $v size $(cat /sys/block/$v/size)"
	opt=rw
	[ $v != vdc ] || opt=ro
	mount -t ext4 -o $opt /dev/$v /mnt && echo "hyvm-io: $v mounted"
	echo "hyvm-io: $v host-file $(sha256sum /mnt/host.bin | cut -d' ' -f1)"
	if [ $v = vdc ]; then
		echo "hyvm-io: $v ro $(cat /sys/block/$v/ro)"
		if dd if=/dev/zero of=/dev/$v bs=512 count=1 2>/dev/null; then
			echo "hyvm-io: $v write went through"
		else
			echo "hyvm-io: $v write refused"
		fi
	else
		echo "written by the guest $tag" > /mnt/guest.txt
		dd if=/dev/urandom of=/mnt/guest.bin bs=64k count=16 2>/dev/null
		echo "hyvm-io: $v guest-file $(sha256sum /mnt/guest.bin | cut -d' ' -f1)"
		sync
	fi
	umount /mnt && echo "hyvm-io: $v unmounted"
done
ip link set eth0 up && echo "hyvm-io: eth0 $(cat /sys/class/net/eth0/address)"
udhcpc -i eth0 -s /bin/udhcpc.script -n -q -t 5 -T 2 >/dev/null 2>&1 ||
	echo "hyvm-io: udhcpc failed"
echo "hyvm-io: addr $(ip -4 -o addr show dev eth0 | sed -n 's/.* inet \([0-9.]*\)\/.*/\1/p')"
if timeout 60 wget -q -O /tmp/host.bin "http://10.0.2.2:$port/host.bin"; then
	echo "hyvm-io: http-file $(sha256sum /tmp/host.bin | cut -d' ' -f1)"
else
	echo "hyvm-io: wget failed"
fi
dmesg | grep -iE 'virtio|vd[a-c]|eth0|EXT4-fs (error|warning)|I/O error|blk_update' |
	sed 's/^/hyvm-dmesg: /'
echo "hyvm-io: done"
poweroff -f
