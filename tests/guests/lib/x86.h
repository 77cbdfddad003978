/* Thin wrappers over the x86 instructions the guests use; nothing here
 * hides a side effect, so a check reads as what the CPU is asked to do. */
#ifndef GUEST_X86_H
#define GUEST_X86_H

#include <stdint.h>
/* The architectural constants (CR0, EFLAGS, vectors, PTE and #PF error
 * bits, MSR indices): one copy shared with hyvm itself. */
#include <hyvm/x86.h>

static inline void outb(uint16_t port, uint8_t v) { asm volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { asm volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { asm volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

#define DEFINE_READ_CR(n) \
	static inline uint32_t read_cr##n(void) { uint32_t v; asm volatile("mov %%cr" #n ", %0" : "=r"(v)); return v; }
#define DEFINE_WRITE_CR(n) \
	static inline void write_cr##n(uint32_t v) { asm volatile("mov %0, %%cr" #n : : "r"(v) : "memory"); }
DEFINE_READ_CR(0)
DEFINE_READ_CR(2)
DEFINE_READ_CR(3)
DEFINE_READ_CR(4)
DEFINE_WRITE_CR(0)
DEFINE_WRITE_CR(3)
DEFINE_WRITE_CR(4)

static inline uint32_t read_eflags(void)
{
	uint32_t v;
	asm volatile("pushfl; popl %0" : "=r"(v));
	return v;
}

static inline uint16_t read_cs(void)
{
	uint16_t v;
	asm volatile("mov %%cs, %0" : "=r"(v));
	return v;
}

static inline void invlpg(const volatile void *p) { asm volatile("invlpg (%0)" : : "r"(p) : "memory"); }
static inline void cli(void) { asm volatile("cli" ::: "memory"); }
static inline void sti(void) { asm volatile("sti" ::: "memory"); }
/* sti only takes effect after the next instruction, so "sti; hlt" cannot
 * miss an interrupt that arrives between the two. */
static inline void sti_hlt(void) { asm volatile("sti; hlt" ::: "memory"); }

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	asm volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

#endif
