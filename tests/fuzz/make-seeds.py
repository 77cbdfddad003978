#!/usr/bin/env python3
"""Writes the hand-made seeds of tests/fuzz/corpus/ (emul, devices,
virtqueue, stats); the loaders' seeds are copies of mkbadelf's files and
of small test guests. Run from the top of the tree; idempotent."""
import os, struct

def put(name, fname, data):
    d = os.path.join("tests/fuzz/corpus", name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, fname), "wb") as f:
        f.write(data)

# fuzz_emul: rflags, mode, cr3, per segment a selector (no base/limit
# fields: mode bits 0x30 clear), 16 GPRs (flag byte 0: one byte), rip,
# code length and bytes, no page-table entries, then access answers.
def emul(mode, code, regs=(0,) * 16, answers=b"\x11" * 32):
    b = struct.pack("<IBH", 2, mode, 0) + b"\x00" * 6
    for r in regs:
        b += bytes([0, r & 0xff])
    b += struct.pack("<HH", 0x1000, len(code)) + code + b"\x00" + answers
    return b

mmio_ref = b"\x05\x00\x00\x00\xe0"          # [0xe0000000] (disp32)
seeds = {
    "mov-load32": emul(2, b"\x8b" + mmio_ref),
    "mov-store32": emul(2, b"\x89" + mmio_ref),
    "add-imm32": emul(2, b"\x83\x05\x00\x00\x00\xe0\x01"),
    "cmpxchg32": emul(2, b"\x0f\xb1" + mmio_ref),
    "xadd32": emul(2, b"\x0f\xc1" + mmio_ref),
    "inc32": emul(2, b"\xff\x05\x00\x00\x00\xe0"),
    "push-mem32": emul(2, b"\xff\x35\x00\x00\x00\xe0"),
    "pop-mem32": emul(2, b"\x8f\x05\x00\x00\x00\xe0"),
    "rep-movsb32": emul(2, b"\xf3\xa4", regs=(0, 8, 0, 0, 0, 0, 0, 0x10)),
    "rep-stosd32": emul(2, b"\xf3\xab", regs=(0, 4, 0, 0, 0, 0, 0, 0x10)),
    "rep-outsb32": emul(2, b"\xf3\x6e", regs=(0, 4, 0xf8, 0, 0, 0, 0x10, 0)),
    "insw16": emul(1, b"\x6d", regs=(0, 0, 0x60, 0, 0, 0, 0, 0x20)),
    "real-mov": emul(0, b"\x8b\x07"),
    "long-mov64": emul(5, b"\x48\x8b\x04\x25\x00\x00\x00\xe0"),
    "paged-mov": emul(3, b"\x8b\x03"),
    "pae-neg": emul(4, b"\xf7\x1b"),
}
for n, d in seeds.items():
    put("emul", n, d)

# fuzz_devices: op byte then its fields (fuzz_devices.c's switch).
def pio(port, val, write=True, size=0):
    return bytes([(size << 4) | (1 if write else 0)]) + struct.pack("<HI", port, val)
def mmio(base_idx, off, val, write=True, size=2):
    return bytes([3 | (size << 4) | (1 if write else 0) if write else 3 | (size << 4)]) + \
        bytes([base_idx]) + struct.pack("<HQ", off, val)
def cfg(bdf, reg, val, write=True):
    return bytes([6 | (0x20 if write else 0)]) + struct.pack("<HBI", bdf, reg, val)
def tick(ns):
    return bytes([8]) + struct.pack("<I", ns)[:3]
uart = b"".join(pio(0x3f8 + r, v) for r, v in ((3, 0x80), (0, 1), (1, 0), (3, 3), (1, 0x0f), (0, 0x41)))
put("devices", "uart", uart + tick(100000) + pio(0x3fd, 0, False))
pit = pio(0x43, 0x34) + pio(0x40, 0x9c) + pio(0x40, 0x2e) + tick(0xffffff) + bytes([10])
put("devices", "pit", pit)
put("devices", "lapic", mmio(0, 0xf0, 0x1ff) + mmio(0, 0x320, 0x20) + mmio(0, 0x380, 1000) +
    tick(0xffffff) + mmio(0, 0x390, 0, False) + bytes([10]))
put("devices", "ioapic", mmio(1, 0, 0x10) + mmio(1, 0x10, 0x30) + bytes([9 | 0x10, 4]) + bytes([10]))
put("devices", "pci-scan", b"".join(cfg(d << 3, 0, 0, False) for d in range(8)) +
    cfg(0x18, 0x10, 0xffffffff) + cfg(0x18, 0x10, 0, False) + cfg(0x18, 0x10, 0xe0000000) +
    cfg(0x18, 0x04, 7) + mmio(2, 0, 0x12345678))
put("devices", "rtc", pio(0x70, 0x0a) + pio(0x71, 0, False) + pio(0x70, 0x0b) + pio(0x71, 0x42) + tick(0xfffff))

# fuzz_virtqueue: size, desc/avail/used (3 bytes each), "in RAM" flag,
# features, then the first 128 KiB of RAM.
ram = bytearray(0x5000)
struct.pack_into("<QIHH", ram, 0x1000, 0x8000, 64, 1, 1)      # desc 0: out, NEXT -> 1
struct.pack_into("<QIHH", ram, 0x1010, 0x9000, 64, 2, 0)      # desc 1: in
struct.pack_into("<HHH", ram, 0x2000, 0, 1, 0)                # avail: idx 1, ring[0] = 0
q = struct.pack("<H", 16) + (0x1000).to_bytes(3, "little") + (0x2000).to_bytes(3, "little") + \
    (0x3000).to_bytes(3, "little") + b"\x01\x03"
put("virtqueue", "one-chain", q + bytes(ram))
ind = bytearray(ram)
struct.pack_into("<QIHH", ind, 0x1000, 0x4000, 32, 4, 0)      # desc 0: INDIRECT
struct.pack_into("<QIHH", ind, 0x4000, 0x8000, 64, 1, 1)
struct.pack_into("<QIHH", ind, 0x4010, 0x9000, 64, 2, 0)
put("virtqueue", "indirect", q + bytes(ind))

# fuzz_stats: byte 0 bit 0 forges a file of this layout from the rest.
put("stats", "forged", b"\x01" + b"\x00" * 64 + b"bt\x00" + b"\x41" * 200)
put("stats", "forged-short", b"\x03" + b"\x00" * 300)
put("stats", "garbage", b"\x00HHYVSTAT" + b"\xff" * 100)
