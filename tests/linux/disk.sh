#!/usr/bin/env bash
# Debian's i386 kernel with a virtio-blk disk (an ext4 image made here by
# mkfs.ext4 -d, e2fsprogs): the guest mounts /dev/vda, checks a file the
# host put there, writes two files, syncs and powers off; the host then
# finds them with debugfs. Then the same with an undoable disk (snapshot:
# the base stays byte-identical until hyvm disk commit brings the change
# in) and a read-only disk (the guest's write is refused). SKIP when the
# packages cannot be fetched or the engine is absent.
#   tests/linux/disk.sh HYVM [--engine E] [--kernel FILE --modules-root DIR
#       --busybox FILE | --initrd FILE] [--make-initrd FILE]
# (the guest's kernel and initramfs: tests/linux/guest-lib.sh; the default
# is Debian's i386 kernel)
set -u
hyvm=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
. "$here/guest-lib.sh"
guest_args disk.sh "$@"
out=$(dirname "$hyvm")/linux
passed=0 failed=0
fail() { echo "FAIL linux-disk $*"; failed=$((failed + 1)); }
pass() { echo "PASS linux-disk $*"; passed=$((passed + 1)); }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
guest_prepare linux-disk init-disk.sh "virtio_pci virtio_blk crc32c_generic ext4"
if ! "$hyvm" engines | grep -q "^$engine present"; then
	echo "SKIP linux-disk on $engine: $("$hyvm" engines -v | grep "^$engine " | cut -d' ' -f2-)"
	exit 0
fi
for tool in mkfs.ext4 debugfs e2fsck sha256sum; do
	command -v "$tool" >/dev/null || { echo "SKIP linux-disk: no $tool (e2fsprogs)"; exit 0; }
done

# an ext4 image with a random file the guest must read back
. "$here/disk-lib.sh"
disk_tree

# boot MODE DISKSPEC: runs the guest to its power-off; its console in $work/out
boot() {
	local mode=$1 spec=$2
	tag=$RANDOM$RANDOM
	timeout -k 5 "$limit" "$hyvm" run --engine "$engine" --mem "$mem" -k "$kernel" \
		-i "$initrd" -p "console=ttyS0 quiet hyvm.disk=$mode hyvm.test=$tag" \
		--disk "$spec" >"$work/out" 2>"$work/err" </dev/null
	status=$?
}

# checks common to every run; $1 names the case
check_run() {
	local name=$1 ok=1
	[[ $status == 0 ]] || { fail "$name: exit status $status: $(tail -n 2 "$work/err" | tr '\n' ' ')"; ok=0; }
	for w in "hyvm-disk: pci 0000:00:02.0 0x1af4:0x1042" "hyvm-disk: size 131072" \
		 "hyvm-disk: mounted" "hyvm-disk: host-file $host_sum" "hyvm-disk: done"; do
		grep -qF -- "$w" "$work/out" || { fail "$name: the guest never printed '$w'"; ok=0; }
	done
	if grep -E 'hyvm-disk: modprobe|hyvm-dmesg: .*(I/O error|EXT4-fs (error|warning)|blk_update)' "$work/out"; then
		fail "$name: errors in the guest (above)"
		ok=0
	fi
	((ok))
}

# 1. a plain disk: the guest's files reach the image
img=$work/plain.img
new_image "$img"
boot write "$img"
if check_run write; then
	guest_sum=$(sed -n 's/.*hyvm-disk: guest-file \([0-9a-f]*\).*/\1/p' "$work/out")
	disk_check_write write "$img" "$tag" "$guest_sum"
fi

# 2. snapshot: the base stays byte-identical, commit brings the change in
img=$work/base.img
new_image "$img"
base_sum=$(sha256sum "$img" | cut -d' ' -f1)
boot write "$img,snapshot,overlay=$work/base.overlay"
if check_run snapshot; then
	disk_check_snapshot snapshot "$img" "$base_sum" "$work/base.overlay" "$tag"
fi

# 3. read-only: the guest sees it read-only and its write is refused
img=$work/ro.img
new_image "$img"
base_sum=$(sha256sum "$img" | cut -d' ' -f1)
boot readonly "$img,readonly"
if check_run readonly; then
	disk_check_readonly readonly "$img" "$base_sum" "$work/out" "hyvm-disk:"
fi
echo "$passed passed, $failed failed"
((failed == 0))
