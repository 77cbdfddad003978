#!/bin/bash
# Makes a bootable disk image for the firmware tests without loop devices
# or mounts (a file, sfdisk, mke2fs -d, dd):
#
#   tests/firmware/mkbootdisk.sh --sector OUT
#       a 1 MiB image whose MBR is tests/firmware/bootsector.S: it prints
#       one line on COM1 and powers off (the BIOS alone, quickly)
#   tests/firmware/mkbootdisk.sh OUT KERNEL INITRD APPEND
#       a 32 MiB image, MBR-partitioned (sfdisk), one bootable ext2
#       partition from 1 MiB (mke2fs -d) holding KERNEL as /boot/vmlinuz,
#       INITRD as /boot/initrd.gz and /boot/grub/grub.cfg (serial console,
#       no menu, Linux with APPEND), GRUB 2 for i386-pc as grub-install
#       leaves it on an MBR disk: boot.img's code in the MBR (its
#       partition table kept), core.img (grub-mkimage with biosdisk,
#       part_msdos, ext2, linux, normal, serial, terminal and what
#       grub.cfg calls built in, so nothing is loaded from the disk) in
#       the gap after it from sector 1, where boot.img's default
#       kernel_sector and diskboot.img's default blocklist, whose length
#       grub-mkimage fills in, find it.
# Needs Debian's grub-pc-bin, fdisk (sfdisk), e2fsprogs, binutils.
# Exit 77 with one line when a tool is missing; 2 for bad arguments.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
GRUB_DIR=${GRUB_DIR:-/usr/lib/grub/i386-pc}

need() { command -v "$1" >/dev/null || { echo "mkbootdisk: $1 missing (apt-get install $2)" >&2; exit 77; }; }

if [[ ${1:-} == --sector ]]; then
	[[ $# == 2 ]] || { echo "usage: $0 --sector OUT | OUT KERNEL INITRD APPEND" >&2; exit 2; }
	need as binutils
	need ld binutils
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	as --32 -o "$tmp/bs.o" "$here/bootsector.S"
	ld -m elf_i386 -Ttext 0x7c00 --oformat binary -o "$tmp/bs.bin" "$tmp/bs.o"
	[[ $(stat -c %s "$tmp/bs.bin") == 512 ]] || { echo "mkbootdisk: the boot sector is not 512 bytes" >&2; exit 1; }
	rm -f "$2"
	cp "$tmp/bs.bin" "$2"
	truncate -s 1M "$2"
	exit 0
fi
[[ $# == 4 ]] || { echo "usage: $0 --sector OUT | OUT KERNEL INITRD APPEND" >&2; exit 2; }
out=$1 kernel=$2 initrd=$3 append=$4
for f in "$kernel" "$initrd"; do
	[[ -f $f ]] || { echo "mkbootdisk: $f: no such file" >&2; exit 2; }
done
need grub-mkimage grub-pc-bin
need sfdisk fdisk
need mke2fs e2fsprogs
[[ -f $GRUB_DIR/boot.img ]] || { echo "mkbootdisk: $GRUB_DIR/boot.img missing (apt-get install grub-pc-bin)" >&2; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/root/boot/grub"
cp "$kernel" "$tmp/root/boot/vmlinuz"
cp "$initrd" "$tmp/root/boot/initrd.gz"
cat > "$tmp/root/boot/grub/grub.cfg" <<CFG
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=0
echo "hyvm-grub: loading /boot/vmlinuz"
linux /boot/vmlinuz $append
initrd /boot/initrd.gz
boot
CFG

size_mib=32 part_start=2048	# sectors: 1 MiB, grub-install's gap
rm -f "$out"
truncate -s ${size_mib}M "$out"
printf 'label: dos\nstart=%d, type=83, bootable\n' $part_start | sfdisk -q "$out"
part_sectors=$(( size_mib * 2048 - part_start ))
truncate -s $(( part_sectors * 512 )) "$tmp/part.img"
mke2fs -q -F -t ext2 -L hyvmboot -d "$tmp/root" "$tmp/part.img"
dd if="$tmp/part.img" of="$out" bs=512 seek=$part_start conv=notrunc status=none

grub-mkimage -O i386-pc -d "$GRUB_DIR" -o "$tmp/core.img" -p '(hd0,msdos1)/boot/grub' \
	biosdisk part_msdos ext2 linux normal serial terminal echo boot configfile
core_sectors=$(( ($(stat -c %s "$tmp/core.img") + 511) / 512 ))
(( core_sectors < part_start - 1 )) || { echo "mkbootdisk: core.img ($core_sectors sectors) does not fit before the partition" >&2; exit 1; }
dd if="$tmp/core.img" of="$out" bs=512 seek=1 conv=notrunc status=none
# boot.img's code and data up to the disk signature (440 bytes); the
# partition table and 0x55aa stay sfdisk's
dd if="$GRUB_DIR/boot.img" of="$out" bs=440 count=1 conv=notrunc status=none
