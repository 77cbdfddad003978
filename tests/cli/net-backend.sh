#!/usr/bin/env bash
# hyvm run --net user while a guest runs: the hostfwd port listens on the
# host for as long as the VM runs and is closed after; --net adds its
# network card, so stderr stays empty; --netdev alone (no card) says so,
# once, and --netdev with --device virtio-net does not; --net none says
# nothing.
# Only 127.0.0.1 is contacted. The guest is serial-echo ('!' ends it,
# isa-debug-exit status 1).
#   tests/cli/net-backend.sh HYVM CLI_GUEST_DIR
set -u
hyvm=$1 dir=$2
work=$(mktemp -d)
pid=
trap '[[ -n $pid ]] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
passed=0 failed=0

check() { # name condition-status message
	if (($2 == 0)); then
		echo "PASS net-backend $1"
		passed=$((passed + 1))
	else
		echo "FAIL net-backend $1: $3"
		failed=$((failed + 1))
	fi
}

can_connect() { # port: a TCP connection to 127.0.0.1:port is accepted
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# a port nobody listens on (another program may still take it meanwhile)
for _ in $(seq 20); do
	port=$((20000 + RANDOM % 20000))
	can_connect "$port" || break
done
mkfifo "$work/in"
"$hyvm" run --engine bt --net "user,hostfwd=tcp:127.0.0.1:$port-:22" "$dir/serial-echo.bin" \
	<"$work/in" >"$work/out" 2>"$work/err" &
pid=$!
exec 4>"$work/in"	# the guest's stdin stays open until we send '!'
for _ in $(seq 100); do
	grep -q "serial-echo: ready" "$work/out" 2>/dev/null && break
	sleep 0.1
done
grep -q "serial-echo: ready" "$work/out"
check guest-runs $? "no ready line: $(head -c 300 "$work/err")"
can_connect "$port"
check hostfwd-listens $? "nothing accepts on 127.0.0.1:$port while the VM runs"
printf '!' >&4
exec 4>&-
wait "$pid"
status=$?
pid=
((status == 1))
check guest-exit $? "status $status, wanted 1 (isa-debug-exit 0)"
[[ ! -s $work/err ]]
check net-has-nic $? "stderr: $(cat "$work/err")"
! can_connect "$port"
check hostfwd-closed $? "127.0.0.1:$port still accepts after hyvm ended"

printf '!' | "$hyvm" run --engine bt --net none "$dir/serial-echo.bin" >/dev/null 2>"$work/err2"
status=$?
((status == 1)) && [[ ! -s $work/err2 ]]
check net-none-quiet $? "status $status, stderr: $(cat "$work/err2")"

printf '!' | "$hyvm" run --engine bt --netdev user,id=lan "$dir/serial-echo.bin" >/dev/null 2>"$work/err3"
status=$?
((status == 1)) && [[ $(grep -c "no network card uses it" "$work/err3") == 1 ]] &&
	[[ $(wc -l <"$work/err3") == 1 ]]
check netdev-says-no-nic $? "status $status, stderr: $(cat "$work/err3")"

printf '!' | "$hyvm" run --engine bt --netdev user,id=lan --device virtio-net,netdev=lan \
	"$dir/serial-echo.bin" >/dev/null 2>"$work/err4"
status=$?
((status == 1)) && [[ ! -s $work/err4 ]]
check netdev-device-quiet $? "status $status, stderr: $(cat "$work/err4")"

echo "$passed passed, $failed failed, 0 skipped"
((failed == 0))
