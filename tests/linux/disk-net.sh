#!/usr/bin/env bash
# The virtio checks of disk.sh and net.sh in ONE boot, for hosts where a
# boot is dear (the emulated hosts: tests/kmod/run-vmx.sh --linux-virtio):
# the guest has three virtio-blk disks, ext4 images made here (mkfs.ext4 -d)
# of different sizes so the guest's vda/vdb/vdc are told apart: plain,
# undoable (snapshot with its overlay) and read-only, and a virtio-net card
# on libslirp. Its /init (init-disk-net.sh) mounts each disk and reads the
# host's file back, writes and syncs on the first two, has a write to the
# read-only one refused, takes an address by DHCP, fetches a 1 MB file
# from an HTTP server this script starts on 127.0.0.1 (python3, or busybox
# httpd: http-lib.sh) and prints its sha256, and powers off. Then here
# (disk-lib.sh): debugfs finds the guest's files in the plain image, the
# undoable disk's base is byte-identical and hyvm disk commit brings the
# change in, the read-only image is unchanged. No hostfwd (net.sh has it).
# A failure adds DIAG lines: the guest's last console lines and, after a
# timeout, hyvm's stop report (the vCPU, exits, the interrupt controllers).
# SKIP when the packages cannot be fetched or the engine is absent.
#   tests/linux/disk-net.sh HYVM [--engine E] [--kernel FILE --modules-root DIR
#       --busybox FILE | --initrd FILE] [--make-initrd FILE] [--mem MIB] [--limit SECS]
# (the guest's kernel and initramfs: tests/linux/guest-lib.sh; the default
# is Debian's i386 kernel)
set -u
hyvm=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
. "$here/guest-lib.sh"
guest_args disk-net.sh "$@"
out=$(dirname "$hyvm")/linux
passed=0 failed=0
fail() { echo "FAIL linux-disk-net $*"; failed=$((failed + 1)); }
pass() { echo "PASS linux-disk-net $*"; passed=$((passed + 1)); }

