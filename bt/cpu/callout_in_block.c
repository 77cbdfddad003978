/*
 * SYSENTER, SYSEXIT, INT n, IRET, far RET, PUSHF, POPF, CLI, the
 * segment-register loads but SS's, INVLPG, MOV from CRn and the emulated
 * page-table stores
 * (callouts_pt_write.c) in 32-bit code, called
 * from their block (translate/callout_call.c) instead of leaving it: the
 * instruction is emulated by the same callout the dispatcher would run,
 * and then whatever the dispatcher does before the next block is done
 * here too, or left to it:
 *
 * - its loop-top checks (shutdown, an unsupported mode, an event from
 *   another engine, a deliverable interrupt or interrupt window, a kick,
 *   HLT, the debugger): any of them, and the block leaves through
 *   BT_EXIT_RESUME, so the dispatcher takes it from cpu->eip exactly as
 *   after the callout's own exit;
 * - the fetch translation (no exception raised here: a failure goes to
 *   the dispatcher, which raises it) and the lookup; a block not
 *   translated yet goes to the dispatcher as well;
 * - the jump cache's segment key, and the view (the CPL picks it).
 *
 * So the guest sees what it saw through the dispatcher: the same
 * emulation, the same interrupt boundaries (an STI shadow, an IF that a
 * POPF or IRET sets with an interrupt waiting: the dispatcher gets it).
 * The block was entered through its kick poll and the next one is entered
 * through its own, so a kick meanwhile is seen at once.
 */
#include "bt/bt.h"
#include "bt/cpu/callouts.h"
#include "bt/cpu/cpu.h"
#include "bt/memory/memory.h"
#include "bt/memory/mmu.h"
#include "bt/memory/soft_tlb.h"
#include "bt/translate/translator.h"
#include "engines/engine.h"

/* Anything the dispatcher's loop would act on before running a block. */
static bool dispatcher_wanted(const struct bt_cpu *cpu)
{
	bool irq_ok = (cpu->eflags & EFLAGS_IF) && !cpu->intr_shadow && !cpu->dbg.step;

	return cpu->shutdown || cpu->halted || cpu->kicked || cpu->dbg.active || cpu->dbg.step ||
	       ((cpu->arch.cr0 & CR0_PG) && (cpu->arch.efer & EFER_LME)) ||
	       cpu->pending_event.type != HYVM_EVENT_NONE ||
	       (irq_ok && (cpu->pending_irq >= 0 || cpu->irq_window_wanted));
}

/* The block the dispatcher would run next, if it is translated: the one
 * this callout went on to last time when its key (eip, physical address,
 * mode, segments) still holds, which spares the hash lookup (a SYSENTER
 * goes to one place), else tc_lookup's. */
static struct bt_block *next_block(struct bt_cpu *cpu, struct bt_block *from)
{
	uint32_t lin = cs_linear(cpu, cpu->eip), phys;
	struct bt_block *b = from->callout_next;

	if (dispatcher_wanted(cpu))
		return NULL;
	/* the dispatcher's fetch translations (soft_tlb_fetch), filled here
	 * too: a walk here was a third of pgfault's walks (its handler's POPF
	 * and far RET, each followed by the next block's fetch), and once the
	 * #PF came from the block as well (stlb_fault_in_block) no dispatcher
	 * filled them between two CR3 loads: a walk at every callout */
	if ((cpu->arch.cr0 & CR0_PG)
	    ? soft_tlb_fetch(cpu, lin, bt_cpl(cpu) == 3, &phys, NULL, false)
	    : mem_linear_to_phys(cpu, lin, false, false, &phys, false))
		return NULL;
	uint32_t mode = cpu_mode_key(cpu);
	/* the set of the segments now, and the epoch: unchanged since the
	 * last check, the segments are the same and tc_same_segments would
	 * say so again (a fifth of pgfault's continuations, each doing both) */
	jc_segments_same(cpu);
	if (!b || !b->valid || b->eip != cpu->eip || b->phys != phys || b->mode != mode ||
	    (from->callout_next_epoch != cpu->xfer_epoch && !tc_same_segments(b, cpu)))
		from->callout_next = b = tc_lookup(cpu->vm->tc, cpu, cpu->eip, phys, mode);
	from->callout_next_epoch = cpu->xfer_epoch;
	return b && !b->debug_stop ? b : NULL;
}

/*
 * A SYSENTER/SYSEXIT block's record of the transfer just done in C, for
 * its translated transfer (translate/sys_fast.c), when what that relies
 * on holds: the instruction did its transfer (no exception: guest_faults
 * unchanged), to a block entered without the dispatcher, nothing the
 * dispatcher must see at a later one (an interrupt pending or a window
 * wanted: SYSEXIT keeps IF; the debugger), protected mode without paging.
 * The epoch is read after jc_segments_same's reset, which bumps it.
 */
