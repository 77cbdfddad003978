#!/usr/bin/env python3
"""hyvm run on a pseudo-terminal, as a user at a terminal would have it.

Usage: console_tty.py HYVM DIR-WITH-CLI-GUESTS [ENGINE]

hyvm runs serial-echo.bin (tests/cli/serial-echo.asm) with the pty's
slave as its controlling terminal and stdin/stdout/stderr. Each case
checks that the terminal was raw while the guest ran (echo off, so any
text seen back came from the guest) and that after hyvm ended tcgetattr
and `stty -a` on the pty show exactly the settings from before.
"""
import fcntl
import os
import select
import signal
import subprocess
import sys
import termios
import time

hyvm, guests = sys.argv[1], sys.argv[2]
engine = sys.argv[3] if len(sys.argv) > 3 else "bt"
guest = os.path.join(guests, "serial-echo.bin")
failed = 0


def stty(path):
    with open(path, "rb") as f:
        return subprocess.run(["stty", "-a"], stdin=f, capture_output=True,
                              text=True).stdout


class Run:
    def __init__(self, extra=()):
        self.master, slave = os.openpty()
        self.path = os.ttyname(slave)
        self.before = termios.tcgetattr(slave)
        self.stty_before = stty(self.path)

        def own_terminal():
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(
            [hyvm, "run", "--engine", engine, *extra, guest],
            stdin=slave, stdout=slave, stderr=slave, preexec_fn=own_terminal)
        self.slave = slave
        self.out = b""

    def read_until(self, want, timeout=30):
        end = time.time() + timeout
        while want not in self.out and time.time() < end:
            r, _, _ = select.select([self.master], [], [], 0.1)
            if r:
                try:
                    self.out += os.read(self.master, 4096)
                except OSError:
                    break
        return want in self.out

    def send(self, data):
        os.write(self.master, data)

    def raw_now(self):
        t = termios.tcgetattr(self.slave)
        return not (t[3] & termios.ECHO) and not (t[3] & termios.ICANON)

    def wait(self, timeout=30):
        try:
            status = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            status = "timeout"
        self.read_until(b"\0", 0.3)  # drain what is left
        return status

    def restored(self):
        same = termios.tcgetattr(self.slave) == self.before
        same_stty = stty(self.path) == self.stty_before
        return same and same_stty

    def close(self):
        os.close(self.master)
        os.close(self.slave)


def check(name, ok, run):
    global failed
    if ok:
        print("PASS console-tty %s (%s)" % (name, engine))
    else:
        failed += 1
        print("FAIL console-tty %s (%s): output %r" % (name, engine, run.out[-400:]))


def started(run):
    return run.read_until(b"serial-echo: ready") and run.raw_now()


# Typed text comes back from the guest, Ctrl-C and a doubled Ctrl-A reach
# it as bytes, Ctrl-A x ends hyvm with status 0 and the terminal as before.
r = Run()
ok = started(r)
r.send(b"hello\r")
ok = ok and r.read_until(b"hello")
r.send(b"\x03")
ok = ok and r.read_until(b"\x03") and r.proc.poll() is None
r.send(b"\x01\x01")
ok = ok and r.read_until(b"\x01")
r.send(b"\x01x")
status = r.wait()
ok = ok and status == 0 and b"quit from the console" in r.out and r.restored()
check("echo, Ctrl-C to the guest, Ctrl-A Ctrl-A, Ctrl-A x", ok, r)
r.close()

# Ctrl-A h prints the keys; the guest sees neither byte.
r = Run()
ok = started(r)
r.send(b"\x01h")
ok = ok and r.read_until(b"hyvm console keys") and r.read_until(b"^A x")
r.send(b"\x01x")
ok = ok and r.wait() == 0 and r.restored()
check("Ctrl-A h help", ok, r)
r.close()

# Signals: SIGTERM and SIGHUP stop the run cleanly (128 + signal), SIGABRT
# is a crash: the handler restores the terminal and hyvm dies of it.
for sig, want in ((signal.SIGTERM, 128 + 15), (signal.SIGHUP, 128 + 1),
                  (signal.SIGABRT, -signal.SIGABRT)):
    r = Run()
    ok = started(r)
    r.proc.send_signal(sig)
    status = r.wait()
    ok = ok and status == want and r.restored()
    check("%s restores the terminal (status %s)" % (sig.name, status), ok, r)
    r.close()

# --escape ^T: Ctrl-A is the guest's, ^T x quits.
r = Run(["--escape", "^T"])
ok = started(r)
r.send(b"\x01x")
ok = ok and r.read_until(b"\x01x")
r.send(b"\x14x")
ok = ok and r.wait() == 0 and r.restored()
check("--escape ^T", ok, r)
r.close()

# --escape none: every byte is the guest's and Ctrl-C stops hyvm (ISIG on).
r = Run(["--escape", "none"])
ok = started(r)
r.send(b"\x01x")
ok = ok and r.read_until(b"\x01x")
r.send(b"\x03")
status = r.wait()
ok = ok and status == 128 + 2 and r.restored()
check("--escape none, Ctrl-C stops hyvm (status %s)" % status, ok, r)
r.close()

sys.exit(1 if failed else 0)
