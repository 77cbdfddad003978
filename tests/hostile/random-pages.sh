#!/usr/bin/env bash
# Seeded random-code pages (tests/hostile/random_pages.c) at CPL0 and CPL3
# on bt, and the same pages in QEMU TCG, the oracle. The guest runs pages
# first..first+count-1 and prints each page's ending (its vector and
# error code); a page that ends the VM itself (a triple fault, a reset, a
# port that powers off or exits, CLI and a loop) ends the run, and this
# script records that ending for the page and starts a new run after it.
# Each bt run must end cleanly: the guest's own exit (status 1, or 0 and
# the odd isa-debug-exit statuses a page's OUT can produce), status 3 with
# hyvm's "triple fault" line, or status 4 with one engine error line; no
# sanitizer report, peak RSS under guest RAM + 32 MiB (256 MiB for a
# SAN=1 build, as run.sh). A run still going after --timeout seconds is
# a page looping with interrupts off: recorded as "loop" and stopped.
#
# Then per page: the same ending in QEMU (vector and error code, or the
# same kind of VM ending) is a match; a page that the timer ended on either
# side (vector 0x20: it ran 10 ms, how far depends on speed) is "timed",
# not compared. Every other page is a difference, put in a class: "rmw-w"
# (the same #PF, but bt's error code has W set for a read-modify-write
# where QEMU, which loads first, has it clear), "bt-ud" (bt raises #UD
# where QEMU runs the instruction), "qemu-ud" (the reverse), "other".
# --known FILE lists the differences known for a seed ("SEED RING PAGE
# CLASS", tests/hostile/random-pages.known: the make test run's); any other
# difference fails, listed with the command that reruns the page alone,
# and a known one that now agrees is reported (the list wants updating).
# Fails on an unclean bt ending or a difference not known (with
# --report-differences, a campaign's mode, differences are counted by
# class and do not fail). Without QEMU: bt only, and says SKIP for the
# comparison.
#   tests/hostile/random-pages.sh HYVM ELF [--pages N] [--seed S]
#       [--rings "0 3"] [--timeout SECS] [--known FILE] [--report-differences]
#       [--no-qemu]
set -u
hyvm=$1 elf=$2; shift 2
pages=500 seed=1 rings="0 3" timeout_s=30 known=/dev/null qemu=1 mem=16 report=0
while (($#)); do
	case $1 in
	--pages) pages=${2:?}; shift ;;
	--seed) seed=${2:?}; shift ;;
	--rings) rings=${2:?}; shift ;;
	--timeout) timeout_s=${2:?}; shift ;;
	--known) known=${2:?}; shift ;;
	--no-qemu) qemu=0 ;;
	--report-differences) report=1 ;;
	*) echo "random-pages.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
[[ -r $known ]] || { echo "random-pages.sh: cannot read $known" >&2; exit 2; }
for n in "$pages" "$seed" "$timeout_s"; do
	[[ $n =~ ^[0-9]+$ ]] || { echo "random-pages.sh: '$n' is not a whole number" >&2; exit 2; }
done
overhead=40	# as run.sh: hyvm's own ~8 MiB and the translation cache's 32 MiB bound
[[ $hyvm == *build-san* ]] && overhead=256
bound=$((mem + overhead))
command -v qemu-system-x86_64 >/dev/null || qemu=0
work=$(mktemp -d)
trap '[[ -n ${KEEP_WORK:-} ]] || rm -rf "$work"' EXIT
failed=0 passed=0

# run_pages SIDE RING: all pages on SIDE (bt or qemu) into $work/SIDE.RING
# ("K VECTOR ERROR" or "K end:KIND"); bt's unclean endings are FAIL lines
run_pages() {
	local side=$1 ring=$2 first=0 status last kind rss runs=0
	local res=$work/$side.$ring
	: >"$res"
	while ((first < pages)); do
		local args="seed=$seed ring=$ring first=$first count=$((pages - first))"
		runs=$((runs + 1))
		if [[ $side == bt ]]; then
			/usr/bin/time -o "$work/rss" -f %M timeout -k 5 "$timeout_s" \
				"$hyvm" run --engine bt --no-reboot --mem "$mem" -p "$args" "$elf" \
				>"$work/out" 2>"$work/err" </dev/null
			status=$?
			rss=$(($(tail -1 "$work/rss" | tr -cd 0-9) / 1024))
			((rss < bound)) || { echo "FAIL random-pages ring $ring: peak RSS ${rss} MiB over ${bound} MiB ($args)"; failed=$((failed + 1)); }
			if grep -qE 'AddressSanitizer|runtime error' "$work/err"; then
				echo "FAIL random-pages ring $ring: sanitizer report ($args):"; head -5 "$work/err" | sed 's/^/    /'
				failed=$((failed + 1))
			fi
		else
			timeout -k 5 "$timeout_s" qemu-system-x86_64 -accel tcg -M pc -m "$mem" -display none \
				-serial stdio -device isa-debug-exit,iobase=0xf4,iosize=4 -no-reboot \
				-d cpu_reset -D "$work/qlog" -append "$args" -kernel "$elf" \
				>"$work/out" 2>"$work/err" </dev/null
			status=$?
		fi
		sed -n 's/^p \([0-9]*\) \([0-9]*\) \([0-9a-f]*\) \([0-9a-f]*\) \([0-9a-f]*\)\r\?$/\1 \2 \3 \4 \5/p' "$work/out" >>"$res"
		last=$(tail -n 1 "$res" | cut -d' ' -f1)
		[[ -n $last && $last -ge $first ]] || last=$((first - 1))
		if grep -q "random_pages: done" "$work/out" && ((status == 1)); then
			break
		fi
		# the page after the last one reported ended the VM: how?
		case $side:$status in
		*:124|*:137) kind=loop ;;
		bt:3) kind=triple
			grep -q "triple fault" "$work/err" || { echo "FAIL random-pages ring $ring: status 3 without hyvm's triple fault line ($args)"; failed=$((failed + 1)); } ;;
		qemu:0) if grep -q "Triple fault" "$work/qlog" 2>/dev/null; then kind=triple; else kind=off; fi ;;
		bt:0) kind=off ;;
		bt:4) kind=engine-error
			(($(wc -l <"$work/err") == 1)) || { echo "FAIL random-pages ring $ring: status 4 with more than one error line ($args)"; failed=$((failed + 1)); } ;;
		*) if ((status % 2 == 1 && status < 256)); then kind=exit$status
		   else kind=status$status; [[ $side == bt ]] && { echo "FAIL random-pages ring $ring: status $status ($args): $(head -n 2 "$work/err" | tr '\n' ' ')"; failed=$((failed + 1)); }
		   fi ;;
		esac
		echo "$((last + 1)) end:$kind" >>"$res"
		[[ $side == bt && $kind == engine-error ]] && echo "    ring $ring page $((last + 1)): $(head -n 1 "$work/err")"
		first=$((last + 2))
	done
	echo "$runs" >"$res.runs"
}

