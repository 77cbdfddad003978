#!/usr/bin/env bash
# Fetches Debian's i386 (-686, no PAE) and amd64 kernels and a static i386
# busybox with apt-get download, unpacks them with dpkg-deb -x into
# build/linux/ (never committed), and builds an initramfs whose /init is
# tests/linux/init-session.sh (a scripted session, then power-off).
#   tests/linux/fetch-kernels.sh [OUTDIR]      (default build/linux)
# Prints the paths it made; exit 77 (SKIP) when the packages are unavailable.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-build/linux}
mkdir -p "$out/debs"
out=$(cd "$out" && pwd)
skip() { echo "SKIP: $*" >&2; exit 77; }

if ! dpkg --print-foreign-architectures | grep -qx i386; then
	[[ $(id -u) == 0 ]] || skip "i386 is not a dpkg architecture here (dpkg --add-architecture i386 as root)"
	dpkg --add-architecture i386
	apt-get update -q >/dev/null || skip "apt-get update failed"
fi
# The metapackages name the current ABI (linux-image-6.1.0-NN-686).
pkg_686=$(apt-cache depends linux-image-686:i386 2>/dev/null | awk '/Depends: linux-image-/ { print $2; exit }')
pkg_amd64=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/ { print $2; exit }')
[[ -n $pkg_686 && -n $pkg_amd64 ]] || skip "apt-cache knows no linux-image-686:i386 / linux-image-amd64 (apt-get update?)"

cd "$out/debs"
for p in "$pkg_686" "$pkg_amd64" busybox-static:i386; do
	name=${p%%:*}
	ls "${name}"_*.deb >/dev/null 2>&1 || apt-get download -q "$p" >/dev/null 2>&1 ||
		skip "apt-get download $p failed"
done
for d in *.deb; do
	dir=$out/root-${d%%_*}
	[[ -d $dir ]] || dpkg-deb -x "$d" "$dir"
done
cd "$out"
k686=$(ls root-linux-image-*-686/boot/vmlinuz-* | head -1)
kamd64=$(ls root-linux-image-*-amd64/boot/vmlinuz-* | head -1)
ln -sf "$k686" vmlinuz-686
ln -sf "$kamd64" vmlinuz-amd64

# The initramfs: busybox, and an /init that prints and powers off.
rm -rf initramfs && mkdir -p initramfs/bin initramfs/proc initramfs/sys initramfs/dev
cp root-busybox-static/bin/busybox initramfs/bin/busybox
cp "$here/init-session.sh" initramfs/init
chmod +x initramfs/init
(cd initramfs && find . | cpio -o -H newc --quiet | gzip -9) >initramfs.cpio.gz
# An interactive one with the virtio and ext4 modules (README's examples).
"$here/mkinitramfs.sh" --root "$(ls -d root-linux-image-*-686 | head -n 1)" \
	--busybox root-busybox-static/bin/busybox --init "$here/init-shell.sh" \
	--out initramfs-shell.cpio.gz --modules "virtio_pci virtio_blk virtio_net crc32c_generic ext4"
echo "$out/vmlinuz-686"
echo "$out/vmlinuz-amd64"
echo "$out/initramfs.cpio.gz"
echo "$out/initramfs-shell.cpio.gz"
