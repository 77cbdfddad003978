# Sourced (bash): the checks of one Linux boot with the scripted session of
# tests/linux/init-session.sh, shared by tests/linux/boot.sh (this host) and
# tests/kmod/linux-boot32.sh (inside the emulated AMD host). Needs only
# bash 4+, grep, sed and awk (busybox's do): times come from bash's
# EPOCHREALTIME, since busybox's date has no %N.
#
#   session_want APPEND MODE     -> want[]: the lines the console must show
#                                   (MODE early: the kernel's first lines;
#                                   full: the whole session)
#   session_watch PID OUT SECS   -> polls OUT every 50 ms until every want[]
#                                   line is there, PID ends or SECS pass;
#                                   sets seen, t_start, t_end (the sleep's
#                                   two lines, to 50 ms, on this machine's clock)
#   session_stamp OUT            -> a filter for the VM's console: writes it to
#                                   OUT and, as they arrive, the sleep's two
#                                   lines with this machine's time to OUT.times
#                                   (no fork a line: bash's read and EPOCHREALTIME),
#                                   which session_judge prefers to the polls'
#   session_judge OUT STATUS MARKER
#                                -> problems[]: status not 0 after the power-off,
#                                   the sleep 10 outside 10 s +-10%, dmesg lines
#                                   that mean hyvm gave the kernel something wrong
#   session_report NAME OUT ERR SECS STATUS
#                                -> one PASS or FAIL line (with what is missing),
#                                   the "N passed" line; status 0 on PASS

session_now() { echo "${EPOCHREALTIME/,/.}"; }
session_sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }

session_want() {
	local append=$1 mode=$2 s=0 i
	want=(
		"Linux version 6."
		"BIOS-e820: [mem 0x0000000000100000-0x0000000007ffffff] usable"
		"RAMDISK: [mem 0x"
		"Kernel command line: $append"
	)
	[[ $mode == full ]] || return 0
	# the values init-session.sh's compute loop and pipe must print
	for ((i = 0; i < 3000; i++)); do s=$(((s * 31 + i) % 1000003)); done
	want+=(
		"hyvm-linux-init: hello from /init"
		"hyvm-session: uname Linux i686"
		"hyvm-session: cpus 1"
		"hyvm-session: compute $s"
		"hyvm-session: pipe 500500"
		"hyvm-session: fork 8"
		"hyvm-session: sleep-start"
		"hyvm-session: sleep-end"
		"hyvm-session: done"
	)
}

session_stamp() {
	local out=$1 line
	: >"$out.times"
	while IFS= read -r line || [[ -n $line ]]; do
		printf '%s\n' "$line"
		case $line in
		*"hyvm-session: sleep-start"* | *"hyvm-session: sleep-end"*)
			printf '%s %s\n' "${EPOCHREALTIME/,/.}" "${line%$'\r'}" >>"$out.times" ;;
		esac
	done >"$out"
}

session_watch() {
	local pid=$1 out=$2 deadline=$3 t w
	seen=0 t_start="" t_end=""
	for ((t = 0; t < deadline * 20; t++)); do
		# whether PID still runs is asked before counting: asked after,
		# the lines it wrote in between were never counted (a FAIL of
		# "18 of 19 lines" with all 19 in OUT)
		local alive=1
		kill -0 "$pid" 2>/dev/null || alive=0
		seen=0
		for w in "${want[@]}"; do
			grep -qF -- "$w" "$out" && seen=$((seen + 1))
		done
		# the sleep is timed by when its lines appear, to 50 ms
		if [[ -z $t_start ]] && grep -qF "hyvm-session: sleep-start" "$out"; then
			t_start=$(session_now)
		fi
		if [[ -z $t_end ]] && grep -qF "hyvm-session: sleep-end" "$out"; then
			t_end=$(session_now)
		fi
		((seen == ${#want[@]})) && break
		((alive)) || break
		sleep 0.05
	done
}

session_judge() {
	local out=$1 status=$2 marker=$3 line bad
	problems=() slept="" slept_guest=""
	((status == 0)) || problems+=("hyvm exited with status $status after the guest's poweroff -f")
	# the stamper's times (session_stamp) are the lines' arrival to a
	# scheduling latency; the polls' are late by an iteration of greps,
	# which on a loaded host (load 11 on 2 cores) took up to a second
	if [[ -s $out.times ]]; then
		local a b
		a=$(awk '/hyvm-session: sleep-start/ { print $1; exit }' "$out.times")
		b=$(awk '/hyvm-session: sleep-end/ { print $1; exit }' "$out.times")
		[[ -n $a && -n $b ]] && t_start=$a t_end=$b
	fi
	if [[ -n $t_start && -n $t_end ]]; then
		slept=$(session_sub "$t_end" "$t_start")
		# the guest's own clock across the same lines (its uptime in
		# them): with it near 10 s too, a long sleep was the guest
		# getting too little of the host's CPU around the sleep
		local g0 g1
		g0=$(sed -n 's/^hyvm-session: sleep-start \([0-9.]*\).*/\1/p' "$out" | head -1)
		g1=$(sed -n 's/^hyvm-session: sleep-end \([0-9.]*\).*/\1/p' "$out" | head -1)
		[[ -n $g0 && -n $g1 ]] && slept_guest=$(session_sub "$g1" "$g0")
		if awk -v s="$slept" 'BEGIN { exit !(s < 9 || s > 11) }'; then
			problems+=("the guest's sleep 10 took $slept s of host time (want 10 s +-10%)${slept_guest:+, $slept_guest s of its own}")
		fi
	fi
	# dmesg lines that mean hyvm gave the kernel something wrong
	bad='unchecked MSR access|Call Trace|Firmware Bug|BIOS Error|BUG:|WARNING:|Oops|panic|hyvm|spurious|timed out|APIC error|clocksource .* unstable'
	# and the PCI bus or its interrupt routing as the tables describe them
	bad+='|PCI: .*not found|_PRT|IRQ routing conflict|ACPI Error|pci .*(can.t claim|failed|no space)|can.t derive routing|no GSI'
	while IFS= read -r line; do
		problems+=("dmesg: $line")
	done < <(sed -n 's/^hyvm-dmesg: //p' "$out" | grep -E -- "$bad" | grep -vF "$marker")
}

session_report() {
	local name=$1 out=$2 err=$3 secs=$4 status=$5 w p
	if ((seen == ${#want[@]})) && ((${#problems[@]} == 0)); then
		printf 'PASS %s: %d of %d lines in %.1f s%s (%s)\n' "$name" "$seen" "${#want[@]}" "$secs" \
			"${slept:+, sleep 10 took ${slept:0:5} s}${slept_guest:+ (guest clock ${slept_guest} s)}" "$(grep -m1 -o 'Linux version [^ ]*' "$out")"
		echo "1 passed, 0 failed, 0 skipped"
		return 0
	fi
	printf 'FAIL %s: %d of %d lines after %.1f s, status %d\n' "$name" "$seen" "${#want[@]}" "$secs" "$status"
	for w in "${want[@]}"; do grep -qF -- "$w" "$out" || echo "    missing: $w"; done
	for p in "${problems[@]}"; do echo "    $p"; done
	echo "  last lines:"; grep -v '^hyvm-dmesg' "$out" | tail -8 | sed 's/^/    /'; tail -3 "$err" | sed 's/^/    /'
	echo "0 passed, 1 failed, 0 skipped"
	return 1
}
