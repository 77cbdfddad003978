#!/usr/bin/env bash
# A checkpoint taken while the guest writes to its disk (issue 14): Debian's
# i386 kernel with the shell initramfs and an ext4 snapshot disk on /mnt
# runs a loop of dd ... conv=fsync; hyvm's disk writes are slowed by
# slow_writes.so (LD_PRELOAD, 30 ms each) so that the save finds requests
# in flight. The restored shell must finish a sync: the completions the
# save finished must come with their interrupt. Before the fix (the LAPIC
# was saved before virtio-blk finished its requests and signalled them)
# the restored sync never returned. ~40-60 s. SKIP without the kernel,
# the initramfs, mkfs.ext4 or slow_writes.so (make builds it).
#   tests/linux/ckpt-disk-busy.sh HYVM [--engine E] [--limit SEC]
set -u
hyvm=$1; shift
engine=bt limit=240
while (($#)); do
	case $1 in
	--engine) engine=$2; shift 2 ;;
	--limit) limit=$2; shift 2 ;;
	*) echo "linux/ckpt-disk-busy.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
dir=$(dirname "$hyvm")/linux slow=$(cd "$(dirname "$hyvm")" && pwd)/slow_writes.so
kernel=$dir/vmlinuz-686 initrd=$dir/initramfs-shell.cpio.gz
passed=0 failed=0 vm=
work=$(mktemp -d)
trap '[[ -n $vm ]] && kill $vm 2>/dev/null; exec 3>&- 2>/dev/null; rm -rf "$work"' EXIT
trap '' PIPE
. "$(dirname "$0")/../lib/verdict.sh"
if [[ ! -r $kernel || ! -r $initrd ]]; then
	echo "SKIP linux-ckpt-disk-busy: no $kernel or $initrd (tests/linux/fetch-kernels.sh)"
	exit 0
fi
command -v mkfs.ext4 >/dev/null || { echo "SKIP linux-ckpt-disk-busy: no mkfs.ext4 (e2fsprogs)"; exit 0; }
[[ -r $slow ]] || { echo "SKIP linux-ckpt-disk-busy: no $slow (make builds it)"; exit 0; }
. "$(dirname "$0")/wait-lib.sh"
img=$work/disk.img
truncate -s 64M "$img"
mkfs.ext4 -q -F "$img" || { echo "FAIL linux-ckpt-disk-busy: mkfs.ext4"; exit 1; }

mkfifo "$work/in0" "$work/in1"
LD_PRELOAD=$slow "$hyvm" run --engine "$engine" --mem 128 --control "$work/s.qmp" -k "$kernel" \
	-i "$initrd" -p "console=ttyS0 quiet" --disk "$img,snapshot" <"$work/in0" >"$work/out0" 2>"$work/err" &
vm=$!
exec 3>"$work/in0"
wait_for "$work/out0" "hyvm-shell: type exit" "$limit"
verdict "linux-ckpt-disk-busy: the shell is up with /dev/vda on /mnt" \
	$(grep -q "vda mounted" "$work/out0" && echo 1 || echo 0) "$(tail -n 5 "$work/out0" "$work/err")"
echo '(while :; do dd if=/dev/zero of=/mnt/z bs=4k count=256 conv=fsync 2>/dev/null; done) & echo writing-$((6*7))' >&3
wait_for "$work/out0" "writing-42" $((limit / 4))
sleep 3		# the loop's writes under way
"$hyvm" ctl "$work/s.qmp" save "$work/c.ckpt" --quit >"$work/ctl" 2>&1
ctl=$?
wait $vm
st=$? vm=
exec 3>&-
verdict "linux-ckpt-disk-busy: saved while the guest writes" \
	$([[ $ctl == 0 && $st == 0 && -s $work/c.ckpt ]] && echo 1 || echo 0) \
	"ctl $ctl $(cat "$work/ctl"), status $st $(tail -n 3 "$work/err")"

"$hyvm" restore "$work/c.ckpt" --control none <"$work/in1" >"$work/out1" 2>"$work/err" &
vm=$!
exec 3>"$work/in1"
echo 'kill %1; sync; echo synced-$((50+5))' >&3
wait_for "$work/out1" "synced-55" $((limit / 2))
ok=$?
verdict "linux-ckpt-disk-busy: restored, the shell's sync returns (no completion lost)" $((ok == 0)) \
	"$(tr -d '\r' <"$work/out1" | tail -n 6)"
echo exit >&3
end=$((SECONDS + limit / 4)); while ((SECONDS < end)) && kill -0 $vm 2>/dev/null; do sleep 0.05; done
kill -0 $vm 2>/dev/null && kill $vm
wait $vm
vm=
exec 3>&-
echo "linux-ckpt-disk-busy: $passed passed, $failed failed"
((failed == 0))
