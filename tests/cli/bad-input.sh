#!/usr/bin/env bash
# Every bad input to `hyvm run` (and `hyvm disk`) must give exit status 2
# and exactly one line on stderr, print nothing on stdout (no guest ran,
# no disk changed), and never crash.
#   tests/cli/bad-input.sh HYVM MKBADELF [CRASH_DRIVER]
# CRASH_DRIVER (tests/block/crash_driver.c) makes the overlays of the
# `hyvm disk` cases; without it they are SKIPped.
set -u
hyvm=$1 mkbadelf=$2 crash_driver=${3:-}
skipped=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$mkbadelf" "$work" || { echo "FAIL bad-input: mkbadelf failed"; exit 1; }
mkdir "$work/a-directory"
passed=0 failed=0
as_user=(env)	# a command prefix: setpriv for the unprivileged cases

expect() { # name expected-fragment args...
	local name=$1 fragment=$2
	shift 2
	# timeout: a hang (open() of a FIFO, say) is a failure, not a stuck suite
	timeout 60 "${as_user[@]}" "$hyvm" "$@" >"$work/out" 2>"$work/err" </dev/null
	local status=$? lines
	lines=$(wc -l <"$work/err")
	if ((status == 2)) && ((lines == 1)) && [[ ! -s $work/out ]] &&
		grep -qF -- "$fragment" "$work/err"; then
		echo "PASS bad-input $name: $(cat "$work/err")"
		passed=$((passed + 1))
	else
		echo "FAIL bad-input $name: status $status, $lines stderr lines, wanted '$fragment':"
		sed 's/^/    /' "$work/err" "$work/out" | head -5
		failed=$((failed + 1))
	fi
}

expect missing-file "cannot open: No such file" run "$work/no-such-guest.elf"
expect directory "not a regular file" run "$work/a-directory"
expect not-elf "not an ELF file" run "$work/not-elf.bin"
expect elf64-no-header "ELF64 file without a Multiboot header" run "$work/elf64.elf"
expect elf32-no-header "without a Multiboot header" run "$work/no-header.elf"
expect segment-outside-ram "outside guest RAM" run "$work/outside-ram.elf"
expect overlapping-segments "overlaps another loaded range" run "$work/overlap.elf"
expect absurd-size "more than guest RAM" run "$work/absurd-size.elf"
expect truncated "past the end of the file" run "$work/truncated.elf"
expect mem-too-small-for-guest "outside guest RAM (2 MiB)" run --mem 2 "$work/needs-3mib.elf"
expect mem-below-minimum "--mem 1 is out of range" run --mem 1 "$work/needs-3mib.elf"
expect mem-absurd "--mem 999999999 is out of range" run --mem 999999999 "$work/needs-3mib.elf"
expect mem-not-a-number "--mem takes a size in MiB" run --mem lots "$work/needs-3mib.elf"
# bt's translation cache bound (bt/translate/translator.h), from the environment
HYVM_BT_TC_KIB=lots expect bt-tc-kib-not-a-number "HYVM_BT_TC_KIB must be a whole number of KiB" \
	run --engine bt "$work/needs-3mib.elf"
HYVM_BT_TC_KIB=16 expect bt-tc-kib-too-small "from 256 to 1048576, not '16'" run --engine bt "$work/needs-3mib.elf"
head -c 100 /dev/zero >"$work/rom-100b.bin"
head -c 300000 /dev/zero >"$work/rom-too-big.bin"
: >"$work/rom-empty.bin"
expect rom-missing "--rom $work/no-such-rom.bin: cannot open: No such file" \
	run --rom "$work/no-such-rom.bin" "$work/needs-3mib.elf"
expect rom-empty "the file is empty" run --rom "$work/rom-empty.bin" "$work/needs-3mib.elf"
expect rom-too-big "larger than the 256 KiB a ROM may have" \
	run --rom "$work/rom-too-big.bin" "$work/needs-3mib.elf"
expect rom-misaligned "must be multiples of 4 KiB" \
	run --rom "$work/rom-100b.bin@0xfff00100" "$work/needs-3mib.elf"
expect rom-bad-address "'0xzz' is not an address" \
	run --rom "$work/rom-100b.bin@0xzz" "$work/needs-3mib.elf"
