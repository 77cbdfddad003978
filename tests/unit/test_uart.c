/* The 16550A on COM1, with pipes for the host side. Each test starts from a
 * fresh UART. */
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include "unit.h"
#include "fake_device_env.h"

#define THR 0x3f8
#define RBR 0x3f8
#define DLL 0x3f8
#define IER 0x3f9
#define DLM 0x3f9
#define IIR 0x3fa
#define FCR 0x3fa
#define LCR 0x3fb
#define MCR 0x3fc
#define LSR 0x3fd
#define MSR 0x3fe
#define SCR 0x3ff

static struct fake_env F;
static void *uart;

static void start(void)
{
	CU_ASSERT_EQUAL_FATAL(fake_env_init(&F, 16 << 20), 0);
	uart = fake_create(&F, "uart16550");
	CU_ASSERT_PTR_NOT_NULL_FATAL(uart);
}

static void feed(const char *s)
{
	CU_ASSERT_EQUAL(write(F.input_wr, s, strlen(s)), (ssize_t)strlen(s));
}

static void test_output_and_lsr(void)
{
	char buf[16] = { 0 };

	start();
	CU_ASSERT_EQUAL(pio_in8(&F, LSR), 0x60);	/* THRE | TEMT */
	pio_out8(&F, THR, 'h');
	pio_out8(&F, THR, 'i');
	pio_out8(&F, THR, '\n');
	CU_ASSERT_EQUAL(fake_read_output(&F, buf, sizeof(buf)), 3);
	CU_ASSERT_STRING_EQUAL(buf, "hi\n");
	CU_ASSERT_EQUAL(pio_in8(&F, LSR), 0x60);
	CU_ASSERT_EQUAL(F.rising[4], 0);	/* no IER: no IRQ */
	/* A word OUT writes THR then IER: 'A' out, IER = 0. */
	pio_out16(&F, THR, 'A');
	CU_ASSERT_EQUAL(fake_read_output(&F, buf, sizeof(buf)), 1);
	CU_ASSERT_EQUAL(buf[0], 'A');
	fake_env_fini(&F);
}

static void test_divisor_latch(void)
{
	char buf[4];

	start();
	pio_out8(&F, LCR, 0x83);		/* DLAB, 8N1 */
	pio_out8(&F, DLL, 0x01);		/* 115200 baud */
	pio_out8(&F, DLM, 0x00);
	CU_ASSERT_EQUAL(pio_in8(&F, DLL), 0x01);
	CU_ASSERT_EQUAL(pio_in8(&F, DLM), 0x00);
	CU_ASSERT_EQUAL(fake_read_output(&F, buf, sizeof(buf)), 0);	/* not THR */
	pio_out8(&F, LCR, 0x03);
	CU_ASSERT_EQUAL(pio_in8(&F, LCR), 0x03);
	CU_ASSERT_EQUAL(pio_in8(&F, IER), 0x00);	/* DLM did not land in IER */
	pio_out8(&F, THR, 'x');
	CU_ASSERT_EQUAL(fake_read_output(&F, buf, sizeof(buf)), 1);
	pio_out8(&F, LCR, 0x83);
	CU_ASSERT_EQUAL(pio_in8(&F, DLL), 0x01);	/* THR write left DLL alone */
	pio_out8(&F, SCR, 0x5a);
	CU_ASSERT_EQUAL(pio_in8(&F, SCR), 0x5a);
	fake_env_fini(&F);
}

static void test_thre_interrupt(void)
{
	start();
	CU_ASSERT_EQUAL(pio_in8(&F, IIR), 0x01);
	pio_out8(&F, IER, 0x02);		/* ETBEI with THR empty: at once */
	CU_ASSERT_EQUAL(F.rising[4], 1);
	CU_ASSERT_TRUE(F.line[4]);
	CU_ASSERT_EQUAL(pio_in8(&F, IIR), 0x02);
	CU_ASSERT_FALSE(F.line[4]);		/* the IIR read acknowledged it */
	CU_ASSERT_EQUAL(pio_in8(&F, IIR), 0x01);

	pio_out8(&F, THR, '.');			/* the byte leaves: THRE again */
	CU_ASSERT_EQUAL(F.rising[4], 2);
	CU_ASSERT_EQUAL(pio_in8(&F, IIR), 0x02);

	pio_out8(&F, IER, 0x00);
	pio_out8(&F, THR, '.');
	CU_ASSERT_FALSE(F.line[4]);
	CU_ASSERT_EQUAL(F.rising[4], 2);
	fake_env_fini(&F);
}

static void test_rx_no_fifo(void)
{
	start();
	feed("ab");
	fake_poll_all(&F);
	CU_ASSERT_EQUAL(pio_in8(&F, LSR) & 0x01, 0x01);
	CU_ASSERT_FALSE(F.line[4]);		/* IER.RDI not set yet */
	pio_out8(&F, IER, 0x01);
	CU_ASSERT_TRUE(F.line[4]);
	CU_ASSERT_EQUAL(pio_in8(&F, IIR), 0x04);
	CU_ASSERT_EQUAL(pio_in8(&F, RBR), 'a');
	CU_ASSERT_FALSE(F.line[4]);
	CU_ASSERT_EQUAL(pio_in8(&F, LSR), 0x60);	/* holding register: one byte */
	fake_poll_all(&F);
	CU_ASSERT_TRUE(F.line[4]);
	CU_ASSERT_EQUAL(pio_in8(&F, RBR), 'b');
	CU_ASSERT_EQUAL(pio_in8(&F, LSR) & 0x03, 0);	/* no overrun */
	fake_poll_all(&F);
	CU_ASSERT_FALSE(F.line[4]);
	fake_env_fini(&F);
}

