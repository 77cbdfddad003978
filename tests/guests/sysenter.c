/* SYSENTER/SYSEXIT: the kernel enters ring 3 with SYSEXIT, user code
 * calls back with SYSENTER, the kernel side sees the CS/SS/ESP from the
 * MSRs and returns with SYSEXIT, and the user side sees CPL3 selectors
 * derived from IA32_SYSENTER_CS. */
#include "guest.h"

GUEST("sysenter", "sysenter");

#define SYS_EXIT 0
#define SYS_ADD 1

static uint8_t kernel_stack[4096] __attribute__((aligned(16)));
static uint8_t user_stack[4096] __attribute__((aligned(16)));

static volatile uint32_t user_cs, user_ss, user_sum, kernel_cs, kernel_ss, kernel_esp, calls;

void catch_longjmp(void) __attribute__((noreturn));
void sysenter_entry(void);
/* Kernel side. On entry: CS/SS from the MSR, ESP = SYSENTER_ESP, and the
 * user's return EIP/ESP in EDX/ECX by this guest's convention. */
asm(".text\n.globl sysenter_entry\n"
    "sysenter_entry:\n\t"
    "movw %cs, kernel_cs\n\t"
    "movw %ss, kernel_ss\n\t"
    "movl %esp, kernel_esp\n\t"
    "incl calls\n\t"
    "testl %eax, %eax\n\t"
    "jz catch_longjmp\n\t"   /* SYS_EXIT: back to the catch_fault caller */
    "leal (%ebx,%esi), %eax\n\t"
    "sysexit\n");

static void user_program(void)
{
	uint32_t cs, ss, sum;
	asm volatile("movl %%cs, %0\n\tmovl %%ss, %1" : "=r"(cs), "=r"(ss));
	user_cs = cs & 0xffff;
	user_ss = ss & 0xffff;
	asm volatile("movl %%esp, %%ecx\n\t"
	             "movl $1f, %%edx\n\t"
	             "sysenter\n"
	             "1:"
	             : "=a"(sum) : "a"(SYS_ADD), "b"(40), "S"(2) : "ecx", "edx", "memory");
	user_sum = sum;
	asm volatile("movl %%esp, %%ecx\n\tsysenter" : : "a"(SYS_EXIT) : "ecx", "edx", "memory");
}

/* SYSEXIT to user_program on user_stack, with user data segments. */
static void enter_user(void *unused)
{
	enter_user_sysexit((void *)user_program, user_stack + sizeof(user_stack));
}

void guest_main(const struct mb_info *mbi)
{
	gdt_set(SEL_SE_KCODE, 0, 0xfffff, SEG_CODE_RX, SEG_FLAG_G | SEG_FLAG_DB);
	gdt_set(SEL_SE_KDATA, 0, 0xfffff, SEG_DATA_RW, SEG_FLAG_G | SEG_FLAG_DB);
	gdt_set(SEL_SE_UCODE, 0, 0xfffff, SEG_CODE_RX | 0x60, SEG_FLAG_G | SEG_FLAG_DB);
	gdt_set(SEL_SE_UDATA, 0, 0xfffff, SEG_DATA_RW | 0x60, SEG_FLAG_G | SEG_FLAG_DB);
	wrmsr(MSR_IA32_SYSENTER_CS, SEL_SE_KCODE);
	wrmsr(MSR_IA32_SYSENTER_ESP, (uint32_t)kernel_stack + sizeof(kernel_stack));
	wrmsr(MSR_IA32_SYSENTER_EIP, (uint32_t)sysenter_entry);

	check_begin("round_trip");
	struct fault f = { .vector = ~0u };
	bool unwound = catch_fault(enter_user, NULL, &f);
	check(unwound && f.vector == ~0u, "user code did not end with its exit call (trap %u at %x)", f.vector,
	      f.eip);
	check_eq("system calls made", calls, 2);
	check_eq("user CS after sysexit", user_cs, SEL_SE_UCODE);
	check_eq("user SS after sysexit", user_ss, SEL_SE_UDATA);
	check_eq("kernel CS after sysenter", kernel_cs & 0xffff, SEL_SE_KCODE);
	check_eq("kernel SS after sysenter", kernel_ss & 0xffff, SEL_SE_KDATA);
	check_eq("kernel ESP after sysenter", kernel_esp, (uint32_t)kernel_stack + sizeof(kernel_stack));
	check_eq("sum computed across sysenter/sysexit", user_sum, 42);
	check_end();
}