expect rom-over-ram "overlaps ram-low" run --rom "$work/rom-100b.bin@0x200000" "$work/needs-3mib.elf"
expect rom-over-lapic "overlaps local-apic" \
	run --rom "$work/rom-100b.bin@0xfee00000" "$work/needs-3mib.elf"
expect rom-above-4g "does not end below 4 GiB" \
	run --rom "$work/rom-100b.bin@0x100000000" "$work/needs-3mib.elf"
expect rom-twice "one --rom only" \
	run --rom "$work/rom-100b.bin" --rom "$work/rom-100b.bin" "$work/needs-3mib.elf"
# --bios FILE (boot/bios_image.c): whole 64 KiB blocks, at most 256 KiB
head -c 65536 /dev/zero >"$work/bios-64k.bin"
head -c 327680 /dev/zero >"$work/bios-320k.bin"
expect bios-missing "--bios $work/no-such-bios.bin: cannot open: No such file" \
	run --bios "$work/no-such-bios.bin"
expect bios-empty "the file is empty" run --bios "$work/rom-empty.bin"
expect bios-not-64k "not a multiple of 64 KiB" run --bios="$work/rom-100b.bin"
expect bios-too-big "larger than the 256 KiB ROM window" run --bios "$work/bios-320k.bin"
expect bios-directory "not a regular file" run --bios "$work/a-directory"
expect bios-twice "one --bios only" run --bios "$work/bios-64k.bin" --bios
expect bios-and-rom "overlaps" run --bios "$work/bios-64k.bin" --rom "$work/rom-100b.bin"
expect bios-module "--module is for Multiboot kernels" \
	run --bios "$work/bios-64k.bin" --module "$work/rom-100b.bin"
expect bios-second-file "unexpected argument" run --bios "$work/bios-64k.bin" "$work/bios-64k.bin"
expect bios-kernel-not-bzimage "--bios boots a Linux bzImage; this is not one" \
	run --bios "$work/bios-64k.bin" --kernel "$work/not-elf.bin"
expect bios-initrd-alone "the initrd is for a --kernel" \
	run --bios "$work/bios-64k.bin" --initrd "$work/not-elf.bin"
# Linux bzImages (mkbadelf writes them; see tests/unit/bzimage_builder.h)
expect bz-truncated "ends inside the 3 setup sectors (truncated?)" run "$work/truncated.bzimage"
expect bz-wrong-magic 'no "HdrS" magic at 0x202' run --kernel "$work/wrong-magic.bzimage"
expect bz-protocol-too-old "Linux boot protocol 2.04 is too old" run -k "$work/protocol-2.04.bzimage"
expect bz-cmdline-too-long "longer than the kernel's cmdline_size 255" \
	run -k "$work/good.bzimage" -p "$(printf 'x%.0s' {1..300})"
head -c $((3 << 20)) /dev/zero >"$work/initrd-3mib"
expect bz-initrd-too-big "initrd of 3145728 bytes does not fit" \
	run --mem 20 --kernel "$work/good.bzimage" --initrd "$work/initrd-3mib"
expect bz-initrd-missing "no-such-initrd: cannot open" \
	run -k "$work/good.bzimage" -i "$work/no-such-initrd"
expect bz-module "a Linux kernel takes --initrd, not --module" \
	run --module "$work/initrd-3mib" "$work/good.bzimage"
expect initrd-for-multiboot "--initrd is for Linux bzImages" \
	run --initrd "$work/initrd-3mib" "$work/needs-3mib.elf"
expect kernel-and-guest "unexpected argument" run -k "$work/good.bzimage" "$work/needs-3mib.elf"
expect unknown-engine "unknown engine 'warp'" run --engine warp "$work/needs-3mib.elf"
expect unknown-flag "unknown or incomplete option '--frobnicate'" run --frobnicate "$work/needs-3mib.elf"
expect unknown-cpu "unknown CPU model 'k6'" run --cpu k6 "$work/needs-3mib.elf"
expect missing-flag-value "unknown or incomplete option '--engine'" run --engine
expect extra-argument "unexpected argument 'extra'" run "$work/needs-3mib.elf" extra
expect unknown-command "unknown command 'fly'" fly
# --device MODEL[,config]: the model must exist, its create must take the
# configuration and find its ports free.
expect device-unknown-model "unknown device model 'floppy'" run --device floppy "$work/needs-3mib.elf"
expect device-bad-key "--device uart16550:" run --device uart16550,speed=9 "$work/needs-3mib.elf"
expect device-bad-value "--device uart16550:" run --device uart16550,port=zz "$work/needs-3mib.elf"
expect device-ports-taken "--device port92: device port92: ports at 0x92 are taken" \
	run --device port92 "$work/needs-3mib.elf"
