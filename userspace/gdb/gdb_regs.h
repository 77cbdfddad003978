/*
 * The guest's registers as gdb numbers them: the target description we
 * send (qXfer:features:read:target.xml, in the feature names of gdb's
 * features/i386 XML files: 32bit-core/64bit-core, 32bit-sse/64bit-sse,
 * segments, and org.hyvm.x86.sys for CR0-CR4 and EFER) and the bytes of
 * each register in g/G/p/P packets, both from one table, so they agree.
 */
#ifndef HYVM_GDB_REGS_H
#define HYVM_GDB_REGS_H

#include <stddef.h>
#include <stdint.h>
#include <hyvm/cpu_state.h>

enum gdb_arch { GDB_ARCH_I386, GDB_ARCH_AMD64 };

/* i386 in legacy and compatibility-less 32-bit modes, i386:x86-64 once
 * EFER.LMA is set. */
enum gdb_arch gdb_arch_of(const struct hyvm_cpu_state *st);
unsigned gdb_nregs(enum gdb_arch arch);
/* Register n's bytes, little-endian; its size, 0 for no such register. */
unsigned gdb_reg_get(enum gdb_arch arch, const struct hyvm_cpu_state *st, unsigned n,
		     uint8_t *out);
/* 0, or -1 for no such register or one we do not write (a segment or
 * control register to a value other than its own: that needs a
 * descriptor load or a mode switch, not a debugger's poke). */
int gdb_reg_set(enum gdb_arch arch, struct hyvm_cpu_state *st, unsigned n, const uint8_t *in);
/* The whole target.xml; its length (NUL-terminated), or 0 if cap is too small. */
size_t gdb_target_xml(enum gdb_arch arch, char *out, size_t cap);

#endif
