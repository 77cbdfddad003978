#!/usr/bin/env bash
# A checkpoint of a guest on the network: Debian's i386 kernel with the
# shell initramfs (build/linux/initramfs-shell.cpio.gz, which takes an
# address by DHCP when there is a card) on --net user (virtio-net on
# libslirp). The shell fetches a file over HTTP from a server this test
# starts on 127.0.0.1 (through the gateway 10.0.2.2); hyvm ctl saves and
# quits; restored, the guest still has its DHCP address and a new fetch
# of another file works (slirp's own state is not in the checkpoint: its
# connections are gone, new ones work). ~25 s, one boot. SKIP without the
# kernel, the initramfs or an HTTP server (python3 or busybox httpd).
#   tests/linux/ckpt-net.sh HYVM [--engine E] [--limit SEC]
set -u
hyvm=$1; shift
engine=bt limit=240
while (($#)); do
	case $1 in
	--engine) engine=$2; shift 2 ;;
	--limit) limit=$2; shift 2 ;;
	*) echo "linux/ckpt-net.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
dir=$(dirname "$hyvm")/linux
kernel=$dir/vmlinuz-686 initrd=$dir/initramfs-shell.cpio.gz
passed=0 failed=0 vm= server=
work=$(mktemp -d)
trap '[[ -n $vm ]] && kill $vm 2>/dev/null; [[ -n $server ]] && kill $server 2>/dev/null
	exec 3>&- 2>/dev/null; rm -rf "$work"' EXIT
trap '' PIPE
. "$(dirname "$0")/../lib/verdict.sh"
if [[ ! -r $kernel || ! -r $initrd ]]; then
	echo "SKIP linux-ckpt-net: no $kernel or $initrd (tests/linux/fetch-kernels.sh)"
	exit 0
fi
. "$(dirname "$0")/http-lib.sh"
http_pick || { echo "SKIP linux-ckpt-net: no python3 or busybox httpd for the host's HTTP server"; exit 0; }
. "$(dirname "$0")/wait-lib.sh"
mkdir "$work/www"
head -c 20000 /dev/urandom >"$work/www/before"
head -c 30000 /dev/urandom >"$work/www/after"
http_serve "$work/www" || { echo "FAIL linux-ckpt-net: the host's HTTP server did not start: $(tail -1 "$work/server.err")"; exit 1; }
sum() { sha256sum "$work/www/$1" | cut -d' ' -f1; }
fetch() { # the guest's command: the file's sha256 on a line of its own
	echo "echo sum-$1=\$(wget -q -O - http://10.0.2.2:$port/$1 | sha256sum | cut -d' ' -f1)"
}

mkfifo "$work/in0" "$work/in1"
"$hyvm" run --engine "$engine" --mem 128 --control "$work/s.qmp" -k "$kernel" -i "$initrd" \
	-p "console=ttyS0 quiet" --net user <"$work/in0" >"$work/out0" 2>"$work/err" &
vm=$!
exec 3>"$work/in0"
wait_for "$work/out0" "hyvm-shell: type exit" "$limit"
verdict "linux-ckpt-net: the shell is up with eth0 by DHCP" \
	$(grep -q "hyvm-shell: eth0 10.0.2.15" "$work/out0" && echo 1 || echo 0) "$(tail -n 5 "$work/out0" "$work/err")"
fetch before >&3
wait_for "$work/out0" "sum-before=[0-9a-f]" $((limit / 4))
verdict "linux-ckpt-net: an HTTP fetch from 127.0.0.1 before the save" \
	$(grep -q "sum-before=$(sum before)" "$work/out0" && echo 1 || echo 0) "$(tail -n 3 "$work/out0")"
"$hyvm" ctl "$work/s.qmp" save "$work/c.ckpt" --quit >"$work/ctl" 2>&1
ctl=$?
wait $vm
st=$? vm=
exec 3>&-
verdict "linux-ckpt-net: save --quit with virtio-net" \
	$([[ $ctl == 0 && $st == 0 && -s $work/c.ckpt ]] && echo 1 || echo 0) "ctl $ctl $(cat "$work/ctl"), status $st $(tail -n 3 "$work/err")"

"$hyvm" restore "$work/c.ckpt" --engine "$engine" --control none <"$work/in1" >"$work/out1" 2>"$work/err" &
vm=$!
exec 3>"$work/in1"
echo "echo addr-\$(ip -4 addr show eth0 | sed -n 's/.*inet \\([0-9./]*\\).*/\\1/p')-end" >&3
wait_for "$work/out1" "addr-.*-end" $((limit / 2))
verdict "linux-ckpt-net: restored, eth0 keeps its DHCP address" \
	$(grep -q "addr-10.0.2.15/24-end" "$work/out1" && echo 1 || echo 0) "$(tail -n 3 "$work/out1" "$work/err")"
fetch after >&3
wait_for "$work/out1" "sum-after=[0-9a-f]" $((limit / 4))
verdict "linux-ckpt-net: restored, a new HTTP fetch from 127.0.0.1 works" \
	$(grep -q "sum-after=$(sum after)" "$work/out1" && echo 1 || echo 0) "$(tail -n 3 "$work/out1" "$work/err")"
echo exit >&3
end=$((SECONDS + limit / 2)); while ((SECONDS < end)) && kill -0 $vm 2>/dev/null; do sleep 0.05; done
kill -0 $vm 2>/dev/null && kill $vm	# not off in time: a FAIL, not a hang
wait $vm
st=$? vm=
verdict "linux-ckpt-net: exit powers the restored VM off" $((st == 0)) "status $st $(tail -n 3 "$work/err")"
echo "linux-ckpt-net: $passed passed, $failed failed"
((failed == 0))
