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

# The virtio disk, network and crash-safety tests of tests/linux (disk.sh,
# net.sh, crash.sh) for the emulated hosts (run-svm.sh and run-vmx.sh
# --linux-io; run there by tests/kmod/linux-io.sh), and disk-net.sh, their
# checks in one boot (run-vmx.sh --linux-virtio): their initramfs images built
# here for the emulated host's own amd64 kernel (its modules from the
# linux-image .deb host_kernel fetched, unpacked once into $CACHE) with this
# machine's static busybox, the scripts, and what their host side needs
# there: e2fsprogs' mkfs.ext4, debugfs, e2fsck with their libraries (the
# net test's HTTP server and client are the emulated host's busybox httpd
# and wget; crash.sh needs only busybox). Inside: /hyvm/linux-io.sh ENGINE
# LIMIT [TESTS], which runs /hyvm/linux/T.sh HYVM --engine E
# --kernel /linux/vmlinuz --initrd /linuxio/T.gz for each T.
#   linux_io_stage STAGE [TESTS]   (default "disk net crash")
# Needs ROOT, CACHE, KVER, VMLINUZ and a die() function.
linux_io_stage() {
	local stage=$1 tests=${2:-disk net crash} modroot=$CACHE/root-$KVER deb t tool
	if [ ! -d "$modroot/lib/modules/$KVER" ]; then
		deb=$(ls "$CACHE"/deb/linux-image-"$KVER"_*.deb | head -1)
		rm -rf "$modroot.tmp"
		dpkg-deb -x "$deb" "$modroot.tmp" && mv "$modroot.tmp" "$modroot" ||
			die "dpkg-deb -x $deb failed"
	fi
	mkdir -p "$stage/linux" "$stage/linuxio" "$stage/hyvm/linux" "$stage/etc"
	cp "$VMLINUZ" "$stage/linux/vmlinuz"
	for t in $tests; do
		bash "$ROOT/tests/linux/$t.sh" "$ROOT/build/hyvm" --kernel "$VMLINUZ" \
			--modules-root "$modroot" --busybox /bin/busybox \
			--make-initrd "$stage/linuxio/$t.gz" >"$CACHE/linuxio-$t.log" 2>&1 ||
			die "building the $t test's initramfs failed: $(tail -1 "$CACHE/linuxio-$t.log")"
		cp "$ROOT/tests/linux/$t.sh" "$stage/hyvm/linux/"
	done
	cp "$ROOT/tests/linux/guest-lib.sh" "$ROOT/tests/linux/disk-lib.sh" \
		"$ROOT/tests/linux/http-lib.sh" "$stage/hyvm/linux/"
	cp "$ROOT/tests/kmod/linux-io.sh" "$stage/hyvm/"
	for tool in mkfs.ext4 debugfs e2fsck; do
		t=$(command -v "$tool") || t=/sbin/$tool
		[ -x "$t" ] || die "$tool missing (apt-get install e2fsprogs)"
		host_copy_with_libs "$stage" "$(readlink -f "$t")" "/usr/local/bin/$tool"
	done
	[ ! -f /etc/mke2fs.conf ] || cp /etc/mke2fs.conf "$stage/etc/"
}
