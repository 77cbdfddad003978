/* The guest side of the test protocol: PASS/FAIL lines on COM1 and the
 * final write to isa-debug-exit (0 = all passed, 0x10 = something failed;
 * the VMM and QEMU turn that into exit status 1 or 33). */
#include <stdarg.h>
#include "guest.h"

#define DEBUG_EXIT_PORT 0xf4
#define EXIT_ALL_PASSED 0x00
#define EXIT_SOME_FAILED 0x10

void vprintf_serial_for_check(const char *fmt, va_list ap);

static const char *current_group;
static bool group_failed;
static unsigned groups_passed, checks_failed;

void check_begin(const char *group)
{
	current_group = group;
	group_failed = false;
}

bool check(bool cond, const char *fmt, ...)
{
	if (cond)
		return true;
	va_list ap;
	va_start(ap, fmt);
	printf_serial("FAIL %s.%s: ", guest_name, current_group ? current_group : "?");
	vprintf_serial_for_check(fmt, ap);
	putc_serial('\n');
	va_end(ap);
	group_failed = true;
	checks_failed++;
	return false;
}

bool check_eq(const char *what, uint32_t got, uint32_t want)
{
	return check(got == want, "%s = 0x%x, want 0x%x", what, got, want);
}

void check_end(void)
{
	if (!group_failed) {
		printf_serial("PASS %s.%s\n", guest_name, current_group);
		groups_passed++;
	}
	current_group = NULL;
}

void fail_now(const char *fmt, ...)
{
	/* A trap while reporting a trap (say, the UART access itself faults)
	 * must not recurse: report failure the only way left. */
	static bool reporting;
	if (reporting) {
		outl(DEBUG_EXIT_PORT, EXIT_SOME_FAILED);
		for (;;)
			asm volatile("cli; hlt");
	}
	reporting = true;
	va_list ap;
	va_start(ap, fmt);
	printf_serial("FAIL %s.%s: ", guest_name, current_group ? current_group : "fatal");
	vprintf_serial_for_check(fmt, ap);
	putc_serial('\n');
	va_end(ap);
	checks_failed++;
	guest_exit();
}

void guest_exit(void)
{
	/* A guest that checked nothing proved nothing. */
	if (groups_passed == 0 && checks_failed == 0) {
		printf_serial("FAIL %s: no checks ran\n", guest_name);
		checks_failed++;
	}
	state_report();
	outl(DEBUG_EXIT_PORT, checks_failed ? EXIT_SOME_FAILED : EXIT_ALL_PASSED);
	for (;;)
		asm volatile("cli; hlt");
}

void guest_exit_poweroff(uint16_t port, uint16_t value)
{
	if (groups_passed == 0 || checks_failed)
		guest_exit();
	state_report();
	puts_serial("POWEROFF\n");
	outw(port, value);
	/* QEMU's power-off is a request its main loop serves while the vCPU
	 * runs on: give it time (tens of ms of TCG) before calling it failed.
	 * hyvm stops at the write itself. */
	for (volatile uint32_t spin = 0; spin < 50000000; spin++)
		;
	/* Still here: the power-off write did nothing. */
	checks_failed++;
	printf_serial("FAIL %s.poweroff: writing 0x%x to port 0x%x did not power off\n",
		      guest_name, value, port);
	outl(DEBUG_EXIT_PORT, EXIT_SOME_FAILED);
	for (;;)
		asm volatile("cli; hlt");
}

void expect_fault(const char *what, void (*raise)(void *), uint32_t vector, uint32_t error,
                  const char *eip)
{
	struct fault f;
	if (!catch_fault(raise, NULL, &f)) {
		check(false, "%s: no fault", what);
		return;
	}
	check(f.vector == vector && f.error == error && f.eip == (uint32_t)eip && f.cs == SEL_CODE32,
	      "%s: vector %u error 0x%x at %x:%x, want vector %u error 0x%x at %x:%x", what, f.vector,
	      f.error, f.cs, f.eip, vector, error, SEL_CODE32, (uint32_t)eip);
}
