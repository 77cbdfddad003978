/*
 * The gdb remote protocol's framing (gdb/gdb_packet.c): checksums, acks,
 * Ctrl-C, escapes and run-length encoding both ways, and what a bad or
 * hostile client sends: wrong or non-hex checksums, truncated packets, a
 * '$' inside a packet, payloads past GDB_PACKET_MAX, malformed escapes.
 */
#include <stdlib.h>
#include <string.h>
#include "gdb/gdb_packet.h"
#include "gdb/gdb_regs.h"
#include "unit.h"

static struct gdb_rx rx;

/* Feeds s; returns the last event that is not GDB_RX_NONE (NONE if none). */
static enum gdb_rx_event feed(const char *s, size_t n)
{
	enum gdb_rx_event last = GDB_RX_NONE;

	for (size_t i = 0; i < n; i++) {
		enum gdb_rx_event e = gdb_rx_byte(&rx, (uint8_t)s[i]);
		if (e != GDB_RX_NONE)
			last = e;
	}
	return last;
}
#define FEED(s) feed(s, sizeof(s) - 1)

static void test_checksum_and_packet(void)
{
	gdb_rx_init(&rx);
	CU_ASSERT_EQUAL(gdb_checksum((const uint8_t *)"g", 1), 0x67);
	CU_ASSERT_EQUAL(FEED("$g#67"), GDB_RX_PACKET);
	CU_ASSERT_EQUAL(rx.len, 1);
	CU_ASSERT_EQUAL(rx.buf[0], 'g');
	/* upper-case digits too; the sum wraps modulo 256 */
	CU_ASSERT_EQUAL(FEED("$qSupported:multiprocess+#C6"), GDB_RX_PACKET);
	CU_ASSERT_EQUAL(FEED("$#00"), GDB_RX_PACKET);
	CU_ASSERT_EQUAL(rx.len, 0);
}

static void test_bad_checksums(void)
{
	gdb_rx_init(&rx);
	CU_ASSERT_EQUAL(FEED("$g#68"), GDB_RX_BAD_CHECKSUM);
	CU_ASSERT_EQUAL(FEED("$g#6z"), GDB_RX_BAD_CHECKSUM);
	CU_ASSERT_EQUAL(FEED("$g#x7"), GDB_RX_BAD_CHECKSUM);
	/* and the next good packet still parses */
	CU_ASSERT_EQUAL(FEED("$g#67"), GDB_RX_PACKET);
}

static void test_acks_interrupt_garbage(void)
{
	gdb_rx_init(&rx);
	CU_ASSERT_EQUAL(FEED("+"), GDB_RX_ACK);
	CU_ASSERT_EQUAL(FEED("-"), GDB_RX_NAK);
	CU_ASSERT_EQUAL(FEED("\x03"), GDB_RX_INTERRUPT);
	CU_ASSERT_EQUAL(FEED("hello world#12"), GDB_RX_NONE);
	/* 0x03 inside a packet is data, not an interrupt */
	CU_ASSERT_EQUAL(FEED("$\x03#03"), GDB_RX_PACKET);
}

static void test_truncated_and_restarted(void)
{
	gdb_rx_init(&rx);
	CU_ASSERT_EQUAL(FEED("$m1000,4"), GDB_RX_NONE);	/* truncated: nothing yet */
	/* a '$' before the end starts over: the first packet is dropped */
	CU_ASSERT_EQUAL(FEED("$g#67"), GDB_RX_PACKET);
	CU_ASSERT_EQUAL(rx.len, 1);
	CU_ASSERT_EQUAL(FEED("$g#"), GDB_RX_NONE);
	CU_ASSERT_EQUAL(FEED("6"), GDB_RX_NONE);
	CU_ASSERT_EQUAL(FEED("7"), GDB_RX_PACKET);
}

static void test_huge_packet(void)
{
	size_t n = GDB_PACKET_MAX + 100;
	char *big = malloc(n + 5);
	uint8_t sum = 0;

	gdb_rx_init(&rx);
	big[0] = '$';
	for (size_t i = 1; i <= n; i++) {
		big[i] = 'a';
		sum += 'a';
	}
	snprintf(big + n + 1, 4, "#%02x", sum);
	CU_ASSERT_EQUAL(feed(big, n + 4), GDB_RX_OVERFLOW);
	CU_ASSERT_EQUAL(FEED("$g#67"), GDB_RX_PACKET);	/* recovered */
	free(big);
}

