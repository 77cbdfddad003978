/* The guest's x87 and SSE registers across everything that leaves
 * translated code, now that bt loads them only in front of a block's first
 * FPU instruction and gives them back at every return to its dispatcher
 * (bt/cpu/fpu_lazy.c, bt/translate/fpu_load_emit.c). The registers are a
 * guest's own (SDM Vol. 1 8.1, 10.2): only its x87, SSE, FXRSTOR and
 * LDMXCSR instructions change them, never an interrupt, an I/O or a
 * privileged instruction.
 *
 * Three x87 values on the stack (1, pi, log2(10)), a non-default control
 * word (round toward zero, precision 53 bits), eight patterns in XMM0-7
 * and a non-default MXCSR; then 500 rounds, all in one asm block so that
 * no compiled code runs in between, of the exits bt has: an INT to a
 * handler that only IRETs and a far return (done from the block,
 * bt/cpu/callout_in_block.c), PUSHF/POPF and a DS reload (the same), an
 * indirect call and return (the jump cache, or its dispatcher), IN and
 * OUT (C called from the block: sse_spill.c), a MOV to CR0 (the
 * dispatcher's callout) and a CPUID of an unlisted leaf. Each round also
 * adds 1.0 to the x87 top in a new block after those exits (the load in
 * front of it). After the loop:
 *   - FXSAVE in a block of its own (the image it stores is the loaded
 *     registers': FCW, MXCSR, XMM0-7, the top of the stack);
 *   - the stack popped to memory, XMM0-7 stored, FNSTCW and STMXCSR.
 * Checked against what the values must be, in every engine and QEMU. */
#include "guest.h"
#include "xmm_asm.h"

GUEST("fpu_lazy", "sse soft-int-cpl0");

#define ROUNDS 500
#define VEC_IRET 0x83
#define MXCSR_SET 0x6f80u	/* round toward zero, all but precision masked */
#define FCW_SET 0x0e7fu		/* round toward zero, 53-bit precision, all masked */

static uint32_t pattern[8][4] __attribute__((aligned(16)));
static uint32_t after[8][4] __attribute__((aligned(16)));
static uint8_t fx_image[512] __attribute__((aligned(16)));
static volatile uint16_t fcw_in = FCW_SET, fcw_out;
static volatile uint32_t mxcsr_in = MXCSR_SET, mxcsr_out;
static double popped[3];
static volatile uint32_t iret_count, calls;
static uint32_t (*const after_at)[4] = after;
static uint8_t *const fx_at = fx_image;
static double *const popped_at = popped;
static const double one = 1.0;

void iret_only(void);
void counted_ret(void);
asm(".text\n"
    ".globl iret_only\niret_only:\n\t"
    "incl iret_count\n\t"
    "iret\n"
    ".globl counted_ret\ncounted_ret:\n\t"
    "incl calls\n\t"
    "ret\n");

static void exits_with_fpu_loaded(void)
{
	uint32_t n = ROUNDS;
	uint32_t (*p)[4] = pattern;

	asm volatile("fninit\n\t"
		     "fldcw %[fi]\n\t"
		     "ldmxcsr %[mi]\n\t"
		     "fld1\n\t"
		     "fldpi\n\t"
		     "fldl2t\n\t"
		     XMM_LOAD_ALL_FROM_P
		     "1: int $0x83\n\t"
		     "pushfl\n\t"
		     "popfl\n\t"
		     "movl %%ds, %%eax\n\t"
		     "movl %%eax, %%ds\n\t"
		     "movl $counted_ret, %%eax\n\t"
		     "call *%%eax\n\t"
		     "inb $0x61, %%al\n\t"
		     "outb %%al, $0x80\n\t"
		     "movl %%cr0, %%eax\n\t"
		     "movl %%eax, %%cr0\n\t"
		     "movl $0x20000000, %%eax\n\t"
		     "xorl %%ecx, %%ecx\n\t"
		     "cpuid\n\t"
		     "pushl %%cs\n\t"
		     "pushl $2f\n\t"
		     "lret\n"
		     "2: faddl %[one]\n\t"
		     "fxch %%st(2)\n\t"
		     "fxch %%st(2)\n\t"
		     "dec %%esi\n\t"
		     "jnz 1b\n\t"
		     "movl %[fx], %%edi\n\t"
		     "jmp 3f\n"
		     "3: fxsave (%%edi)\n\t"
		     "movl %[a], %%edi\n\t"
		     "inb $0x61, %%al\n\t"
		     XMM_STORE_ALL_TO_EDI
		     "movl %[pop], %%edi\n\t"
		     "fstpl 0(%%edi)\n\t"
		     "fstpl 8(%%edi)\n\t"
		     "fstpl 16(%%edi)\n\t"
		     "fnstcw %[fo]\n\t"
		     "stmxcsr %[mo]"
		     : "+S"(n), [p] "+D"(p), [mo] "=m"(mxcsr_out), [fo] "=m"(fcw_out)
		     : [a] "m"(after_at), [fx] "m"(fx_at), [pop] "m"(popped_at),
		       [mi] "m"(mxcsr_in), [fi] "m"(fcw_in), [one] "m"(one)
		     : "eax", "ebx", "ecx", "edx", "memory", "cc");
}

