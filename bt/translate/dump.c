/*
 * HYVM_BT_DUMP=1 prints each new block: guest instructions, then the host
 * code they became. For debugging the translator only.
 */
#include <stdio.h>
#include <stdlib.h>
#include "bt/translate/translator.h"
#include "bt/memory/memory.h"

static void print_code(const char *tag, ZydisMachineMode mode, const uint8_t *p, size_t len,
		       uint64_t addr)
{
	ZydisDisassembledInstruction insn;
	size_t off = 0;

	while (off < len && ZYAN_SUCCESS(ZydisDisassembleIntel(mode, addr + off, p + off,
							       len - off, &insn))) {
		fprintf(stderr, "  %s %08llx  %s\n", tag, (unsigned long long)(addr + off), insn.text);
		off += insn.info.length;
	}
}

void dump_block(struct bt_cpu *cpu, const struct bt_block *b)
{
	static int on = -1;
	uint8_t guest[4096 + 16];
	unsigned got = 0;

	if (on < 0)
		on = getenv("HYVM_BT_DUMP") != NULL;
	if (!on)
		return;
	fprintf(stderr, "bt: block eip %#x phys %#x mode %#x, %u guest bytes, %u host bytes\n",
		b->eip, b->phys, b->mode, b->guest_len, b->host_len);
	if (b->guest_len <= 4096)
		mem_fetch(cpu, cs_linear(cpu, b->eip), guest, b->guest_len, &got);
	print_code("guest", ZYDIS_MACHINE_MODE_LONG_COMPAT_32, guest, got, b->eip);
	print_code("host ", ZYDIS_MACHINE_MODE_LONG_64, b->check_entry, b->host_len,
		   (uintptr_t)b->check_entry);
}
