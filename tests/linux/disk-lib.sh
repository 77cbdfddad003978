# Sourced by tests/linux/disk.sh and disk-net.sh: the host's side of the
# virtio-blk checks, on ext4 images made here (mkfs.ext4 -d, e2fsprogs)
# and read back with debugfs.
#   disk_tree            -> $work/tree/host.bin (300 kB random) and host_sum,
#                           its sha256, which the guest must read back
#   new_image FILE [SIZE] -> an ext4 image of SIZE (truncate's spelling,
#                           default 64M) holding $work/tree
#   fs_cat NAME IMAGE    -> the file /NAME from the image, on stdout
#   disk_check_write CASE IMAGE TAG GUEST_SUM
#       the guest's guest.txt ("written by the guest TAG") and guest.bin
#       (sha256 GUEST_SUM, as the guest printed it) are in the image, and
#       e2fsck finds it clean
#   disk_check_snapshot CASE IMAGE BASE_SUM OVERLAY TAG
#       the base is byte-identical (BASE_SUM), the overlay holds the
#       writes, and hyvm disk commit brings guest.txt into the base cleanly
#   disk_check_readonly CASE IMAGE BASE_SUM OUT PREFIX
#       OUT (the guest's console) has PREFIX "ro 1" and "write refused",
#       and the image is unchanged
# Each prints one PASS or FAIL line through the caller's pass and fail.
# Needs hyvm and work.

disk_tree() {
	mkdir -p "$work/tree"
	head -c 300000 /dev/urandom >"$work/tree/host.bin"
	host_sum=$(sha256sum "$work/tree/host.bin" | cut -d' ' -f1)
}

new_image() {
	rm -f "$1"
	truncate -s "${2:-64M}" "$1"
	mkfs.ext4 -q -F -d "$work/tree" "$1"
}

fs_cat() { debugfs -R "cat /$1" "$2" 2>/dev/null; }

disk_check_write() {
	local name=$1 img=$2 tag=$3 guest_sum=$4
	if [[ $(fs_cat guest.txt "$img") != "written by the guest $tag" ]]; then
		fail "$name: debugfs does not find the guest's guest.txt in the image"
	elif [[ -z $guest_sum || $(fs_cat guest.bin "$img" | sha256sum | cut -d' ' -f1) != "$guest_sum" ]]; then
		fail "$name: guest.bin in the image is not what the guest wrote"
	elif ! e2fsck -fn "$img" >"$work/fsck" 2>&1; then
		fail "$name: e2fsck finds the image damaged: $(tail -n 3 "$work/fsck" | tr '\n' ' ')"
	else
		pass "$name: the guest's files are in the image (debugfs, e2fsck clean)"
	fi
}

disk_check_snapshot() {
	local name=$1 img=$2 base_sum=$3 overlay=$4 tag=$5
	if [[ $(sha256sum "$img" | cut -d' ' -f1) != "$base_sum" ]]; then
		fail "$name: the base image changed"
	elif [[ ! -s $overlay ]]; then
		fail "$name: no overlay at $overlay"
	elif fs_cat guest.txt "$img" | grep -q .; then
		fail "$name: the guest's file is in the base before the commit"
	elif ! "$hyvm" disk commit "$overlay" >"$work/commit" 2>&1; then
		fail "$name: hyvm disk commit failed: $(tail -n 1 "$work/commit")"
	elif [[ $(fs_cat guest.txt "$img") != "written by the guest $tag" ]]; then
		fail "$name: after hyvm disk commit the base lacks the guest's file"
	elif ! e2fsck -fn "$img" >"$work/fsck" 2>&1; then
		fail "$name: e2fsck finds the committed image damaged"
	else
		pass "$name: base unchanged by the run, the guest's file in it after commit"
	fi
}

disk_check_readonly() {
	local name=$1 img=$2 base_sum=$3 out=$4 prefix=$5
	if ! grep -qF "$prefix ro 1" "$out"; then
		fail "$name: the guest does not see a read-only disk"
	elif ! grep -qF "$prefix write refused" "$out"; then
		fail "$name: the guest's write to the disk went through"
	elif [[ $(sha256sum "$img" | cut -d' ' -f1) != "$base_sum" ]]; then
		fail "$name: the image changed"
	else
		pass "$name: read-only in the guest, the image unchanged"
	fi
}
