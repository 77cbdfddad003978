#!/usr/bin/env bash
# A checkpoint of Debian's i386 kernel, on one engine or across engines:
# the interactive initramfs (build/linux/initramfs-shell.cpio.gz) boots to
# its shell on the first engine; the shell writes a file in its tmpfs and
# starts a background process; hyvm ctl saves the VM and quits; hyvm
# restore continues it in a new process on the next engine of --restore
# (default: the boot engine), where the same shell answers on the console,
# the file holds every line written so far and the background process
# still runs; the shell appends a line and, if another engine follows, the
# VM is saved and quit again; on the last one exit powers the VM off
# (status 0). Prints the boot-to-shell and restore-to-shell times and the
# checkpoint's size (bench/ckpt/ measures them properly). SKIP without
# the kernel and initramfs (tests/linux/fetch-kernels.sh). Needs bash and
# busybox's tools only: tests/kmod/run-svm.sh --only-ckpt-linux runs it in
# the emulated AMD host across svm, bt and kvm. A restore on an engine
# that cannot run the saved mode (hyvm's status 77, e.g. kvm_pvm and
# 32-bit paging) ends the chain with a SKIP line.
#   tests/linux/ckpt.sh HYVM [--engine E] [--restore E1,E2,...] [--cpu MODEL]
#                       [--mem MIB] [--limit SEC] [--dir DIR]
#                       [--save-to FILE | --from FILE]
# --cpu: the model on every engine (a checkpoint crosses engines only with
# a model both offer: pentium3 between bt and svm/kvm); --limit: the
# boot's bound (a restored shell's is half of it); --dir: where the kernel
# and initramfs are (default: build/linux beside HYVM). A chain cut in two
# places (tests/kmod/run-svm.sh: booted on bt on this machine, restored in
# the emulated host, where bt's boot is too slow): --save-to FILE boots,
# saves into FILE (the background process's pid in FILE.bg) and stops;
# --from FILE starts from such a FILE, --engine naming the engine it was
# saved on. The checkpoint records the kernel's path as given, so both
# halves run with --dir . from the directory holding the kernel.
set -u
hyvm=$1; shift
engine=bt mem=128 restore= cpu= limit=240 dir=$(dirname "$hyvm")/linux save_to= from=
while (($#)); do
	case $1 in
	--engine) engine=$2; shift 2 ;;
	--restore) restore=$2; shift 2 ;;
	--cpu) cpu=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--limit) limit=$2; shift 2 ;;
	--dir) dir=$2; shift 2 ;;
	--save-to) save_to=$2; shift 2 ;;
	--from) from=$2; shift 2 ;;
	*) echo "linux/ckpt.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
[[ -n $restore ]] || restore=$engine
IFS=, read -r -a hops <<<"$restore"
[[ -z $save_to ]] || hops=()
kernel=$dir/vmlinuz-686 initrd=$dir/initramfs-shell.cpio.gz
cpuopt=()
[[ -z $cpu ]] || cpuopt=(--cpu "$cpu")
passed=0 failed=0 vm=
work=$(mktemp -d)
trap '[[ -n $vm ]] && kill $vm 2>/dev/null; exec 3>&- 2>/dev/null; rm -rf "$work"' EXIT
# a VM that exited early: writing to its console FIFO fails, not kills us
trap '' PIPE
verdict() {
	if [[ $2 == 1 ]]; then echo "PASS $1"; passed=$((passed + 1))
	else echo "FAIL $1: $3"; failed=$((failed + 1)); fi
}
if [[ ! -r $kernel || ! -r $initrd ]]; then
	echo "SKIP linux-ckpt: no $kernel or $initrd (tests/linux/fetch-kernels.sh)"
	exit 0
fi
for e in "$engine" "${hops[@]}"; do
	if ! "$hyvm" engines 2>/dev/null | grep -q "^$e present"; then
		echo "SKIP linux-ckpt $engine -> $restore: engine $e is not present"
		exit 0
	fi
