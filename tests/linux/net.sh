#!/usr/bin/env bash
# Debian's i386 kernel with a virtio-net card on libslirp (hyvm run --net
# user, as QEMU's -nic user): the guest lists its PCI functions (the card
# is 0x1af4:0x1041), takes 10.0.2.15 by DHCP (busybox udhcpc), fetches a
# file over HTTP from a server this test starts on 127.0.0.1 through the
# gateway 10.0.2.2 and prints its sha256; then it serves a file with
# busybox httpd on port 8080, which the host fetches through hostfwd
# (127.0.0.1:PORT -> guest:8080), and powers off when the host publishes
# "go" on its server. Only 127.0.0.1 is contacted. SKIP when the packages
# cannot be fetched, the engine is absent or neither python3 nor busybox
# httpd (the host's side inside the emulated host) is there.
#   tests/linux/net.sh HYVM [--engine E] [--kernel FILE --modules-root DIR
#       --busybox FILE | --initrd FILE] [--make-initrd FILE] [--mem MIB] [--limit SECS]
# (the guest's kernel and initramfs: tests/linux/guest-lib.sh; the default
# is Debian's i386 kernel)
set -u
hyvm=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
. "$here/guest-lib.sh"
guest_args net.sh "$@"
out=$(dirname "$hyvm")/linux
passed=0 failed=0
fail() { echo "FAIL linux-net $*"; failed=$((failed + 1)); }
pass() { echo "PASS linux-net $*"; passed=$((passed + 1)); }

