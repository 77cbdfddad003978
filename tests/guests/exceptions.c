/* Faults raised by the CPU itself, with no INT instruction anywhere:
 * #DE, #UD, #NP and #GP, each with the vector, error code and faulting
 * EIP the SDM gives; then a handler that resumes past a fault by editing
 * the trap frame. */
#include "guest.h"

GUEST("exceptions", "");

#define SEL_NOT_PRESENT SEL_SPARE(0)
#define SEL_BEYOND_GDT 0x1238

FAULTING_INSN(div_zero, "xorl %%edx, %%edx\n\txorl %%ecx, %%ecx\n\tmovl $1, %%eax", "divl %%ecx", "eax", "ecx", "edx")
FAULTING_INSN(idiv_overflow, "movl $0xffffffff, %%edx\n\tmovl $0x80000000, %%eax\n\tmovl $-1, %%ecx", "idivl %%ecx",
         "eax", "ecx", "edx")
FAULTING_INSN(ud2_insn, "", "ud2", "memory")
FAULTING_INSN(mov_cs_insn, "movw %%cs, %%ax", "movw %%ax, %%cs", "eax")
FAULTING_INSN(null_jump, "", "ljmp $0, $0", "memory")
FAULTING_INSN(beyond_gdt, "movw $0x1238, %%ax", "movw %%ax, %%ds", "eax")
FAULTING_INSN(code_in_ss, "movw $0x08, %%ax", "movw %%ax, %%ss", "eax")
FAULTING_INSN(not_present, "movw $" STR(SEL_NOT_PRESENT) ", %%ax", "movw %%ax, %%es", "eax")

/* A handler that resumes after the ud2 it was given, with EAX set, proves
 * the IRET path restores the interrupted context it edited. */
static void skip_ud2(struct trap_frame *tf)
{
	tf->eip += 2;
	tf->eax = 0x5eed;
}

static void resume_after_fault(void)
{
	check_begin("resume");
	trap_set_handler(VEC_UD, skip_ud2);
	uint32_t eax = 0, ebx = 0x1234;
	asm volatile("ud2\n\tmovl %%eax, %0" : "=r"(eax), "+b"(ebx) : "a"(0) : "memory");
	check_eq("EAX written by the #UD handler", eax, 0x5eed);
	check_eq("EBX preserved across the fault", ebx, 0x1234);
	trap_set_handler(VEC_UD, NULL);
	check_end();
}

void guest_main(const struct mb_info *mbi)
{
	check_begin("divide_error");
	expect_fault("div by zero", div_zero_raise, VEC_DE, NO_ERROR_CODE, div_zero);
	expect_fault("idiv 80000000/-1", idiv_overflow_raise, VEC_DE, NO_ERROR_CODE, idiv_overflow);
	check_end();

	check_begin("invalid_opcode");
	expect_fault("ud2", ud2_insn_raise, VEC_UD, NO_ERROR_CODE, ud2_insn);
	expect_fault("mov to cs", mov_cs_insn_raise, VEC_UD, NO_ERROR_CODE, mov_cs_insn);
	check_end();

	check_begin("general_protection");
	expect_fault("far jmp to the null selector", null_jump_raise, VEC_GP, 0, null_jump);
	expect_fault("load ds beyond the GDT limit", beyond_gdt_raise, VEC_GP, SEL_BEYOND_GDT, beyond_gdt);
	expect_fault("load ss with a code segment", code_in_ss_raise, VEC_GP, SEL_CODE32, code_in_ss);
	check_end();

	check_begin("segment_not_present");
	gdt_set(SEL_NOT_PRESENT, 0, 0xfffff, SEG_DATA_RW & ~0x80, SEG_FLAG_G | SEG_FLAG_DB);
	expect_fault("load es with a not-present segment", not_present_raise, VEC_NP, SEL_NOT_PRESENT,
	             not_present);
	check_end();

	resume_after_fault();
}
