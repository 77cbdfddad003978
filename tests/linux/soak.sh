#!/usr/bin/env bash
# Soak: Debian's i386 kernel on bt (by default) under disk, network and
# timer load for --minutes (default 10), hyvm's resident memory and open
# file descriptors sampled every --every seconds (default 5) into a CSV.
# The guest (tests/linux/init-soak.sh) loops, a round every 2 s of its
# time (a steady load, so the quarters compare like with like): 256 KiB written to a
# virtio-blk disk with fsync + sync and read back, a 256 KiB HTTP fetch
# from a server this script starts on 127.0.0.1 (virtio-net over libslirp,
# through the gateway 10.0.2.2), and a 1 ms sleep loop beside them.
# Each sample: VmRSS, RssShmem (the guest's RAM: a memfd, bounded by
# --mem, filled as the guest touches it) and their difference, hyvm's own
# memory; open descriptors, sockets apart (libslirp keeps a host socket
# per guest TCP connection until the connection's close ends, so their
# count follows the fetch rate), the guest's rounds, and bt's translation
# cache (bt.tc_bytes: code and metadata, bt.tc_flushes; from hyvm top --json: not judged,
# there to explain growth). Pass when, the first quarter of the
# samples being the warm-up:
#   own memory: the last quarter's maximum is within 5% of the second
#     quarter's maximum (no growth after warm-up);
#   fds other than sockets: the same count in every sample after warm-up;
#   sockets: never more than 256 (a leak grows past any bound; 78 were
#     open at once at about one fetch a second);
#   the guest made progress in every quarter, reported no failed write,
#     read-back or fetch, and powered off when told (exit status 0,
#     nothing on hyvm's stderr).
# Not in make test (10 minutes and more): make test-linux-soak.
#   tests/linux/soak.sh HYVM [--minutes M] [--every SECS] [--csv FILE]
#       [--engine E] [guest-lib.sh options: --kernel --modules-root
#       --busybox | --initrd, --mem, --limit]
set -u
hyvm=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
. "$here/guest-lib.sh"
engine=bt minutes=10 every=5 csv= maxsocks=256
while (($#)); do
	case $1 in
	--engine) engine=${2:?--engine needs a name} ;;
	--minutes) minutes=${2:?--minutes needs a number} ;;
	--every) every=${2:?--every needs seconds} ;;
	--csv) csv=${2:?--csv needs a file} ;;
	*) guest_opt "$1" "${2:?$1 needs a value}" || { echo "soak.sh: unknown argument $1" >&2; exit 2; } ;;
	esac
	shift 2