done
now() { echo "${EPOCHREALTIME/,/.}"; }
. "$(dirname "$0")/wait-lib.sh"
# the guest's console lines in a FAIL line: each on its own line, marked,
# as host_judge (tests/kmod/host-lib.sh) knows them, so the harness never takes the
# guest's "Kernel panic" for its own
guest_lines() { echo; tr -d '\r' | sed 's/^/guest| /'; }
# a failed check: give an oops under way 10 s to finish printing (its
# registers and call trace come after its first line), then $1 has it
oops_settle() {
	grep -q -E 'BUG:|Oops|general protection' "$1" 2>/dev/null || return 0
	wait_for "$1" 'end trace\|Kernel panic\|end Kernel' 10
	tr -d '\r' <"$1" >"$1.txt"
}
# save the VM behind $work/s.qmp into $work/c.ckpt and quit; $1: its engine
save_quit() {
	local ctl st
	rm -f "$work/c.ckpt"
	ts=$(now)
	"$hyvm" ctl "$work/s.qmp" save "$work/c.ckpt" --quit >"$work/ctl" 2>&1
	ctl=$?
	te=$(now)
	wait $vm
	st=$? vm=
	exec 3>&-
	verdict "linux-ckpt: save --quit on $1" $([[ $ctl == 0 && $st == 0 && -s $work/c.ckpt ]] && echo 1 || echo 0) \
		"ctl $ctl $(cat "$work/ctl"), status $st $(tail -n 3 "$work/err")"
	[[ $ctl == 0 && $st == 0 && -s $work/c.ckpt ]]
}

boot_and_save() {
mkfifo "$work/in0"
t0=$(now)
"$hyvm" run --engine "$engine" "${cpuopt[@]}" --mem "$mem" --control "$work/s.qmp" -k "$kernel" -i "$initrd" \
	-p "console=ttyS0 quiet" <"$work/in0" >"$work/out0" 2>"$work/err" &
vm=$!
exec 3>"$work/in0"
wait_for "$work/out0" "hyvm-shell: type exit" "$limit"
ok=$?
t1=$(now)
verdict "linux-ckpt: the shell is up on $engine" $((ok == 0)) "$(tail -n 5 "$work/out0" "$work/err")"
((ok == 0)) || exit 1
sleep 1
echo 'echo hyvm-ckpt-data >/tmp/f; (while :; do sleep 1; done) & echo bg=$!' >&3
wait_for "$work/out0" "bg=[0-9]" $((limit / 4))
bg=$(grep -o 'bg=[0-9][0-9]*' "$work/out0" | tail -n 1 | cut -d= -f2)
save_quit "$engine" || exit 1
}
if [[ -n $from ]]; then
	cp "$from" "$work/c.ckpt" && bg=$(cat "$from.bg") ||
		{ echo "FAIL linux-ckpt: cannot read $from or $from.bg"; exit 1; }
	t0=0 t1=0 ts=0 te=0
else
	boot_and_save
fi
if [[ -n $save_to ]]; then
	cp "$work/c.ckpt" "$save_to" && echo "$bg" >"$save_to.bg" ||
		{ echo "FAIL linux-ckpt: cannot write $save_to"; exit 1; }
	echo "linux-ckpt: saved on $engine into $save_to"
	echo "linux-ckpt: $passed passed, $failed failed"
	((failed == 0))
	exit
