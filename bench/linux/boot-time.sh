#!/usr/bin/env bash
# Boot time of one Linux kernel, initramfs and command line on each hyvm
# engine present here and under QEMU (software emulation, and KVM when
# /dev/kvm lets QEMU use it), in one run: from start to the shell's first
# line, to the session's last line and to the guest's own power-off (the
# process's exit with status 0); and, from hyvm's statistics
# (--stats-out), the exits of each boot by category, the exit profile
# `hyvm top` shows live. A benchmark, not a test: it prints figures and
# writes a CSV and an SVG chart (bench/lib/bars.awk); it fails only when a
# run does not reach the shell or the script cannot run at all. Times are
# taken by polling the console every 50 ms.
#   bench/linux/boot-time.sh --hyvm PATH [--out DIR] [--engines E1,E2|all]
#                            [--append-extra STR] [--kernel F --initrd F]
#                            [--mem MIB] [--shell-line S --done-line S]
#                            [--qemu BIN] [--qemu-accels tcg,kvm]
# Defaults: Debian's i386 kernel of tests/linux/fetch-kernels.sh with an
# initramfs that tests/linux/mkinitramfs.sh builds from
# bench/linux/init-boot.sh (it prints "hyvm-linux-init:" when the shell
# starts and powers off at once; --initrd build/linux/initramfs.cpio.gz
# times tests/linux/init-session.sh's session instead), --mem 128,
# qemu-system-i386 with tcg, and kvm where /dev/kvm is writable.
# Inside the emulated AMD host (tests/kmod/run-svm.sh --bench-linux, make
# bench-linux-svm) it runs the amd64 kernel of tests/kmod/linux-guest.sh on
# hyvm svm and kvm and qemu-system-x86_64 -accel kvm (kvm_amd). Needs bash,
# bc, awk, grep and jq; times come from bash's EPOCHREALTIME.
set -u
hyvm= out=build/bench-linux engines=all extra="" kernel= initrd= mem=128
shell_line="hyvm-linux-init: hello from /init"
done_line="hyvm-session: done"
qemu=qemu-system-i386 accels=""
while (($#)); do
	case $1 in
	--hyvm) hyvm=$2; shift ;;
	--out) out=$2; shift ;;
	--engines) engines=$2; shift ;;
	--append-extra) extra=$2; shift ;;
	--kernel) kernel=$2; shift ;;
	--initrd) initrd=$2; shift ;;
	--mem) mem=$2; shift ;;
	--shell-line) shell_line=$2; shift ;;
	--done-line) done_line=$2; shift ;;
	--qemu) qemu=$2; shift ;;
	--qemu-accels) accels=$2; shift ;;
	*) echo "usage: boot-time.sh --hyvm PATH [--out DIR] [--engines LIST|all] [--append-extra STR] [--kernel F --initrd F] [--mem MIB] [--shell-line S --done-line S] [--qemu BIN] [--qemu-accels LIST]" >&2
	   exit 2 ;;
	esac
	shift
