/* MOV from a control register at CPL0 under paging, which bt translates
 * inline from its virtual registers (bt/translate/cr_read.c) instead of
 * calling out:
 *   values     CR0, CR2, CR3 and CR4 read into every general register,
 *              ESP included, 50 times in one block: the values written
 *              (CR3, CR4), the last #PF's address (CR2), PG and PE in CR0,
 *              and the flags the reads found left as they were (a MOV
 *              from CR changes none: SDM Vol. 2B MOV—Move to/from Control
 *              Registers);
 *   cpl3_via_jc  a kernel's MOV from CR2 reached by an indirect jump in 50
 *              system calls, then by the same jump from ring 3 (bt's jump
 *              cache holds no CPL, guest jc_cpl): #GP(0) at the MOV. */
#include "guest.h"

GUEST("cr_read", "paging32 user-mode sysenter");

static uint8_t kernel_stack[4096] __attribute__((aligned(16)));
static uint8_t trap_stack[4096] __attribute__((aligned(16)));
static uint8_t user_stack[4096] __attribute__((aligned(16)));
volatile uint32_t k3_calls;
void k_entry3(void), u_loop3(void);
extern const char k_cr[];
asm(".text\n"
    ".globl k_entry3\nk_entry3:\n\t"
    "incl %ss:k3_calls\n\t"
    "movl $k_cr, %esi\n\t"
    "jmp *%esi\n"
    ".globl k_cr\nk_cr:\n\t"
    "movl %cr2, %eax\n\t"
    "sysexit\n"
    ".globl u_loop3\nu_loop3:\n\t"
    "movl $50, %ebx\n"
    "1:\tmovl %esp, %ecx\n\t"
    "movl $2f, %edx\n\t"
    "sysenter\n"
    "2:\tdecl %ebx\n\t"
    "jnz 1b\n\t"
    "movl $k_cr, %esi\n\t"
    "jmp *%esi\n");

static void enter_user(void *entry)
{
	enter_user_sysexit(entry, user_stack + sizeof(user_stack));
}

/* one round: every register gets a control register; the flags of a CMP
 * before and after */
volatile uint32_t got[9], flags_before, flags_after, saved_esp;
__attribute__((noinline, noclone)) static void read_all(uint32_t a, uint32_t b)
{
	asm volatile("pushl %%ebp\n\t"
		     "movl %0, %%eax\n\t"
		     "cmpl %1, %%eax\n\t"
		     "pushfl\n\tpopl flags_before\n\t"
		     "movl %%cr0, %%eax\n\t"
		     "movl %%cr2, %%ebx\n\t"
		     "movl %%cr3, %%ecx\n\t"
		     "movl %%cr4, %%edx\n\t"
		     "movl %%cr2, %%esi\n\t"
		     "movl %%cr3, %%edi\n\t"
		     "movl %%cr4, %%ebp\n\t"
		     "movl %%esp, saved_esp\n\t"
		     "movl %%cr3, %%esp\n\t"
		     "movl %%esp, got+28\n\t"
		     "movl %%cr0, %%esp\n\t"
		     "movl %%esp, got+32\n\t"
		     "movl saved_esp, %%esp\n\t"
		     "pushfl\n\tpopl flags_after\n\t"
		     "movl %%eax, got\n\tmovl %%ebx, got+4\n\tmovl %%ecx, got+8\n\t"
		     "movl %%edx, got+12\n\tmovl %%esi, got+16\n\tmovl %%edi, got+20\n\t"
		     "movl %%ebp, got+24\n\t"
		     "popl %%ebp"
		     : : "m"(a), "m"(b) : "eax", "ebx", "ecx", "edx", "esi", "edi", "memory", "cc");
}

#define PF_PDE 302u
FAULTING_INSN(pf_touch, "movl $" STR(PF_PDE) " << 22 | 0x123, %%ecx", "movl (%%ecx), %%eax", "eax",
	      "ecx", "memory")

void guest_main(const struct mb_info *mbi)
{
	paging32_enable();
	for (unsigned i = 0; i < 1024; i++)
		paging32_low_table[i] |= PTE_U;	/* ring 3 runs the kernel's pages too */
	paging32_directory[0] |= PTE_U;
	write_cr3(read_cr3());
	uint32_t cr4 = read_cr4() | CR4_PSE;
	write_cr4(cr4);

	check_begin("values");
	struct fault f = { .vector = ~0u };
	check(catch_fault(pf_touch_raise, NULL, &f) && f.vector == VEC_PF, "no #PF (vector %x)",
	      f.vector);
	uint32_t cr2 = (PF_PDE << 22) | 0x123, cr3 = (uint32_t)paging32_directory;
	uint32_t bad = 0;
	for (uint32_t i = 0; i < 50; i++) {
		read_all(i, 25);
		uint32_t cr0 = got[0];
		if ((cr0 & (CR0_PG | CR0_PE)) != (CR0_PG | CR0_PE) || got[1] != cr2 ||
		    got[2] != cr3 || got[3] != cr4 || got[4] != cr2 || got[5] != cr3 ||
		    got[6] != cr4 || got[7] != cr3 || got[8] != cr0 ||
		    ((flags_before ^ flags_after) & 0x8d5))
			bad++;
	}
	check(bad == 0, "%u of 50 rounds wrong (last: cr0 %x cr2 %x/%x cr3 %x/%x/%x cr4 %x/%x flags %x/%x)",
	      bad, got[0], got[1], got[4], got[2], got[5], got[7], got[3], got[6], flags_before,
	      flags_after);
	check_end();

	check_begin("cpl3_via_jc");
	gdt_set(SEL_SE_KCODE, 0, 0xfffff, SEG_CODE_RX, SEG_FLAG_G | SEG_FLAG_DB);
	gdt_set(SEL_SE_KDATA, 0, 0xfffff, SEG_DATA_RW, SEG_FLAG_G | SEG_FLAG_DB);
	gdt_set(SEL_SE_UCODE, 0, 0xfffff, SEG_CODE_RX | 0x60, SEG_FLAG_G | SEG_FLAG_DB);
	gdt_set(SEL_SE_UDATA, 0, 0xfffff, SEG_DATA_RW | 0x60, SEG_FLAG_G | SEG_FLAG_DB);
	tss_load((uint32_t)trap_stack + sizeof(trap_stack));
	wrmsr(MSR_IA32_SYSENTER_CS, SEL_SE_KCODE);
	wrmsr(MSR_IA32_SYSENTER_ESP, (uint32_t)kernel_stack + sizeof(kernel_stack));
	wrmsr(MSR_IA32_SYSENTER_EIP, (uint32_t)k_entry3);
	f.vector = ~0u;
	bool unwound = catch_fault(enter_user, (void *)u_loop3, &f);
	check(unwound, "no fault");
	check_eq("kernel calls", k3_calls, 50);
	check_eq("vector", f.vector, VEC_GP);
	check_eq("error code", f.error, 0);
	check_eq("at the MOV", f.eip, (uint32_t)k_cr);
	check_eq("from ring 3", f.cs, SEL_SE_UCODE);
	check_end();
}
