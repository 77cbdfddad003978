/* Virtual-8086 mode under a small 32-bit monitor (v86.asm): entry by
 * IRETD, IOPL-sensitive instructions faulting with #GP(0) at IOPL 0 and
 * running at IOPL 3, INT n through a DPL-3 gate with the v86 segments
 * pushed and nulled, the TSS I/O permission bitmap, real-mode style
 * segment loads. */
#include "guest.h"

GUEST("v86", "vm86");

#define V86_BASE 0x7000
#define EFLAGS_VM_BIT 0x20000
#define IOPL3 0x3000

struct tss_io {
	uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2;
	uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint32_t es, cs, ss, ds, fs, gs, ldt;
	uint16_t trap, iomap_base;
	uint8_t iomap[8192 / 8 * 8 / 8 + 1];	/* ports 0..0xffff, then 0xff */
} __attribute__((packed));

static struct tss_io tss;
static uint8_t monitor_stack[4096] __attribute__((aligned(16)));

extern const char v86_blob_start[], v86_blob_end[], v86_results[];
extern volatile uint32_t gp_log[16], gp_count, int63_frame[9], exit_frame[9], ds_in_handler;
void run_v86(uint32_t eflags);
void v86_gp_entry(void), v86_int63_entry(void), v86_exit_entry(void);

static const volatile uint8_t *results(void)
{
	return (const volatile uint8_t *)V86_BASE + (v86_results - v86_blob_start);
}
#define R16(r, off) ((r)[off] | (r)[(off) + 1] << 8)
#define R32(r, off) (R16(r, off) | (uint32_t)R16(r, (off) + 2) << 16)

static void run_phase(uint32_t iopl)
{
	memcpy((void *)V86_BASE, v86_blob_start, v86_blob_end - v86_blob_start);
	gp_count = 0;
	run_v86(EFLAGS_VM_BIT | iopl | 0x2);
}

void guest_main(const struct mb_info *mbi)
{
	memset(tss.iomap, 0xff, sizeof(tss.iomap));
	tss.iomap[0x80 / 8] &= (uint8_t)~(1u << (0x80 % 8));	/* port 0x80 allowed */
	tss.iomap_base = (uint16_t)__builtin_offsetof(struct tss_io, iomap);
	tss.esp0 = (uint32_t)(monitor_stack + sizeof(monitor_stack));
	tss.ss0 = SEL_DATA32;
	gdt_set(SEL_TSS, (uint32_t)&tss, sizeof(tss) - 1, 0x89, 0);
	asm volatile("ltr %w0" : : "r"(SEL_TSS));
	idt_set_raw(13, v86_gp_entry, GATE_INT);
	idt_set_raw(0x63, v86_int63_entry, GATE_INT | GATE_DPL3);
	idt_set_raw(0x62, v86_exit_entry, GATE_INT | GATE_DPL3);

	run_phase(0);
	const volatile uint8_t *r = results();
	check_begin("iopl0");
	check_eq("CS in v86 mode", R16(r, 0), V86_BASE >> 4);
	check_eq("SP in v86 mode", R16(r, 2), 0x0ff0);
	check_eq("#GP count", gp_count, 7);
	check_eq("CLI faults", gp_log[0], 0xfa);
	check_eq("STI faults", gp_log[1], 0xfb);
	check_eq("PUSHF faults", gp_log[2], 0x9c);
	check_eq("CLI faults again", gp_log[3], 0xfa);
	check_eq("POPF faults", gp_log[4], 0x9d);
	check_eq("INT 0x63 faults", gp_log[5], 0x63cd);
	check_eq("IN from a port the bitmap denies", gp_log[6], 0xe4);
	check_eq("ES loaded as selector << 4", R16(r, 6), 0x1234);
	check_eq("physical 0x12340", *(volatile uint8_t *)0x12340, 0x5a);
	check_eq("16-bit add in v86", R32(r, 8), 0x00010000);
	check_eq("its CF", r[12], 1);
	check_end();

	*(volatile uint8_t *)0x12340 = 0;
	run_phase(IOPL3);
	r = results();
	check_begin("iopl3");
	check_eq("#GP count (only the denied port)", gp_count, 1);
	check_eq("IN from a port the bitmap denies", gp_log[0], 0xe4);
	check_eq("PUSHF image: IOPL 3, IF", R16(r, 4) & 0x3200, 0x3200);
	check_eq("int 0x63 frame: IP after the INT", int63_frame[0] & 0xffff, 0x1c);
	check_eq("frame CS", int63_frame[1], V86_BASE >> 4);
	check_eq("frame EFLAGS has VM and IOPL 3", int63_frame[2] & (EFLAGS_VM_BIT | IOPL3),
		 EFLAGS_VM_BIT | IOPL3);
	check_eq("frame ESP", int63_frame[3], 0x0ff0);
	check_eq("frame SS", int63_frame[4], 0);
	check_eq("frame ES", int63_frame[5], V86_BASE >> 4);
	check_eq("frame DS", int63_frame[6], V86_BASE >> 4);
	check_eq("frame FS", int63_frame[7], 0);
	check_eq("frame GS", int63_frame[8], 0);
	check_eq("DS null in the handler", ds_in_handler & 0xffff, 0);
	check_eq("exit frame ES after the reload", exit_frame[5], 0x1234);
	check_eq("physical 0x12340", *(volatile uint8_t *)0x12340, 0x5a);
	check_end();
}
