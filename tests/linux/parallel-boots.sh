#!/usr/bin/env bash
# N copies of tests/linux/boot.sh's full session started at once, the way
# a loaded host runs them: each under timeout, each with --stats-out, and
# a run whose console stops growing for STALL seconds before the guest's
# power-off is flagged as stalled (its console tail, its statistics and
# its stderr kept in the work folder) and killed. A stall reproducer for
# interrupts lost under host load, not part of make test.
#   tests/linux/parallel-boots.sh HYVM [-n N] [-r ROUNDS] [--engine E]
#       [--stall SECS] [--usr1] [--keep DIR] [--append-extra STR]
#     --usr1   send SIGUSR1 to a stalled hyvm before killing it (only for
#              a build that catches it: the default action kills)
# Prints one line per run and "N passed, N failed" at the end.
set -u
hyvm=$1; shift
n=3 rounds=1 engine=bt stall=30 usr1=0 keep="" extra=""
while (($#)); do
	case $1 in
	-n) n=$2; shift ;;
	-r) rounds=$2; shift ;;
	--engine) engine=$2; shift ;;
	--stall) stall=$2; shift ;;
	--usr1) usr1=1 ;;
	--keep) keep=$2; shift ;;
	--append-extra) extra=" $2"; shift ;;
	*) echo "parallel-boots.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
here=$(cd "$(dirname "$0")" && pwd)
linux=$(dirname "$hyvm")/linux
"$here/fetch-kernels.sh" "$linux" >/dev/null || exit 1
work=${keep:-$(mktemp -d)}
mkdir -p "$work"
passed=0 failed=0

# one boot: console in $1.out, stderr in $1.err, statistics in $1.stats
boot() {
	exec timeout -s INT 300 "$hyvm" run --engine "$engine" --mem 128 --device pci_testdev \
		--stats-out "$1.stats" -k "$linux/vmlinuz-686" -i "$linux/initramfs.cpio.gz" \
		-p "console=ttyS0 earlyprintk=serial,ttyS0,115200 hyvm.test=$1$extra" \
		>"$1.out" 2>"$1.err" </dev/null
}

for ((r = 0; r < rounds; r++)); do
	pids=() names=() sizes=() still=()
	for ((i = 0; i < n; i++)); do
		names[i]=$work/r$r-$i
		boot "${names[i]}" &
		pids[i]=$!
		sizes[i]=-1 still[i]=0
	done
	left=$n
	while ((left > 0)); do
		sleep 1
		left=0
		for ((i = 0; i < n; i++)); do
			[[ -n ${pids[i]} ]] || continue
			if ! kill -0 "${pids[i]}" 2>/dev/null; then
				wait "${pids[i]}"; st=$?
				if ((st == 0)) && grep -q "hyvm-session: done" "${names[i]}.out"; then
					echo "PASS ${names[i]}"; passed=$((passed + 1))
				else
					echo "FAIL ${names[i]}: status $st, last line: $(tail -c 200 "${names[i]}.out" | tail -1)"
					failed=$((failed + 1))
				fi
				pids[i]=""
				continue
			fi
			left=$((left + 1))
			sz=$(stat -c %s "${names[i]}.out")
			if ((sz == sizes[i])); then
				still[i]=$((still[i] + 1))
			else
				sizes[i]=$sz still[i]=0
			fi
			if ((still[i] >= stall)); then
				echo "STALL ${names[i]}: no console output for ${stall}s; last line: $(tail -c 200 "${names[i]}.out" | tail -1)"
				# timeout's child is hyvm
				child=$(ps -o pid= --ppid "${pids[i]}" | head -1 | tr -d " ")
				ps -o pid,stat,pcpu,time,cmd -p "${child:-${pids[i]}}" >"${names[i]}.ps"
				if ((usr1)) && [[ -n $child ]]; then
					kill -USR1 "$child"; sleep 2
				fi
				kill -INT "${pids[i]}"; wait "${pids[i]}"
				failed=$((failed + 1))
				pids[i]=""
				left=$((left - 1))
			fi
		done
	done
done
echo "work folder: $work"
echo "$passed passed, $failed failed"
((failed == 0))