static void test_rx_fifo_and_priority(void)
{
	char got[21] = { 0 };

	start();
	pio_out8(&F, FCR, 0xc7);		/* FIFO on, clear, trigger 14 */
	CU_ASSERT_EQUAL(pio_in8(&F, IIR), 0xc1);
	pio_out8(&F, IER, 0x03);		/* RX and THRE */
	feed("abcdefghijklmnopqrst");		/* 20 bytes: 16 fit */
	fake_poll_all(&F);
	/* RX data outranks THRE. */
	CU_ASSERT_EQUAL(pio_in8(&F, IIR), 0xc4);
	for (int i = 0; i < 16; i++)
		got[i] = (char)pio_in8(&F, RBR);
	CU_ASSERT_EQUAL(pio_in8(&F, LSR) & 0x01, 0);
	CU_ASSERT_EQUAL(pio_in8(&F, IIR), 0xc2);	/* now THRE shows */
	CU_ASSERT_EQUAL(pio_in8(&F, IIR), 0xc1);

	fake_poll_all(&F);			/* 4 left: below trigger */
	CU_ASSERT_TRUE(F.line[4]);
	CU_ASSERT_EQUAL(pio_in8(&F, IIR), 0xcc);	/* character timeout */
	for (int i = 16; i < 20; i++)
		got[i] = (char)pio_in8(&F, RBR);
	CU_ASSERT_STRING_EQUAL(got, "abcdefghijklmnopqrst");
	CU_ASSERT_FALSE(F.line[4]);

	/* FCR clear-RX empties the FIFO. */
	feed("zz");
	fake_poll_all(&F);
	pio_out8(&F, FCR, 0xc3);
	CU_ASSERT_EQUAL(pio_in8(&F, LSR) & 0x01, 0);
	CU_ASSERT_FALSE(F.line[4]);
	fake_env_fini(&F);
}

static void test_loopback_and_msr(void)
{
	char buf[4];

	start();
	CU_ASSERT_EQUAL(pio_in8(&F, MSR), 0xb0);	/* DCD, DSR, CTS */
	pio_out8(&F, MCR, 0x1b);		/* LOOP, OUT2, RTS, DTR */
	CU_ASSERT_EQUAL(pio_in8(&F, MSR), 0xb0);
	pio_out8(&F, THR, 'L');
	CU_ASSERT_EQUAL(fake_read_output(&F, buf, sizeof(buf)), 0);
	CU_ASSERT_EQUAL(pio_in8(&F, LSR) & 0x01, 0x01);
	CU_ASSERT_EQUAL(pio_in8(&F, RBR), 'L');

	pio_out8(&F, MCR, 0x10);		/* outputs off: deltas */
	CU_ASSERT_EQUAL(pio_in8(&F, MSR), 0x0b);
	CU_ASSERT_EQUAL(pio_in8(&F, MSR), 0x00);
	pio_out8(&F, IER, 0x08);
	pio_out8(&F, MCR, 0x12);		/* RTS -> CTS: modem status IRQ */
	CU_ASSERT_TRUE(F.line[4]);
	CU_ASSERT_EQUAL(pio_in8(&F, IIR), 0x00);
	CU_ASSERT_EQUAL(pio_in8(&F, MSR), 0x11);
	CU_ASSERT_FALSE(F.line[4]);

	/* Overrun in loopback: a second byte with no FIFO. */
	pio_out8(&F, IER, 0x04);
	pio_out8(&F, THR, '1');
	pio_out8(&F, THR, '2');
	CU_ASSERT_TRUE(F.line[4]);
	CU_ASSERT_EQUAL(pio_in8(&F, IIR), 0x06);
	CU_ASSERT_EQUAL(pio_in8(&F, LSR), 0x63);	/* DR, OE, THRE, TEMT */
	CU_ASSERT_EQUAL(pio_in8(&F, LSR), 0x61);	/* OE cleared by reading */
	CU_ASSERT_EQUAL(pio_in8(&F, RBR), '1');
	fake_env_fini(&F);
}

static void test_closed_fds(void)
{
	start();
	close(F.input_wr);
	F.input_wr = -1;
	pio_out8(&F, IER, 0x01);
	fake_poll_all(&F);			/* EOF: nothing, no crash */
	fake_poll_all(&F);
	CU_ASSERT_FALSE(F.line[4]);
	CU_ASSERT_EQUAL(pio_in8(&F, LSR), 0x60);
	/* The VMM ignores SIGPIPE; then a gone reader is EPIPE: dropped. */
	signal(SIGPIPE, SIG_IGN);
	close(F.output_rd);
	F.output_rd = -1;
	pio_out8(&F, THR, 'q');
	CU_ASSERT_EQUAL(pio_in8(&F, LSR), 0x60);
	fake_env_fini(&F);
}

UNIT_SUITE(uart16550, NULL, NULL,
	   UNIT_TEST(test_output_and_lsr),
	   UNIT_TEST(test_divisor_latch),
	   UNIT_TEST(test_thre_interrupt),
	   UNIT_TEST(test_rx_no_fifo),
	   UNIT_TEST(test_rx_fifo_and_priority),
	   UNIT_TEST(test_loopback_and_msr),
	   UNIT_TEST(test_closed_fds))
