/* Segmentation in 32-bit protected mode: data, stack and code segments
 * with non-zero bases, byte and page granular limits, an expand-down
 * segment, and the faults a limit or type violation raises: #GP(0) for a
 * selector past the GDT or LDT limit, #SS(selector) and #GP(selector) for
 * bad SS loads.
 *
 * Not checked: limit and write-protection violations on data accesses
 * (#GP(0)/#SS(0)). Real CPUs, Bochs and KVM's emulator raise them, but
 * QEMU's TCG, the oracle that this suite must pass, does not model them,
 * so a guest checking them could not be confirmed correct anywhere here.
 * Nor a far jump past a code segment's limit: QEMU raises #GP(0), but
 * kvm_pvm's emulator loads CS and then fails to fetch (emulation error),
 * and this guest must run on that KVM. */
#include "guest.h"

GUEST("segments", "");

#define SEL_SMALL SEL_SPARE(0)     /* base = window, limit 0xff bytes; then code */
#define SEL_PAGE SEL_SPARE(1)      /* base = window, limit 0xfff (G=1, limit 0) */
#define SEL_DOWN SEL_SPARE(2)      /* expand-down, limit 0xfff, B=1 */
#define SEL_RO SEL_SPARE(3)        /* read-only data */
#define SEL_BASED_CODE SEL_SPARE(4) /* code with base CODE_BASE */
#define SEL_STACK SEL_SPARE(5)     /* stack with base = stack_window */
#define CODE_BASE 0x1000u

static uint8_t window[0x1000] __attribute__((aligned(16)));
static uint8_t stack_window[0x400] __attribute__((aligned(16)));

#define SEL_PAST_GDT 0x7f8
#define SEL_LDT SEL_SPARE(4)          /* reused: the LDT descriptor */
#define SEL_LDT_ENTRY0 (0 | 4)        /* TI=1, index 0 */
#define SEL_LDT_ENTRY1 (8 | 4)        /* TI=1, index 1: past the LDT limit */
FAULTING_INSN(past_gdt_limit, "movw $" STR(SEL_PAST_GDT) ", %%ax", "movw %%ax, %%fs", "eax")
FAULTING_INSN(past_ldt_limit, "movw $" STR(SEL_LDT_ENTRY1) ", %%ax", "movw %%ax, %%fs", "eax")
FAULTING_INSN(ss_not_present, "movw $" STR(SEL_SPARE(0)) ", %%ax", "movw %%ax, %%ss", "eax")
FAULTING_INSN(ss_read_only, "movw $" STR(SEL_RO) ", %%ax", "movw %%ax, %%ss", "eax")

static uint32_t fs_read(uint32_t offset)
{
	uint32_t v;
	asm volatile("movl %%fs:(%1), %0" : "=r"(v) : "r"(offset));
	return v;
}

static void fs_write(uint32_t offset, uint32_t v) { asm volatile("movl %0, %%fs:(%1)" : : "r"(v), "r"(offset) : "memory"); }

static void load_fs(uint16_t sel) { asm volatile("movw %0, %%fs" : : "r"(sel)); }

static void data_segments(void)
{
	check_begin("data_base_limit");
	gdt_set(SEL_SMALL, (uint32_t)window, 0xff, SEG_DATA_RW, SEG_FLAG_DB);
	load_fs(SEL_SMALL);
	fs_write(0x10, 0xabcd1234);
	check_eq("window[0x10] after fs:0x10 write", *(volatile uint32_t *)&window[0x10], 0xabcd1234);
	*(volatile uint32_t *)&window[0xfc] = 0x600dcafe;
	check_eq("fs:0xfc, the last whole dword", fs_read(0xfc), 0x600dcafe);
	fs_write(0xfc, 0x77);
	check_eq("window[0xfc] after a fs:0xfc write", window[0xfc], 0x77);

	gdt_set(SEL_PAGE, (uint32_t)window, 0, SEG_DATA_RW, SEG_FLAG_G | SEG_FLAG_DB);
	load_fs(SEL_PAGE);
	*(volatile uint32_t *)&window[0xffc] = 0x12121212;
	check_eq("fs:0xffc with a 4K-granular limit", fs_read(0xffc), 0x12121212);

	gdt_set(SEL_RO, (uint32_t)window, 0xfff, SEG_DATA_RW & ~0x2, SEG_FLAG_DB);
	load_fs(SEL_RO);
	check_eq("read through a read-only segment", fs_read(0xffc), 0x12121212);
	load_fs(SEL_DATA32);

	expect_fault("load fs with a selector past the GDT limit", past_gdt_limit_raise, VEC_GP,
	             SEL_PAST_GDT, past_gdt_limit);
	check_end();
}

