#!/usr/bin/env python3
"""A QMP client from Python's standard library, as a QEMU user would write
one, against `hyvm run --control PATH` (tests/ctl/qmp.sh runs it):
negotiation, query-status, stop/cont (the guest's output stops and goes
on), events, the error replies, bad clients (malformed JSON, commands
before qmp_capabilities, a message above 1 MiB, a client that vanishes
mid-command), and quit. Prints PASS/FAIL lines; exit 1 on a failure.
    qmp_client.py SOCKET GUEST-OUTPUT-FILE
"""
import json
import os
import socket
import sys
import time

sock_path, out_path = sys.argv[1], sys.argv[2]
failed = 0


def verdict(name, ok, detail=""):
    global failed
    print(("PASS " if ok else "FAIL ") + "qmp " + name + ("" if ok else ": " + str(detail)))
    failed += 0 if ok else 1


class QMP:
    def __init__(self, negotiate=True):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(30)
        self.s.connect(sock_path)
        self.buf = b""
        self.events = []
        self.greeting = self.recv()
        if negotiate:
            self.cmd("qmp_capabilities")

    def recv(self):
        while b"\n" not in self.buf:
            data = self.s.recv(65536)
            if not data:
                raise EOFError("closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def send_raw(self, data):
        self.s.sendall(data)

    def reply(self):
        while True:
            m = self.recv()
            if "event" in m:
                self.events.append(m)
                continue
            return m

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.send_raw(json.dumps(msg).encode() + b"\n")
        return self.reply()

    def close(self):
        self.s.close()


def out_len():
    return os.path.getsize(out_path)


q = QMP(negotiate=False)
g = q.greeting
verdict("greeting", "QMP" in g and g["QMP"]["capabilities"] == [] and "qemu" in g["QMP"]["version"], g)
r = q.cmd("query-status")
verdict("command before qmp_capabilities", r.get("error", {}).get("class") == "CommandNotFound", r)
r = q.cmd("qmp_capabilities")
verdict("qmp_capabilities", r == {"return": {}}, r)
r = q.cmd("query-status")
verdict("query-status running", r.get("return", {}).get("status") == "running"
        and r["return"]["running"] is True, r)

# stop: the guest's output stops; query-status says paused; STOP event
r = q.cmd("stop")
time.sleep(0.3)
n1 = out_len()
time.sleep(1.0)
n2 = out_len()
r2 = q.cmd("query-status")
verdict("stop", r == {"return": {}} and r2["return"]["status"] == "paused"
        and not r2["return"]["running"], (r, r2))
verdict("no guest output while stopped", n1 == n2, (n1, n2))
verdict("STOP event", any(e["event"] == "STOP" for e in q.events), q.events)
r = q.cmd("cont")
deadline = time.time() + 20
while out_len() == n2 and time.time() < deadline:
    time.sleep(0.05)
verdict("cont: the guest goes on", r == {"return": {}} and out_len() > n2, (r, out_len(), n2))
r = q.cmd("query-status")
verdict("query-status after cont", r["return"]["status"] == "running", r)
q.cmd("query-version")
verdict("RESUME event", any(e["event"] == "RESUME" for e in q.events), q.events)

# errors, with the id echoed and the connection still usable
r = q.cmd("no-such-command")
verdict("unknown command", r.get("error", {}).get("class") == "CommandNotFound", r)
q.send_raw(b'{"execute": "query-status", "id": "abc"}\n')
r = q.reply()
verdict("id echoed", r.get("id") == "abc", r)
q.send_raw(b'{"execute": ]\n')
r = q.reply()
verdict("malformed JSON", r.get("error", {}).get("class") == "GenericError", r)
q.send_raw(b'"just a string"\n')
r = q.reply()
verdict("not an object", "error" in r, r)
r = q.cmd("query-status")
verdict("still answering after bad input", r["return"]["status"] == "running", r)
r = q.cmd("query-commands")
names = {c["name"] for c in r["return"]}
verdict("query-commands", {"stop", "cont", "quit", "migrate", "hyvm-save"} <= names, names)
r = q.cmd("hyvm-stats")
verdict("hyvm-stats", r["return"]["engine"] and r["return"]["exits"]["io"] > 0, r)
# its "top": hyvm top --batch --json's document, the interval since the
# last call; the first covers the run so far
top1 = r["return"].get("top", {})
v1 = (top1.get("vcpus") or [{}])[0]
io1 = {c["name"]: c["total"] for c in v1.get("categories", [])}.get("io", 0)
verdict("hyvm-stats top", top1.get("pid") == int(os.environ.get("HYVM_VM_PID", "0"))
        and top1.get("state") == "running" and v1.get("engine") == "bt"
        and io1 > 0 and abs(top1["interval_s"] - top1["uptime_s"]) < 0.01, top1)
time.sleep(0.3)
top2 = q.cmd("hyvm-stats")["return"].get("top", {})
v2 = (top2.get("vcpus") or [{}])[0]
io2 = {c["name"]: c for c in v2.get("categories", [])}.get("io", {})
verdict("hyvm-stats top interval", 0.2 < top2.get("interval_s", 0) < top2.get("uptime_s", 0)
        and io2.get("total", 0) >= io1 and io2.get("delta", -1) == io2.get("total", 0) - io1
        and io2.get("rate", 0) > 0, top2)

# a message above 1 MiB: the VM closes that connection and runs on
big = QMP()
closed = False
try:
    big.send_raw(b"[" + b"1," * (700 * 1024))
    big.recv()
except (EOFError, ConnectionResetError, BrokenPipeError, socket.timeout):
    closed = True
verdict("huge message closes the connection", closed)
big.close()
# a client that vanishes mid-message and one that vanishes after a command
gone = QMP()
gone.send_raw(b'{"execute": "query-st')
gone.close()
gone = QMP()
gone.send_raw(b'{"execute": "query-status"}\n')
gone.close()
r = q.cmd("query-status")
verdict("VM runs after clients vanished", r["return"]["status"] == "running", r)

r = q.cmd("quit")
verdict("quit", r == {"return": {}}, r)
try:
    while True:
        q.recv()
except (EOFError, ConnectionResetError, socket.timeout):
    pass
verdict("SHUTDOWN event", any(e["event"] == "SHUTDOWN" for e in q.events), q.events)
q.close()
sys.exit(1 if failed else 0)