static void test_unescape(void)
{
	uint8_t out[64];

	/* '}' escapes: 0x7d 0x5d is '}', 0x7d 0x03 is '#' */
	CU_ASSERT_EQUAL(gdb_unescape((const uint8_t *)"a}]b}\x03", 6, out, sizeof(out)), 4);
	CU_ASSERT_EQUAL(memcmp(out, "a}b#", 4), 0);
	/* "0* " is "0000" (gdb manual's example) */
	CU_ASSERT_EQUAL(gdb_unescape((const uint8_t *)"0* ", 3, out, sizeof(out)), 4);
	CU_ASSERT_EQUAL(memcmp(out, "0000", 4), 0);
	/* malformed: a trailing '}', '*' first, '*' at the end, a count below 3 */
	CU_ASSERT_EQUAL(gdb_unescape((const uint8_t *)"ab}", 3, out, sizeof(out)), -1);
	CU_ASSERT_EQUAL(gdb_unescape((const uint8_t *)"*#", 2, out, sizeof(out)), -1);
	CU_ASSERT_EQUAL(gdb_unescape((const uint8_t *)"a*", 2, out, sizeof(out)), -1);
	CU_ASSERT_EQUAL(gdb_unescape((const uint8_t *)"a*\x10", 3, out, sizeof(out)), -1);
	/* a run past the buffer is refused, not written */
	CU_ASSERT_EQUAL(gdb_unescape((const uint8_t *)"a*~", 3, out, 8), -1);
	CU_ASSERT_EQUAL(gdb_unescape((const uint8_t *)"abcdefghi", 9, out, 8), -1);
}

/* gdb_frame then the receiver then gdb_unescape give the bytes back. */
static void roundtrip(const uint8_t *data, size_t len, bool rle)
{
	static uint8_t framed[4 * GDB_PACKET_MAX], back[GDB_PACKET_MAX];
	long n = gdb_frame(data, len, rle, framed, sizeof(framed));

	CU_ASSERT_FATAL(n > 0);
	gdb_rx_init(&rx);
	CU_ASSERT_EQUAL(feed((const char *)framed, (size_t)n), GDB_RX_PACKET);
	for (long i = 1; i < n - 3; i++)	/* never a bare frame byte inside */
		CU_ASSERT(framed[i] != '$' && framed[i] != '#');
	CU_ASSERT_EQUAL(gdb_unescape(rx.buf, rx.len, back, sizeof(back)), (long)len);
	CU_ASSERT_EQUAL(memcmp(back, data, len), 0);
}

static void test_frame_roundtrip(void)
{
	uint8_t all[256], runs[600];

	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	roundtrip(all, sizeof(all), false);
	roundtrip(all, sizeof(all), true);
	/* runs of every length 1..40, including 7 and 8 whose counts would
	 * be '#' and '$', and of bytes that need escaping */
	size_t o = 0;
	for (int len = 1; len <= 30 && o + len <= sizeof(runs); len++)
		for (int k = 0; k < len; k++)
			runs[o++] = (uint8_t)(len % 3 == 0 ? '*' : len % 3 == 1 ? '0' + len % 10 : '$');
	roundtrip(runs, o, true);
	memset(runs, 'x', sizeof(runs));
	roundtrip(runs, sizeof(runs), true);
	uint8_t framed[16];
	CU_ASSERT_EQUAL(gdb_frame((const uint8_t *)"0000", 4, true, framed, sizeof(framed)), 7);
	CU_ASSERT_EQUAL(memcmp(framed, "$0* #", 5), 0);
	/* too small a buffer is refused */
	CU_ASSERT_EQUAL(gdb_frame(all, sizeof(all), false, framed, sizeof(framed)), -1);
}

static void test_hex(void)
{
	uint8_t b[4];
	char s[16];
	const char *p = "1fFz";
	uint64_t v;

	CU_ASSERT_EQUAL(gdb_hex_decode("00ff7A", 6, b, sizeof(b)), 3);
	CU_ASSERT_EQUAL(b[2], 0x7a);
	CU_ASSERT_EQUAL(gdb_hex_decode("0g", 2, b, sizeof(b)), -1);
	CU_ASSERT_EQUAL(gdb_hex_decode("012", 3, b, sizeof(b)), -1);
	CU_ASSERT_EQUAL(gdb_hex_decode("0011223344", 10, b, sizeof(b)), -1);
	gdb_hex_encode((const uint8_t *)"\x01\xab", 2, s);
	CU_ASSERT_STRING_EQUAL(s, "01ab");
	CU_ASSERT(gdb_hex_u64(&p, &v));
	CU_ASSERT_EQUAL(v, 0x1ff);
	CU_ASSERT_EQUAL(*p, 'z');
	p = "12345678123456789";	/* 17 digits */
	CU_ASSERT(!gdb_hex_u64(&p, &v));
	p = ",";
	CU_ASSERT(!gdb_hex_u64(&p, &v));
}

