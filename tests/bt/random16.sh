#!/usr/bin/env bash
# Random 16-bit instruction blocks on bt against QEMU TCG, the oracle
# (tests/bt/random16.c says why not the host CPU): each seed's image
# (build/random16-gen) runs in both; the registers and flags after every
# block and the 64 KiB data segment at the end must be the same (AF not
# compared: logic ops leave it undefined).
#
#   tests/bt/random16.sh --hyvm build/hyvm --gen build/random16-gen [--seeds N] [--blocks N]
#
# One line per seed, SAME or DIFFER (the first blocks that differ, with
# their registers); last "N same, N differ". Exit status 0 iff none differ.
set -u
hyvm= gen= seeds=8 blocks=300
while (($#)); do
	case $1 in
	--hyvm) hyvm=${2:?}; shift ;;
	--gen) gen=${2:?}; shift ;;
	--seeds) seeds=${2:?}; shift ;;
	--blocks) blocks=${2:?}; shift ;;
	*) echo "usage: random16.sh --hyvm PATH --gen PATH [--seeds N] [--blocks N]" >&2; exit 2 ;;
	esac
	shift
done
[[ -x $hyvm && -x $gen && $seeds =~ ^[0-9]+$ && $blocks =~ ^[0-9]+$ ]] ||
	{ echo "random16: need --hyvm and --gen executables, numeric --seeds/--blocks" >&2; exit 2; }
if ! command -v qemu-system-x86_64 >/dev/null || ! command -v python3 >/dev/null; then
	echo "SKIP random16: needs qemu-system-x86_64 and python3"
	exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
same=0 differ=0
for ((i = 1; i <= seeds; i++)); do
	seed=$((0x16b17 * i))
	img=$work/r$i.bin
	"$gen" "$seed" "$blocks" "$img" || { echo "DIFFER seed $seed: the generator failed"; differ=$((differ + 1)); continue; }
	timeout 120 qemu-system-x86_64 -accel tcg -M pc -display none -serial stdio \
		-device isa-debug-exit,iobase=0xf4,iosize=4 -no-reboot -kernel "$img" \
		</dev/null >"$work/q" 2>/dev/null
	rq=$?
	timeout 300 "$hyvm" run --engine bt --no-stats "$img" </dev/null >"$work/b" 2>"$work/err"
	rb=$?
	if ((rq != 1 || rb != 1)); then
		echo "DIFFER seed $seed: exit status qemu $rq, bt $rb ($(tail -n 1 "$work/err"))"
		differ=$((differ + 1))
		continue
	fi
	if python3 - "$work/q" "$work/b" "$blocks" "$seed" <<'PY'
import struct, sys
def load(path):
    lines = open(path, 'rb').read().split(b'\n')
    dec = lambda s: bytes(((s[k] - 97) << 4) | (s[k + 1] - 97) for k in range(0, len(s) - 1, 2))
    return dec(lines[0]), dec(lines[1]) if len(lines) > 1 else b''
(rq, dq), (rb, db) = load(sys.argv[1]), load(sys.argv[2])
n, seed = int(sys.argv[3]), sys.argv[4]
names = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'eflags']
bad = []
if len(rq) != 36 * n or len(rb) != 36 * n:
    print(f'DIFFER seed {seed}: results {len(rq)} bytes from qemu, {len(rb)} from bt, want {36 * n}')
    sys.exit(1)
for i in range(n):
    q = list(struct.unpack_from('<9I', rq, 36 * i)); b = list(struct.unpack_from('<9I', rb, 36 * i))
    q[8] &= 0xcc5; b[8] &= 0xcc5   # CF PF ZF SF DF OF
    if q != b:
        bad.append(i)
        if len(bad) <= 3:
            print(f'  seed {seed} block {i}: ' + ' '.join(
                f'{names[k]} qemu {q[k]:08x} bt {b[k]:08x}' for k in range(9) if q[k] != b[k]))
data_bad = [k for k in range(min(len(dq), len(db))) if dq[k] != db[k]]
if bad or data_bad or len(dq) != len(db):
    print(f'DIFFER seed {seed}: {len(bad)} of {n} blocks differ, {len(data_bad)} data bytes'
          + (f' (first at {data_bad[0]:#x})' if data_bad else ''))
    sys.exit(1)
print(f'SAME seed {seed}: {n} blocks, 64 KiB of data')
PY
	then same=$((same + 1)); else differ=$((differ + 1)); fi
done
echo "random16: $same same, $differ differ"
((differ == 0))
