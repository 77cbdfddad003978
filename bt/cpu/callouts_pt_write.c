/*
 * The adaptive page-table-write callout (Adams & Agesen): an instruction
 * that trapped on page-table writes BT_PTW_CALLOUT_AFTER times (shadow.c
 * counts) is translated again as a callout, and this runs it without a
 * host fault: the page table it writes is opened for one traced run.
 */
#include "bt/bt.h"
#include "bt/cpu/callouts.h"
#include "bt/memory/memory.h"
#include "bt/memory/mmu.h"
#include "bt/cpu/operands.h"

bool callout_pt_write(struct bt_cpu *cpu, const struct bt_insn *d)
{
	struct bt_vm *vm = cpu->vm;

	cpu->stats.pt_write_callouts++;
	for (unsigned i = 0; d && i < d->insn.operand_count_visible; i++) {
		const ZydisDecodedOperand *o = &d->ops[i];
		uint32_t phys;
		if (o->type != ZYDIS_OPERAND_TYPE_MEMORY || !(o->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
			continue;
		uint32_t lin = operand_linear(cpu, o);
		if (mem_linear_to_phys(cpu, lin, true, bt_cpl(cpu) == 3, &phys, true))
			return false;		/* #PF delivered */
		if (phys_host(vm, phys, 1, true) && !vm->code_pages[phys >> 12] &&
		    shadow_is_pt_page(vm, phys >> 12))
			shadow_trace_begin(cpu, lin, phys, false);
		break;
	}
	return true;
}
