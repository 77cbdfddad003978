/* The guest library: what every self-checking guest gets from lib/.
 *
 * A guest is one C file that says GUEST("name", "requirements") and defines
 * guest_main(). The library enters it in 32-bit flat protected mode with its
 * own GDT and IDT loaded, and reports to the VMM when guest_main returns. */
#ifndef GUEST_H
#define GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "x86.h"

/* The requirements string lives in a non-allocated ELF section, so a VMM
 * can read it from the file without loading the guest. Tokens: real-mode
 * paging32 pae long-mode soft-int-cpl0 user-mode sysenter sse vm86 a20
 * cpl0-compute sti-window tsc-deadline bcd-cpl0 fp-exceptions. */
#define GUEST(name, requires) \
	const char guest_name[] = name; \
	asm(".pushsection .hyvm_requires,\"\",@progbits\n.asciz \"" requires "\"\n.popsection")

extern const char guest_name[];

/* The boot information is the layout hyvm's loader writes (and QEMU's):
 * one definition for both sides. */
#include "../../../userspace/boot/multiboot.h"

/* Each guest defines this; returning from it ends the run. */
void guest_main(const struct mb_info *mbi);

/* --- console.c: polled output on the COM1 16550 --- */
#define COM1 0x3f8
void putc_serial(char c);
void puts_serial(const char *s);
void printf_serial(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --- check.c: PASS/FAIL lines and the exit status ---
 * A group collects checks; check_end prints "PASS guest.group" when every
 * check of the group held. Each failing check prints its own FAIL line. */
void check_begin(const char *group);
bool check(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool check_eq(const char *what, uint32_t got, uint32_t want);
void check_end(void);
void fail_now(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void guest_exit(void) __attribute__((noreturn));
/* Ends by powering off instead (a 16-bit write of value to port, the
 * ACPI PM1a_CNT): when every group passed, prints the STATE line and a
 * last line "POWEROFF", then writes; the run ends with status 0, which
 * tests/run-guests.sh takes as a pass only after that line. If the write
 * returns, or something failed, it ends as guest_exit does (status 33). */
void guest_exit_poweroff(uint16_t port, uint16_t value) __attribute__((noreturn));

/* --- state.c: the final state, for tests/bt/differential.sh ---
 * guest_exit prints one line before the exit write:
 *   STATE eflags=.. esp=.. cr0=.. ... crc=..
 * with the registers that are deterministic there and a CRC32 of the
 * loaded image and bss. Every engine and emulator must print the same
 * line, so a variable whose value legitimately differs between them (CPUID
 * results, TSC readings, counts of ticks that depend on host timing) must
 * be declared VOLATILE_STATE: the checksum skips that section. Only for
 * writable variables; zero-initialised ones cost file space, not much. */
#define VOLATILE_STATE __attribute__((section(".volatile")))
void state_report(void);

/* --- cpu.c: descriptor tables, traps and caught faults --- */
#define SEL_CODE32 0x08
#define SEL_DATA32 0x10
#define SEL_CODE16 0x18
#define SEL_DATA16 0x20
#define SEL_UCODE32 (0x28 | 3)
#define SEL_UDATA32 (0x30 | 3)
#define SEL_TSS 0x38
#define SEL_CODE64 0x40
#define SEL_SPARE(i) (0x48 + 8 * (i)) /* free GDT slots 0..5 for the guests */
#define GDT_SPARE_SLOTS 6
/* SYSENTER/SYSEXIT (SDM Vol. 2B) take their targets from three MSRs and
 * four consecutive descriptors from SYSENTER_CS: kernel code, kernel
 * data, user code, user data. Guests that use them take spare slots 0-3.
 * The MSR indices are MSR_IA32_SYSENTER_* in <hyvm/x86.h>. */
#define SEL_SE_KCODE SEL_SPARE(0)
#define SEL_SE_KDATA SEL_SPARE(1)
#define SEL_SE_UCODE (SEL_SPARE(2) | 3)
#define SEL_SE_UDATA (SEL_SPARE(3) | 3)

/* Access byte values for gdt_set(). */
#define SEG_DATA_RW (DESC_P | DESC_S | DESC_TYPE_RW)          /* 0x92: DPL0 data, writable */
#define SEG_DATA_RW_DOWN (SEG_DATA_RW | DESC_TYPE_EC)           /* 0x96: the same, expand-down */
#define SEG_CODE_RX (DESC_P | DESC_S | DESC_TYPE_CODE | DESC_TYPE_RW) /* 0x9a: DPL0 code, readable */
/* Flag nibble for gdt_set(). */
#define SEG_FLAG_G DESC_FLAG_G   /* limit in 4K units */
#define SEG_FLAG_DB DESC_FLAG_DB /* 32-bit default size / big stack */
#define SEG_FLAG_L DESC_FLAG_L   /* 64-bit code */

void gdt_set(uint16_t sel, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags);
uint64_t gdt_get(uint16_t sel);
void tss_load(uint32_t esp0);

#define GATE_INT 0x8e  /* present, DPL0, 32-bit interrupt gate */
#define GATE_TRAP 0x8f /* present, DPL0, 32-bit trap gate */
#define GATE_DPL3 0x60
void idt_set_type(uint8_t vector, uint8_t type_attr);
/* Points a gate at a guest's own asm entry instead of the library stub. */
void idt_set_raw(uint8_t vector, void (*handler)(void), uint8_t type_attr);

struct trap_frame {
	uint32_t gs, fs, es, ds;
	uint32_t edi, esi, ebp, esp_at_pusha, ebx, edx, ecx, eax;
	uint32_t vector, error;
	uint32_t eip, cs, eflags;
	uint32_t user_esp, user_ss; /* only when the trap came from ring 3 */
};

typedef void (*trap_handler)(struct trap_frame *tf);
/* A handler returns normally to resume the interrupted code (it may edit
 * the frame first). Vectors without one go to the armed catch_fault, or
 * end the guest with a FAIL line. */
void trap_set_handler(uint8_t vector, trap_handler h);

struct fault {
	uint32_t vector, error, eip, cs, cr2;
};
/* Runs fn(arg). Returns false if fn returned; true if an unhandled trap
 * arrived meanwhile, which is recorded in *f and unwinds fn. */
bool catch_fault(void (*fn)(void *), void *arg, struct fault *f);
/* For a handler that wants to end the current catch_fault itself
 * (e.g. the "exit" system call of a ring 3 test). */
void catch_unwind(struct trap_frame *tf) __attribute__((noreturn));
/* Ring 3 at entry with ESP = stack_top and DS/ES the user data selector,
 * by IRET with EFLAGS 0x2 (SEL_UCODE32, SEL_UDATA32) or by SYSEXIT
 * (SEL_SE_UDATA; the guest has set the SYSENTER MSRs). They do not return:
 * the user code ends through a trap and catch_unwind. */
void enter_user_iret(void *entry, void *stack_top) __attribute__((noreturn));
void enter_user_sysexit(void *entry, void *stack_top) __attribute__((noreturn));

#define STR_(x) #x
#define STR(x) STR_(x)

/* Defines NAME_raise(void *), for catch_fault, which runs the asm "setup"
 * and then "insn" at the global label NAME, so a check can compare the
 * EIP a fault reports with &NAME. The trailing arguments are clobbers. */
#define FAULTING_INSN(name, setup, insn, ...) \
	extern const char name[]; \
	static void __attribute__((noinline, used)) name##_raise(void *arg) \
	{ \
		asm volatile(setup "\n.globl " #name "\n" #name ":\n\t" insn : : : __VA_ARGS__); \
	}

/* Runs raise via catch_fault and checks the vector, error code and EIP
 * (and that CS is SEL_CODE32); reports as part of the current group. */
void expect_fault(const char *what, void (*raise)(void *), uint32_t vector, uint32_t error,
                  const char *eip);
#define NO_ERROR_CODE 0

/* --- pic.c: the 8259A pair, IRQ n at vector PIC_VECTOR_BASE + n --- */
#define PIC_VECTOR_BASE 0x20
void pic_init(uint16_t unmasked_irqs); /* bit n set: IRQ n enabled */
void pic_set_mask(uint16_t masked_irqs);
uint16_t pic_get_mask(void);
void pic_eoi(unsigned irq);

/* --- apic.c: the local APIC and the IOAPIC (SDM Vol. 3A ch. 11) --- */
#define APIC_BASE 0xfee00000u
#define IOAPIC_BASE 0xfec00000u
#define APIC_ID 0x20
#define APIC_VERSION 0x30
#define APIC_TPR 0x80
#define APIC_PPR 0xa0
#define APIC_EOI 0xb0
#define APIC_SVR 0xf0
#define APIC_ISR 0x100
#define APIC_TMR 0x180
#define APIC_IRR 0x200
#define APIC_ESR 0x280
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_LVT_ERROR 0x370
#define APIC_TIMER_ICR 0x380
#define APIC_TIMER_CCR 0x390
#define APIC_TIMER_DCR 0x3e0
uint32_t apic_read(uint32_t reg);
void apic_write(uint32_t reg, uint32_t v);
void apic_eoi(void);
uint32_t ioapic_read(uint8_t reg);
void ioapic_write(uint8_t reg, uint32_t v);
/* PIT channel 0 as a free-running clock (no interrupt is needed: mask
 * IRQ 0 everywhere) and a busy wait of us microseconds on it. */
void pit_free_run(void);
void pit_wait_us(uint32_t us);
/* Microseconds since pit_clock_start; read it at least every 55 ms. */
struct pit_clock { uint16_t prev; uint32_t elapsed; };
void pit_clock_start(struct pit_clock *c);
uint32_t pit_clock_us(struct pit_clock *c);
/* The ACPI PM timer (3.579545 MHz, port 0x608 where QEMU's pc with
 * SeaBIOS and hyvm put it) as microseconds since `start` (a pm_timer_read
 * value): a clock that a stalled guest cannot lose time on, as it can on
 * the PIT's 55 ms turn; 24 bits (QEMU's width), so up to 4.6 s apart. */
uint32_t pm_timer_read(void);
uint32_t pm_timer_us_since(uint32_t start);

/* --- paging32.c: identity-mapped 2-level paging --- */
/* volatile: the CPU reads and writes these behind the compiler's back */
extern volatile uint32_t paging32_directory[1024]; /* PDEs 256.. are free for tests */
extern volatile uint32_t paging32_low_table[1024]; /* 4K pages of 0..4 MiB */
/* Identity-maps the first GiB (4K pages below 4 MiB, 4M pages above),
 * then sets CR4.PSE, CR3, and CR0.PG|WP. */
void paging32_enable(void);

/* --- cmdline.c: the Multiboot command line --- */
/* Finds "key=" as a word of the command line; returns what follows it
 * (up to the next space), or NULL. */
const char *cmdline_value(const char *cmd, const char *key);

/* --- libc bits that gcc may call on its own --- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#endif
