#!/bin/busybox sh
# /init of build/linux/initramfs-shell.cpio.gz (tests/linux/fetch-kernels.sh):
# an interactive busybox shell for trying hyvm by hand. Loads the virtio
# and ext4 modules, mounts the first virtio disk at /mnt when it holds a
# file system, configures eth0 by DHCP when there is a network card, and
# powers the VM off when the shell exits.
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /mnt /tmp /etc
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_pci virtio_blk virtio_net crc32c_generic ext4; do modprobe -q $m; done
if [ -b /dev/vda ] && mount /dev/vda /mnt 2>/dev/null; then
	echo "hyvm-shell: /dev/vda mounted on /mnt"
fi
if [ -e /sys/class/net/eth0 ]; then
	# /bin/udhcpc.script: tests/linux/udhcpc.script, put there by mkinitramfs.sh
	ip link set lo up
	ip link set eth0 up
	if udhcpc -i eth0 -s /bin/udhcpc.script -n -q -t 5 -T 2 >/dev/null 2>&1; then
		echo "hyvm-shell: eth0 $(ip -4 addr show eth0 | sed -n 's/.*inet \([0-9./]*\).*/\1/p')"
	else
		echo "hyvm-shell: eth0 got no DHCP lease"
	fi
fi
echo "hyvm-shell: type exit (or Ctrl-D) to power off; Ctrl-A x quits hyvm"
setsid cttyhack sh
sync
umount /mnt 2>/dev/null
poweroff -f