static void sys_fast_fill(struct bt_cpu *cpu, struct bt_block *b, const struct bt_block *next,
			  uint16_t cs_before)
{
	struct bt_sys_fast *rec = b->sys_fast;

	if (!rec)
		return;
	rec->epoch = 0;
	if (cpu->pending_irq >= 0 || cpu->irq_window_wanted || cpu->dbg.active || cpu->dbg.step ||
	    !(cpu->arch.cr0 & CR0_PE) || (cpu->arch.cr0 & CR0_PG) || (cpu->eflags & EFLAGS_VM))
		return;
	rec->target = (uintptr_t)next->check_entry;
	rec->eip = cpu->eip;
	rec->cs_before = cs_before;
	rec->cs_ss[0] = cpu->arch.seg[HYVM_CS];
	rec->cs_ss[1] = cpu->arch.seg[HYVM_SS];
	rec->epoch = cpu->xfer_epoch;
}

/* After the work done in the block: cpu->callout_target the next block's
 * entry, with the jump cache's set and the view for the state now, or
 * BT_EXIT_RESUME to the dispatcher (it has work, or the block is not
 * translated); that block, or NULL. */
static struct bt_block *go_on(struct bt_cpu *cpu, struct bt_block *b)
{
	cpu->host_flags = (cpu->eflags & BT_EFLAGS_LIVE) | 0x2;
	cpu->callout_target = (uintptr_t)cpu->vm->tc->rt.resume_exit;
	struct bt_block *next = next_block(cpu, b);
	if (!next)
		return NULL;
	/* the view changes with the CPL only under paging (dispatch.c) */
	if (cpu->arch.cr0 & CR0_PG)
		bt_set_view(cpu);
	cpu->callout_target = (uintptr_t)next->check_entry;
	return next;
}

void callout_in_block(struct bt_cpu *cpu, struct bt_block *b)
{
	/* first, as C may use XMM: a loaded x87/SSE image goes back to
	 * memory, and the next block loads it again if it uses it
	 * (fpu_lazy.c); the callout's block has nothing after the callout
	 * but its exit */
	fpu_unload(cpu);

	struct vcpu_exit exit;
	uint64_t faults = cpu->stats.guest_faults;
	uint16_t cs_before = cpu->arch.seg[HYVM_CS].selector;

	cpu->callout_target = 0;
	/* a block whose bytes changed takes the callout stub, which
	 * decodes again (dispatch.c: d->from->valid) */
	if (!b->valid || cpu->dbg.active)
		return;
	cpu->eflags = (cpu->eflags & ~BT_EFLAGS_LIVE) | ((uint32_t)cpu->host_flags & BT_EFLAGS_LIVE);
	cpu->eip = b->eip;	/* a callout is the first instruction of its block */
	cpu->intr_shadow = 0;	/* as after every block (dispatch.c) */
	if (b->pt_callout) {
		/* a page-table store: emulated here, or left to the
		 * dispatcher's callout_pt_write with nothing done */
		if (!callout_pt_write_in_block(cpu, b->callout))
			return;
	} else {
		/* none of these wants a VMM exit (callout_call.c), so exit
		 * stays unused: the result is always CALLOUT_DONE */
		(void)callout_emulate(cpu, b->callout, &exit);
	}
	cpu->stats.callouts_in_block++;
	struct bt_block *next = go_on(cpu, b);
	if (next) {
		cpu->stats.callouts_in_block_chained++;
		if (cpu->stats.guest_faults == faults)
			sys_fast_fill(cpu, b, next, cs_before);
	} else if (b->sys_fast) {
		b->sys_fast->epoch = 0;
	}
}

/*
 * A soft-TLB miss whose in-block fill found the page not present (or the
 * access not allowed): the #PF raised here with that walk's error code
 * (memory/soft_tlb.c, soft_tlb_fault_from_fill) and delivered through the
 * IDT by the same guest_page_fault as the dispatcher's path, and the
 * block goes on at the handler's block as after a callout. Before, the
 * block left through its BT_EXIT_STLB stub and the dispatcher walked
 * again, raised the same #PF and looked the handler up: a block exit, a
 * walk, a dispatcher round trip and a block entry of the pgfault nano's
 * round trip. The faulting instruction did nothing (SDM Vol. 3A 6.15: a
 * #PF is a fault): its eip is the frame's return address. When the fill
 * did not fault, nothing is done: the exit stub's path as before.
 */
void stlb_fault_in_block(struct bt_cpu *cpu, struct bt_block *b, uint32_t eip)
{
	/* first, before C may use XMM; the block goes on after a fill
	 * that did not fault, with the registers it had (fpu_lazy.c) */
	bool aside = fpu_set_aside(cpu);

	cpu->callout_target = 0;
	if (!b->valid || cpu->dbg.active) {
		cpu->stlb_fault_ready = false;
		fpu_put_back(cpu, aside, true);
		return;
	}
	cpu->eflags = (cpu->eflags & ~BT_EFLAGS_LIVE) | ((uint32_t)cpu->host_flags & BT_EFLAGS_LIVE);
	cpu->eip = eip;
	/* as the dispatcher does after every block: this one ran an
	 * instruction at least (its entry poll came first) */
	cpu->intr_shadow = 0;
	bool raised = soft_tlb_fault_from_fill(cpu);
	if (raised)
		go_on(cpu, b);
	fpu_put_back(cpu, aside, !raised);
}
