#!/usr/bin/env bash
# A checkpoint of Debian's i386 kernel on bt: the interactive initramfs
# (build/linux/initramfs-shell.cpio.gz) boots to its shell; the shell
# writes a file in its tmpfs and starts a background process; hyvm ctl
# saves the VM and quits; hyvm restore continues it in a new process,
# where the same shell answers on the console, the file is still there
# and the background process still runs; exit powers the VM off (status
# 0). Prints the boot-to-shell and restore-to-shell times and the
# checkpoint's size (bench/ckpt/ measures them properly). SKIP without
# the kernel and initramfs (tests/linux/fetch-kernels.sh).
#   tests/linux/ckpt.sh HYVM [--engine E] [--mem MIB]
set -u
hyvm=$1; shift
engine=bt mem=128
while (($#)); do
	case $1 in
	--engine) engine=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	*) echo "linux/ckpt.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
dir=$(dirname "$hyvm")/linux
kernel=$dir/vmlinuz-686 initrd=$dir/initramfs-shell.cpio.gz
passed=0 failed=0 vm=
work=$(mktemp -d)
trap '[[ -n $vm ]] && kill $vm 2>/dev/null; exec 3>&- 4>&- 2>/dev/null; rm -rf "$work"' EXIT
. "$(dirname "$0")/../lib/verdict.sh"
if [[ ! -r $kernel || ! -r $initrd ]]; then
	echo "SKIP linux-ckpt: no $kernel or $initrd (tests/linux/fetch-kernels.sh)"
	exit 0
fi
now() { echo "${EPOCHREALTIME/,/.}"; }
wait_for() { # file regex secs
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

mkfifo "$work/in1" "$work/in2"
t0=$(now)
"$hyvm" run --engine "$engine" --mem "$mem" --control "$work/s.qmp" -k "$kernel" -i "$initrd" \
	-p "console=ttyS0 quiet" <"$work/in1" >"$work/out1" 2>"$work/err1" &
vm=$!
exec 3>"$work/in1"
wait_for "$work/out1" "hyvm-shell: type exit" 240
ok=$?
t1=$(now)
verdict "linux-ckpt: the shell is up on $engine" $((ok == 0)) "$(tail -n 5 "$work/out1" "$work/err1")"
((ok == 0)) || exit 1
sleep 1
echo 'echo hyvm-ckpt-data >/tmp/f; (while :; do sleep 1; done) & echo bg=$!' >&3
wait_for "$work/out1" "bg=[0-9]" 60
bg=$(grep -o 'bg=[0-9][0-9]*' "$work/out1" | tail -n 1 | cut -d= -f2)
ts=$(now)
"$hyvm" ctl "$work/s.qmp" save "$work/c.ckpt" --quit >"$work/ctl" 2>&1
ctl=$?
te=$(now)
wait $vm
st=$? vm=
exec 3>&-
verdict "linux-ckpt: save --quit" $([[ $ctl == 0 && $st == 0 && -s $work/c.ckpt ]] && echo 1 || echo 0) \
	"ctl $ctl $(cat "$work/ctl"), status $st $(cat "$work/err1")"

t2=$(now)
"$hyvm" restore "$work/c.ckpt" --control none <"$work/in2" >"$work/out2" 2>"$work/err2" &
vm=$!
exec 4>"$work/in2"
echo 'echo hyvm-ckpt-$((6*7))' >&4
wait_for "$work/out2" "hyvm-ckpt-42" 120
ok=$?
t3=$(now)
verdict "linux-ckpt: the restored shell answers" $((ok == 0)) "$(tail -n 5 "$work/out2" "$work/err2")"
echo "cat /tmp/f; kill -0 $bg && echo bg-alive-\$((1+1))" >&4
wait_for "$work/out2" "bg-alive-2" 60
ok2=$?
verdict "linux-ckpt: the file and the background process survived" \
	$([[ $ok2 == 0 ]] && grep -q '^hyvm-ckpt-data' <(tr -d '\r' <"$work/out2") && echo 1 || echo 0) \
	"$(tail -n 5 "$work/out2")"
echo exit >&4
for ((i = 0; i < 1200; i++)); do kill -0 $vm 2>/dev/null || break; sleep 0.05; done
wait $vm
st=$? vm=
verdict "linux-ckpt: exit powers the restored VM off" $((st == 0)) "status $st $(cat "$work/err2")"
awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v e="$ts" -v f="$te" \
	-v s="$(stat -c %s "$work/c.ckpt")" -v m="$mem" -v g="$engine" 'BEGIN {
	printf "linux-ckpt: boot to shell %.1f s, save %.2f s, restore to shell %.2f s, checkpoint %.1f MiB\n",
		b - a, f - e, d - c, s / 1048576
	printf "linux-ckpt-csv: %s,%s,%.2f,%.3f,%.3f,%d\n", g, m, b - a, f - e, d - c, s }'
echo "linux-ckpt: $passed passed, $failed failed"
((failed == 0))
