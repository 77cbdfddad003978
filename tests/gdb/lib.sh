# Shared by tests/gdb/*.sh: a free port, hyvm with --gdb in the
# background, Debian's gdb in batch mode against it, PASS/FAIL by the
# lines gdb printed. Sourced; the caller sets hyvm and work.

# The kernel's pick with python3; without it (the emulated hosts) a
# random one, which hyvm refuses with status 2 if it is taken.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' \
		2>/dev/null || echo $((20000 + RANDOM % 30000))
}

# gdb_session NAME GDB_SCRIPT SYMBOLS_FILE HYVM_ARGS...: runs hyvm with
# --gdb tcp::PORT --gdb-wait and gdb with GDB_SCRIPT (@PORT@ replaced);
# leaves gdb's output in $work/NAME.gdb, hyvm's in $work/NAME.out/.err,
# hyvm's status in $hyvm_status.
gdb_session() {
	local name=$1 script=$2 symbols=$3
	shift 3
	local port
	port=$(free_port)
	sed "s/@PORT@/$port/" "$script" >"$work/$name.cmds"
	"$hyvm" run --gdb "tcp::$port" --gdb-wait "$@" >"$work/$name.out" 2>"$work/$name.err" </dev/null &
	local pid=$!
	# one -ex per line: an error (the unmapped read) ends that command only
	local -a ex=()
	while IFS= read -r line; do
		[[ -n $line ]] && ex+=(-ex "$line")
	done <"$work/$name.cmds"
	timeout "${GDB_TIMEOUT:-120}" gdb -batch -nx "${ex[@]}" "$symbols" >"$work/$name.gdb" 2>&1
	local waited=0
	while kill -0 "$pid" 2>/dev/null && ((waited < 300)); do
		sleep 0.1
		waited=$((waited + 1))
	done
	kill "$pid" 2>/dev/null
	wait "$pid"
	hyvm_status=$?
}

declare -A shown=()
# expect_line NAME FILE REGEX WHAT
expect_line() {
	if grep -qE -- "$3" "$2"; then
		echo "PASS gdb $1: $4"
		passed=$((passed + 1))
	else
		echo "FAIL gdb $1: $4 (no line matching '$3' in $(basename "$2"))"
		# the whole file once, then its end
		if [[ -z ${shown[$2]:-} ]]; then
			shown[$2]=1
			sed 's/^/    /' "$2" | head -60
		else
			sed 's/^/    /' "$2" | tail -5
		fi
		failed=$((failed + 1))
	fi
}
