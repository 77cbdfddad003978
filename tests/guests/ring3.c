/* Ring 3 and back: IRET into CPL3 code, system calls through a DPL3
 * interrupt gate (int 0x80) that switch to the TSS ring 0 stack and IRET
 * back, and the #GP(0) that privileged instructions raise at CPL3. */
#include "guest.h"

GUEST("ring3", "user-mode");

#define VEC_SYSCALL 0x80
#define SYS_EXIT 0
#define SYS_ADD 1
#define SYS_WHO_CALLED 2

static uint8_t kernel_stack[4096] __attribute__((aligned(16)));
static uint8_t user_stack[4096] __attribute__((aligned(16)));

/* Written by user code (there is no paging, so it can reach them). */
static volatile uint32_t user_sum, user_cs, caller_cs, caller_ss, caller_esp, handler_frame;

static void syscall_handler(struct trap_frame *tf)
{
	switch (tf->eax) {
	case SYS_EXIT:
		catch_unwind(tf);
	case SYS_ADD:
		tf->eax = tf->ebx + tf->ecx;
		break;
	case SYS_WHO_CALLED:
		caller_cs = tf->cs & 0xffff;
		caller_ss = tf->user_ss & 0xffff;
		caller_esp = tf->user_esp;
		handler_frame = (uint32_t)tf;
		break;
	}
}

static uint32_t syscall2(uint32_t nr, uint32_t a, uint32_t b)
{
	uint32_t r;
	asm volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b) : "memory");
	return r;
}

static void user_program(void)
{
	uint16_t cs;
	asm volatile("movw %%cs, %0" : "=r"(cs));
	user_cs = cs;
	user_sum = syscall2(SYS_ADD, 40, 2);
	syscall2(SYS_WHO_CALLED, 0, 0);
	syscall2(SYS_EXIT, 0, 0);
}

/* IRET to user_code at CPL3 on user_stack, with user data segments. */
static void enter_user(void *user_code)
{
	enter_user_iret(user_code, user_stack + sizeof(user_stack));
}

#define USER_FAULTING(name, insn) \
	extern const char name[]; \
	static void __attribute__((noinline)) name##_program(void) \
	{ \
		asm volatile(".globl " #name "\n" #name ":\n\t" insn : : : "memory", "eax"); \
		syscall2(SYS_EXIT, 0, 0); \
	}

USER_FAULTING(user_cli, "cli")
USER_FAULTING(user_hlt, "hlt")
USER_FAULTING(user_out, "outb %%al, $0x80")
USER_FAULTING(user_mov_cr, "movl %%cr0, %%eax")

static void expect_user_gp(const char *what, void (*program)(void), const char *eip)
{
	struct fault f = { .vector = ~0u };
	if (!catch_fault(enter_user, (void *)program, &f) || f.vector == ~0u) {
		check(false, "%s at CPL3 did not fault", what);
		return;
	}
	check(f.vector == VEC_GP && f.error == 0 && f.cs == SEL_UCODE32 && f.eip == (uint32_t)eip,
	      "%s at CPL3: vector %u error %x at %x:%x, want #GP(0) at %x:%x", what, f.vector, f.error, f.cs,
	      f.eip, SEL_UCODE32, (uint32_t)eip);
}

void guest_main(const struct mb_info *mbi)
{
	tss_load((uint32_t)kernel_stack + sizeof(kernel_stack));
	idt_set_type(VEC_SYSCALL, GATE_INT | GATE_DPL3);
	trap_set_handler(VEC_SYSCALL, syscall_handler);

	check_begin("syscalls");
	struct fault f = { .vector = ~0u };
	bool unwound = catch_fault(enter_user, (void *)user_program, &f);
	check(unwound && f.vector == VEC_SYSCALL, "user program did not end with its exit call (vector %x)",
	      f.vector);
	check_eq("CS in user code", user_cs, SEL_UCODE32);
	check_eq("int 0x80 add result", user_sum, 42);
	check_eq("caller CS seen by the handler", caller_cs, SEL_UCODE32);
	check_eq("caller SS seen by the handler", caller_ss, SEL_UDATA32);
	check(caller_esp > (uint32_t)user_stack && caller_esp <= (uint32_t)user_stack + sizeof(user_stack),
	      "caller ESP %x is not on the user stack", caller_esp);
	check(handler_frame >= (uint32_t)kernel_stack && handler_frame < (uint32_t)kernel_stack + sizeof(kernel_stack),
	      "handler frame %x is not on the TSS ring 0 stack", handler_frame);
	check_eq("CS back in the kernel", read_cs(), SEL_CODE32);
	check_end();

	check_begin("privileged_at_cpl3");
	expect_user_gp("cli", user_cli_program, user_cli);
	expect_user_gp("hlt", user_hlt_program, user_hlt);
	expect_user_gp("out", user_out_program, user_out);
	expect_user_gp("mov from cr0", user_mov_cr_program, user_mov_cr);
	check_end();
}
