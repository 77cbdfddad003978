/* The debugger's target (tests/gdb/): symbols to break at, registers with
 * known values at gdb_regs_set, a function called with known arguments
 * and a variable to watch. Self-checking on its own too, so it runs in
 * the guest suite on QEMU and every engine like the others. */
#include "guest.h"

GUEST("gdb_target", "");

volatile uint32_t gdb_watched;
volatile uint32_t gdb_counter;
/* Set by the debugger (tests/gdb/run.sh on svm and vmx, where the guest's
 * own TF must keep working while gdb has breakpoints; bt does not trap on
 * a guest's TF): the guest_tf check runs. */
volatile uint32_t gdb_tf_wanted;
/* What PUSHF pushed at gdb_pushf: a debugger that single-steps it must
 * not show its own TF there (hyvm.ko's svm sets TF to step). */
volatile uint32_t gdb_pushed_flags;
void gdb_pushf(void);
asm(".text\n.globl gdb_pushf\ngdb_pushf:\n\tpushfl\n\tpopl gdb_pushed_flags\n\tret\n");

/* The guest's own single steps: three traps, then TF cleared in the frame. */
static volatile uint32_t tf_traps;
static void count_tf(struct trap_frame *tf)
{
	if (++tf_traps >= 3)
		tf->eflags &= ~EFLAGS_TF;
}

/* At gdb_regs_set EAX..EBP hold 0x11111111..0x77777777; the next two
 * instructions add 1 to EAX and 2 to ECX, so single steps show. */
void gdb_known_regs(void);
asm(".text\n.globl gdb_known_regs\ngdb_known_regs:\n\t"
    "pushl %ebx\n\tpushl %esi\n\tpushl %edi\n\tpushl %ebp\n\t"
    "movl $0x11111111, %eax\n\tmovl $0x22222222, %ecx\n\tmovl $0x33333333, %edx\n\t"
    "movl $0x44444444, %ebx\n\tmovl $0x55555555, %esi\n\tmovl $0x66666666, %edi\n\t"
    "movl $0x77777777, %ebp\n"
    ".globl gdb_regs_set\ngdb_regs_set:\n\t"
    "addl $1, %eax\n\taddl $2, %ecx\n\tnop\n\t"
    "popl %ebp\n\tpopl %edi\n\tpopl %esi\n\tpopl %ebx\n\tret\n");

void __attribute__((noinline)) gdb_marker(uint32_t n)
{
	gdb_counter += n;
}

void guest_main(const struct mb_info *mbi)
{
	check_begin("run");
	gdb_known_regs();
	gdb_pushf();
	check_eq("pushed TF", gdb_pushed_flags & EFLAGS_TF, 0);
	for (uint32_t i = 1; i <= 3; i++)
		gdb_marker(i);
	check_eq("counter", gdb_counter, 6);
	check_end();
	if (gdb_tf_wanted) {
		/* set by gdb before it ran; gdb's watchpoint on gdb_watched is
		 * set now, so hyvm.ko intercepts #DB and must hand these back.
		 * No trap after the POPF that sets TF; one after each NOP until
		 * the handler clears it (SDM Vol. 3B 18.3.1.4). */
		check_begin("guest_tf");
		trap_set_handler(VEC_DB, count_tf);
		asm volatile("pushfl\n\torl $0x100, (%%esp)\n\tpopfl\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop"
			     : : : "memory", "cc");
		check_eq("guest TF traps", tf_traps, 3);
		check_end();
	}
	check_begin("watch");
	gdb_watched = 0x1234;
	gdb_watched += 1;
	check_eq("watched", gdb_watched, 0x1235);
	check_end();
	guest_exit();
}
