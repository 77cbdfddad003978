/* Polled output on COM1. The guests leave the UART as the firmware (or
 * the VMM) set it up: only THR and LSR are touched, so the output path
 * costs two port accesses per character. */
#include <stdarg.h>
#include "guest.h"

#define UART_THR 0
#define UART_LSR 5
#define LSR_THR_EMPTY 0x20

void putc_serial(char c)
{
	if (c == '\n')
		putc_serial('\r');
	while (!(inb(COM1 + UART_LSR) & LSR_THR_EMPTY))
		;
	outb(COM1 + UART_THR, (uint8_t)c);
}

void puts_serial(const char *s)
{
	while (*s)
		putc_serial(*s++);
}

static void put_number(uint64_t v, unsigned base, int width, char pad)
{
	char buf[24];
	int n = 0;

	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n < width--)
		putc_serial(pad);
	while (n)
		putc_serial(buf[--n]);
}

/* Enough of printf for test output: %s %c %d %u %x %p, width and '0'
 * padding, and the l/ll size modifiers. */
static void vprintf_serial(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			putc_serial(*fmt);
			continue;
		}
		char pad = ' ';
		int width = 0, longs = 0;
		if (*++fmt == '0')
			pad = '0', fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l')
			longs++, fmt++;
		uint64_t v;
		switch (*fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			puts_serial(s ? s : "(null)");
			break;
		}
		case 'c':
			putc_serial((char)va_arg(ap, int));
			break;
		case 'd':
			if (longs >= 2)
				v = (uint64_t)va_arg(ap, int64_t);
			else
				v = (uint64_t)(int64_t)va_arg(ap, int32_t);
			if ((int64_t)v < 0) {
				putc_serial('-');
				v = -v;
			}
			put_number(v, 10, width, pad);
			break;
		case 'u':
		case 'x':
		case 'p':
			v = longs >= 2 ? va_arg(ap, uint64_t) : va_arg(ap, uint32_t);
			put_number(v, *fmt == 'u' ? 10 : 16, width, pad);
			break;
		case '%':
			putc_serial('%');
			break;
		default:
			putc_serial('?');
		}
	}
}

void printf_serial(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf_serial(fmt, ap);
	va_end(ap);
}

/* Exposed for check.c, which prefixes its own text. */
void vprintf_serial_for_check(const char *fmt, va_list ap);
void vprintf_serial_for_check(const char *fmt, va_list ap) { vprintf_serial(fmt, ap); }
