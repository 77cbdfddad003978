# Sourced by tests/linux/net.sh and disk-net.sh: the host's HTTP server on
# 127.0.0.1 that a guest reaches through slirp's gateway 10.0.2.2:
# python3's http.server, or busybox httpd where there is no python3 (the
# emulated hosts); LINUX_NET_HTTP=busybox picks busybox even where
# python3 is.
#   http_pick            -> http=python3|busybox; status 1 if neither
#   http_serve DIR       -> serves DIR in the background: server (its
#                           pid), port; status 1 if it did not start
# Needs work (a scratch directory: port and server.err go there).

http_pick() {
	if [[ ${LINUX_NET_HTTP:-} != busybox ]] && command -v python3 >/dev/null; then
		http=python3
	elif busybox --list 2>/dev/null | grep -qx httpd; then
		http=busybox
	else
		return 1
	fi
}

http_serve() {
	local dir=$1 p
	port=
	if [[ $http == python3 ]]; then
		python3 -c '
import functools, http.server, sys
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
h = functools.partial(Quiet, directory=sys.argv[1])
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), h)
print(s.server_address[1], flush=True)
s.serve_forever()' "$dir" >"$work/port" 2>"$work/server.err" &
		server=$!
		for _ in $(seq 50); do [[ -s $work/port ]] && break; sleep 0.1; done
		port=$(cat "$work/port")
	else
		# busybox httpd takes the port it is given: a random one, tried up to 5 times
		for _ in 1 2 3 4 5; do
			p=$((20000 + RANDOM % 20000))
			busybox httpd -f -p "127.0.0.1:$p" -h "$dir" 2>"$work/server.err" &
			server=$!
			sleep 0.5
			if kill -0 "$server" 2>/dev/null; then port=$p; break; fi
			wait "$server" 2>/dev/null; server=
		done
	fi
	[[ -n $port ]]
}