done
[[ $minutes =~ ^[0-9]+$ && $minutes -ge 1 ]] || { echo "soak.sh: --minutes must be a whole number >= 1" >&2; exit 2; }
[[ $every =~ ^[0-9]+$ && $every -ge 1 ]] || { echo "soak.sh: --every must be a whole number >= 1" >&2; exit 2; }
out=$(dirname "$hyvm")/linux
work=$(mktemp -d)
[[ -n $csv ]] || csv=$(dirname "$hyvm")/soak.csv
server= vm=
cleanup() {
	[[ -n $vm ]] && kill -KILL "$vm" 2>/dev/null
	[[ -n $server ]] && kill "$server" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
guest_prepare linux-soak init-soak.sh "virtio_pci virtio_blk virtio_net"
if ! "$hyvm" engines | grep -q "^$engine present"; then
	echo "SKIP linux-soak on $engine: engine absent"
	exit 0
fi
. "$(dirname "$0")/http-lib.sh"
http_pick || { echo "SKIP linux-soak: no python3 or busybox httpd for the host's HTTP server"; exit 0; }

mkdir "$work/www"
head -c 262144 /dev/urandom >"$work/www/host.bin"
sum=$(sha256sum "$work/www/host.bin" | cut -d' ' -f1)
http_serve "$work/www"
[[ -n $port ]] || { echo "FAIL linux-soak: the host's HTTP server did not start: $(tail -1 "$work/server.err")"; exit 1; }

truncate -s 4M "$work/disk.img"
"$hyvm" run --engine "$engine" --mem "$mem" -k "$kernel" -i "$initrd" \
	-p "console=ttyS0 quiet hyvm.port=$port hyvm.sum=$sum" \
	--disk "$work/disk.img" --net user >"$work/out" 2>"$work/err" </dev/null &
vm=$!
for ((t = 0; t < limit * 10; t++)); do
	grep -q "hyvm-soak: running" "$work/out" && break
	kill -0 "$vm" 2>/dev/null || break
	sleep 0.1
done
if ! grep -q "hyvm-soak: running" "$work/out"; then
	echo "FAIL linux-soak: the guest's load never started within ${limit}s: $(grep -m2 hyvm-soak "$work/out" | tr '\n' ' ') $(tail -n 1 "$work/err")"
	exit 1
fi

# sample until the time is up or hyvm ended
echo "seconds,rss_kib,guest_ram_kib,own_kib,fds,sockets,rounds,tc_bytes,tc_flushes" >"$csv"
start=$SECONDS end=$((SECONDS + minutes * 60))
while ((SECONDS < end)) && kill -0 "$vm" 2>/dev/null; do
	# VmRSS less RssShmem (the guest's RAM, a memfd, bounded by --mem):
	# hyvm's own memory; sockets apart from the other descriptors
	read -r rss shm < <(awk '/^VmRSS:/ { r = $2 } /^RssShmem:/ { s = $2 } END { print r, s }' "/proc/$vm/status" 2>/dev/null)
	socks=0 fds=0
	for fd in /proc/$vm/fd/*; do
		l=$(readlink "$fd" 2>/dev/null) || continue
		if [[ $l == socket:* ]]; then socks=$((socks + 1)); else fds=$((fds + 1)); fi
	done
	rounds=$(grep -c "hyvm-soak: round" "$work/out")
	# bt's translation cache (code bytes, flushes): what own memory
	# grows with while the guest runs new code (empty on other engines)
	tc=$("$hyvm" top --batch --json -n 1 "$vm" 2>/dev/null |
		sed -n 's/.*"bt.tc_bytes":\([0-9]*\),"bt.tc_flushes":\([0-9]*\).*/\1,\2/p')
	[[ -n $tc ]] || tc=,
	[[ -n $rss && -n $shm ]] && echo "$((SECONDS - start)),$rss,$shm,$((rss - shm)),$fds,$socks,$rounds,$tc" >>"$csv"
	sleep "$every"
done
alive=0
kill -0 "$vm" 2>/dev/null && alive=1
echo stop >"$work/www/stop"
status=
if ((alive)); then
	for ((t = 0; t < 1200; t++)); do kill -0 "$vm" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$vm" 2>/dev/null; then
		kill -KILL "$vm"; status="no power-off within 120 s of stop"
	fi
fi
wait "$vm"; rc=$?; vm=

# the verdict, from the CSV (awk: quarters by sample index)
verdict=$(awk -F, -v maxsocks="$maxsocks" 'NR > 1 { t[n] = $1; r[n] = $4; f[n] = $5; so[n] = $6; k[n] = $7; n++ }
END {
	if (n < 8) { print "FAIL only " n " samples"; exit }
	q = int(n / 4); fmin = -1; fmax = 0; smax = 0
	for (i = 0; i < n; i++) {
		qi = int(i / q); if (qi > 3) qi = 3
		if (r[i] > max[qi]) max[qi] = r[i]
		if (so[i] > smax) smax = so[i]
		if (i >= q) { if (fmin < 0 || f[i] < fmin) fmin = f[i]; if (f[i] > fmax) fmax = f[i] }
	}
	# progress per quarter: rounds at its last sample minus at its first
	for (j = 0; j < 4; j++) { a = j * q; b = (j == 3 ? n - 1 : (j + 1) * q - 1); prog[j] = k[b] - k[a] }
	why = ""
	if (max[3] > max[1] * 1.05) why = why sprintf(" hyvm'"'"'s own RSS grew: last quarter max %d KiB > 1.05 x second quarter max %d KiB;", max[3], max[1])
	if (fmin != fmax) why = why sprintf(" open fds (not sockets) varied after warm-up (%d..%d);", fmin, fmax)
	if (smax > maxsocks) why = why sprintf(" %d sockets open, over %d;", smax, maxsocks)
	for (j = 1; j < 4; j++) if (prog[j] <= 0) why = why sprintf(" no guest round in quarter %d;", j + 1)
	printf "%s samples %d over %d s, rounds %d, own RSS max per quarter %d %d %d %d KiB, fds %d..%d after warm-up, sockets at most %d\n",
		(why == "" ? "PASS" : "FAIL" why), n, t[n - 1], k[n - 1], max[0], max[1], max[2], max[3], fmin, fmax, smax
}' "$csv")
failed=0
echo "linux-soak on $engine, $minutes min: ${verdict#* }" | sed 's/^\(linux-soak[^:]*:\) [A-Z]* /\1 /'
if [[ $verdict != PASS* ]]; then echo "FAIL linux-soak: ${verdict#FAIL}"; failed=1; fi
if grep -qE "hyvm-soak: .*(failed|differs)" "$work/out"; then
	echo "FAIL linux-soak: the guest reports: $(grep -m3 -E 'hyvm-soak: .*(failed|differs)' "$work/out" | tr '\n' ' ')"; failed=1
fi
if ((!alive)); then
	echo "FAIL linux-soak: hyvm ended before the time was up (status $rc): $(tail -n 2 "$work/err" | tr '\n' ' ')"; failed=1
elif [[ -n $status ]]; then
	echo "FAIL linux-soak: $status"; failed=1
elif ((rc != 0)) || [[ -s $work/err ]]; then
	echo "FAIL linux-soak: exit status $rc: $(head -n 2 "$work/err" | tr '\n' ' ')"; failed=1
fi
echo "samples: $csv"
((failed == 0)) && echo "PASS linux-soak: no RSS or fd growth after warm-up, the guest's load ran to the end"
echo "$((1 - failed)) passed, $failed failed"
((failed == 0))
