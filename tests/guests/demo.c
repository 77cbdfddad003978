/* The demo guest bundled into hyvm: says what CPU mode it runs in and what
 * the loader told it, then powers the machine off through ACPI (PM1a_CNT
 * SLP_EN at 0x604, as on QEMU's pc machine). Not part of the test suite. */
#include "guest.h"

GUEST("demo", "");

#define ACPI_PM1A_CNT 0x604
#define ACPI_SLP_EN 0x2000

static const char *cpu_mode(void)
{
	uint32_t cr0 = read_cr0();
	uint64_t cs_descriptor = gdt_get(read_cs());
	if (!(cr0 & CR0_PE))
		return "real mode";
	if (cs_descriptor & (1ull << 53))
		return "64-bit long mode";
	return cr0 & CR0_PG ? "32-bit protected mode, paging on" : "32-bit protected mode, paging off";
}

void guest_main(const struct mb_info *mbi)
{
	printf_serial("hyvm demo guest: running in %s at CPL %u\n", cpu_mode(), read_cs() & 3);
	if (mbi->flags & MBI_LOADER_NAME)
		printf_serial("boot loader: %s\n", (const char *)mbi->boot_loader_name);
	else
		printf_serial("boot loader: (not named)\n");
	if (mbi->flags & MBI_MEMORY)
		printf_serial("memory: %u KiB low, %u KiB upper\n", mbi->mem_lower, mbi->mem_upper);
	if (mbi->flags & MBI_CMDLINE)
		printf_serial("command line: \"%s\"\n", (const char *)mbi->cmdline);
	printf_serial("powering off\n");
	outw(ACPI_PM1A_CNT, ACPI_SLP_EN);
	for (;;)
		asm volatile("cli; hlt");
}
