# Shared by the emulated-host harnesses (sourced, bash): Debian's kernel
# matching the installed headers, and a busybox initramfs holding hyvm.ko,
# the tests/kmod programs, hyvm, the guest suite and a caller's /init body.
#
#   . tests/kmod/host-lib.sh
#   host_kernel                 -> sets KVER, VMLINUZ (cached in $CACHE)
#   host_initramfs OUT BODY [EXTRA]
#                               -> BODY: the part of /init after the mounts;
#                                  EXTRA: a function called with the stage
#                                  directory to add files of its own
#   host_judge LOG WHAT         -> the verdict on a serial log
#
# Needs ROOT and CACHE set, and a die() function.

host_kernel() {
	local kd deb
	kd=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -1) || true
	[ -n "$kd" ] || die "no /usr/src/linux-headers-*-amd64 (apt-get install linux-headers-amd64)"
	KVER=${kd#/usr/src/linux-headers-}
	mkdir -p "$CACHE/deb"
	VMLINUZ=$CACHE/vmlinuz-$KVER
	if [ ! -f "$VMLINUZ" ]; then
		(cd "$CACHE/deb" && apt-get download "linux-image-$KVER" >/dev/null) ||
			die "apt-get download linux-image-$KVER failed"
		deb=$(ls "$CACHE"/deb/linux-image-"$KVER"_*.deb | head -1)
		dpkg-deb --fsys-tarfile "$deb" | tar -xO "./boot/vmlinuz-$KVER" > "$VMLINUZ.tmp"
		mv "$VMLINUZ.tmp" "$VMLINUZ"
	fi
}

# Copy a dynamically linked program with its libraries and loader.
host_copy_with_libs() {
	local stage=$1 bin=$2 dest=$3 lib
	mkdir -p "$stage$(dirname "$dest")"
	cp "$bin" "$stage$dest"
	for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done
}

