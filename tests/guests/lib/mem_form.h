/* A memory instruction under test, shared by the page-fault guests
 * (pf_adaptive, pf_in_block): MEM_FORM(name, insn) defines name(), which
 * sets the flags with CMP a, b, records them unchanged (PUSHF/POP into
 * form_flags) and the ESP the instruction runs with (form_esp), then runs
 * insn at the global label name_at with ECX = addr, EDX = v, EAX =
 * 0x5a5a0000 + a and EBX = a ^ b (a witness a #PF handler must see as it
 * was). It returns EAX (the value read), *flags and *at (name_at). The
 * including guest defines form_flags and form_esp (volatile uint32_t). */
#ifndef GUEST_MEM_FORM_H
#define GUEST_MEM_FORM_H

#include <stdint.h>

#define MEM_FORM(name, insn)								\
	__attribute__((noinline, noclone))						\
	static uint32_t name(uint32_t addr, uint32_t a, uint32_t b, uint32_t v,	\
			     uint32_t *flags, uint32_t *at)				\
	{										\
		uint32_t eax = 0x5a5a0000 + a, ebx = a ^ b, ecx = addr, edx = v;	\
		asm volatile("movl %%esp, form_esp\n\t"					\
			     "cmpl %[b], %[a]\n\t"					\
			     "pushfl\n\tpopl form_flags\n\t"				\
			     ".globl " #name "_at\n" #name "_at:\n\t"			\
			     insn							\
			     : "+a"(eax), "+b"(ebx), "+c"(ecx), "+d"(edx)		\
			     : [a] "r"(a), [b] "r"(b)					\
			     : "memory", "cc");						\
		*flags = form_flags;							\
		extern char name##_at[];						\
		*at = (uint32_t)name##_at;						\
		return eax;								\
	}

typedef uint32_t (*form_fn)(uint32_t, uint32_t, uint32_t, uint32_t, uint32_t *, uint32_t *);

#endif
