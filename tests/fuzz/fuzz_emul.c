/* The instruction emulator (userspace/emul/) on any instruction bytes in
 * any CPU mode: real, 16- and 32-bit protected, 32-bit and PAE paging,
 * long mode, with page tables, registers and segments from the input, and
 * every access handed to the VMM answered with input bytes. 64 KiB of RAM
 * at 0 and a ROM slot above it; anything else is MMIO. */
#include <stdlib.h>
#include <hyvm/x86.h>
#include "emul/mmio_emulate.h"
#include "fuzz_input.h"

#define RAM_BYTES 0x10000u
#define ROM_GPA 0x20000u
#define ROM_BYTES 0x1000u
#define MAX_STEPS 4096

static void set_mode(struct hyvm_cpu_state *st, unsigned mode, struct fuzz_in *in)
{
	uint32_t attrib = HYVM_SEG_P | HYVM_SEG_S | 3 | (mode & 8 ? HYVM_SEG_G : 0);

	st->cr0 = 0;
	switch (mode & 7) {
	case 0: break;						/* real mode */
	case 1: st->cr0 = CR0_PE; break;			/* 16-bit protected */
	case 2: st->cr0 = CR0_PE; attrib |= HYVM_SEG_DB; break;	/* 32-bit */
	case 3: st->cr0 = CR0_PE | CR0_PG; attrib |= HYVM_SEG_DB; break;
	case 4: st->cr0 = CR0_PE | CR0_PG; st->cr4 = CR4_PAE; attrib |= HYVM_SEG_DB; break;
	case 5: case 6:					/* long mode, 64-bit code */
		st->cr0 = CR0_PE | CR0_PG; st->cr4 = CR4_PAE;
		st->efer = EFER_LME | EFER_LMA;
		break;
	default:						/* virtual-8086 */
		st->cr0 = CR0_PE; st->rflags |= EFLAGS_VM; break;
	}
	st->cr3 = fuzz_take(in, 2) & (RAM_BYTES - 1) & ~0xfffull;
	for (int i = 0; i < HYVM_LDTR; i++) {
		st->seg[i].base = mode & 0x10 ? fuzz_take(in, 2) : 0;
		st->seg[i].limit = mode & 0x20 ? fuzz_take(in, 2) : 0xffffffff;
		st->seg[i].attrib = attrib | (i == HYVM_CS ? 0xb : 3);
		st->seg[i].selector = fuzz_take(in, 1) & 0xfc;
	}
	if ((mode & 7) == 5 || (mode & 7) == 6)
		st->seg[HYVM_CS].attrib |= HYVM_SEG_L;
	if (mode & 0x40)
		st->seg[HYVM_CS].attrib |= 0x60;	/* DPL 3: CPL 3 */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t ram[RAM_BYTES], rom[ROM_BYTES];
	static struct emul e;
	struct hyvm_cpu_state st;
	struct guest_mem mem = { 0 };
	struct fuzz_in in = { data, size };

	memset(&st, 0, sizeof(st));
	memset(ram, 0, sizeof(ram));
	st.rflags = 2 | (fuzz_take(&in, 4) & (EFLAGS_ARITH | EFLAGS_DF | EFLAGS_IF));
	set_mode(&st, fuzz_take(&in, 1), &in);
	for (int i = 0; i < HYVM_NR_GPRS; i++)
		st.gpr[i] = fuzz_take(&in, 1) & 1 ? fuzz_take(&in, 8) : fuzz_take(&in, 1);
	st.rip = fuzz_take(&in, 2) & (RAM_BYTES - 1);
	unsigned ram_len = fuzz_take(&in, 2);
	for (unsigned i = 0; i < ram_len && fuzz_more(&in); i++)
		ram[(st.rip + i) & (RAM_BYTES - 1)] = (uint8_t)fuzz_take(&in, 1);
	/* page tables: a few entries anywhere in RAM */
	for (unsigned n = fuzz_take(&in, 1) & 15; n--;) {
		uint64_t at = fuzz_take(&in, 2) & (RAM_BYTES - 8), v = fuzz_take(&in, 8);
		memcpy(ram + at, &v, 8);
	}
	guest_mem_add(&mem, 0, ram, RAM_BYTES);
	guest_mem_add_rom(&mem, ROM_GPA, rom, ROM_BYTES);

	enum emul_status s = emul_begin(&e, &st, &mem, NULL, 0);
	for (int steps = 0; s == EMUL_ACCESS && steps < MAX_STEPS; steps++) {
		if (e.acc.size == 0 || e.acc.size > 8 || !e.acc.count ||
		    (uint64_t)e.acc.count * e.acc.size > sizeof(e.buf))
		{
			fprintf(stderr, "an access the VMM could not carry out: size %u count %u (%s)\n",
				e.acc.size, e.acc.count, ZydisMnemonicGetString(e.insn.mnemonic));
			abort();
		}
		if (!e.acc.write)
			for (unsigned i = 0; i < e.acc.count * e.acc.size; i++)
				e.acc.data[i] = (uint8_t)fuzz_take(&in, 1);
		s = emul_resume(&e);
	}
	return 0;
}