done
[[ -x $hyvm ]] || { echo "boot-time.sh: --hyvm PATH is required (a built hyvm)" >&2; exit 2; }
command -v jq >/dev/null || { echo "boot-time.sh: needs jq (scripts/install-deps)" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
if [[ -z $kernel ]]; then
	lin=$(dirname "$hyvm")/linux
	if ! "$here/../../tests/linux/fetch-kernels.sh" "$lin" >/dev/null 2>"$out/fetch.err"; then
		echo "boot-time.sh: no kernel: $(tail -1 "$out/fetch.err")" >&2
		exit 2
	fi
	kernel=$lin/vmlinuz-686
fi
if [[ -z $initrd ]]; then
	initrd=$out/initrd-boot.gz
	"$here/../../tests/linux/mkinitramfs.sh" --busybox "$lin/root-busybox-static/bin/busybox" \
		--init "$here/init-boot.sh" --out "$initrd" || exit 2
fi
# panic=-1 with --no-reboot / -no-reboot: a kernel that panics (QEMU TCG's
# "IO-APIC + timer doesn't work!" on a loaded machine) ends its run at once
# instead of waiting for the deadline
append="console=ttyS0 panic=-1 $extra"
append=${append% }
deadline=600
now() { echo "${EPOCHREALTIME/,/.}"; }	# busybox's date has no %N

# run LABEL CMD...: times the shell line, the session's end and the
# power-off (an exit with status 0 after the shell line) from the moment
# the command starts, to 50 ms.
declare -A t_shell t_done t_off t_total note
run() {
	local label=$1; shift
	local log=$out/$label.out start now seen_shell="" seen_done="" ended="" status
	: >"$log"
	start=$(now)
	"$@" >"$log" 2>"$out/$label.err" </dev/null &
	local pid=$!
	for ((i = 0; i < deadline * 20; i++)); do
		now=$(now)
		[[ -z $seen_shell ]] && grep -qF "$shell_line" "$log" && seen_shell=$(echo "$now - $start" | bc)
		[[ -z $seen_done ]] && grep -qF "$done_line" "$log" && seen_done=$(echo "$now - $start" | bc)
		kill -0 "$pid" 2>/dev/null || { ended=$(echo "$(now) - $start" | bc); break; }
		sleep 0.05
	done
	kill "$pid" 2>/dev/null
	wait "$pid"
	status=$?
	t_off[$label]=""
	[[ -n $ended && -n $seen_shell && $status == 0 ]] && t_off[$label]=$(printf %.2f "$ended")
	t_total[$label]=$(printf %.2f "$(echo "$(now) - $start" | bc)")
	t_shell[$label]=${seen_shell:+$(printf %.2f "$seen_shell")}
	t_done[$label]=${seen_done:+$(printf %.2f "$seen_done")}
	[[ -n $seen_shell ]] || note[$label]="did not reach the shell: $(tail -1 "$out/$label.err")"
	# progress, so a run cut short still shows the runs it finished
	echo "boot-time.sh: $label: to shell ${t_shell[$label]:--} s, session ${t_done[$label]:--} s, power-off ${t_off[$label]:--} s, total ${t_total[$label]} s (status $status)" >&2
}

cols=()
for e in $("$hyvm" engines | awk '$2 == "present" { print $1 }'); do
	[[ $engines == all || ,$engines, == *,$e,* ]] || continue
	cols+=("hyvm-$e")
	run "hyvm-$e" "$hyvm" run --engine "$e" --mem "$mem" --no-reboot --stats-out "$out/hyvm-$e.stats.json" \
		-k "$kernel" -i "$initrd" -p "$append"
done
# QEMU on /dev/kvm where there is one (on kvm_pvm hosts it may not
# reach the shell: shown, not counted as a failure)
[[ -n $accels ]] || { accels=tcg; [[ -w /dev/kvm ]] && accels=tcg,kvm; }
if command -v "$qemu" >/dev/null; then
	for a in ${accels//,/ }; do
		cols+=("qemu-$a")
		# -nic none: hyvm gives the guest no network card either
		run "qemu-$a" "$qemu" -accel "$a" -m "$mem" -nographic -no-reboot -nic none \
			-kernel "$kernel" -initrd "$initrd" -append "$append"
	done
else
	echo "boot-time.sh: $qemu missing: no QEMU column" >&2
fi

csv=$out/boot-time.csv
echo "run,boot_to_shell_s,to_session_end_s,to_poweroff_s,total_s,exits,exits_by_category" >"$csv"
printf '%-14s %14s %14s %14s %10s %12s  %s\n' run "to shell (s)" "session (s)" "power-off (s)" "total (s)" exits "exits by category"
status=0
for c in "${cols[@]}"; do
	exits="" cats=""
	if [[ -f $out/$c.stats.json ]]; then
		exits=$(jq '[.vcpus[].exits] | add' "$out/$c.stats.json")
		cats=$(jq -r '[.vcpus[].categories[] | "\(.name)=\(.total)"] | join(" ")' "$out/$c.stats.json")
	fi
	printf '%-14s %14s %14s %14s %10.1f %12s  %s\n' "$c" "${t_shell[$c]:--}" "${t_done[$c]:--}" \
		"${t_off[$c]:--}" "${t_total[$c]}" "${exits:--}" "${cats:-${note[$c]:-}}"
	echo "$c,${t_shell[$c]},${t_done[$c]},${t_off[$c]},${t_total[$c]},$exits,\"$cats\"" >>"$csv"
	[[ -n ${t_shell[$c]} || $c == qemu-kvm ]] || status=1
done
for c in "${cols[@]}"; do [[ -n ${note[$c]:-} ]] && echo "  $c: ${note[$c]}"; done

# The chart: seconds to the shell and to the power-off, a bar per run.
# bars.awk lives in bench/lib/, or beside this script where
# tests/kmod/run-svm.sh stages both in its emulated host.
chart=$here/../lib/bars.awk
[[ -f $chart ]] || chart=$here/bars.awk
svg=$out/boot-time.svg
awk -F, 'NR > 1 { print "to the shell," $1 "," $2; off[NR] = $1 "," $4 }
	END { for (i = 2; i <= NR; i++) print "to power-off," off[i] }' "$csv" |
	awk -F, -v title="Linux boot: $(basename "$kernel"), $append" -v unit=" s" \
		-v footer="seconds from start (lower is better); each group scaled to its slowest" \
		-f "$chart" >"$svg"
echo "wrote $csv and $svg"
exit $status
