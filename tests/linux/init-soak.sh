#!/bin/busybox sh
# /init of the soak test's initramfs (tests/linux/soak.sh builds it):
# disk, network and timer load at once until the host says stop. Loads
# virtio-blk and virtio-net, takes an address by DHCP from libslirp, starts
# a timer loop (1 ms sleeps: a timer interrupt and a wake-up each) and then,
# round after round: writes 256 KiB to /dev/vda and syncs it (virtio-blk
# writes and a FLUSH), reads it back and compares, fetches the host's file
# over HTTP through the gateway 10.0.2.2 and checks its sha256, and prints
# "hyvm-soak: round N" so the host sees progress. Rounds start every 2 s
# of guest time (a round takes 0.4-1.2 s on bt, shorter as its code gets
# translated): at a rising rate, libslirp's sockets of closed connections
# (held ~25 s each) rose with it and the heap's high-water mark too, so
# the quarters soak.sh compares carried different loads. It powers off
# when the host's server has /stop (soak.sh ends hyvm itself if that
# never comes).
# Command line: hyvm.port=P, hyvm.sum=SHA256 (of the host's file).
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /tmp
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
port=$(sed -n 's/.*hyvm\.port=\([0-9]*\).*/\1/p' /proc/cmdline)
want=$(sed -n 's/.*hyvm\.sum=\([0-9a-f]*\).*/\1/p' /proc/cmdline)
for m in virtio_pci virtio_blk virtio_net; do
	modprobe $m || echo "hyvm-soak: modprobe $m failed"
done
ip link set eth0 up
udhcpc -i eth0 -s /bin/udhcpc.script -n -q -t 5 -T 2 >/dev/null 2>&1 ||
	echo "hyvm-soak: udhcpc failed"
(while :; do usleep 1000; done) &
head -c 262144 /dev/urandom >/tmp/block
blocksum=$(sha256sum /tmp/block | cut -d' ' -f1)
echo "hyvm-soak: running"
# centiseconds since boot
uptime_cs() { read up _ </proc/uptime; echo "${up%.*}${up#*.}"; }
period=200
i=1
while :; do
	next=$(($(uptime_cs) + period))
	dd if=/tmp/block of=/dev/vda bs=4096 seek=$(((i % 8) * 64)) conv=notrunc,fsync 2>/dev/null ||
		echo "hyvm-soak: write $i failed"
	sync
	echo 3 >/proc/sys/vm/drop_caches
	got=$(dd if=/dev/vda bs=4096 skip=$(((i % 8) * 64)) count=64 2>/dev/null | sha256sum | cut -d' ' -f1)
	[ "$got" = "$blocksum" ] || echo "hyvm-soak: read-back $i differs"
	if timeout 30 wget -q -O /tmp/host.bin "http://10.0.2.2:$port/host.bin"; then
		[ "$(sha256sum /tmp/host.bin | cut -d' ' -f1)" = "$want" ] ||
			echo "hyvm-soak: fetch $i differs"
	else
		echo "hyvm-soak: fetch $i failed"
	fi
	echo "hyvm-soak: round $i"
	wget -q -O /tmp/stop "http://10.0.2.2:$port/stop" 2>/dev/null && break
	now=$(uptime_cs)
	[ "$now" -lt "$next" ] && usleep $(((next - now) * 10000))
	i=$((i + 1))
done
echo "hyvm-soak: done"
poweroff -f