expect device-pci-slot-taken "--device pci_testdev: pci pci_testdev: slot 0 is taken by i440fx" \
	run --device pci_testdev,slot=0 "$work/needs-3mib.elf"
expect device-pci-slot-range "--device pci_testdev: device pci_testdev: slot=40 is outside" \
	run --device pci_testdev,slot=40 "$work/needs-3mib.elf"
expect device-second-host-bridge "--device i440fx: device i440fx: ports at 0xcf8 are taken" \
	run --device i440fx "$work/needs-3mib.elf"
expect device-missing-value "unknown or incomplete option '--device'" run --device
HYVM_KVM_DEVICE=/dev/no-such-kvm expect kvm-device-missing \
	"engine kvm is not present: /dev/no-such-kvm: No such file or directory" \
	run --engine kvm "$work/needs-3mib.elf"
# An engine this machine lacks must name its missing device node.
for e in $("$hyvm" engines | awk '$2 == "absent" { print $1 }'); do
	node=/dev/kvm
	[[ $e == kvm ]] || node=/dev/hyvm
	[[ $e == bt ]] && node="bt is absent"	# bt needs no device; never absent
	# hybrid needs bt and a hardware engine: it names what it lacks
	[[ $e == hybrid ]] && node="needs a hardware engine (kvm, svm or vmx) besides bt"
	expect "engine-$e-absent" "$node" run --engine "$e" "$work/needs-3mib.elf"
done
# A 64-bit kernel (XLF_KERNEL_64) runs only in long mode, at either of its
# entries: on an engine without it, bad input (status 2, one line naming
# the way out), not a skip.
expect bz-64bit-on-bt "64bit.bzimage is a 64-bit kernel; engine bt has no long mode; try --engine svm|vmx|kvm" \
	run --engine bt "$work/64bit.bzimage"
# auto, where bt is the only engine (no hardware engine, so no long mode)
if [[ $("$hyvm" engines | awk '$2 == "present" { print $1 }') == bt ]]; then
	expect bz-64bit-auto-no-long-mode "is a 64-bit kernel; no engine here has long mode" \
		run "$work/64bit.bzimage"
fi
# --net (userspace/net/net_options.c, net_hostfwd.c): QEMU's -netdev spelling
g=$work/needs-3mib.elf
expect net-unknown-backend "--net takes user[,OPTIONS], tap,ifname=NAME or none, not 'socket'" \
	run --net socket "$g"
expect net-unknown-option "--net user: unknown option 'smb'" run --net user,smb=/tmp "$g"
expect net-not-key-value "'restrict' is not key=value" run --net user,restrict "$g"
expect net-restrict-value "restrict= takes on or off, not 'maybe'" run --net user,restrict=maybe "$g"
expect net-bad-network "net= takes ADDR[/PREFIX 1-30 or /MASK], not '10.0.3.0/33'" \
	run --net user,net=10.0.3.0/33 "$g"
expect net-host-bits "net=10.0.2.1/24 has host bits set" run --net user,net=10.0.2.1/24 "$g"
expect net-dns-outside "dns 10.0.3.3 is not a host address of the guest network" \
	run --net user,dns=10.0.3.3 "$g"
expect net-dhcp-broadcast "dhcpstart 10.0.2.255 is not a host address" \
	run --net user,dhcpstart=10.0.2.255 "$g"
expect net-hostfwd-proto "hostfwd 'sctp::2222-:22': expected [tcp|udp]" \
	run --net user,hostfwd=sctp::2222-:22 "$g"
expect net-hostfwd-host-port "the host port must be 1-65535" \
	run --net user,hostfwd=tcp:127.0.0.1:99999-:22 "$g"
