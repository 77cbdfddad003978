# Sourced by the emulated-host harnesses (bash): a 64-bit Linux guest for
# hyvm inside the emulated host. The kernel is the emulated host's own
# (Debian 12's linux-image-$KVER, fetched and cached by host_kernel in
# host-lib.sh), the initramfs this machine's static amd64 busybox (the one
# host_initramfs uses) with an /init like tests/linux/fetch-kernels.sh's.
#
#   linux_guest_stage STAGE   -> STAGE/linux/{vmlinuz,initrd.cpio.gz} and
#                                STAGE/hyvm/linux-boot64.sh (the runner)
# Needs ROOT, VMLINUZ and a die() function.

linux_guest_stage() {
	local stage=$1 g
	g=$(mktemp -d)
	mkdir -p "$g"/{bin,proc,sys,dev} "$stage/linux"
	cp /bin/busybox "$g/bin/busybox"
	cat > "$g/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
echo "hyvm-linux64-init: $(uname -a)"
cat /proc/cpuinfo | head -n 20
i=0 s=0
while [ $i -lt 20000 ]; do s=$(((s * 31 + i) % 1000003)); i=$((i + 1)); done
echo "hyvm-linux64-compute: $s"
echo "hyvm-linux64-done"
poweroff -f
INIT
	chmod +x "$g/init"
	(cd "$g" && find . | cpio --quiet -o -H newc -R 0:0 2>/dev/null | gzip -1) \
		> "$stage/linux/initrd.cpio.gz" || die "building the Linux guest's initramfs failed"
	rm -rf "$g"
	cp "$VMLINUZ" "$stage/linux/vmlinuz"
	cp "$ROOT/tests/kmod/linux-boot64.sh" "$stage/hyvm/linux-boot64.sh"
}