static void expand_down(void)
{
	check_begin("expand_down");
	/* Valid offsets are limit+1 .. 0xffffffff; offset 0x2000 is window[0]. */
	gdt_set(SEL_DOWN, (uint32_t)window - 0x2000, 0xfff, SEG_DATA_RW_DOWN, SEG_FLAG_DB);
	uint32_t v;
	*(volatile uint32_t *)&window[0] = 0x0d0d0d0d;
	asm volatile("movw %w1, %%gs\n\tmovl %%gs:0x2000, %0" : "=r"(v) : "r"(SEL_DOWN));
	check_eq("gs:0x2000 in an expand-down segment", v, 0x0d0d0d0d);
	asm volatile("movw %w0, %%gs" : : "r"(SEL_DATA32));
	check_end();
}

/* String instructions through segments based at window: the source
 * through an FS override, the destination always through ES; ESI and EDI
 * stay offsets into the segments. ES is the compiler's, so it is flat
 * again before the asm ends. */
static void string_segments(void)
{
	static uint32_t lods;	/* static: an absolute "m", not one relative to ESP */
	uint32_t esi, edi;
	check_begin("string_base");
	gdt_set(SEL_PAGE, (uint32_t)window, 0, SEG_DATA_RW, SEG_FLAG_G | SEG_FLAG_DB);
	for (int i = 0; i < 16; i++)
		window[0x100 + i] = (uint8_t)(0x31 + 7 * i);
	window[0x303] = 0;
	asm volatile("movw %w3, %%es\n\t"
	             "movw %w3, %%fs\n\t"
	             "movl $0x100, %%esi\n\t"
	             "movl $0x200, %%edi\n\t"
	             "movl $4, %%ecx\n\t"
	             "rep movsl %%fs:(%%esi), %%es:(%%edi)\n\t"
	             "movl $0x300, %%edi\n\t"
	             "movb $0x5c, %%al\n\t"
	             "movl $3, %%ecx\n\t"
	             "rep stosb\n\t"
	             "movl $0x200, %%esi\n\t"
	             "lodsl %%fs:(%%esi), %%eax\n\t"
	             "movw %w4, %%es\n\t"
	             "movw %w4, %%fs\n\t"
	             "movl %%eax, %2"
	             : "=&S"(esi), "=&D"(edi), "=m"(lods)
	             : "r"(SEL_PAGE), "r"(SEL_DATA32)
	             : "eax", "ecx", "memory");
	check_eq("window[0x200..0x20f] after rep movsl fs: -> es:",
	         memcmp(&window[0x100], &window[0x200], 16), 0);
	check_eq("window[0x302] after rep stosb into es:", window[0x302], 0x5c);
	check_eq("window[0x303] past the rep stosb", window[0x303], 0);
	check_eq("lodsl fs:0x200", lods, *(volatile uint32_t *)&window[0x100]);
	check_eq("ESI, an offset after lodsl", esi, 0x204);
	check_eq("EDI, an offset after rep stosb", edi, 0x303);
	check_end();
}

/* Runs with SS based at stack_window: pushes one dword at SS:0x200 and
 * reports the ESP it saw, then restores the flat stack. */
static uint32_t push_on_based_stack(void)
{
	uint32_t esp_seen;
	asm volatile("movl %%esp, %%ebx\n\t"
	             "movw %w1, %%ss\n\t"
	             "movl $0x200, %%esp\n\t"
	             "pushl $0x5a5a5a5a\n\t"
	             "movl %%esp, %0\n\t"
	             "movw %w2, %%ss\n\t"
	             "movl %%ebx, %%esp"
	             : "=&r"(esp_seen) : "r"(SEL_STACK), "r"(SEL_DATA32) : "ebx", "memory");
	return esp_seen;
}

static void stack_segments(void)
{
	check_begin("stack_segment");
	gdt_set(SEL_STACK, (uint32_t)stack_window, sizeof(stack_window) - 1, SEG_DATA_RW, SEG_FLAG_DB);
	check_eq("ESP after push on a based stack", push_on_based_stack(), 0x1fc);
	check_eq("the pushed dword at base + 0x1fc", *(volatile uint32_t *)&stack_window[0x1fc], 0x5a5a5a5a);
	gdt_set(SEL_SPARE(0), 0, 0xfffff, SEG_DATA_RW & ~0x80, SEG_FLAG_G | SEG_FLAG_DB);
	expect_fault("load ss with a not-present segment", ss_not_present_raise, VEC_SS, SEL_SPARE(0),
	             ss_not_present);
	expect_fault("load ss with a read-only segment", ss_read_only_raise, VEC_GP, SEL_RO, ss_read_only);
	check_end();
}