expect net-hostfwd-no-guest "hostfwd 'tcp:127.0.0.1:2222': the host port must be 1-65535, then '-'" \
	run --net user,hostfwd=tcp:127.0.0.1:2222 "$g"
expect net-hostfwd-host-addr "the host address is not an IPv4 address" \
	run --net user,hostfwd=tcp:localhost:2222-:22 "$g"
expect net-hostfwd-guest-port "the guest port must be 1-65535" \
	run --net user,hostfwd=udp::2222-:0 "$g"
expect net-hostfwd-guest-outside "the guest address is outside the guest network" \
	run --net user,hostfwd=tcp::2222-192.168.1.5:22 "$g"
# the same host port twice: the second cannot listen, whoever else is there
port=$((40000 + RANDOM % 20000))
expect net-hostfwd-port-taken "cannot listen on the host port: Address already in use" \
	run --net "user,hostfwd=tcp:127.0.0.1:$port-:22,hostfwd=tcp:127.0.0.1:$port-:23" "$g"
expect net-twice "one --net only" run --net user --netdev none "$g"
expect net-tap-no-ifname "--net tap needs ifname=NAME" run --net tap "$g"
expect net-tap-long-ifname "ifname= takes an interface name of 1-15 characters" \
	run --net tap,ifname=a-very-long-interface-name "$g"
expect net-none-options "--net none takes no options" run --net none,restrict=on "$g"
# the network card (devices/virtio/virtio_net_pci.c): its netdev= must name
# a backend that --net or --netdev made, and one card per backend
expect nic-no-backend "virtio-net: no network backend with id 'nosuch'" \
	run --netdev user --device virtio-net,netdev=nosuch "$g"
expect nic-no-net "virtio-net: no network backend with id 'net0'" run --device virtio-net "$g"
expect nic-twice "virtio-net: network backend 'net0' has a network card already" \
	run --net user --device virtio-net "$g"
expect nic-bad-mac "mac= takes a unicast address like 52:54:00:12:34:56, not '01:02:03:04:05:06'" \
	run --netdev user --device virtio-net,mac=01:02:03:04:05:06 "$g"
expect nic-short-mac "mac= takes a unicast address" \
	run --netdev user --device virtio-net,mac=52:54:00:12:34 "$g"
expect nic-bad-key "virtio-net takes netdev=ID (a --netdev's id) and mac=MAC, not 'speed=10'" \
	run --netdev user --device virtio-net,speed=10 "$g"
# a tap without the right to attach it: as root, through an unprivileged uid
if (($(id -u) != 0)); then
	expect net-tap-not-root "a tap needs root or CAP_NET_ADMIN" run --net tap,ifname=hyvmtest0 "$g"
elif command -v setpriv >/dev/null; then
	as_user=(setpriv --reuid 65534 --regid 65534 --clear-groups)
	# the work folder and its guest must be readable to that uid
	chmod 755 "$work"
	expect net-tap-not-root "root or CAP_NET_ADMIN" run --net tap,ifname=hyvmtest0 "$g"
	as_user=(env)
else
	echo "SKIP bad-input net-tap-not-root: running as root and no setpriv to drop it"
	skipped=$((skipped + 1))
fi

