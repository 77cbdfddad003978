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

# fuzz_fw_cfg: the store (count, then per item: kind (odd: a file), length
# (2 bytes), a file's name length and name or an item's key), then ops
# (fuzz_fw_cfg.c's switch: 0 select, 1 read burst, 3 DMA descriptor, ...).
def fw_file(name, length):
    return bytes([1]) + struct.pack("<H", length) + bytes([len(name)]) + name
def fw_item(key, length):
    return bytes([0]) + struct.pack("<HH", length, key)
def fw_dma(control, length_byte, at=0x10000, buf=0x20000, how_at=0x80, how_buf=0x80):
    def addr(how, a):
        return bytes([how]) + (a.to_bytes(3, "little") if how >= 128 else bytes([a & 0xff]))
    return bytes([3]) + addr(how_at, at) + struct.pack("<I", control) + bytes([length_byte]) + \
        addr(how_buf, buf)
store = bytes([3]) + fw_file(b"etc/table-loader", 300) + fw_file(b"opt/hello", 20) + \
    fw_item(0x03, 8)
put("fw_cfg", "ports", store + bytes([0x08, 0]) + bytes([1, 255]) + bytes([0]) +
    struct.pack("<H", 0x20) + bytes([1, 64]) + bytes([0]) + struct.pack("<H", 0x03) + bytes([1, 8]))
put("fw_cfg", "dma-read", store + fw_dma(0x0020000a, 30) + fw_dma(0x00000002, 10) +
    fw_dma(0x00190004, 4) + fw_dma(0x00000002, 255) + bytes([4 | 0x08, 0, 0, 0, 0]))
put("fw_cfg", "dma-hostile", store + fw_dma(0x0020000a, 200, how_buf=5) +
    fw_dma(0x00000012, 3, how_at=10) + fw_dma(0x0021000a, 0xff, how_buf=11) +
    fw_dma(0x00000002, 1, at=0x1ffff8) + bytes([6]) + bytes([4 | 0x20, 1, 2, 3, 4]))

# fuzz_qmp: chunk size (0: all at once), flags (1 events, 2 saves finish
# between chunks, 4 close with saves under way), then the client's bytes:
# the commands tests/ctl/qmp_client.py and ckpt-guest.sh send.
qmp_session = b"".join(l + b"\n" for l in [
    b'{"execute": "query-status"}', b'{"execute": "qmp_capabilities"}',
    b'{"execute": "query-status"}', b'{"execute": "stop"}', b'{"execute": "cont"}',
    b'{"execute": "query-version"}', b'{"execute": "no-such-command"}',
    b'{"execute": "query-status", "id": "abc"}', b'{"execute": ]', b'"just a string"',
    b'{"execute": "query-commands"}', b'{"execute": "hyvm-stats"}',
    b'{"execute": "system_powerdown"}', b'{"execute": "system_reset", "id": 7}',
    b'{"execute": "hyvm-save", "arguments": {"file": "/tmp/c.ckpt", "quit": true}, "id": [1]}',
    b'{"execute": "migrate", "arguments": {"uri": "file:/tmp/m.ckpt"}}',
    b'{"execute": "query-migrate"}', b'{"execute": "migrate", "arguments": {"uri": "tcp:x"}}',
    b'{"execute": "hyvm-save", "arguments": {"file": 5}}', b'{"execute": "quit"}'])
put("qmp", "session", b"\x00\x03" + qmp_session)
put("qmp", "session-bytewise", b"\x01\x07" + qmp_session)
put("qmp", "split-values", b"\x07\x02" + b'{"execute":"qmp_capabilities"}{"execute":"hyvm-save",'
    b'"arguments":{"file":"a"}}{"execute":"hyvm-save","arguments":{"file":"b"},"id":{"x":1}}'
    b'[1,{"execute":"stop"}] {"execute": "query-st')

# fuzz_gdb: mode (bits 0-2: real, flat, paging, PAE, long; 3-6: CR3 in
# 32 KiB units; 7: the engine cannot debug), flags (1: checksums
# checked), then the debugger's bytes: gdb-session.packets is what
# Debian's gdb sent over tests/gdb/guest.gdb's session (set debug remote
# 1), cut in three, with the acks.
pk = [l.strip().encode() for l in open("tests/fuzz/gdb-session.packets") if l.startswith("$")]
third = len(pk) // 3
for i, part in enumerate((pk[:third], pk[third:2 * third], pk[2 * third:])):
    put("gdb", "session-%d" % i, bytes([1, 1]) + b"+".join(part) + b"+")
def gdb_pkt(payload):
    return b"$" + payload + b"#%02x" % (sum(payload) & 0xff)
put("gdb", "paging-writes", bytes([2 | (1 << 3), 1]) +
    gdb_pkt(b"M8000,4:07900000") + gdb_pkt(b"M9000,8:0700010000000000") +
    gdb_pkt(b"m1000,10") + gdb_pkt(b"X1000,3:a}]b") + gdb_pkt(b"g") +
    gdb_pkt(b"G" + b"0" * 64) + gdb_pkt(b"p8") + gdb_pkt(b"P8=78563412") +
    gdb_pkt(b"Z2,1000,4") + gdb_pkt(b"Z3,1000,4") + gdb_pkt(b"Z4,1003,2") + gdb_pkt(b"z2,1000,4") +
    b"\x03" + gdb_pkt(b"?") + gdb_pkt(b"s1234") + gdb_pkt(b"vKill;1"))
put("gdb", "long-mode", bytes([4 | (2 << 3), 0]) + gdb_pkt(b"qXfer:features:read:target.xml:0,ffff") +
    gdb_pkt(b"g") + gdb_pkt(b"m0,8") + gdb_pkt(b"x0*\"") + gdb_pkt(b"qSupported") + b"-" +
    gdb_pkt(b"vCont;s:1;c") + gdb_pkt(b"D"))
