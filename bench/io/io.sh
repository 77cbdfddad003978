#!/usr/bin/env bash
# Disk and network throughput inside Debian's i386 guest, on hyvm's bt
# engine and in QEMU TCG (qemu-system-i386 -accel tcg) with the same
# kernel, initramfs and virtio devices (a raw virtio-blk disk, virtio-net
# on user-mode networking), in one run. In the guest (bench/io/init-io.sh):
# O_DIRECT sequential write and read of MIB MiB and RAND random 4 KiB reads
# on /dev/vda (bench/io/iobench.c), then NETMIB MiB pushed in 64 KiB
# writes (iobench tcpsend) to a
# listener this script runs on 127.0.0.1 (reached as 10.0.2.2), timed on
# the host from the first byte to the last. A benchmark, not a test: it
# prints a table, writes a CSV and an SVG chart, and keeps hyvm's
# --stats-out; it fails only when a run gives no figures.
#   bench/io/io.sh --hyvm PATH --tool IOBENCH32 [--out DIR] [--mib N]
#                  [--rand N] [--netmib N]
set -u
hyvm= tool= out=build/bench-io mib=32 rand=2000 netmib=32
while (($#)); do
	case $1 in
	--hyvm) hyvm=$2; shift ;;
	--tool) tool=$2; shift ;;
	--out) out=$2; shift ;;
	--mib) mib=$2; shift ;;
	--rand) rand=$2; shift ;;
	--netmib) netmib=$2; shift ;;
	*) echo "usage: io.sh --hyvm PATH --tool IOBENCH32 [--out DIR] [--mib N] [--rand N] [--netmib N]" >&2
	   exit 2 ;;
	esac
	shift
done
[[ -x $hyvm && -x $tool ]] || { echo "io.sh: --hyvm and --tool (a built iobench) are required" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
tests=$here/../../tests/linux
lin=$(dirname "$hyvm")/linux
mkdir -p "$out"
if ! "$tests/fetch-kernels.sh" "$lin" >/dev/null 2>"$out/fetch.err"; then
	echo "io.sh: no kernel: $(tail -1 "$out/fetch.err")" >&2
	exit 2
fi
root=$(ls -d "$lin"/root-linux-image-*-686 | head -n 1)
"$tests/mkinitramfs.sh" --root "$root" --busybox "$lin/root-busybox-static/bin/busybox" \
	--init "$here/init-io.sh" --out "$out/initrd.gz" --file "$tool:/bin/iobench" \
	--modules "virtio_pci virtio_blk virtio_net" || exit 2
kernel=$lin/vmlinuz-686

# listen OUTFILE: a listener on 127.0.0.1 that takes one connection, reads
# netmib MiB, closes, and writes "bytes seconds" (first byte to last);
# prints its port
listen() {
	python3 -c '
import socket, sys, time
want = int(sys.argv[1]) << 20
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
s.settimeout(600)
c, _ = s.accept(); c.settimeout(300)
got, t0 = 0, None
while got < want:
    b = c.recv(1 << 20)
    if not b: break
    if t0 is None: t0 = time.monotonic()
    got += len(b)
t1 = time.monotonic()
c.close()
open(sys.argv[2], "w").write("%d %.6f\n" % (got, t1 - (t0 or t1)))' "$netmib" "$1" >"$1.port" &
	lpid=$!
	for _ in $(seq 50); do [[ -s $1.port ]] && break; sleep 0.1; done
	port=$(cat "$1.port")
}

declare -A res
runners=()
# run LABEL CMD... (with @PORT@ replaced): one guest to its power-off
run() {
	local label=$1; shift
	runners+=("$label")
	rm -f "$out/$label.net"
	truncate -s 0 "$out/$label.img"
	truncate -s 256M "$out/$label.img"
	listen "$out/$label.net"
	local args=() a
	for a in "$@"; do args+=("${a//@PORT@/$port}"); done
	local start=$(date +%s.%N)
	timeout -k 5 900 "${args[@]}" >"$out/$label.out" 2>"$out/$label.err" </dev/null
	res[$label,status]=$?
	res[$label,wall]=$(echo "$(date +%s.%N) - $start" | bc)
	kill "$lpid" 2>/dev/null; wait "$lpid" 2>/dev/null
	local mode bytes ops secs
	while read -r _ _ mode bytes ops secs; do
		case $mode in
		seqwrite|seqread) res[$label,$mode]=$(echo "scale=2; $bytes / 1048576 / $secs" | bc) ;;
		randread) res[$label,$mode]=$(echo "scale=0; $ops / $secs" | bc) ;;
		esac
	done < <(grep -a "hyvm-bench: RESULT" "$out/$label.out" | tr -d "\r")
	if [[ -s $out/$label.net ]]; then
		read -r bytes secs <"$out/$label.net"
		((bytes >= netmib << 20)) && res[$label,net]=$(echo "scale=2; $bytes / 1048576 / $secs" | bc)
	fi
}

cmdline="console=ttyS0 quiet hyvm.mib=$mib hyvm.rand=$rand hyvm.netmib=$netmib hyvm.port=@PORT@"
run hyvm-bt "$hyvm" run --engine bt --mem 256 -k "$kernel" -i "$out/initrd.gz" -p "$cmdline" \
	--disk "$out/hyvm-bt.img" --net user --stats-out "$out/hyvm-bt.stats.json"
if command -v qemu-system-i386 >/dev/null; then
	run qemu-tcg qemu-system-i386 -accel tcg -m 256 -nographic -no-reboot -kernel "$kernel" \
		-initrd "$out/initrd.gz" -append "$cmdline" \
		-drive "file=$out/qemu-tcg.img,if=virtio,format=raw" -nic user,model=virtio-net-pci
else
	echo "io.sh: no qemu-system-i386: QEMU's column is left out"
fi

csv=$out/io.csv
echo "runner,seqwrite_MiBps,seqread_MiBps,randread4k_iops,tcp_guest_to_host_MiBps,wall_s,status" >"$csv"
printf '%-10s %12s %12s %14s %14s %8s\n' runner "seqwr MiB/s" "seqrd MiB/s" "rand4k IOPS" "tcp g->h MiB/s" "wall s"
failed=0
for r in "${runners[@]}"; do
	printf '%-10s %12s %12s %14s %14s %8.1f\n' "$r" "${res[$r,seqwrite]:--}" "${res[$r,seqread]:--}" \
		"${res[$r,randread]:--}" "${res[$r,net]:--}" "${res[$r,wall]}"
	echo "$r,${res[$r,seqwrite]:-},${res[$r,seqread]:-},${res[$r,randread]:-},${res[$r,net]:-},${res[$r,wall]},${res[$r,status]}" >>"$csv"
	[[ -n ${res[$r,seqread]:-} ]] || { failed=1; echo "  $r: no figures: $(tail -n 2 "$out/$r.err" | tr '\n' ' ')"; }
done

# The chart: one group per measure, a bar per runner, scaled per measure
# (bench/lib/bars.awk).
awk -F, 'NR == 1 { for (i = 2; i <= 5; i++) m[i] = $i; next }
	{ for (i = 2; i <= 5; i++) v[i] = v[i] m[i] "," $1 "," $i "\n" }
	END { for (i = 2; i <= 5; i++) printf "%s", v[i] }' "$csv" |
	awk -F, -v title="virtio in Debian's i386 guest: $mib MiB sequential, $rand random 4K reads, $netmib MiB TCP" \
		-v footer="higher is better; each measure scaled to its largest" -f "$here/../lib/bars.awk" >"$out/io.svg"
echo "wrote $csv and $out/io.svg"
exit $failed
