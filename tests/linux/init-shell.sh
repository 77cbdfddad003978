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
	# udhcpc calls this with $1 = deconfig, bound or renew and the lease in
	# $ip, $mask (prefix bits), $router, $dns (busybox's simple.script)
	cat >/bin/udhcpc.script <<'SCRIPT'
#!/bin/sh
case "$1" in
deconfig)
	ip addr flush dev "$interface"
	ip link set "$interface" up ;;
bound|renew)
	ip addr flush dev "$interface"
	ip addr add "$ip/$mask" dev "$interface"
	for r in $router; do ip route add default via "$r" dev "$interface"; break; done
	: >/etc/resolv.conf
	for d in $dns; do echo "nameserver $d" >>/etc/resolv.conf; done ;;
esac
SCRIPT
	chmod +x /bin/udhcpc.script
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