/* the low and high 32 bits of a double, for exact comparisons */
static uint32_t lo32(double d) { uint32_t w[2]; __builtin_memcpy(w, &d, 8); return w[0]; }
static uint32_t hi32(double d) { uint32_t w[2]; __builtin_memcpy(w, &d, 8); return w[1]; }

void guest_main(const struct mb_info *mbi)
{
	for (int r = 0; r < 8; r++)
		for (int w = 0; w < 4; w++)
			pattern[r][w] = 0x01010101u * (uint32_t)(r + 1) ^ (0x20000000u << w) ^ 0x00facadeu;

	write_cr0((read_cr0() & ~CR0_EM) | CR0_MP);
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
	idt_set_raw(VEC_IRET, iret_only, GATE_INT);

	check_begin("fpu_across_exits");
	exits_with_fpu_loaded();
	check_eq("INT/IRET round trips", iret_count, ROUNDS);
	check_eq("indirect calls", calls, ROUNDS);
	for (int r = 0; r < 8; r++)
		for (int w = 0; w < 4; w++)
			check(after[r][w] == pattern[r][w], "xmm%d dword %d: %08x, want %08x",
			      r, w, after[r][w], pattern[r][w]);
	check_eq("MXCSR", mxcsr_out & 0xffbf, MXCSR_SET);
	check_eq("FCW", fcw_out, FCW_SET);
	/* log2(10) (FLDL2T's 0xd49a784bcd1b8afe * 2^-62) plus 1.0 500
	 * times, each sum cut to 53 bits toward zero, exact as a double;
	 * then pi cut toward zero, and 1 */
	double want[3] = { 0, 0, 0 };
	uint32_t want_words[3][2] = {
		{ 0x9e12f346u, 0x407f7526u },	/* 503.3219280948873 */
		{ 0x54442d18u, 0x400921fbu },	/* pi, truncated */
		{ 0x00000000u, 0x3ff00000u },	/* 1 */
	};
	for (int i = 0; i < 3; i++) {
		__builtin_memcpy(&want[i], want_words[i], 8);
		check(lo32(popped[i]) == lo32(want[i]) && hi32(popped[i]) == hi32(want[i]),
		      "st(%d) popped %08x%08x, want %08x%08x", i, hi32(popped[i]), lo32(popped[i]),
		      hi32(want[i]), lo32(want[i]));
	}
	check_end();

	check_begin("fxsave_in_a_new_block");
	uint16_t fcw_img = (uint16_t)(fx_image[0] | fx_image[1] << 8);
	uint32_t mxcsr_img;
	__builtin_memcpy(&mxcsr_img, fx_image + 24, 4);
	check_eq("FXSAVE's FCW", fcw_img, FCW_SET);
	check_eq("FXSAVE's MXCSR", mxcsr_img & 0xffbf, MXCSR_SET);
	check_eq("FXSAVE's tag word: three registers", fx_image[4] & 0xff, 0xe0);
	for (int r = 0; r < 8; r++)
		check(!__builtin_memcmp(fx_image + 160 + 16 * r, pattern[r], 16),
		      "FXSAVE's xmm%d differs", r);
	/* what processors fill differently out of the STATE line's CRC: the
	 * last instruction and operand pointers and opcode, MXCSR_MASK, the
	 * padding of each x87 register and the reserved tail (SDM Vol. 1
	 * 10.5.1, Table 10-2; QEMU's TCG keeps no FIP or FDP) */
	__builtin_memset(fx_image + 6, 0, 32 - 6);
	for (int r = 0; r < 8; r++)
		__builtin_memset(fx_image + 32 + 16 * r + 10, 0, 6);
	__builtin_memset(fx_image + 288, 0, sizeof(fx_image) - 288);
	check_end();
	guest_exit();
}
