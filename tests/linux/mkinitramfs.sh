#!/usr/bin/env bash
# Builds a busybox initramfs for the Linux test guests, with the kernel
# modules a test needs (Debian builds virtio, virtio_pci, virtio_blk,
# virtio_net and ext4 as modules) and their dependencies, so /init can
# `modprobe` them. The .deb ships no modules.dep (depmod makes it at
# install), so depmod runs once on the unpacked tree.
#
#   tests/linux/mkinitramfs.sh --root KERNEL_ROOT --busybox BUSYBOX \
#       --init INIT_SCRIPT --out FILE.cpio.gz [--modules "m1 m2 ..."] \
#       [--file SRC:DST]...
# KERNEL_ROOT: a dpkg-deb -x of linux-image-* (has lib/modules/VERSION).
set -euo pipefail
die() { echo "mkinitramfs: $*" >&2; exit 2; }

root= busybox= init= out= modules= files=()
while (($#)); do
	case $1 in
	--root) root=$2; shift 2 ;;
	--busybox) busybox=$2; shift 2 ;;
	--init) init=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--modules) modules=$2; shift 2 ;;
	--file) files+=("$2"); shift 2 ;;
	*) die "unknown argument $1" ;;
	esac
done
[[ -f $busybox && -f $init && -n $out ]] || die "need --busybox FILE --init FILE --out FILE"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,proc,sys,dev,tmp,mnt}
cp "$busybox" "$stage/bin/busybox"
cp "$init" "$stage/init"
chmod +x "$stage/init"
# every guest that has a NIC configures it with udhcpc and this script
cp "$(dirname "$0")/udhcpc.script" "$stage/bin/udhcpc.script"
chmod +x "$stage/bin/udhcpc.script"

if [[ -n $modules ]]; then
	[[ -d $root/lib/modules ]] || die "--root $root has no lib/modules"
	ver=$(ls "$root/lib/modules" | head -n 1)
	mdir=$root/lib/modules/$ver
	# depmod -b writes modules.dep into the unpacked tree (build/, cached)
	[[ -s $mdir/modules.dep ]] || depmod -b "$root" "$ver" ||
		die "depmod -b $root $ver failed"
	declare -A want=()
	for m in $modules; do
		line=$(grep -E "(^|/)${m//_/[_-]}\.ko(\.[a-z]+)?:" "$mdir/modules.dep" | head -n 1) ||
			die "no module $m in $mdir/modules.dep"
		for f in ${line/:/}; do want[$f]=1; done
	done
	for f in "${!want[@]}"; do
		mkdir -p "$stage/lib/modules/$ver/$(dirname "$f")"
		cp "$mdir/$f" "$stage/lib/modules/$ver/$f"
	done
	# only the chosen modules' lines: busybox modprobe resolves from them
	grep -F -f <(printf '%s:\n' "${!want[@]}") "$mdir/modules.dep" \
		>"$stage/lib/modules/$ver/modules.dep" || true
fi
for spec in "${files[@]}"; do
	src=${spec%%:*} dst=${spec#*:}
	mkdir -p "$stage/$(dirname "$dst")"
	cp "$src" "$stage/$dst"
done
(cd "$stage" && find . | cpio -o -H newc --quiet -R 0:0 | gzip -6) >"$out"
