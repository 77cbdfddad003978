#!/usr/bin/env bash
# gdb against Debian's i386 kernel on an engine (default bt), paging on:
# the kernel's uname system call, its address from /proc/kallsyms (which
# the guest prints: Debian's System.map is a placeholder), as a
# breakpoint; at the stop EIP is that address, CR0.PG is set, the stack
# and the return address are kernel addresses and the code bytes read
# through the guest's page tables; then gdb's kill ends hyvm.
#   tests/linux/fetch-kernels.sh first; tests/gdb/linux.sh HYVM [ENGINE]
set -u
hyvm=$1 engine=${2:-bt}
here=$(cd "$(dirname "$0")" && pwd)
out=$(dirname "$hyvm")/linux
name="gdb linux on $engine"
if ! command -v gdb >/dev/null; then
	echo "SKIP $name: no gdb here (apt-get install gdb)"
	exit 0
fi
"$here/../linux/fetch-kernels.sh" "$out" >/dev/null 2>"$out.fetch.err"
case $? in
0) ;;
77) echo "SKIP $name: $(tail -1 "$out.fetch.err")"; exit 0 ;;
*) echo "FAIL $name: fetch-kernels.sh failed"; exit 1 ;;
esac
if ! "$hyvm" engines | grep -q "^$engine present"; then
	echo "SKIP $name: engine $engine is not present here"
	exit 0
fi
work=$(mktemp -d)
pid=
trap '[[ -n $pid ]] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
passed=0 failed=0
. "$here/lib.sh"
"$here/../linux/mkinitramfs.sh" --root "$out/root-linux-image-6.1.0-57-686" \
	--busybox "$out/root-busybox-static/bin/busybox" --init "$here/init-gdb.sh" \
	--out "$work/initrd.cpio.gz" 2>"$work/mkinitramfs.err" ||
	{ echo "FAIL $name: mkinitramfs.sh: $(tail -1 "$work/mkinitramfs.err")"; exit 1; }

port=$(free_port)
start=$SECONDS
"$hyvm" run --engine "$engine" --mem 128 --gdb "tcp::$port" -k "$out/vmlinuz-686" \
	-i "$work/initrd.cpio.gz" -p "console=ttyS0 nokaslr" >"$work/out" 2>"$work/err" </dev/null &
pid=$!
addr=
while ((SECONDS - start < 240)) && kill -0 "$pid" 2>/dev/null; do
	addr=$(tr -d '\r' <"$work/out" | sed -n 's/^hyvm-gdb: symbol \([0-9a-f]\{8\}\) [Tt] .*/\1/p')
	[[ -n $addr ]] && break
	sleep 0.5
done
if [[ -z $addr ]]; then
	echo "FAIL $name: the guest named no uname symbol within 240 s"
	sed 's/^/    /' "$work/out" "$work/err" | tail -10
	exit 1
fi
sym=$(tr -d '\r' <"$work/out" | sed -n 's/^hyvm-gdb: symbol [0-9a-f]* [Tt] //p')
boot_secs=$((SECONDS - start))
# Ctrl-C while the kernel runs (mostly halted between unames), then X/M
# writes into its text through its page tables, put back before it runs on
python3 "$here/rsp-interrupt.py" "$port" "$addr" >"$work/interrupt" 2>&1
i=$work/interrupt
expect_line interrupt "$i" '^interrupt T02thread:01;$' "Ctrl-C stopped the running kernel (T02)"
expect_line g-packet "$i" '^g-bytes [0-9]+$' "g after the interrupt"
expect_line x-write "$i" '^m-after-X 24237d2a00000000ff$' "X binary write with escaped bytes, read back"
expect_line m-write "$i" '^m-after-M abcd$' "M write, read back"
expect_line restore "$i" '^restore OK True$' "the kernel's bytes put back"
expect_line detach "$i" '^detach OK$' "detach: the kernel runs on"
cat >"$work/cmds" <<EOC
set pagination off
target remote 127.0.0.1:$port
break *0x$addr
continue
printf "STOP eip=%x\n", \$eip
printf "CR0PG %x\n", (\$cr0 >> 31) & 1
printf "ESP %x\n", \$esp
printf "RET %x\n", *(unsigned int *)\$esp
printf "CODE %02x\n", *(unsigned char *)\$eip
info registers eax ecx edx ebx esp ebp esi edi eip eflags cs ss ds es fs gs cr3
kill
EOC
ex=()
while IFS= read -r line; do ex+=(-ex "$line"); done <"$work/cmds"
timeout 120 gdb -batch -nx "${ex[@]}" >"$work/gdb" 2>&1
waited=0
while kill -0 "$pid" 2>/dev/null && ((waited < 100)); do sleep 0.1; waited=$((waited + 1)); done
kill "$pid" 2>/dev/null
wait "$pid"
status=$?
pid=
g=$work/gdb
expect_line stop "$g" "^STOP eip=$addr\$" "stopped at $sym (0x$addr) after $boot_secs s of boot"
expect_line paging "$g" '^CR0PG 1$' "paging on (CR0.PG)"
expect_line stack "$g" '^ESP c[0-9a-f]{7}$' "kernel stack above 0xc0000000"
expect_line return "$g" '^RET c[0-9a-f]{7}$' "return address read through the page tables is kernel text"
# an ENDBR32, a push or a call to __fentry__: whatever it is, it is kernel code, not 00/ff
expect_line code "$g" '^CODE (f3|55|e8|3e|8b|57|56|53|89|0f|31)$' "first code byte of $sym readable"
expect_line info "$g" '^cr3 +0x[0-9a-f]+' "info registers shows cr3"
if ((status == 0)) && grep -q "killed by the debugger" "$work/err"; then
	echo "PASS gdb kill: gdb's kill ended hyvm (status 0, 'killed by the debugger')"
	passed=$((passed + 1))
else
	echo "FAIL gdb kill: hyvm status $status"
	sed 's/^/    /' "$work/err" | tail -5
	failed=$((failed + 1))
fi
echo "$passed passed, $failed failed ($((SECONDS - start)) s)"
((failed == 0))
