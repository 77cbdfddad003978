#!/usr/bin/env bash
# Boot-to-shell time of one Linux kernel, initramfs and command line on each
# hyvm engine present here and under QEMU (software emulation, and KVM when
# /dev/kvm lets QEMU use it), in one run; and, from hyvm's statistics
# (--stats-out), the exits of each boot by category, the exit profile
# `hyvm top` shows live. A benchmark, not a test: it prints figures and
# writes a CSV and an SVG chart; it fails only when a run does not reach the
# shell or the script cannot run at all.
#   bench/linux/boot-time.sh --hyvm PATH [--out DIR] [--engines E1,E2|all]
#                            [--append-extra STR] [--kernel F --initrd F]
#                            [--mem MIB] [--shell-line S --done-line S]
#                            [--qemu BIN] [--qemu-accels tcg,kvm]
# Defaults: Debian's i386 kernel and the session initramfs of
# tests/linux/fetch-kernels.sh (its /init prints "hyvm-linux-init:" when the
# shell starts, then runs a session with a 10 s sleep and powers off),
# --mem 128, qemu-system-i386 with tcg, and kvm where /dev/kvm is writable.
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
	kernel=$lin/vmlinuz-686 initrd=$lin/initramfs.cpio.gz
fi
append="console=ttyS0 $extra"
append=${append% }
deadline=600
now() { echo "${EPOCHREALTIME/,/.}"; }	# busybox's date has no %N

# run LABEL CMD...: times the shell line and the session's end from the
# moment the command starts, to 50 ms.
declare -A t_shell t_done t_total note
run() {
	local label=$1; shift
	local log=$out/$label.out start now seen_shell="" seen_done=""
	start=$(now)
	"$@" >"$log" 2>"$out/$label.err" </dev/null &
	local pid=$!
	for ((i = 0; i < deadline * 20; i++)); do
		now=$(now)
		[[ -z $seen_shell ]] && grep -qF "$shell_line" "$log" && seen_shell=$(echo "$now - $start" | bc)
		[[ -z $seen_done ]] && grep -qF "$done_line" "$log" && seen_done=$(echo "$now - $start" | bc)
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill "$pid" 2>/dev/null
	wait "$pid"
	t_total[$label]=$(printf %.2f "$(echo "$(now) - $start" | bc)")
	t_shell[$label]=${seen_shell:+$(printf %.2f "$seen_shell")}
	t_done[$label]=${seen_done:+$(printf %.2f "$seen_done")}
	[[ -n $seen_shell ]] || note[$label]="did not reach the shell: $(tail -1 "$out/$label.err")"
	# progress, so a run cut short still shows the runs it finished
	echo "boot-time.sh: $label: to shell ${t_shell[$label]:--} s, session ${t_done[$label]:--} s, total ${t_total[$label]} s" >&2
}

cols=()
for e in $("$hyvm" engines | awk '$2 == "present" { print $1 }'); do
	[[ $engines == all || ,$engines, == *,$e,* ]] || continue
	cols+=("hyvm-$e")
	run "hyvm-$e" "$hyvm" run --engine "$e" --mem "$mem" --stats-out "$out/hyvm-$e.stats.json" \
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
echo "run,boot_to_shell_s,to_session_end_s,total_s,exits,exits_by_category" >"$csv"
printf '%-14s %14s %14s %10s %12s  %s\n' run "to shell (s)" "session (s)" "total (s)" exits "exits by category"
status=0
for c in "${cols[@]}"; do
	exits="" cats=""
	if [[ -f $out/$c.stats.json ]]; then
		exits=$(jq '[.vcpus[].exits] | add' "$out/$c.stats.json")
		cats=$(jq -r '[.vcpus[].categories[] | "\(.name)=\(.total)"] | join(" ")' "$out/$c.stats.json")
	fi
	printf '%-14s %14s %14s %10.1f %12s  %s\n' "$c" "${t_shell[$c]:--}" "${t_done[$c]:--}" \
		"${t_total[$c]}" "${exits:--}" "${cats:-${note[$c]:-}}"
	echo "$c,${t_shell[$c]},${t_done[$c]},${t_total[$c]},$exits,\"$cats\"" >>"$csv"
	[[ -n ${t_shell[$c]} || $c == qemu-kvm ]] || status=1
done
for c in "${cols[@]}"; do [[ -n ${note[$c]:-} ]] && echo "  $c: ${note[$c]}"; done

# The chart: boot-to-shell seconds per run, one bar each.
svg=$out/boot-time.svg
awk -F, -v title="Linux boot to shell: $(basename "$kernel"), $append" '
NR > 1 && $2 != "" { n++; name[n] = $1; v[n] = $2; if ($2 > max) max = $2 }
END {
	w = 640; bh = 28; top = 40; left = 120; h = top + n * (bh + 8) + 30
	printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">\n", w, h
	printf "<text x=\"10\" y=\"20\" font-size=\"14\">%s</text>\n", title
	for (i = 1; i <= n; i++) {
		y = top + (i - 1) * (bh + 8); bw = max > 0 ? (w - left - 90) * v[i] / max : 0
		printf "<text x=\"10\" y=\"%d\">%s</text>\n", y + bh / 2 + 4, name[i]
		printf "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#4a7ab5\"/>\n", left, y, bw, bh
		printf "<text x=\"%.1f\" y=\"%d\">%.1f s</text>\n", left + bw + 6, y + bh / 2 + 4, v[i]
	}
	printf "<text x=\"10\" y=\"%d\" fill=\"#666\">seconds from start to the shell (lower is better)</text>\n</svg>\n", h - 10
}' "$csv" >"$svg"
echo "wrote $csv and $svg"
exit $status