work=$(mktemp -d)
server=
cleanup() {
	[[ -n $server ]] && kill "$server" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
guest_prepare linux-disk-net init-disk-net.sh "virtio_pci virtio_blk virtio_net crc32c_generic ext4"
if ! "$hyvm" engines | grep -q "^$engine present"; then
	echo "SKIP linux-disk-net on $engine: $("$hyvm" engines -v | grep "^$engine " | cut -d' ' -f2-)"
	exit 0
fi
for tool in mkfs.ext4 debugfs e2fsck sha256sum; do
	command -v "$tool" >/dev/null || { echo "SKIP linux-disk-net: no $tool (e2fsprogs)"; exit 0; }
done
. "$here/disk-lib.sh"
. "$here/http-lib.sh"
http_pick || { echo "SKIP linux-disk-net: neither python3 nor busybox with httpd"; exit 0; }

disk_tree
# small: every byte is hashed twice (the snapshot's base and the read-only
# image), which in Bochs cost minutes at 64-80M
new_image "$work/plain.img" 16M
new_image "$work/base.img" 20M
new_image "$work/ro.img" 24M
base_sum=$(sha256sum "$work/base.img" | cut -d' ' -f1)
ro_sum=$(sha256sum "$work/ro.img" | cut -d' ' -f1)
mkdir "$work/www"
head -c 1000000 /dev/urandom >"$work/www/host.bin"
net_sum=$(sha256sum "$work/www/host.bin" | cut -d' ' -f1)
http_serve "$work/www" || { fail "the host's HTTP server did not start: $(tail -n 1 "$work/server.err")"; exit 1; }

tag=$RANDOM$RANDOM
start=$(date +%s)
HYVM_STOP_REPORT=1 timeout -k 5 "$limit" "$hyvm" run --engine "$engine" --mem "$mem" -k "$kernel" \
	-i "$initrd" -p "console=ttyS0 quiet hyvm.port=$port hyvm.test=$tag" \
	--disk "$work/plain.img" --disk "$work/base.img,snapshot,overlay=$work/base.overlay" \
	--disk "$work/ro.img,readonly" --net user >"$work/out" 2>"$work/err" </dev/null
status=$?
secs=$(($(date +%s) - start))

# the boot: status 0 after the guest's power-off (its /init, a busybox
# shell script, ran to the end), every line it must print, no kernel oops
missing=()
for w in "hyvm-io: vda size 32768" "hyvm-io: vdb size 40960" "hyvm-io: vdc size 49152" \
	"hyvm-io: vda mounted" "hyvm-io: vdb mounted" "hyvm-io: vdc mounted" \
	"hyvm-io: vda host-file $host_sum" "hyvm-io: vdb host-file $host_sum" \
	"hyvm-io: vdc host-file $host_sum" "hyvm-io: vda unmounted" "hyvm-io: vdb unmounted" \
	"hyvm-io: done"; do
	grep -qF -- "$w" "$work/out" || missing+=("$w")
done
if ((status != 0)); then
	fail "boot: exit status $status after $secs s: $(tail -n 2 "$work/err" | tr '\n' ' ')"
elif ((${#missing[@]})); then
	fail "boot: the guest never printed '${missing[0]}' (and $((${#missing[@]} - 1)) more)"
elif grep -E 'hyvm-io: (modprobe|udhcpc|wget)|hyvm-dmesg: .*(I/O error|EXT4-fs (error|warning)|blk_update)|Kernel panic|Oops|BUG:' "$work/out"; then
	fail "boot: errors in the guest (above)"
else
	pass "boot: three disks and the network in one boot, to the guest's power-off in $secs s"
fi
if [[ $(grep -c 'hyvm-io: pci .* 0x1af4:0x1042' "$work/out") == 3 ]] &&
	grep -q 'hyvm-io: pci .* 0x1af4:0x1041' "$work/out"; then
	pass "pci: three virtio-blk (0x1af4:0x1042) and a virtio-net (0x1af4:0x1041) function"
else
	fail "pci: $(grep 'hyvm-io: pci' "$work/out" | tr '\n' ' ')"
fi
disk_check_write plain "$work/plain.img" "$tag" \
	"$(sed -n 's/.*hyvm-io: vda guest-file \([0-9a-f]*\).*/\1/p' "$work/out")"
if grep -q 'hyvm-io: vdb guest-file' "$work/out"; then
	disk_check_snapshot snapshot "$work/base.img" "$base_sum" "$work/base.overlay" "$tag"
else
	fail "snapshot: the guest never wrote to vdb"
fi
disk_check_readonly readonly "$work/ro.img" "$ro_sum" "$work/out" "hyvm-io: vdc"
if grep -qF "hyvm-io: http-file $net_sum" "$work/out"; then
	pass "http-get: DHCP ($(sed -n 's/.*hyvm-io: addr //p' "$work/out")) and the host's 1 MB file over virtio-net, its sha256 intact"
else
	fail "http-get: host sha256 $net_sum, the guest: $(grep -E 'hyvm-io: (eth0|addr|http-file|wget|udhcpc)' "$work/out" | tr '\n' ' ')"
fi
# a vector the engine refused after offering to take it is lost to the
# guest (userspace/vmm/vm_report.h)
if grep -q '^hyvm: engine .* refused interrupt' "$work/err"; then
	fail "interrupts: $(grep -m1 '^hyvm: engine .* refused interrupt' "$work/err" | cut -c7-)"
fi
if ((failed)); then
	echo "    the guest's console:"; grep -E "hyvm-(io|dmesg)" "$work/out" | sed 's/^/    /' | head -40
	tr -d '\r' <"$work/out" | tail -n 12 | sed 's/^/DIAG linux-disk-net console| /'
	# where the guest was when the timeout stopped hyvm (HYVM_STOP_REPORT)
	sed -n 's/^hyvm: stop report: /DIAG linux-disk-net /p' "$work/err"
fi
echo "$passed passed, $failed failed"
((failed == 0))
