#!/bin/busybox sh
# /init of the network test's initramfs (tests/linux/net.sh builds it):
# loads virtio-net, lists the PCI functions, takes an address by DHCP
# from libslirp (busybox udhcpc with the small script below), fetches the
# host's file through the gateway 10.0.2.2 and prints its sha256, then
# serves a file with busybox httpd on port 8080 (the host reaches it by
# hostfwd) until the host publishes "go", and powers off. Every wait is
# bounded, so a broken network ends in a power-off, not a hang. Prints
# "hyvm-net:" lines net.sh checks. Command line: hyvm.port=P (the host's
# HTTP server on 127.0.0.1, 10.0.2.2 here), hyvm.test=TAG.
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /tmp /www /etc
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
port=$(sed -n 's/.*hyvm\.port=\([0-9]*\).*/\1/p' /proc/cmdline)
tag=$(sed -n 's/.*hyvm\.test=\([0-9]*\).*/\1/p' /proc/cmdline)
for m in virtio_pci virtio_net; do
	modprobe $m || echo "hyvm-net: modprobe $m failed"
done
for d in /sys/bus/pci/devices/*; do
	echo "hyvm-net: pci $(basename $d) $(cat $d/vendor):$(cat $d/device) $(cat $d/class)"
done
# /bin/udhcpc.script: tests/linux/udhcpc.script, put there by mkinitramfs.sh
ip link set eth0 up && echo "hyvm-net: eth0 $(cat /sys/class/net/eth0/address)"
udhcpc -i eth0 -s /bin/udhcpc.script -n -q -t 5 -T 2 >/dev/null 2>&1 ||
	echo "hyvm-net: udhcpc failed"
echo "hyvm-net: addr $(ip -4 -o addr show dev eth0 | sed -n 's/.* inet \([0-9.]*\)\/.*/\1/p')"
echo "hyvm-net: route $(ip route | sed -n 's/^default via \([0-9.]*\).*/\1/p')"
echo "hyvm-net: dns $(sed -n 's/^nameserver //p' /etc/resolv.conf | head -n 1)"
if timeout 60 wget -q -O /tmp/host.bin "http://10.0.2.2:$port/host.bin"; then
	echo "hyvm-net: host-file $(sha256sum /tmp/host.bin | cut -d' ' -f1)"
else
	echo "hyvm-net: wget failed"
fi
echo "served by the guest $tag" >/www/guest.txt
head -c 200000 /dev/urandom >/www/guest.bin
echo "hyvm-net: guest-file $(sha256sum /www/guest.bin | cut -d' ' -f1)"
httpd -p 8080 -h /www && echo "hyvm-net: httpd ready"
# the host puts "go" next to host.bin once it has fetched ours
i=0
while [ $i -lt 120 ]; do
	wget -q -O /tmp/go "http://10.0.2.2:$port/go" 2>/dev/null && break
	sleep 0.5
	i=$((i + 1))
done
[ -s /tmp/go ] && echo "hyvm-net: go" || echo "hyvm-net: no go from the host"
cat /proc/net/dev | grep eth0 | sed 's/^/hyvm-net: stats /'
dmesg | grep -iE 'virtio|eth0' | sed 's/^/hyvm-dmesg: /'
echo "hyvm-net: done"
poweroff -f
