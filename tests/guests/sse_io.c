/* The SSE registers across port I/O at CPL0. A guest's XMM registers and
 * MXCSR are its own: an IN or OUT must leave them as they were (SDM Vol. 1
 * 10.2: only SSE instructions, FXRSTOR/XRSTOR and LDMXCSR change them).
 * On bt an IN/OUT at CPL0 is a call from translated code into the VMM's
 * device code (bt/translate/io_call.c), which is C and may use the host's
 * XMM registers, where the guest's live while it runs; the call must keep
 * them. A Linux kernel's port I/O (the PM timer, the 8259, the serial
 * port) runs while the interrupted process's XMM state is still in the
 * registers, so a clobber there corrupts user programs.
 *
 * Eight patterns in XMM0-7 and a non-default MXCSR (round toward zero,
 * precision exception masked off), then 3000 rounds of IN from ports
 * 0x61 and 0x40, OUT to port 0x80 and a CPUID of a leaf no model lists
 * (bt answers it from C too: translate_insn.c's cpuid_call), all in one
 * asm block so that no compiled code runs in between; then the registers
 * are stored and compared. */
#include "guest.h"
#include "xmm_asm.h"

GUEST("sse_io", "sse");

#define ROUNDS 3000
/* round toward zero (RC = 11b), every exception masked but precision */
#define MXCSR_SET 0x6f80u

static uint32_t pattern[8][4] __attribute__((aligned(16)));
static uint32_t after[8][4] __attribute__((aligned(16)));
static volatile uint32_t mxcsr_in = MXCSR_SET, mxcsr_out;
static uint32_t (*const after_at)[4] = after;

static void io_with_xmm_loaded(void)
{
	uint32_t n = ROUNDS;
	uint32_t (*p)[4] = pattern;

	asm volatile("ldmxcsr %[mi]\n\t"
		     XMM_LOAD_ALL_FROM_P
		     "1: inb $0x61, %%al\n\t"
		     "outb %%al, $0x80\n\t"
		     "inb $0x40, %%al\n\t"
		     "movl $0x20000000, %%eax\n\t"
		     "xorl %%ecx, %%ecx\n\t"
		     "cpuid\n\t"
		     "dec %%esi\n\t"
		     "jnz 1b\n\t"
		     "movl %[a], %%edi\n\t"
		     XMM_STORE_ALL_TO_EDI
		     "stmxcsr %[mo]"
		     : "+S"(n), [p] "+D"(p), [mo] "=m"(mxcsr_out)
		     : [a] "m"(after_at), [mi] "m"(mxcsr_in)
		     : "eax", "ebx", "ecx", "edx", "memory", "cc");
}

void guest_main(const struct mb_info *mbi)
{
	for (int r = 0; r < 8; r++)
		for (int w = 0; w < 4; w++)
			pattern[r][w] = 0x01010101u * (uint32_t)(r + 1) ^ (0x10000000u << w) ^ 0x00c0ffeeu;

	write_cr0((read_cr0() & ~CR0_EM) | CR0_MP);
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);

	check_begin("xmm_across_port_io");
	io_with_xmm_loaded();
	for (int r = 0; r < 8; r++)
		for (int w = 0; w < 4; w++)
			check(after[r][w] == pattern[r][w], "xmm%d dword %d: %08x, want %08x",
			      r, w, after[r][w], pattern[r][w]);
	check_eq("MXCSR", mxcsr_out & 0xffbf, MXCSR_SET);
	check_end();
	guest_exit();
}
