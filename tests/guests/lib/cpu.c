/* The guest's own descriptor tables and trap dispatch. Multiboot leaves
 * GDTR and IDTR undefined, so every guest loads these before its tests. */
#include "guest.h"

#define GDT_ENTRIES (SEL_SPARE(0) / 8 + GDT_SPARE_SLOTS)

static uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(8)));
static uint64_t idt[256] __attribute__((aligned(8)));
static trap_handler handlers[256];

struct tss32 {
	uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2;
	uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint32_t es, cs, ss, ds, fs, gs, ldt;
	uint16_t trap, iomap_base;
};
static struct tss32 tss;

extern const uint32_t isr_stub_table[256];
extern volatile uint32_t catch_armed;
extern struct fault *volatile catch_record;
void catch_longjmp(void) __attribute__((noreturn));

struct __attribute__((packed)) table_register {
	uint16_t limit;
	uint32_t base;
};

void gdt_set(uint16_t sel, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	/* Code and data descriptors start with Accessed set, so no segment load
	 * writes the GDT and the exit checksum (state.c) does not depend on who
	 * sets it. Measured: QEMU TCG sets it on data loads but not on a far
	 * jump's CS, kvm_pvm on CS only, bt on neither (hardware: both). */
	if (access & 0x10)
		access |= 0x01;
	gdt[sel >> 3] = (limit & 0xffffull) | ((uint64_t)(base & 0xffffff) << 16) |
	                ((uint64_t)access << 40) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
	                ((uint64_t)(flags & 0xf) << 52) | ((uint64_t)(base >> 24) << 56);
}

uint64_t gdt_get(uint16_t sel) { return gdt[sel >> 3]; }

static void gdt_init(void)
{
	gdt_set(SEL_CODE32, 0, 0xfffff, SEG_CODE_RX, SEG_FLAG_G | SEG_FLAG_DB);
	gdt_set(SEL_DATA32, 0, 0xfffff, SEG_DATA_RW, SEG_FLAG_G | SEG_FLAG_DB);
	gdt_set(SEL_CODE16, 0, 0xffff, SEG_CODE_RX, 0);
	gdt_set(SEL_DATA16, 0, 0xffff, SEG_DATA_RW, 0);
	gdt_set(SEL_UCODE32, 0, 0xfffff, SEG_CODE_RX | 0x60, SEG_FLAG_G | SEG_FLAG_DB);
	gdt_set(SEL_UDATA32, 0, 0xfffff, SEG_DATA_RW | 0x60, SEG_FLAG_G | SEG_FLAG_DB);
	gdt_set(SEL_CODE64, 0, 0xfffff, SEG_CODE_RX, SEG_FLAG_G | SEG_FLAG_L);

	struct table_register gdtr = { sizeof(gdt) - 1, (uint32_t)gdt };
	asm volatile("lgdt %0\n\t"
	             "ljmp %1, $1f\n"
	             "1:\tmov %2, %%ax\n\t"
	             "mov %%ax, %%ds\n\tmov %%ax, %%es\n\tmov %%ax, %%fs\n\t"
	             "mov %%ax, %%gs\n\tmov %%ax, %%ss"
	             : : "m"(gdtr), "i"(SEL_CODE32), "i"(SEL_DATA32) : "eax", "memory");
}

void tss_load(uint32_t esp0)
{
	tss.esp0 = esp0;
	tss.ss0 = SEL_DATA32;
	tss.iomap_base = sizeof(tss); /* no I/O bitmap: ring 3 port access faults */
	gdt_set(SEL_TSS, (uint32_t)&tss, sizeof(tss) - 1, 0x89, 0);
	asm volatile("ltr %w0" : : "r"(SEL_TSS));
}

void idt_set_type(uint8_t vector, uint8_t type_attr)
{
	uint32_t handler = isr_stub_table[vector];
	idt[vector] = (handler & 0xffff) | ((uint64_t)SEL_CODE32 << 16) |
	              ((uint64_t)type_attr << 40) | ((uint64_t)(handler >> 16) << 48);
}

void idt_set_raw(uint8_t vector, void (*handler)(void), uint8_t type_attr)
{
	uint32_t h = (uint32_t)handler;
	idt[vector] = (h & 0xffff) | ((uint64_t)SEL_CODE32 << 16) | ((uint64_t)type_attr << 40) |
	              ((uint64_t)(h >> 16) << 48);
}

static void idt_init(void)
{
	for (int v = 0; v < 256; v++)
		idt_set_type(v, GATE_INT);
	struct table_register idtr = { sizeof(idt) - 1, (uint32_t)idt };
	asm volatile("lidt %0" : : "m"(idtr));
}

void trap_set_handler(uint8_t vector, trap_handler h) { handlers[vector] = h; }

void catch_unwind(struct trap_frame *tf)
{
	struct fault *f = catch_record;
	f->vector = tf->vector;
	f->error = tf->error;
	f->eip = tf->eip;
	f->cs = tf->cs & 0xffff;
	f->cr2 = read_cr2();
	catch_longjmp();
}

void trap_dispatch(struct trap_frame *tf);
void trap_dispatch(struct trap_frame *tf)
{
	if (handlers[tf->vector]) {
		handlers[tf->vector](tf);
		return;
	}
	if (catch_armed)
		catch_unwind(tf);
	fail_now("unexpected trap %u, error 0x%x, at %x:%x, cr2 %x", tf->vector, tf->error,
	         tf->cs & 0xffff, tf->eip, read_cr2());
}

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u

void guest_start(uint32_t magic, const struct mb_info *mbi);
void guest_start(uint32_t magic, const struct mb_info *mbi)
{
	gdt_init();
	idt_init();
	if (magic != MULTIBOOT_BOOTLOADER_MAGIC)
		fail_now("entered with EAX=0x%x, not the Multiboot magic", magic);
	guest_main(mbi);
	guest_exit();
}

void enter_user_iret(void *entry, void *stack_top)
{
	asm volatile("movw %w0, %%ds\n\t"
		     "movw %w0, %%es\n\t"
		     "pushl %0\n\t"
		     "pushl %1\n\t"
		     "pushl $0x2\n\t"
		     "pushl %2\n\t"
		     "pushl %3\n\t"
		     "iret"
		     : : "r"((uint32_t)SEL_UDATA32), "r"((uint32_t)stack_top),
			 "r"((uint32_t)SEL_UCODE32), "r"(entry) : "memory");
	__builtin_unreachable();
}

void enter_user_sysexit(void *entry, void *stack_top)
{
	asm volatile("movw %w0, %%ds\n\tmovw %w0, %%es\n\tsysexit"
		     : : "r"((uint32_t)SEL_SE_UDATA), "c"((uint32_t)stack_top),
			 "d"((uint32_t)entry) : "memory");
	__builtin_unreachable();
}
