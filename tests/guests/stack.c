/* 32-bit flat protected mode: far calls and jumps (direct, through memory,
 * retf imm16) and the push/pop forms (imm8/imm32/mem/segment/esp, pushw,
 * pusha/popa, pushf/popf, enter/leave). The code that needs exact control
 * of ESP is in stack.asm. */
#include "guest.h"

GUEST("stack", "");

uint32_t far_call_direct(void);
uint32_t far_call_indirect(uint16_t sel);
uint32_t far_call_pop_args(uint32_t a, uint32_t b, uint32_t *esp_delta);
uint32_t far_jump_via(uint16_t sel);
void pusha_probe(uint32_t out[17]);
void enter_leave_probe(uint32_t out[3]);

#define SEL_CODE_ALIAS SEL_SPARE(0)

static void far_transfers(void)
{
	check_begin("far_call_jmp");
	/* A second flat code descriptor, so a far transfer visibly changes CS. */
	gdt_set(SEL_CODE_ALIAS, 0, 0xfffff, SEG_CODE_RX, SEG_FLAG_G | SEG_FLAG_DB);
	check_eq("CS in direct far call", far_call_direct(), SEL_CODE32);
	check_eq("CS in far call via memory", far_call_indirect(SEL_CODE_ALIAS), SEL_CODE_ALIAS);
	check_eq("CS after return", read_cs(), SEL_CODE32);
	uint32_t delta = 99;
	check_eq("retf 8 callee result", far_call_pop_args(40, 2, &delta), 42);
	check_eq("ESP moved across far call with retf 8", delta, 0);
	check_eq("CS after far jmp via memory", far_jump_via(SEL_CODE_ALIAS), SEL_CODE_ALIAS);
	check_eq("CS after far jmp back", read_cs(), SEL_CODE32);
	check_end();
}

static void push_pop_forms(void)
{
	check_begin("push_pop");
	uint32_t v, esp_before, esp_after, pushed_esp;
	asm volatile("pushl $-2\n\tpopl %0" : "=r"(v));
	check_eq("push imm8 sign-extends", v, 0xfffffffe);
	asm volatile("pushl $0x12345678\n\tpopl %0" : "=r"(v));
	check_eq("push imm32", v, 0x12345678);

	static uint32_t mem_src = 0xcafef00d, mem_dst;
	asm volatile("pushl %1\n\tpopl %0" : "=m"(mem_dst) : "m"(mem_src));
	check_eq("push mem / pop mem", mem_dst, 0xcafef00d);

	asm volatile("movl %%esp, %1\n\tpushl %%esp\n\tpopl %0" : "=r"(pushed_esp), "=&r"(esp_before));
	check_eq("push esp pushes the old value", pushed_esp, esp_before);

	asm volatile("movl %%esp, %1\n\tpushl %%ds\n\tmovl %%esp, %2\n\tpopl %0"
	             : "=r"(v), "=&r"(esp_before), "=&r"(esp_after));
	check_eq("push ds: ESP moved by", esp_before - esp_after, 4);
	check_eq("push ds: selector", v & 0xffff, SEL_DATA32);

	asm volatile("movl %%esp, %1\n\tpushw $0x7777\n\tmovl %%esp, %2\n\tpopw %w0"
	             : "=r"(v), "=&r"(esp_before), "=&r"(esp_after));
	check_eq("pushw: ESP moved by", esp_before - esp_after, 2);
	check_eq("popw value", v & 0xffff, 0x7777);
	check_end();
}

static void pusha_popa(void)
{
	uint32_t out[17];
	check_begin("pusha_popa");
	pusha_probe(out);
	/* pusha stores EDI at the lowest address, EAX at the highest. */
	static const uint32_t want[8] = { 0xd7d7d7d7, 0x56565656, 0xb5b5b5b5, 0 /* esp */,
	                                  0xb3b3b3b3, 0xd2d2d2d2, 0xc1c1c1c1, 0xa0a0a0a0 };
	for (int i = 0; i < 8; i++)
		if (i != 3)
			check(out[i] == want[i], "pusha slot %d = 0x%x, want 0x%x", i, out[i], want[i]);
	check_eq("pusha ESP slot = ESP before pusha", out[3], out[8]);
	/* popa loaded slot i with 0x101 + i; out[9..15] is what it loaded
	 * into each register, in pusha_probe's store order. */
	static const struct {
		const char *name;
		int slot;
	} loaded[7] = { { "edi", 0 }, { "esi", 1 }, { "ebp", 2 }, { "ebx", 4 },
	                { "edx", 5 }, { "ecx", 6 }, { "eax", 7 } };
	for (int i = 0; i < 7; i++)
		check(out[9 + i] == 0x101u + loaded[i].slot, "popa %s = 0x%x, want 0x%x",
		      loaded[i].name, out[9 + i], 0x101u + loaded[i].slot);
	check_eq("popa ignores the ESP slot", out[16], out[8]);
	check_end();
}

static void flags_and_frames(void)
{
	check_begin("pushf_popf_enter");
	uint32_t set = EFLAGS_CF | EFLAGS_PF | EFLAGS_AF | EFLAGS_ZF | EFLAGS_SF | EFLAGS_DF | EFLAGS_OF;
	uint32_t got;
	asm volatile("pushfl\n\tpushl %1\n\tpopfl\n\tpushfl\n\tpopl %0\n\tpopfl" : "=r"(got) : "r"(set | 2));
	check_eq("popf/pushf arithmetic flags and DF", got & (set | 2), set | 2);
	check_eq("popf kept IF clear", got & EFLAGS_IF, 0);
	/* ID (bit 21) is writable on every CPU with CPUID. */
	uint32_t flipped, restored;
	asm volatile("pushfl\n\tpopl %%eax\n\tmovl %%eax, %%ecx\n\txorl $0x200000, %%eax\n\t"
	             "pushl %%eax\n\tpopfl\n\tpushfl\n\tpopl %0\n\tpushl %%ecx\n\tpopfl\n\tpushfl\n\tpopl %1"
	             : "=r"(flipped), "=r"(restored) : : "eax", "ecx", "cc");
	check(((flipped ^ restored) & 0x200000) != 0, "EFLAGS.ID did not toggle");

	uint32_t frame[3];
	enter_leave_probe(frame);
	check_eq("enter 16,0 moved ESP by", frame[0], 20);
	check_eq("EBP - ESP after enter", frame[1], 16);
	check_eq("leave restored ESP and EBP", frame[2], 1);
	check_end();
}

void guest_main(const struct mb_info *mbi)
{
	far_transfers();
	push_pop_forms();
	pusha_popa();
	flags_and_frames();
}
