/*
 * #UD counted by opcode: which instructions a guest met that the CPU (or
 * the translator) refused tells what to implement next. The opcode is
 * read again at the faulting eip; the first BT_UD_KINDS distinct opcodes
 * get a counter of their own in read_stats ("bt.ud.0f0b" is 0F 0B, UD2),
 * the rest are counted together as "bt.ud.other".
 */
#include <stdio.h>
#include <string.h>
#include "bt/bt.h"
#include "bt/cpu/cpu.h"
#include "bt/translate/decode.h"
#include "bt/memory/memory.h"

void ud_note(struct bt_cpu *cpu)
{
	uint8_t bytes[ZYDIS_MAX_INSTRUCTION_LENGTH];
	unsigned got = 0;
	struct bt_insn d;
	char name[sizeof(cpu->ud[0].name)];

	mem_fetch(cpu, cs_linear(cpu, cpu->eip), bytes, sizeof(bytes), &got);
	if (got && !decode_insn(bt_decoder(cpu), bytes, got, &d)) {
		static const char *const map[] = { "", "0f", "0f38", "0f3a" };
		unsigned m = d.insn.opcode_map;
		snprintf(name, sizeof(name), "bt.ud.%s%02x", m < 4 ? map[m] : "map?", d.insn.opcode);
	} else if (got) {
		/* Zydis refused it: name it by its first bytes */
		snprintf(name, sizeof(name), "bt.ud.raw.%02x%02x", bytes[0], got > 1 ? bytes[1] : 0);
	} else {
		snprintf(name, sizeof(name), "bt.ud.unfetchable");
	}
	for (unsigned i = 0; i < BT_UD_KINDS; i++) {
		if (!cpu->ud[i].count) {
			snprintf(cpu->ud[i].name, sizeof(cpu->ud[i].name), "%s", name);
			cpu->ud[i].count = 1;
			return;
		}
		if (!strcmp(cpu->ud[i].name, name)) {
			cpu->ud[i].count++;
			return;
		}
	}
	cpu->ud_other++;
}