/* The target description and the g layout come from one table. */
static void test_regs_and_xml(void)
{
	static char xml[16384];
	struct hyvm_cpu_state st = { 0 };
	uint8_t b[16];

	st.gpr[HYVM_RAX] = 0x11223344;
	st.gpr[HYVM_RBX] = 0x55;
	st.rip = 0x100000;
	CU_ASSERT_EQUAL(gdb_arch_of(&st), GDB_ARCH_I386);
	CU_ASSERT(gdb_target_xml(GDB_ARCH_I386, xml, sizeof(xml)) > 0);
	CU_ASSERT(strstr(xml, "<architecture>i386</architecture>") != NULL);
	CU_ASSERT(strstr(xml, "org.gnu.gdb.i386.core") && strstr(xml, "org.gnu.gdb.i386.sse"));
	CU_ASSERT(strstr(xml, "name=\"eip\"") && !strstr(xml, "name=\"rip\""));
	/* i386 numbering: eax 0, ebx 3, eip 8 */
	CU_ASSERT_EQUAL(gdb_reg_get(GDB_ARCH_I386, &st, 0, b), 4);
	CU_ASSERT_EQUAL(b[0], 0x44);
	CU_ASSERT_EQUAL(gdb_reg_get(GDB_ARCH_I386, &st, 3, b), 4);
	CU_ASSERT_EQUAL(b[0], 0x55);
	CU_ASSERT_EQUAL(gdb_reg_get(GDB_ARCH_I386, &st, 8, b), 4);
	CU_ASSERT_EQUAL(b[2], 0x10);
	CU_ASSERT_EQUAL(gdb_reg_get(GDB_ARCH_I386, &st, gdb_nregs(GDB_ARCH_I386), b), 0);
	/* amd64 numbering: rbx is 1, rip 16; eight more xmm, fs/gs_base */
	st.efer = 0x500;	/* LME | LMA */
	CU_ASSERT_EQUAL(gdb_arch_of(&st), GDB_ARCH_AMD64);
	CU_ASSERT_EQUAL(gdb_reg_get(GDB_ARCH_AMD64, &st, 1, b), 8);
	CU_ASSERT_EQUAL(b[0], 0x55);
	CU_ASSERT_EQUAL(gdb_reg_get(GDB_ARCH_AMD64, &st, 16, b), 8);
	CU_ASSERT(gdb_target_xml(GDB_ARCH_AMD64, xml, sizeof(xml)) > 0);
	CU_ASSERT(strstr(xml, "i386:x86-64") && strstr(xml, "name=\"xmm15\"") &&
		  strstr(xml, "org.gnu.gdb.i386.segments"));
	/* writes: a GPR yes; CS to another selector no, to its own yes */
	memset(b, 0, sizeof(b));
	b[0] = 0x99;
	CU_ASSERT_EQUAL(gdb_reg_set(GDB_ARCH_I386, &st, 0, b), 0);
	CU_ASSERT_EQUAL(st.gpr[HYVM_RAX], 0x99);
	CU_ASSERT_EQUAL(gdb_reg_set(GDB_ARCH_I386, &st, 10, b), -1);
	b[0] = 0;
	CU_ASSERT_EQUAL(gdb_reg_set(GDB_ARCH_I386, &st, 10, b), 0);
	/* too small a buffer: 0, not a cut description */
	CU_ASSERT_EQUAL(gdb_target_xml(GDB_ARCH_I386, xml, 100), 0);
}

UNIT_SUITE(gdb_packet, NULL, NULL,
	   UNIT_TEST(test_checksum_and_packet), UNIT_TEST(test_bad_checksums),
	   UNIT_TEST(test_acks_interrupt_garbage), UNIT_TEST(test_truncated_and_restarted),
	   UNIT_TEST(test_huge_packet), UNIT_TEST(test_unescape), UNIT_TEST(test_frame_roundtrip),
	   UNIT_TEST(test_hex), UNIT_TEST(test_regs_and_xml));
