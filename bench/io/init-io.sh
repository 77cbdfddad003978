#!/bin/busybox sh
# /init of bench/io/io.sh's initramfs, the same on hyvm and QEMU: loads
# virtio-blk and virtio-net, takes an address by DHCP, then on /dev/vda
# (scratch: its bytes are overwritten) a sequential write and read of
# hyvm.mib MiB and hyvm.rand random 4 KiB reads (bin/iobench, O_DIRECT),
# then pushes hyvm.netmib MiB to the host's listener at 10.0.2.2:hyvm.port
# (iobench tcpsend; the host times it). Prints "hyvm-bench:" lines and powers off.
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /tmp /etc
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
arg() { sed -n "s/.*hyvm\.$1=\([0-9]*\).*/\1/p" /proc/cmdline; }
mib=$(arg mib) rand=$(arg rand) netmib=$(arg netmib) port=$(arg port)
for m in virtio_pci virtio_blk virtio_net; do
	modprobe $m || echo "hyvm-bench: modprobe $m failed"
done
cat >/bin/udhcpc.script <<'SCRIPT'
#!/bin/sh
case "$1" in
bound|renew)
	ip addr flush dev "$interface"
	ip addr add "$ip/$mask" dev "$interface"
	for r in $router; do ip route add default via "$r" dev "$interface"; break; done ;;
esac
SCRIPT
chmod +x /bin/udhcpc.script
ip link set eth0 up
udhcpc -i eth0 -s /bin/udhcpc.script -n -q -t 5 -T 2 >/dev/null 2>&1 || echo "hyvm-bench: udhcpc failed"
echo "hyvm-bench: ready"
iobench seqwrite /dev/vda "$mib" | sed 's/^RESULT/hyvm-bench: RESULT/'
iobench seqread /dev/vda "$mib" | sed 's/^RESULT/hyvm-bench: RESULT/'
iobench randread /dev/vda "$rand" | sed 's/^RESULT/hyvm-bench: RESULT/'
# 64 KiB writes (busybox nc would write 1 KiB at a time); the host
# closes once it has all the bytes
timeout 300 iobench tcpsend "10.0.2.2:$port" "$netmib" | sed 's/^RESULT/hyvm-bench: RESULT/'
echo "hyvm-bench: net sent"
echo "hyvm-bench: done"
poweroff -f