summary() { # FILE -> "N x VECTOR ..." by how often
	awk '{ k = ($2 ~ /^end:/) ? $2 : ($2 == 32 ? "timer" : ($2 == 256 ? "returned" : "v" $2)); n[k]++ }
	END { for (k in n) printf "%d %s\n", n[k], k }' "$1" | sort -rn | awk '{ printf "%s%s=%d", (NR > 1 ? " " : ""), $2, $1 }'
}

for ring in $rings; do
	start=$SECONDS
	run_pages bt "$ring"
	bt_secs=$((SECONDS - start))
	n=$(wc -l <"$work/bt.$ring")
	echo "random-pages ring $ring seed $seed on bt: $n pages in $(cat "$work/bt.$ring.runs") runs, ${bt_secs}s: $(summary "$work/bt.$ring")"
	((n == pages)) || { echo "FAIL random-pages ring $ring: $n pages reported, not $pages"; failed=$((failed + 1)); }
	if ((!qemu)); then
		echo "SKIP random-pages ring $ring: no comparison (no qemu-system-x86_64 or --no-qemu)"
		continue
	fi
	start=$SECONDS
	run_pages qemu "$ring"
	echo "random-pages ring $ring seed $seed in QEMU: $(wc -l <"$work/qemu.$ring") pages in $(cat "$work/qemu.$ring.runs") runs, $((SECONDS - start))s: $(summary "$work/qemu.$ring")"
	read -r match timed differ known_n new agree < <(awk -v out="$work/differ.$ring" -v seed="$seed" -v ring="$ring" '
		FILENAME == ARGV[1] { if ($1 == seed && $2 == ring) kn[$3] = $4; next }
		FILENAME == ARGV[2] { q[$1] = $2 " " $3; qv[$1] = $2; qe[$1] = $3; qx[$1] = $2 " " $3 " eip=" $4 " cr2=" $5; qa[$1] = $4 " " $5; next }
		{ b = $2 " " $3; bx = $2 " " $3 " eip=" $4 " cr2=" $5
		  if (b == q[$1]) { ok++; if ($1 in kn) agree++; next }
		  if ($2 == 32 || qv[$1] == 32) { timed++; next }
		  cls = "other"
		  if ($2 == 14 && qv[$1] == 14 && $4 " " $5 == qa[$1] && xor2($3, qe[$1])) cls = "rmw-w"
		  else if ($2 == 6) cls = "bt-ud"
		  else if (qv[$1] == 6) cls = "qemu-ud"
		  dif++; byc[cls]++
		  if ($1 in kn) known++
		  else { new++; print $1, cls, "bt:", bx, "qemu:", ($1 in q ? qx[$1] : "none") > out }
		  print seed, ring, $1, cls > (out ".all") }
		function hex(h,   i, v) { v = 0; for (i = 1; i <= length(h); i++) v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1; return v }
		# error codes that differ in bit 1 (W/R) alone
		function xor2(a, b) { a = hex(a); b = hex(b); return a - b == 2 && int(a / 2) % 2 == 1 || b - a == 2 && int(b / 2) % 2 == 1 }
		END { c = ""; for (k in byc) c = c k "=" byc[k] " "; print ok + 0, timed + 0, dif + 0, known + 0, new + 0, agree + 0 > "/dev/stdout"; print c > (out ".classes") }' \
		"$known" "$work/qemu.$ring" "$work/bt.$ring")
	echo "random-pages ring $ring: bt vs QEMU: $match same ending, $timed timed, $differ different ($(cat "$work/differ.$ring.classes" 2>/dev/null)), $known_n of them known"
	[[ -n ${RANDOM_PAGES_DIFFS:-} ]] && cat "$work/differ.$ring.all" >>"$RANDOM_PAGES_DIFFS" 2>/dev/null
	((agree > 0)) && echo "    $agree pages listed in $known now end the same: the list wants updating"
	if ((new > 0 && !report)); then
		head -n 5 "$work/differ.$ring" | while read -r k rest; do
			echo "    page $k: $rest (rerun: hyvm run --engine bt -p 'seed=$seed ring=$ring first=$k count=1' $elf)"
		done
		echo "FAIL random-pages ring $ring: $new pages end differently on bt and in QEMU and are not in $known"
		failed=$((failed + 1))
	else
		passed=$((passed + 1))
	fi
done
((failed == 0)) && echo "PASS random-pages: every bt run ended cleanly"
echo "$((failed == 0 ? 1 : 0)) passed, $failed failed"
((failed == 0))
