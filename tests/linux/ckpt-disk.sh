#!/usr/bin/env bash
# A checkpoint keeps a snapshot disk's writes: Debian's i386 kernel with
# the shell initramfs (build/linux/initramfs-shell.cpio.gz, which mounts
# /dev/vda on /mnt) and an ext4 image as --disk IMG,snapshot. The shell
# writes /mnt/a and syncs; hyvm ctl saves and quits. Restored, the shell
# drops its page cache and reads /mnt/a back from the disk, writes /mnt/b
# and exits (the overlay file now holds b too). Restored again from the
# same checkpoint, the overlay is what the checkpoint carries: a is there,
# b is not. Then with the overlay file deleted: a is there again. Then
# with the base image touched: the restore is refused with one line
# (status 2); a plain disk written after its checkpoint is refused too
# (tests/ctl/ckpt-guest.sh checks that with a test guest). ~35 s. SKIP
# without the kernel, the initramfs or mkfs.ext4.
#   tests/linux/ckpt-disk.sh HYVM [--engine E] [--limit SEC]
set -u
hyvm=$1; shift
engine=bt limit=240
while (($#)); do
	case $1 in
	--engine) engine=$2; shift 2 ;;
	--limit) limit=$2; shift 2 ;;
	*) echo "linux/ckpt-disk.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
dir=$(dirname "$hyvm")/linux
kernel=$dir/vmlinuz-686 initrd=$dir/initramfs-shell.cpio.gz
passed=0 failed=0 vm=
work=$(mktemp -d)
trap '[[ -n $vm ]] && kill $vm 2>/dev/null; exec 3>&- 2>/dev/null; rm -rf "$work"' EXIT
# a VM that exited early: writing to its console FIFO fails, not kills us
trap '' PIPE
. "$(dirname "$0")/../lib/verdict.sh"
if [[ ! -r $kernel || ! -r $initrd ]]; then
	echo "SKIP linux-ckpt-disk: no $kernel or $initrd (tests/linux/fetch-kernels.sh)"
	exit 0
fi
command -v mkfs.ext4 >/dev/null || { echo "SKIP linux-ckpt-disk: no mkfs.ext4 (e2fsprogs)"; exit 0; }
. "$(dirname "$0")/wait-lib.sh"
img=$work/disk.img
truncate -s 64M "$img"
mkfs.ext4 -q -F "$img" || { echo "FAIL linux-ckpt-disk: mkfs.ext4"; exit 1; }

# boot with DISK (a --disk value), write /mnt/a, save --quit into $work/c.ckpt
boot_and_save() {
	local disk=$1 ctl st
	rm -f "$work/c.ckpt" "$work/in0"
	mkfifo "$work/in0"
	"$hyvm" run --engine "$engine" --mem 128 --control "$work/s.qmp" -k "$kernel" -i "$initrd" \
		-p "console=ttyS0 quiet" --disk "$disk" <"$work/in0" >"$work/out0" 2>"$work/err" &
	vm=$!
	exec 3>"$work/in0"
	wait_for "$work/out0" "hyvm-shell: type exit" "$limit"
	verdict "linux-ckpt-disk: the shell is up with /dev/vda on /mnt ($disk)" \
		$(grep -q "vda mounted" "$work/out0" && echo 1 || echo 0) "$(tail -n 5 "$work/out0" "$work/err")"
	echo 'echo ckpt-disk-a >/mnt/a; sync; echo synced-a' >&3
	wait_for "$work/out0" "^synced-a" $((limit / 4))
	# said apart from the restores' checks: a shell that died here (bt:
	# "Segmentation fault" of busybox sh in 1 of 20 runs, issue 14) made
	# a checkpoint whose every restore powered off without answering
	verdict "linux-ckpt-disk: the shell wrote /mnt/a and synced before the save" \
		$(tr -d '\r' <"$work/out0" | grep -q '^synced-a' && echo 1 || echo 0) \
		"$(tr -d '\r' <"$work/out0" | tail -n 4)"
	"$hyvm" ctl "$work/s.qmp" save "$work/c.ckpt" --quit >"$work/ctl" 2>&1
	ctl=$?
	wait $vm
	st=$? vm=
	exec 3>&-
	verdict "linux-ckpt-disk: save --quit" $([[ $ctl == 0 && $st == 0 && -s $work/c.ckpt ]] && echo 1 || echo 0) \
		"ctl $ctl $(cat "$work/ctl"), status $st $(tail -n 3 "$work/err")"
}
# restore; the shell reads /mnt from the disk; $1: name, $2: extra commands
restore_and_read() {
	local n=$((++restores)) st
	rm -f "$work/in$n"
	mkfifo "$work/in$n"
	"$hyvm" restore "$work/c.ckpt" --control none <"$work/in$n" >"$work/out$n" 2>"$work/err" &
	vm=$!
	exec 3>"$work/in$n"
	echo "sync; echo 3 >/proc/sys/vm/drop_caches; echo read-\$((40+$n)); cat /mnt/a;" \
		"ls /mnt | tr '\\n' ' ' | sed 's/^/ls: /'; echo; echo done-\$((50+$n)); ${2:-}" >&3
	wait_for "$work/out$n" "done-$((50 + n))" $((limit / 2))
	tr -d '\r' <"$work/out$n" >"$work/out$n.txt"
	echo exit >&3
	end=$((SECONDS + limit / 2)); while ((SECONDS < end)) && kill -0 $vm 2>/dev/null; do sleep 0.05; done
	kill -0 $vm 2>/dev/null && kill $vm	# not off in time: a FAIL, not a hang
	wait $vm
	st=$? vm=
	exec 3>&-
	[[ $st == 0 ]] || echo "  (restore $n: status $st $(tail -n 2 "$work/err"))"
}
ls_line() { grep '^ls: ' "$work/out$restores.txt" | tail -n 1; }

boot_and_save "$img,snapshot"
restores=0
restore_and_read "restored" 'echo ckpt-disk-b >/mnt/b; sync'
verdict "linux-ckpt-disk: restored, /mnt/a reads back from the disk" \
	$(grep -q '^ckpt-disk-a$' "$work/out1.txt" && echo 1 || echo 0) "$(tail -n 6 "$work/out1.txt")"
restore_and_read "again"
verdict "linux-ckpt-disk: restored again, the overlay is the checkpoint's (a, not b written after it)" \
	$(grep -q '^ckpt-disk-a$' "$work/out2.txt" && [[ $(ls_line) == *" a "* && $(ls_line) != *" b "* ]] &&
	  echo 1 || echo 0) "$(ls_line) $(tail -n 6 "$work/out2.txt")"
rm -f "$img.overlay"
restore_and_read "no overlay file"
verdict "linux-ckpt-disk: the overlay file deleted, the restore brings a back" \
	$(grep -q '^ckpt-disk-a$' "$work/out3.txt" && echo 1 || echo 0) "$(tail -n 6 "$work/out3.txt")"
# refusals: one line, status 2
refused() { # name pattern
	"$hyvm" restore "$work/c.ckpt" --control none </dev/null >"$work/rout" 2>"$work/rerr"
	local st=$?
	verdict "linux-ckpt-disk: $1 is refused with one line" \
		$([[ $st == 2 && $(wc -l <"$work/rerr") == 1 ]] && grep -q -- "$2" "$work/rerr" && echo 1 || echo 0) \
		"status $st: $(head -c 400 "$work/rerr")"
}
touch -d '2001-01-01' "$img"
refused "a snapshot disk whose base changed" "base"
echo "linux-ckpt-disk: $passed passed, $failed failed"
((failed == 0))