fi
from=$engine lines=hyvm-ckpt-data
size=$(stat -c %s "$work/c.ckpt")
for ((h = 0; h < ${#hops[@]}; h++)); do
	to=${hops[h]} in=$work/in$((h + 1)) out=$work/out$((h + 1))
	name="linux-ckpt $from -> $to"
	mkfifo "$in"
	t2=$(now)
	"$hyvm" restore "$work/c.ckpt" --engine "$to" --control "$work/s.qmp" <"$in" >"$out" 2>"$work/err" &
	vm=$!
	exec 3>"$in"
	echo "echo hyvm-ckpt-\$((6*7+$h))" >&3
	wait_for "$out" "hyvm-ckpt-$((42 + h))" $((limit / 2))
	ok=$?
	t3=$(now)
	((ok == 0)) || oops_settle "$out"
	# status 77: the engine cannot run the saved mode (a SKIP: line, e.g.
	# kvm_pvm and 32-bit paging), which is no failure of the checkpoint
	if ((ok != 0)) && ! kill -0 $vm 2>/dev/null; then
		wait $vm
		st=$? vm=
		if ((st == 77)); then
			echo "SKIP $name: $(grep -m1 '^SKIP:' "$work/err" | sed 's/^SKIP: //')"
			echo "linux-ckpt: $passed passed, $failed failed"
			((failed == 0))
			exit
		fi
	fi
	# a kernel oops after the restore: its first 45 lines (registers,
	# call trace), which the emulated host's serial log is the only copy of
	verdict "$name: the restored shell answers" $((ok == 0)) \
		"$( (grep -m1 -A44 -E 'BUG:|Oops|general protection|Kernel panic' "$out" || tail -n 5 "$out"; tail -n 5 "$work/err") | guest_lines)"
	((ok == 0)) || exit 1
	echo "cat /tmp/f; kill -0 $bg && echo bg-alive-\$((1+$h))" >&3
	wait_for "$out" "bg-alive-$((1 + h))" $((limit / 4))
	ok=$?
	tr -d '\r' <"$out" >"$out.txt"
	((ok == 0)) || oops_settle "$out"
	got=1
	for l in $lines; do grep -q "^$l\$" "$out.txt" || got=0; done
	verdict "$name: the file ($lines) and the background process survived" \
		$([[ $ok == 0 && $got == 1 ]] && echo 1 || echo 0) \
		"$( (grep -m1 -A44 -E 'BUG:|Oops|general protection|Kernel panic' "$out.txt" || tail -n 5 "$out.txt"; tail -n 5 "$work/err") | guest_lines)"
	echo "linux-ckpt: $from -> $to: save $(awk -v a="$ts" -v b="$te" 'BEGIN { printf "%.2f", b - a }') s," \
		"restore to shell $(awk -v a="$t2" -v b="$t3" 'BEGIN { printf "%.2f", b - a }') s"
	if ((h + 1 < ${#hops[@]})); then
		echo "echo hop-$to-$h >>/tmp/f; echo wrote-$h" >&3
		wait_for "$out" "wrote-$h" $((limit / 4))
		lines="$lines hop-$to-$h"
		save_quit "$to" || exit 1
		from=$to
		continue
	fi
	echo exit >&3
	end=$((SECONDS + limit / 2)); while ((SECONDS < end)) && kill -0 $vm 2>/dev/null; do sleep 0.05; done
	kill -0 $vm 2>/dev/null && kill $vm	# not off in time: a FAIL, not a hang
	oops_settle "$out"
	wait $vm
	st=$? vm=
	verdict "$name: exit powers the restored VM off" $((st == 0)) \
		"status $st $(tail -n 3 "$work/err") console: $( (grep -m1 -A44 -E 'BUG:|Oops|general protection' "$out" ||
			tail -n 4 "$out") | guest_lines)"
done
awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v e="$ts" -v f="$te" \
	-v s="$size" -v m="$mem" -v g="$engine" 'BEGIN {
	printf "linux-ckpt: boot to shell %.1f s, save %.2f s, restore to shell %.2f s, checkpoint %.1f MiB\n",
		b - a, f - e, d - c, s / 1048576
	printf "linux-ckpt-csv: %s,%s,%.2f,%.3f,%.3f,%d\n", g, m, b - a, f - e, d - c, s }'
echo "linux-ckpt: $passed passed, $failed failed"
((failed == 0))