host_initramfs() {
	local out=$1 body=$2 extra=${3:-} stage=$CACHE/initramfs-stage src name ko vermagic busybox=/bin/busybox
	[ -x "$busybox" ] && "$busybox" --list | grep -x insmod >/dev/null ||
		die "$busybox with insmod missing (apt-get install busybox-static)"
	make -C "$ROOT" -s kmod >/dev/null || die "make kmod failed"
	ko=$ROOT/kmod/hyvm.ko
	vermagic=$(strings "$ko" | sed -n 's/^vermagic=\([^ ]*\).*/\1/p' | head -1)
	[ "$vermagic" = "$KVER" ] || die "hyvm.ko vermagic '$vermagic' is not $KVER"

	rm -rf "$stage"
	mkdir -p "$stage"/{bin,dev,proc,sys,tmp,tests,hyvm/guests}
	cp "$busybox" "$stage/bin/busybox"
	cp "$ko" "$stage/hyvm.ko"
	for src in "$ROOT"/tests/kmod/hyvm_*.c; do
		name=$(basename "$src" .c)
		cc -static -O2 -g -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Werror \
			-I"$ROOT/include" -o "$stage/tests/$name" "$src" -lpthread ||
			die "building $name failed"
	done
	[ -x "$ROOT/build/hyvm" ] && ls "$ROOT"/build/guests/*.elf >/dev/null 2>&1 ||
		die "build hyvm and the guests first (make)"
	host_copy_with_libs "$stage" "$ROOT/build/hyvm" /hyvm/hyvm
	host_copy_with_libs "$stage" /bin/bash /bin/bash
	# run-guests.sh wants coreutils' timeout (--kill-after), not busybox's
	host_copy_with_libs "$stage" "$(command -v timeout)" /usr/local/bin/timeout
	cp "$ROOT"/build/guests/*.elf "$stage/hyvm/guests/"
	cp "$ROOT/tests/run-guests.sh" "$stage/hyvm/run-guests.sh"
	# Misbehaving guests and emulated accesses (MMIO, INS/OUTS).
	mkdir -p "$stage/hyvm/cli"
	cp "$ROOT"/build/cli/*.bin "$ROOT/tests/cli/guest-faults.sh" \
		"$ROOT/tests/cli/emulated-io.sh" "$ROOT/tests/cli/memory-map.sh" "$stage/hyvm/cli/"
	[ -z "$extra" ] || "$extra" "$stage"

	{
		echo '#!/bin/busybox sh'
		echo '/bin/busybox --install -s /bin'
		echo 'mount -t proc proc /proc'
		echo 'mount -t sysfs sys /sys'
		echo 'mount -t devtmpfs dev /dev'
		echo 'mkdir -p /dev/shm && mount -t tmpfs shm /dev/shm'
		echo '[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd	# bash: <(...)'
		echo 'export PATH=/usr/local/bin:/bin:/hyvm'
		echo 'echo HARNESS-BEGIN'
		cat "$body"
		echo 'echo HARNESS-DMESG-BEGIN'
		echo 'dmesg'
		echo 'echo HARNESS-DMESG-END'
		echo 'echo HARNESS-END'
		echo 'sleep 2	# let the console drain before the power goes'
		echo 'poweroff -f'
	} > "$stage/init"
	chmod +x "$stage/init"
	local cpio="cpio --quiet"
	command -v cpio >/dev/null || cpio="$busybox cpio"
	(cd "$stage" && find . | $cpio -o -H newc -R 0:0 2>/dev/null | gzip -1) > "$out"
}

# Judge a serial log: PASS/FAIL lines, kernel trouble, the end marker.
# TIME lines (a stage's cost, tests/kmod/linux-io.sh) and DIAG lines (where
# a nested guest was when it failed: linux-boot64.sh) are shown too.
# Prints "N passed, N failed"; status 0 iff all is well.
host_judge() {
	local log=$1 what=$2 passed failed bad=0
	grep -E '^(PASS|FAIL|SKIP|BENCH|TIME|DIAG|RETRY) ' "$log" || true
	grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | sed 's/^/guest suite: /' || true
	passed=$(grep -c '^PASS ' "$log" || true)
	failed=$(grep -c '^FAIL ' "$log" || true)
	# "guest|" lines are a nested guest's console (tests/kmod/linux-boot64.sh)
	if grep -nE 'Oops|WARNING:|BUG:|Call Trace|general protection fault|kernel panic' "$log" |
		grep -v '^[0-9]*:guest'; then
		echo "$what: kernel oops/warning in the log ($log)"
		bad=1
	fi
	if ! grep -q '^HARNESS-END' "$log"; then
		echo "$what: the emulated host did not finish (timeout or crash); log: $log"
		bad=1
	fi
	echo "$what: $passed passed, $failed failed"
	[ "$failed" = 0 ] && [ "$bad" = 0 ] && [ "$passed" -gt 0 ]
}

# host_gdb_stage STAGE: Debian's gdb-minimal (no Python, whose library the
# initramfs lacks), fetched once into $CACHE with apt-get download, and
# tests/gdb's scripts; without gdb-minimal the gdb tests SKIP there (they
# check for gdb themselves).
host_gdb_stage() {
	local stage=$1 dir=$CACHE/gdb-minimal
	mkdir -p "$stage/hyvm/gdb"
	cp "$ROOT"/tests/gdb/{run.sh,steps.sh,lib.sh,steps.gdb,guest.gdb} "$stage/hyvm/gdb/"
	if [ ! -x "$dir/usr/bin/gdb" ]; then
		mkdir -p "$dir"
		if ! (cd "$dir" && apt-get download gdb-minimal >/dev/null 2>&1) ||
			! dpkg-deb -x "$dir"/gdb-minimal_*.deb "$dir"; then
			echo "host-lib: gdb-minimal could not be fetched: the gdb tests will SKIP" >&2
			return 0
		fi
	fi
	host_copy_with_libs "$stage" "$dir/usr/bin/gdb" /usr/local/bin/gdb
}
