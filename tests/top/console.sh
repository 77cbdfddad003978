#!/usr/bin/env bash
# hyvm top's ncurses console, driven in tmux: at 80x24 it shows the busy
# guest's exit reasons, exit sites by symbol and the help line; it reacts
# to the keys (raw reasons, sort, filter, pause, reset, help, quit);
# it survives resizes, and refuses a terminal that is too small. Without a
# PID it shows a line per VM, Tab picks whose tables are shown, and VMs that
# end or start while it runs are marked and added.
#   tests/top/console.sh HYVM DIR-WITH-TOP-GUESTS
set -u
hyvm=$1 dir=$2
. "$(dirname "$0")/lib.sh"

if ! command -v tmux >/dev/null; then
	skip "console: tmux is not installed"
	summary
	exit
fi
engine=$(present_engines | grep -x kvm || present_engines | head -1)
if [[ -z $engine ]]; then
	skip "console: no engine present here"
	summary
	exit
fi
sock="hyvm-top-test-$$"
tm() { tmux -L "$sock" "$@"; }
trap 'tm kill-server 2>/dev/null; cleanup' EXIT
# A session that outlives the tests' own: killing the last session ends
# the tmux server, and a new-session right after can reach the server
# still exiting and fail ("no server running": a FAIL at load 6).
tm new-session -d -s keep "sleep 3600"

start_vm "$engine" "$dir/busy.elf"
for _ in $(seq 50); do [[ -e $work/hyvm-$vm_pid.stats ]] && break; sleep 0.1; done
if ! kill -0 "$vm_pid" 2>/dev/null; then
	skip "console: the busy guest does not run on $engine: $(head -1 "$work/vm.err")"
	summary
	exit
fi

screen() { tm capture-pane -p -t top; }
# wait_for NAME PATTERN: the screen shows PATTERN (an ERE) within 10 s.
wait_for() {
	local name=$1 pattern=$2
	for _ in $(seq 100); do
		if screen | grep -qE -- "$pattern"; then
			pass "$name"
			return 0
		fi
		sleep 0.1
	done
	fail "$name: /$pattern/ not on the screen:"
	screen | sed 's/^/    |/'
	return 1
}
# gone_for NAME PATTERN: PATTERN stays off the screen (checked after a redraw).
gone_for() {
	sleep 0.6
	if screen | grep -qE -- "$2"; then
		fail "$1: /$2/ is still on the screen:"
		screen | sed 's/^/    |/'
	else
		pass "$1"
	fi
}
keys() { tm send-keys -t top "$@"; }

tm new-session -d -s top -x 80 -y 24 \
	"HYVM_STATS_DIR=$work TERM=xterm $hyvm top -d 0.3 $vm_pid; echo EXITED=\$?; sleep 60"
wait_for "header names the pid" "pid $vm_pid .*running"
wait_for "header names engine and mode" "engine $engine +mode protected"
wait_for "categories with rates" "^io +[0-9]+ +[0-9.]+ +[1-9][0-9]*"
wait_for "mmio row" "^mmio +[0-9]+"
wait_for "exit sites named by symbol" "write_burst\.loop\+0x1"
wait_for "help line" "q quit +Tab VM +s sort"
wait_for "engine counters panel" "Engine counters"
wait_for "mode switches panel" "Mode switches"
keys c
if [[ $engine == kvm ]]; then
	wait_for "c: raw KVM exit reasons" "^KVM_EXIT_IO +[0-9]+"
else
	wait_for "c: raw exit reasons" "^Raw reason"
fi
keys c
wait_for "c again: categories" "^Category"
keys s
wait_for "s: sorted by total" "sorted by total"
keys / m m i o Enter
wait_for "filter shows mmio" "^mmio +[0-9]+"
gone_for "filter hides io" "^io +[0-9]+"
keys / BSpace BSpace BSpace BSpace Enter
wait_for "empty filter shows io again" "^io +[0-9]+"
keys p
wait_for "p: paused" "PAUSED"
keys p
gone_for "p again: running" "PAUSED"
keys r
wait_for "r: totals reset" "totals reset"
keys h
wait_for "h: help" "next sort column"
keys h
wait_for "h again: the table" "^Category"
tm resize-window -t top -x 120 -y 40 2>/dev/null
wait_for "resized larger" "^io +[0-9]+"
tm resize-window -t top -x 50 -y 12 2>/dev/null
wait_for "resized too small: says so" "terminal too small \(50x12\)"
tm resize-window -t top -x 80 -y 24 2>/dev/null
wait_for "back to 80x24" "^io +[0-9]+"
keys q
wait_for "q: quits with status 0" "EXITED=0"
tm kill-session -t top

tm new-session -d -s top -x 40 -y 10 \
	"HYVM_STATS_DIR=$work TERM=xterm $hyvm top $vm_pid; echo EXITED=\$?; sleep 60"
wait_for "too small at start: message and status 1" "EXITED=1"
wait_for "too small at start: names the size needed" "terminal too small \(40x10\)"
tm kill-session -t top

# Every VM: the busy guest above and the exit-counts guest (io 1300, one hlt).
a=$vm_pid
start_vm "$engine" "$dir/exit-counts.elf"; b=$vm_pid
for _ in $(seq 50); do [[ -e $work/hyvm-$b.stats ]] && break; sleep 0.1; done
# The first VM shown is the lower pid; Tab goes to the other.
if ((a < b)); then first=$a second=$b; else first=$b second=$a; fi
tm new-session -d -s top -x 80 -y 24 \
	"HYVM_STATS_DIR=$work TERM=xterm $hyvm top -d 0.3; echo EXITED=\$?; sleep 60"
wait_for "all VMs: title counts them" "hyvm top +2 VMs, 2 running"
wait_for "all VMs: column names" "PID +STATE +GUEST +ENGN +MODE +UPTIME +EXITS/s +GUEST% +VMM%"
wait_for "all VMs: a line for the first, selected" "^> *$first running +[a-z-]+\.elf +$engine +protected "
# uptime, exits/s, guest and VMM shares of the time
wait_for "all VMs: a line for the second" \
	"^ *$second running +[a-z-]+\.elf +$engine +protected +[0-9]+s +[0-9]+ +[0-9.]+ +[0-9.]+$"
wait_for "all VMs: the selected VM's vCPU line" "^pid $first vCPU 0/1 engine $engine"
keys Tab
wait_for "Tab: the second VM is selected" "^> *$second running"
wait_for "Tab: its vCPU line" "^pid $second vCPU 0/1"
wait_for "Tab: its tables (the exit-counts guest's one hlt)" "^hlt +1 "
((second == b)) || keys Tab
wait_for "the exit-counts VM selected" "^> *$b running"
kill -TERM "$b"
wait_for "a VM that ends: marked with its status, top goes on" "^> *$b ended:143 "
wait_for "a VM that ends: the title counts it out" "2 VMs, 1 running"
wait_for "a VM that ends: its tables stay" "^io +1300 "
start_vm "$engine" "$dir/busy.elf"; c=$vm_pid
wait_for "a VM that starts: added" "^ *$c running +busy\.elf"
wait_for "a VM that starts: counted" "3 VMs, 2 running"
keys q
wait_for "all VMs: q quits with status 0" "EXITED=0"
tm kill-session -t top
summary