/* Code that runs in a segment based at CODE_BASE: it reports its own EIP,
 * which must be its linear address minus the base. */
extern const char based_code[], based_code_eip[];
asm(".text\n"
    "based_code:\n\t"
    "call 1f\n"
    "based_code_eip:\n"
    "1:\tpopl %eax\n\t"
    "lret\n");

static void code_segment(void)
{
	check_begin("code_base");
	gdt_set(SEL_BASED_CODE, CODE_BASE, 0xfffff, SEG_CODE_RX, SEG_FLAG_G | SEG_FLAG_DB);
	struct __attribute__((packed)) {
		uint32_t offset;
		uint16_t sel;
	} target = { (uint32_t)based_code - CODE_BASE, SEL_BASED_CODE };
	uint32_t eip;
	asm volatile("lcall *%1" : "=a"(eip) : "m"(target) : "memory");
	check_eq("EIP inside a code segment based at 0x1000", eip, (uint32_t)based_code_eip - CODE_BASE);
	check_end();
}

/* A one-entry LDT: its data segment works through a TI=1 selector, and
 * the next index is past the LDT limit. */
static void local_descriptor_table(void)
{
	static uint64_t ldt[1] __attribute__((aligned(8)));
	check_begin("ldt");
	gdt_set(SEL_LDT, (uint32_t)window, 0xff, SEG_DATA_RW, SEG_FLAG_DB);
	ldt[0] = gdt_get(SEL_LDT);
	gdt_set(SEL_LDT, (uint32_t)ldt, sizeof(ldt) - 1, 0x82, 0);
	asm volatile("lldt %w0" : : "r"(SEL_LDT));
	*(volatile uint32_t *)&window[0x20] = 0x1d71d7;
	load_fs(SEL_LDT_ENTRY0);
	check_eq("fs:0x20 through the LDT segment", fs_read(0x20), 0x1d71d7);
	load_fs(SEL_DATA32);
	expect_fault("load fs with a selector past the LDT limit", past_ldt_limit_raise, VEC_GP,
	             SEL_LDT_ENTRY1, past_ldt_limit);
	asm volatile("lldt %w0" : : "r"(0));
	check_end();
}

/* GS base switched every iteration between two descriptors, then a
 * routine that reads gs:0 is called: a translator that shares code across
 * GS bases (Linux keeps the user's TLS base in GS inside the kernel) must
 * still key the routine that uses GS by its base. */
/* gs_load_read(sel): loads GS, then calls a routine on the same page
 * (so a translator may chain the call) that returns gs:0. */
extern uint32_t gs_load_read(uint32_t sel) __attribute__((regparm(1)));
asm(".text\n"
    ".p2align 8\n"
    "gs_load_read:\n\t"
    "movw %ax, %gs\n\t"
    "call 1f\n\t"
    "ret\n"
    "1:\n\t"
    "movl %gs:0, %eax\n\t"
    "ret\n");

static void gs_base_switch(void)
{
	unsigned wrong = 0;
	check_begin("gs_base_switch");
	gdt_set(SEL_SMALL, (uint32_t)window, 0xff, SEG_DATA_RW, SEG_FLAG_DB);
	gdt_set(SEL_PAGE, (uint32_t)window + 0x100, 0xff, SEG_DATA_RW, SEG_FLAG_DB);
	*(volatile uint32_t *)&window[0] = 0x11111111;
	*(volatile uint32_t *)&window[0x100] = 0x22222222;
	for (unsigned i = 0; i < 1000; i++) {
		if (gs_load_read(i & 1 ? SEL_PAGE : SEL_SMALL) != (i & 1 ? 0x22222222u : 0x11111111u))
			wrong++;
	}
	asm volatile("movw %w0, %%gs" : : "r"(SEL_DATA32));
	check(wrong == 0, "%u of 1000 reads of gs:0 used the other base", wrong);
	check_end();
}

void guest_main(const struct mb_info *mbi)
{
	gs_base_switch();
	data_segments();
	expand_down();
	string_segments();
	stack_segments();
	code_segment();
	local_descriptor_table();
}
