/* bt's jump cache holds one set of segment bases and limits, not a CPL,
 * so with flat segments an indirect jump in ring 3 can land on a block
 * translated for ring 0. What such a block does only at CPL0 must still
 * check the CPL at run time (bt/translate/io_call.c, sys_fast.c):
 *   in_cpl3_via_jc  a kernel's IN (inline at CPL0: io_call.c), reached by an
 *              indirect jump in 50 system calls, then by the same
 *              indirect jump from ring 3 with IOPL 0 and no I/O bitmap:
 *              #GP(0) at the IN (SDM Vol. 1, 18.5.1; Vol. 2A IN). */
#include "guest.h"

GUEST("jc_cpl", "user-mode sysenter");


static uint8_t kernel_stack[4096] __attribute__((aligned(16)));
static uint8_t trap_stack[4096] __attribute__((aligned(16)));
static uint8_t user_stack[4096] __attribute__((aligned(16)));
volatile uint32_t k3_calls;
void k_entry3(void), u_loop3(void);
extern const char k_in[];
/* the kernel: IN through an indirect jump, SYSEXIT; ring 3: 50 system
 * calls, then the same indirect jump */
asm(".text\n"
    ".globl k_entry3\nk_entry3:\n\t"
    "incl %ss:k3_calls\n\t"
    "movl $k_in, %esi\n\t"
    "jmp *%esi\n"
    ".globl k_in\nk_in:\n\t"
    "inb $0x80, %al\n\t"
    "xorl %eax, %eax\n\t"	/* port 0x80 reads differ between VMMs */
    "sysexit\n"
    ".globl u_loop3\nu_loop3:\n\t"
    "movl $50, %ebx\n"
    "1:\tmovl %esp, %ecx\n\t"
    "movl $2f, %edx\n\t"
    "sysenter\n"
    "2:\tdecl %ebx\n\t"
    "jnz 1b\n\t"
    "movl $k_in, %esi\n\t"
    "jmp *%esi\n");
static void enter_user(void *entry)
{
	enter_user_sysexit(entry, user_stack + sizeof(user_stack));
}
void guest_main(const struct mb_info *mbi)
{
	gdt_set(SEL_SE_KCODE, 0, 0xfffff, SEG_CODE_RX, SEG_FLAG_G | SEG_FLAG_DB);
	gdt_set(SEL_SE_KDATA, 0, 0xfffff, SEG_DATA_RW, SEG_FLAG_G | SEG_FLAG_DB);
	gdt_set(SEL_SE_UCODE, 0, 0xfffff, SEG_CODE_RX | 0x60, SEG_FLAG_G | SEG_FLAG_DB);
	gdt_set(SEL_SE_UDATA, 0, 0xfffff, SEG_DATA_RW | 0x60, SEG_FLAG_G | SEG_FLAG_DB);
	tss_load((uint32_t)trap_stack + sizeof(trap_stack));
	wrmsr(MSR_IA32_SYSENTER_CS, SEL_SE_KCODE);
	wrmsr(MSR_IA32_SYSENTER_ESP, (uint32_t)kernel_stack + sizeof(kernel_stack));
	wrmsr(MSR_IA32_SYSENTER_EIP, (uint32_t)k_entry3);
	check_begin("in_cpl3_via_jc");
	struct fault f = { .vector = ~0u };
	bool unwound = catch_fault(enter_user, (void *)u_loop3, &f);
	check(unwound, "no fault");
	check_eq("kernel calls", k3_calls, 50);
	check_eq("vector", f.vector, VEC_GP);
	check_eq("error code", f.error, 0);
	check_eq("at the IN", f.eip, (uint32_t)k_in);
	check_eq("from ring 3", f.cs, SEL_SE_UCODE);
	check_end();
}