# hyvm disk: overlays that are not overlays, damaged ones, changed bases
expect disk-no-args "usage: hyvm disk commit|discard|info OVERLAY" disk
expect disk-extra-arg "usage: hyvm disk" disk info a b
# checkpoints and the control socket
printf 'HYVMCKPT\x01\x00\x00\x00' >"$work/short.ckpt"
head -c 64 /dev/zero >"$work/zero.ckpt"
expect restore-no-file "a checkpoint FILE is needed" restore
expect restore-two-files "one checkpoint FILE only" restore a b
expect restore-missing "none.ckpt: cannot open: No such file" restore "$work/none.ckpt"
expect restore-not-ckpt "not a hyvm checkpoint" restore "$work/not-elf.bin"
expect restore-short-header "not a hyvm checkpoint" restore "$work/short.ckpt"
expect restore-zero-header "not a hyvm checkpoint" restore "$work/zero.ckpt"
expect restore-bad-option "unknown or incomplete option '--frob'" restore --frob x
expect incoming-not-file "--incoming takes file:FILE" run --incoming tcp:1.2.3.4:5
expect incoming-empty "--incoming takes file:FILE" run --incoming file:
expect incoming-missing "cannot open: No such file" run --incoming "file:$work/none.ckpt"
# (no GUEST: the bundled demo, refused before it runs)
expect control-long-path "a socket path has at most" run --engine bt --control "$work/$(printf 'x%.0s' {1..120})"
expect control-no-dir "no-dir/s.qmp: No such file" run --engine bt --control "$work/no-dir/s.qmp"
expect ctl-no-args "usage: hyvm ctl" ctl
expect ctl-no-command "usage: hyvm ctl" ctl 1
expect ctl-no-socket "cannot connect to $work/none.qmp" ctl "$work/none.qmp" query-status
expect ctl-bad-save "usage: hyvm ctl PID|PATH save FILE" ctl "$work/none.qmp" save
expect ctl-bad-argument "is not KEY=VALUE" ctl "$work/none.qmp" stop nonsense
expect disk-unknown-op "unknown operation 'frob'" disk frob "$work/x"
expect disk-missing "no-such.overlay: cannot open: No such file" disk info "$work/no-such.overlay"
expect disk-directory "a-directory: cannot open: Is a directory" disk commit "$work/a-directory"
expect disk-not-overlay-short "not a hyvm overlay (shorter than its header)" \
	disk info "$work/rom-100b.bin"
head -c 8192 /dev/urandom >"$work/random.img"
cp "$work/random.img" "$work/random.copy"
expect disk-discard-not-overlay "not a hyvm overlay (no HYVMOVL magic)" \
	disk discard "$work/random.img"
if ! cmp -s "$work/random.img" "$work/random.copy"; then
	echo "FAIL bad-input disk-discard-not-overlay: the file was changed or deleted"
	failed=$((failed + 1))
fi
# A FIFO (or any non-regular file) given as an input path is refused at
# once: open() of a FIFO without a writer would block forever.
mkfifo "$work/fifo"
expect fifo-guest "$work/fifo: not a regular file" run "$work/fifo"
expect fifo-kernel "$work/fifo: not a regular file" run --kernel "$work/fifo"
expect fifo-module "not a regular file" run --module "$work/fifo" "$work/needs-3mib.elf"
expect fifo-rom "--rom $work/fifo: not a regular file" run --rom "$work/fifo" "$work/needs-3mib.elf"
expect fifo-disk "$work/fifo: not a regular file or block device" \
	run --disk "$work/fifo,readonly" "$work/needs-3mib.elf"
expect fifo-overlay-info "$work/fifo: not a regular file" disk info "$work/fifo"
expect fifo-bios "--bios $work/fifo: not a regular file" run --bios "$work/fifo"
if [[ -f ${BZIMAGE:-build/linux/vmlinuz-686} ]]; then
	expect fifo-initrd "$work/fifo: not a regular file" \
		run --initrd "$work/fifo" "${BZIMAGE:-build/linux/vmlinuz-686}"
else
	echo "SKIP bad-input fifo-initrd: no bzImage (tests/linux/fetch-kernels.sh)"
	skipped=$((skipped + 1))
fi

# A huge file is refused on its header, not read whole first: hyvm's peak
# RSS stays far below the file's 900 MiB (it was 925 MB).
truncate -s 900M "$work/huge-not-elf.bin"
truncate -s 900M "$work/huge-bzimage.bin"
printf 'HdrS\x00\x01' | dd of="$work/huge-bzimage.bin" bs=1 seek=$((0x202)) conv=notrunc status=none
printf '\x55\xaa\xeb\x62' | dd of="$work/huge-bzimage.bin" bs=1 seek=$((0x1fe)) conv=notrunc status=none
if [[ -x /usr/bin/time ]]; then
	for f in huge-not-elf huge-bzimage; do
		want="no Multiboot header"
		[[ $f == huge-bzimage ]] && want="Linux boot protocol 1.00 is too old"
		/usr/bin/time -o "$work/rss" -f %M "$hyvm" run --mem 1024 "$work/$f.bin" \
			>"$work/out" 2>"$work/err" </dev/null
		status=$? rss=$(tail -1 "$work/rss")
		if ((status == 2)) && grep -qF "$want" "$work/err" && ((rss < 100 * 1024)); then
			echo "PASS bad-input $f: refused with a peak RSS of $((rss / 1024)) MiB: $(cat "$work/err")"
			passed=$((passed + 1))
		else
			echo "FAIL bad-input $f: status $status, peak RSS $((rss / 1024)) MiB (bound 100), wanted '$want':"
			sed 's/^/    /' "$work/err" | head -3
			failed=$((failed + 1))
		fi
	done
