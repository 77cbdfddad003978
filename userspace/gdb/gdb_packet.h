/*
 * The GDB remote serial protocol's framing (gdb manual, "Remote Protocol":
 * "Overview", "Packet Acknowledgment", "Binary Data"), as pure functions:
 * bytes from the debugger in, whole packets, acks and interrupts out;
 * replies in, framed bytes out. No sockets and no VM here, so CUnit (and
 * a fuzzer) reach every branch.
 *
 * A packet is $payload#cc, cc the two hex digits of the payload's byte
 * sum modulo 256. In a payload '}' escapes the next byte (XOR 0x20) and
 * '*' repeats the previous byte (count - 29) more times; '$', '#', '}'
 * and '*' never appear bare in data.
 */
#ifndef HYVM_GDB_PACKET_H
#define HYVM_GDB_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest payload we take or send (qSupported's PacketSize says so). */
#define GDB_PACKET_MAX	16384

enum gdb_rx_event {
	GDB_RX_NONE,		/* byte taken, nothing complete yet */
	GDB_RX_PACKET,		/* rx->buf[0..rx->len) is a packet, checksum right */
	GDB_RX_BAD_CHECKSUM,	/* a whole packet whose checksum is wrong: NAK it */
	GDB_RX_OVERFLOW,	/* longer than GDB_PACKET_MAX: dropped, NAK it */
	GDB_RX_ACK,		/* '+' */
	GDB_RX_NAK,		/* '-': send the last reply again */
	GDB_RX_INTERRUPT,	/* 0x03 outside a packet: stop the target */
};

struct gdb_rx {
	enum { RX_IDLE, RX_DATA, RX_SUM_HI, RX_SUM_LO } state;
	uint8_t buf[GDB_PACKET_MAX];	/* the raw payload, escapes still in */
	size_t len;
	bool overflow;
	uint8_t sum;
	int sum_hi;		/* the first checksum digit, -1 if not hex */
};

void gdb_rx_init(struct gdb_rx *rx);
/* Feeds one byte; anything outside a packet but '+', '-' and 0x03 is
 * ignored, as gdb does. */
enum gdb_rx_event gdb_rx_byte(struct gdb_rx *rx, uint8_t c);

uint8_t gdb_checksum(const uint8_t *p, size_t len);
/* Undoes escapes and run-length encoding of a raw payload into out (not
 * overlapping in: a run expands). The length, or -1 for a malformed payload
 * ('}' at the end, '*' first or with a bad count) or one too long for cap. */
long gdb_unescape(const uint8_t *in, size_t len, uint8_t *out, size_t cap);
/* Frames a reply as $...#cc with the needed escapes, and runs of 4 or
 * more equal bytes run-length encoded when rle. The framed length, or -1
 * when cap is too small. */
long gdb_frame(const uint8_t *data, size_t len, bool rle, uint8_t *out, size_t cap);

/* Hex: lower-case encoding; decoding takes either case. */
void gdb_hex_encode(const uint8_t *in, size_t len, char *out);	/* 2*len chars + NUL */
/* Bytes decoded, or -1 on an odd length or a non-hex digit. */
long gdb_hex_decode(const char *in, size_t len, uint8_t *out, size_t cap);
/* A hex number at *s, up to 16 digits; advances *s. false if none or too long. */
bool gdb_hex_u64(const char **s, uint64_t *v);

#endif
