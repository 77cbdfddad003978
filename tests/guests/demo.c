/* The demo guest `hyvm run` boots when given no GUEST: it says where it
 * runs (CPU mode, privilege level, the engine from the boot loader name),
 * what the loader told it, then powers the machine off (ACPI PM1a_CNT
 * SLP_EN at port 0x604, as on QEMU's pc machine). */
#include "guest.h"

GUEST("demo", "");

static const char *cpu_mode(void)
{
	uint32_t cr0 = read_cr0();

	if (!(cr0 & 1))
		return "16-bit real mode";
	if (!(cr0 & 0x80000000u))
		return "32-bit protected mode, paging off";
	return (read_cr4() & 0x20) ? "32-bit protected mode, PAE paging"
				   : "32-bit protected mode, 2-level paging";
}

void guest_main(const struct multiboot_info *mbi)
{
	const char *loader = (mbi->flags & MBI_FLAG_LOADER_NAME)
				     ? (const char *)mbi->boot_loader_name : "(not given)";
	const char *cmdline = (mbi->flags & MBI_FLAG_CMDLINE) ? (const char *)mbi->cmdline : "";

	printf_serial("Hello from the hyvm demo guest.\n");
	printf_serial("  CPU mode:     %s, CPL %u\n", cpu_mode(), read_cs() & 3u);
	printf_serial("  boot loader:  %s\n", loader);
	if (mbi->flags & MBI_FLAG_MEM)
		printf_serial("  memory:       %u KiB low, %u KiB above 1 MiB\n",
			      mbi->mem_lower, mbi->mem_upper);
	printf_serial("  command line: '%s'\n", cmdline);
	printf_serial("Powering off.\n");
	outw(0x604, 0x2000);
	for (;;) {
		cli();
		asm volatile("hlt");
	}
}