else
	echo "SKIP bad-input huge-file RSS: no /usr/bin/time to measure the peak RSS"
	skipped=$((skipped + 1))
fi
rm -f "$work/huge-not-elf.bin" "$work/huge-bzimage.bin"

if [[ -x $crash_driver ]]; then
	disk=$work/disk.img
	head -c $((1 << 20)) /dev/urandom >"$disk"
	cp "$disk" "$work/disk.copy"
	"$crash_driver" create "$disk" "$work/corrupt.overlay"
	# A byte of the reserved area, always zero when written: byte 40 (the
	# base's inode number) was already 0xff for 1 inode in 256 (CI saw it).
	printf '\xff' | dd of="$work/corrupt.overlay" bs=1 seek=200 conv=notrunc status=none
	expect disk-corrupt-header "overlay header is corrupt (checksum mismatch)" \
		disk commit "$work/corrupt.overlay"
	"$crash_driver" create "$disk" "$work/v2.overlay"
	command -v python3 >/dev/null || { echo "SKIP bad-input disk-version: no python3 to forge the header"; skipped=$((skipped + 1)); }
	command -v python3 >/dev/null && python3 - "$work/v2.overlay" <<'PY'
import struct, sys, zlib
with open(sys.argv[1], "r+b") as f:
    h = bytearray(f.read(512))
    h[8:12] = struct.pack("<I", 2)
    h[508:512] = struct.pack("<I", zlib.crc32(bytes(h[:508])))
    f.seek(0)
    f.write(h)
PY
	command -v python3 >/dev/null &&
		expect disk-version "overlay format version 2; this hyvm reads version 1" \
			disk info "$work/v2.overlay"
	"$crash_driver" create "$disk" "$work/changed.overlay"
	touch -d '2001-01-01' "$disk"
	expect disk-changed-base "changed since the overlay was made (it was modified)" \
		disk commit "$work/changed.overlay"
	"$crash_driver" create "$disk" "$work/gone.overlay"
	mv "$disk" "$work/moved.img"
	expect disk-base-missing "cannot open its base" disk commit "$work/gone.overlay"
	mv "$work/moved.img" "$disk"
	if ! cmp -s "$disk" "$work/disk.copy" || [[ ! -e $work/changed.overlay ]]; then
		echo "FAIL bad-input disk-refusals: the base or the overlay changed"
		failed=$((failed + 1))
	fi
else
	echo "SKIP bad-input disk overlays: no crash-driver given to make them"
	skipped=$((skipped + 1))
fi
# --gdb (userspace/gdb/gdb_config.c, gdb_stub.c): QEMU's tcp::PORT spelling
g=$work/needs-3mib.elf
expect gdb-scheme "--gdb: 'udp::1234' is not tcp:[HOST]:PORT" run --gdb udp::1234 "$g"
expect gdb-no-port "names no port" run --gdb tcp:1234 "$g"
expect gdb-port-zero "--gdb: bad port '0' (1 to 65535)" run --gdb tcp::0 "$g"
expect gdb-port-big "--gdb: bad port '70000'" run --gdb tcp::70000 "$g"
expect gdb-port-text "--gdb: bad port 'abc'" run --gdb tcp::abc "$g"
expect gdb-host "'example.org' is not an IPv4 address" run --gdb tcp:example.org:1234 "$g"
expect gdb-wait-alone "--gdb-wait needs --gdb" run --gdb-wait "$g"
# a port another program listens on: refused before the guest runs
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True); time.sleep(60)' >"$work/busy-port" &
busy_pid=$!
for _ in $(seq 100); do [[ -s $work/busy-port ]] && break; sleep 0.1; done
expect gdb-port-in-use "Address already in use" run --gdb "tcp::$(cat "$work/busy-port")" "$g"
kill "$busy_pid" 2>/dev/null
wait "$busy_pid" 2>/dev/null
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
