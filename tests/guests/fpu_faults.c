/* Floating-point exceptions the CPU raises, with CR0.NE=1 (native error
 * reporting, SDM Vol. 1 8.7.1): each with the vector and the EIP the SDM
 * gives.
 *   x87:  an unmasked zero divide sets FSW.ES and is reported as #MF
 *         (vector 16) at the NEXT waiting x87 instruction (SDM Vol. 1
 *         8.5.1, 8.6): the EIP is that FWAIT's, not the FDIV's.
 *   SSE:  an unmasked SIMD exception is #XM (vector 19) at the SSE
 *         instruction itself when CR4.OSXMMEXCPT=1, and #UD when it is 0
 *         (SDM Vol. 1 11.5.1, Vol. 3A 2.5 "CR4.OSXMMEXCPT").
 * A translator that runs guest FP code on the host's FPU sees both as one
 * host signal (SIGFPE) and must tell them apart by the host's trap number:
 * a Linux guest whose SSE fault arrives as #MF finds no x87 exception in
 * FSW, returns, and the instruction faults again forever. */
#include "guest.h"

GUEST("fpu_faults", "sse fp-exceptions");

/* x87 control word: the default (every exception masked, 64-bit
 * precision, round to nearest) with ZM (bit 2) cleared */
#define FCW_ZM_UNMASKED 0x037bu
/* MXCSR: the default with ZM (bit 9) cleared */
#define MXCSR_ZM_UNMASKED 0x1d80u
#define MXCSR_ZE 0x0004u	/* zero-divide flag */
#define FSW_ZE 0x0004u
#define FSW_ES 0x0080u

static volatile uint16_t fcw = FCW_ZM_UNMASKED;
static volatile uint32_t mxcsr = MXCSR_ZM_UNMASKED;
static volatile float one = 1.0f, zero = 0.0f;

/* The FDIV only records the error; FWAIT is where it is reported. */
FAULTING_INSN(x87_zero_divide,
	      "fninit\n\tfldcw fcw\n\tfld1\n\tfldz\n\tfdivrp\n\tnop",
	      "fwait", "memory")
FAULTING_INSN(x87_next_fp_insn,
	      "fninit\n\tfldcw fcw\n\tfld1\n\tfldz\n\tfdivrp",
	      "fld1", "memory")
FAULTING_INSN(sse_zero_divide,
	      "ldmxcsr mxcsr\n\tmovss one, %%xmm0\n\tmovss zero, %%xmm1",
	      "divss %%xmm1, %%xmm0", "memory")

static uint16_t fnstsw(void)
{
	uint16_t sw;

	asm volatile("fnstsw %0" : "=m"(sw));
	return sw;
}

static uint32_t stmxcsr(void)
{
	uint32_t v;

	asm volatile("stmxcsr %0" : "=m"(v));
	return v;
}

static void x87_checks(void)
{
	check_begin("x87_mf");
	expect_fault("fdiv by zero reported at fwait", x87_zero_divide_raise, VEC_MF,
		     NO_ERROR_CODE, x87_zero_divide);
	uint16_t sw = fnstsw();
	check((sw & (FSW_ZE | FSW_ES)) == (FSW_ZE | FSW_ES), "FSW after #MF: %04x, want ZE and ES", sw);
	asm volatile("fnclex");
	check((fnstsw() & FSW_ES) == 0, "FSW.ES after FNCLEX: %04x", fnstsw());
	expect_fault("fdiv by zero reported at the next fld", x87_next_fp_insn_raise, VEC_MF,
		     NO_ERROR_CODE, x87_next_fp_insn);
	asm volatile("fninit");
	/* masked again: the same divide raises nothing and leaves infinity */
	float r;
	asm volatile("fld1\n\tfldz\n\tfdivrp\n\tfstps %0\n\tfwait" : "=m"(r));
	union { float f; uint32_t u; } inf = { .f = r };
	check_eq("masked 1/0", inf.u, 0x7f800000u);
	check_end();
}

static void sse_checks(void)
{
	check_begin("sse_xm");
	write_cr4(read_cr4() | CR4_OSXMMEXCPT);
	expect_fault("divss by zero with OSXMMEXCPT", sse_zero_divide_raise, VEC_XM, NO_ERROR_CODE,
		     sse_zero_divide);
	uint32_t m = stmxcsr();
	check((m & MXCSR_ZE) != 0, "MXCSR after #XM: %08x, want ZE", m);
	check_end();

	check_begin("sse_ud");
	write_cr4(read_cr4() & ~CR4_OSXMMEXCPT);
	expect_fault("divss by zero without OSXMMEXCPT", sse_zero_divide_raise, VEC_UD,
		     NO_ERROR_CODE, sse_zero_divide);
	write_cr4(read_cr4() | CR4_OSXMMEXCPT);
	uint32_t def = 0x1f80;
	asm volatile("ldmxcsr %0" : : "m"(def));
	check_end();
}

void guest_main(const struct mb_info *mbi)
{
	write_cr0((read_cr0() & ~CR0_EM) | CR0_MP | CR0_NE);
	write_cr4(read_cr4() | CR4_OSFXSR);
	x87_checks();
	sse_checks();
	guest_exit();
}