work=$(mktemp -d)
server= vm=
cleanup() {
	[[ -n $vm ]] && kill "$vm" 2>/dev/null
	[[ -n $server ]] && kill "$server" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
guest_prepare linux-net init-net.sh "virtio_pci virtio_net"
if ! "$hyvm" engines | grep -q "^$engine present"; then
	echo "SKIP linux-net on $engine: $("$hyvm" engines -v | grep "^$engine " | cut -d' ' -f2-)"
	exit 0
fi
command -v sha256sum >/dev/null || { echo "SKIP linux-net: no sha256sum"; exit 0; }
# The host's side: python3's http.server and urllib, or busybox httpd and
# bash's /dev/tcp (tests/linux/http-lib.sh)
. "$here/http-lib.sh"
http_pick || { echo "SKIP linux-net: neither python3 nor busybox with httpd"; exit 0; }

# http_get NAME: 127.0.0.1:$fwd/NAME into $work/NAME by bash's /dev/tcp
# (HTTP/1.0, the headers read line by line, the body to the end); 30 s
http_get() {
	local line code=
	exec 3<>"/dev/tcp/127.0.0.1/$fwd" || { echo "connect to 127.0.0.1:$fwd failed" >>"$work/fetch.err"; return 1; }
	printf 'GET /%s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$1" >&3
	while IFS= read -r -t 30 line <&3; do
		line=${line%$'\r'}
		[[ -n $code ]] || code=$line
		[[ -n $line ]] || break
	done
	timeout 30 cat <&3 >"$work/$1"
	exec 3>&-
	[[ $code == "HTTP/1."?" 200"* ]] || { echo "GET /$1: ${code:-no answer}" >>"$work/fetch.err"; return 1; }
}

# the host's HTTP server on 127.0.0.1, a port the kernel picks
mkdir "$work/www"
head -c 1000000 /dev/urandom >"$work/www/host.bin"
host_sum=$(sha256sum "$work/www/host.bin" | cut -d' ' -f1)
http_serve "$work/www" || { fail "the host's HTTP server did not start: $(tail -n 1 "$work/server.err")"; exit 1; }
# hostfwd's host port: free when asked (another program may take it
# before hyvm listens; hyvm then says so and the test fails, not hangs)
if [[ $http == python3 ]]; then
	fwd=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
else
	fwd=$((20000 + RANDOM % 20000))
	[[ $fwd != "$port" ]] || fwd=$((fwd + 1))
fi

tag=$RANDOM$RANDOM
start=$(date +%s)
timeout -k 5 "$limit" "$hyvm" run --engine "$engine" --mem "$mem" -k "$kernel" \
	-i "$initrd" -p "console=ttyS0 quiet hyvm.port=$port hyvm.test=$tag" \
	--net "user,hostfwd=tcp:127.0.0.1:$fwd-:8080" >"$work/out" 2>"$work/err" </dev/null &
vm=$!
# the guest's httpd is up, or it ended: at most the boot's limit
for _ in $(seq $((limit * 10))); do
	grep -q "hyvm-net: httpd ready" "$work/out" && break
	kill -0 "$vm" 2>/dev/null || break
	sleep 0.1
done
fetched=
if grep -q "hyvm-net: httpd ready" "$work/out"; then
	if [[ $http == python3 ]]; then
		python3 -c '
import sys, urllib.request
for name in ("guest.txt", "guest.bin"):
    with urllib.request.urlopen("http://127.0.0.1:%s/%s" % (sys.argv[1], name), timeout=30) as r:
        open(sys.argv[2] + "/" + name, "wb").write(r.read())' "$fwd" "$work" 2>"$work/fetch.err" &&
			fetched=1
	else
		# bash's /dev/tcp (this machine's static busybox wget segfaulted here)
		http_get guest.txt && http_get guest.bin && fetched=1
	fi
fi
echo go >"$work/www/go"	# the guest powers off (it stops waiting by itself too)
wait "$vm"
status=$?
vm=
secs=$(($(date +%s) - start))

ok=1
[[ $status == 0 ]] || { fail "boot: exit status $status: $(tail -n 2 "$work/err" | tr '\n' ' ')"; ok=0; }
[[ ! -s $work/err ]] || { fail "boot: hyvm said on stderr: $(head -n 2 "$work/err" | tr '\n' ' ')"; ok=0; }
grep -E 'hyvm-net: (modprobe|udhcpc|wget)' "$work/out" && { fail "the guest reports errors (above)"; ok=0; }
((ok)) && pass "boot: the guest ran to its power-off (${secs} s)"
if grep -qE "hyvm-net: pci [0-9a-f:.]+ 0x1af4:0x1041 0x020000" "$work/out"; then
	pass "lspci: the guest lists virtio-net 0x1af4:0x1041, class 0x020000"
else
	fail "lspci: no 0x1af4:0x1041 network function among: $(grep 'hyvm-net: pci' "$work/out" | tr '\n' ' ')"
fi
if grep -qF "hyvm-net: eth0 52:54:00:12:34:56" "$work/out" &&
	grep -qF "hyvm-net: addr 10.0.2.15" "$work/out" &&
	grep -qF "hyvm-net: route 10.0.2.2" "$work/out" && grep -qF "hyvm-net: dns 10.0.2.3" "$work/out"; then
	pass "dhcp: eth0 52:54:00:12:34:56 got 10.0.2.15, gateway 10.0.2.2, DNS 10.0.2.3"
else
	fail "dhcp: $(grep -E 'hyvm-net: (eth0|addr|route|dns)' "$work/out" | tr '\n' ' ')"
fi
if grep -qF "hyvm-net: host-file $host_sum" "$work/out"; then
	pass "http-get: the guest's copy of the host's 1 MB file has its sha256"
else
	fail "http-get: host sha256 $host_sum, the guest: $(grep -E 'hyvm-net: (host-file|wget)' "$work/out")"
fi
guest_sum=$(sed -n 's/.*hyvm-net: guest-file \([0-9a-f]*\).*/\1/p' "$work/out")
if [[ -z $fetched ]]; then
	fail "hostfwd: nothing fetched from 127.0.0.1:$fwd: $(tail -n 1 "$work/fetch.err" 2>/dev/null)"
elif [[ $(cat "$work/guest.txt") != "served by the guest $tag" ]]; then
	fail "hostfwd: guest.txt is '$(head -c 100 "$work/guest.txt")'"
elif [[ -z $guest_sum || $(sha256sum <"$work/guest.bin" | cut -d' ' -f1) != "$guest_sum" ]]; then
	fail "hostfwd: guest.bin's sha256 differs from the guest's ($guest_sum)"
else
	pass "hostfwd: 127.0.0.1:$fwd reached the guest's httpd (its files intact)"
fi
grep -qF "hyvm-net: go" "$work/out" || fail "the guest never saw the host's go"
if ((failed)); then
	echo "    the guest's console:"; grep -E "hyvm-(net|dmesg)" "$work/out" | sed 's/^/    /' | head -40
fi
echo "$passed passed, $failed failed"
((failed == 0))
