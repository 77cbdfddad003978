#!/usr/bin/env python3
"""A gdb remote client in miniature for what gdb's batch mode cannot do:
attach, continue, Ctrl-C (0x03) a running guest, read the registers of
the stop, write and read back memory with X (binary, escaped bytes) and
M, put the bytes back, detach. Prints one line per step for tests/gdb/*.sh to check.
  rsp-interrupt.py PORT ADDR   (ADDR: a mapped guest virtual address)"""
import socket
import sys
import time


def frame(payload: bytes) -> bytes:
    return b"$" + payload + b"#%02x" % (sum(payload) % 256)


class Client:
    def __init__(self, port):
        for _ in range(100):
            try:
                self.s = socket.create_connection(("127.0.0.1", port))
                break
            except OSError:
                time.sleep(0.1)
        self.s.settimeout(30)
        self.buf = b""

    def packet(self):
        """The next packet's payload, acked; RLE expanded."""
        while True:
            start = self.buf.find(b"$")
            end = self.buf.find(b"#", start + 1) if start >= 0 else -1
            if start >= 0 and end >= 0 and len(self.buf) >= end + 3:
                raw = self.buf[start + 1:end]
                self.buf = self.buf[end + 3:]
                self.s.sendall(b"+")
                out = bytearray()
                i = 0
                while i < len(raw):
                    if raw[i] == ord("*"):
                        out += out[-1:] * (raw[i + 1] - 29)
                        i += 2
                    elif raw[i] == ord("}"):
                        out.append(raw[i + 1] ^ 0x20)
                        i += 2
                    else:
                        out.append(raw[i])
                        i += 1
                return bytes(out)
            data = self.s.recv(65536)
            if not data:
                raise EOFError
            self.buf += data

    def cmd(self, payload: bytes) -> bytes:
        self.s.sendall(frame(payload))
        return self.packet()


def main():
    port, addr = int(sys.argv[1]), int(sys.argv[2], 16)
    c = Client(port)
    print("attach", c.cmd(b"?").decode())
    c.s.sendall(frame(b"c"))
    time.sleep(1.0)
    c.s.sendall(b"\x03")
    print("interrupt", c.packet().decode())
    regs = c.cmd(b"g")
    print("g-bytes", len(regs) // 2)
    orig = c.cmd(b"m%x,9" % addr)
    print("m-orig", orig.decode())
    # X with bytes that must be escaped ($ # } *) and a run
    data = bytes([0x24, 0x23, 0x7D, 0x2A, 0, 0, 0, 0, 0xFF])
    esc = bytearray()
    for b in data:
        esc += bytes([0x7D, b ^ 0x20]) if b in (0x24, 0x23, 0x7D, 0x2A) else bytes([b])
    print("X", c.cmd(b"X%x,%x:" % (addr, len(data)) + bytes(esc)).decode())
    print("m-after-X", c.cmd(b"m%x,%x" % (addr, len(data))).decode())
    print("M", c.cmd(b"M%x,2:abcd" % addr).decode())
    print("m-after-M", c.cmd(b"m%x,2" % addr).decode())
    print("restore", c.cmd(b"M%x,9:" % addr + orig).decode(),
          c.cmd(b"m%x,9" % addr) == orig)
    print("detach", c.cmd(b"D").decode())


main()
