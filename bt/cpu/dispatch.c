/*
 * The dispatcher: finds or translates the block at the guest eip, runs it,
 * and acts on how it came back (an unchained branch to chain, a jump-cache
 * miss to fill, a callout, a host fault, an exit request). Interrupts are
 * delivered here, which is to say at block boundaries.
 */
#include <asm/prctl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "bt/bt.h"
#include "bt/cpu/callouts.h"
#include "bt/cpu/cpu.h"
#include "bt/memory/memory.h"
#include "bt/cpu/mmio.h"
#include "bt/memory/mmu.h"
#include "bt/memory/soft_tlb.h"
#include "bt/translate/translator.h"
#include "engines/engine.h"

#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1 << 1)
#endif

static __thread uint64_t thread_gs_base;

uint32_t cpu_mode_key(const struct bt_cpu *cpu)
{
	/* the same bytes are other code in 16-bit mode, and a 16-bit stack
	 * takes its sequences from C: both key the block */
	return bt_cpl(cpu) | ((cpu->arch.cr0 & CR0_PG) ? BT_MODE_PAGING : 0) |
	       (bt_code16(cpu) ? BT_MODE_CODE16 : 0) |
	       ((cpu->arch.seg[HYVM_SS].attrib & HYVM_SEG_DB) ? 0 : BT_MODE_STACK16);
}

/* GS base = the view translated code uses: WRGSBASE where the kernel
 * allows it, else one arch_prctl, and only when it changes. */
void bt_set_view(struct bt_cpu *cpu)
{
	int idx = (cpu->arch.cr0 & CR0_PG) && bt_cpl(cpu) == 3 ? 1 : 0;
	uint64_t base = (uintptr_t)view_base(cpu->vm, idx);
	static int fsgsbase = -1;

	cpu->view_base = base;
	cpu->neg_view_base = -base;
	if (thread_gs_base == base)
		return;
	if (fsgsbase < 0)
		fsgsbase = (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE) != 0;
	if (fsgsbase)
		__asm__ volatile("wrgsbase %0" : : "r"(base) : "memory");
	else
		syscall(SYS_arch_prctl, ARCH_SET_GS, base);
	thread_gs_base = base;
}

static bool chain_allowed(const struct bt_cpu *cpu, const struct bt_exit_desc *d,
			  const struct bt_block *to)
{
	/* With paging a chained jump would skip the linear-to-physical check,
	 * so it stays within the page the dispatcher checked. */
	if (d->from->mode != to->mode || !d->from->valid)
		return false;
	/* the target's key must hold whenever the source runs: every segment
	 * it uses is one the source is keyed by too, with the same values */
	if ((to->seg_used & ~d->from->seg_used) || (to->seg_based & ~d->from->seg_based))
		return false;
	for (int s = 0; s < 6; s++)
		if ((to->seg_used >> s & 1) &&
		    (((to->seg_based >> s & 1) && d->from->seg_base[s] != to->seg_base[s]) ||
		     d->from->seg_limit[s] != to->seg_limit[s] || d->from->seg_check[s] != to->seg_check[s]))
			return false;
	return !(cpu->arch.cr0 & CR0_PG) || (d->from->eip >> 12) == (to->eip >> 12);
}

/* The guest's x87/SSE registers are loaded by the first block that uses
 * them, and saved here if one did (fpu_lazy.c). */
static void run_block(struct bt_cpu *cpu, const struct bt_block *b)
{
	bt_set_view(cpu);
	cpu->host_flags = (cpu->eflags & BT_EFLAGS_LIVE) | 0x2;
	signals_enter(cpu);
	cpu->vm->tc->rt.enter(cpu, b->body);
	signals_leave();
	fpu_unload(cpu);
	cpu->eflags = (cpu->eflags & ~BT_EFLAGS_LIVE) | ((uint32_t)cpu->host_flags & BT_EFLAGS_LIVE);
}

/*
 * How the next block runs: as usual, or one instruction alone, either
 * because it wrote its own code page (the block dies after one run; the
 * page is writable meanwhile) or because it writes a page table (the
 * block is kept and its code page protected: only the data page is
 * special, and shadow.c traces it).
 */
enum single_kind { RUN_BLOCKS, RUN_SINGLE_SMC, RUN_SINGLE_PTW,
	RUN_SINGLE_STEP,	/* the debugger's single step (debug.c) */
	RUN_SINGLE_VIEW,	/* a soft-TLB access the view must do (soft_tlb.c) */
};

/* *flushed: the cache was emptied, so descriptors held from before are gone. */
static struct bt_block *find_block(struct bt_cpu *cpu, uint32_t phys, enum single_kind sk,
				   bool *flushed)
{
	bool single = sk != RUN_BLOCKS;
	struct bt_vm *vm = cpu->vm;
	uint32_t mode = cpu_mode_key(cpu) | (single ? BT_MODE_SINGLE : 0);
	struct bt_block *b = tc_lookup(vm->tc, cpu, cpu->eip, phys, mode);

	if (b)
		return b;
	/* the cache's bounds (translator.h): a full flush, then translate */
	if (tc_too_many_dead(vm->tc)) {
		tc_flush(vm, "too many dead blocks");
		cpu->stats.tc_flushes_dead++;
		*flushed = true;
	} else if (!tc_has_room(vm->tc)) {
		tc_flush(vm, "translation cache full");
		cpu->stats.tc_flushes_full++;
		*flushed = true;
	}
	b = translate_block(cpu, phys, mode);
	if (!b) {
		tc_flush(vm, "translation cache full");
		cpu->stats.tc_flushes_full++;
		*flushed = true;
		b = translate_block(cpu, phys, mode);
		if (!b)
			return NULL;
	}
	if (sk == RUN_SINGLE_SMC)
		return b;	/* its page stays writable while it runs */
	/* a self-checking page stays writable (translate/smc_check.c) */
	if (!smc_page_checking(vm, phys >> 12))
		view_protect_code_page(vm, phys >> 12);
	uint32_t first = cs_linear(cpu, b->eip), last_phys;
	uint32_t last = first + (b->guest_len ? b->guest_len - 1 : 0);
	if ((last >> 12) != (first >> 12) &&
	    !mem_linear_to_phys(cpu, last, false, bt_cpl(cpu) == 3, &last_phys, false) &&
	    !smc_page_checking(vm, last_phys >> 12))
		view_protect_code_page(vm, last_phys >> 12);
	return b;
}

/* SIGFPE for a floating-point error: the host's trap number tells the
 * x87's #MF from SSE's #XM (one signal, one si_code for both). The guest
 * gets #MF as the host did (bt runs with the host's CR0.NE=1; a guest's
 * NE=0 would ask for IRQ 13 instead, SDM Vol. 1 8.7, not modelled), and
 * for SSE #XM, or #UD where its CR4.OSXMMEXCPT is clear (SDM Vol. 3A 2.5,
 * Vol. 1 11.5.1). */
static unsigned fp_fault_vector(const struct bt_cpu *cpu)
{
	if (cpu->fault_trapno != VEC_XM)
		return VEC_MF;
	return cpu->arch.cr4 & CR4_OSXMMEXCPT ? VEC_XM : VEC_UD;
}

/* An instruction whose view faults reached the soft TLB's threshold
 * (memory/soft_tlb.c): every block holding it (the one it starts, the
 * ones it is in the middle of) is translated again, with the lookup. */
static void stlb_retranslate(struct bt_cpu *cpu)
{
	uint32_t phys;

	cpu->stlb_retranslate = false;
	if (!mem_linear_to_phys(cpu, cpu->stlb_retranslate_lin, false, bt_cpl(cpu) == 3, &phys, false))
		tc_invalidate_blocks_at(cpu, phys);
}

/* A host fault the signal handler could not hide; *single asks for the
 * faulting instruction to run alone next, outside any protected page. */
static bool handle_fault(struct bt_cpu *cpu, struct vcpu_exit *exit, enum single_kind *single)
{
	struct bt_vm *vm = cpu->vm;
	uint64_t addr = cpu->fault_addr;

	switch (cpu->fault_signo) {
	case SIGFPE: {
		bool de = cpu->fault_code == FPE_INTDIV || cpu->fault_code == FPE_INTOVF;
		/* a DIV that keeps faulting gets an inline check instead
		 * (translate/div_check.c); its block is translated again */
		if (de && div_fault_note(vm, cs_linear(cpu, cpu->eip)) && cpu->fault_block &&
		    cpu->fault_block->valid)
			tc_invalidate_block(cpu, cpu->fault_block);
		guest_exception(cpu, de ? VEC_DE : fp_fault_vector(cpu), false, 0);
		return false;
	}
	case SIGILL:
		guest_exception(cpu, VEC_UD, false, 0);
		return false;
	case SIGSEGV:
		break;
	default:
		guest_exception(cpu, VEC_GP, true, 0);
		return false;
	}
	if (addr < cpu->view_base || addr - cpu->view_base >= (1ull << 32)) {
		guest_exception(cpu, VEC_GP, true, 0);
		return false;
	}
	uint32_t lin = (uint32_t)(addr - cpu->view_base), phys;
	uint32_t insn_lin = cs_linear(cpu, cpu->eip);
	bool user = bt_cpl(cpu) == 3;
	if (mem_linear_to_phys(cpu, lin, cpu->fault_write, user, &phys, true)) {
		/* #PF delivered; one that keeps coming from one instruction
		 * makes it a soft-TLB access (memory/soft_tlb.c) */
		if (!(cpu->fault_block && (cpu->fault_block->mode & BT_MODE_SINGLE)) &&
		    soft_tlb_note(vm, insn_lin)) {
			cpu->stlb_retranslate = true;
			cpu->stlb_retranslate_lin = insn_lin;
		}
		return false;
	}
	/* unbacked, or a write to ROM: the VMM's MMIO path (it drops ROM
	 * writes, so ROM keeps its bytes) */
	const struct bt_phys_region *region = phys_region(vm, phys, 1);
	if (!region || (cpu->fault_write && region->readonly))
		return bt_emulate_insn(cpu, exit);
	uint32_t page = phys >> 12;
	if (cpu->fault_write && vm->code_pages[page]) {
		/* a page rewritten again and again becomes self-checking:
		 * writable, so the next rewrite takes no fault */
		smc_note_code_write(vm, page);
		tc_invalidate_phys_page(vm, page);
		view_unprotect_code_page(vm, page);
		/* the write runs again alone: were it translated in a block of
		 * that page, the page would be protected again under it */
		*single = RUN_SINGLE_SMC;
		return false;
	}
	if (cpu->fault_write && shadow_is_pt_page(vm, page)) {
		if (shadow_trace_begin(cpu, lin, phys, true) && *single == RUN_BLOCKS)
			*single = RUN_SINGLE_PTW;
		return false;
	}
	/* a mapping the shadow could not make (mmap failed): report it */
	exit->kind = EXIT_ERROR;
	snprintf(exit->error.msg, sizeof(exit->error.msg),
		 "bt: unresolvable fault at guest eip %#x, linear %#x", cpu->eip, lin);
	return true;
}

int dispatch_run(struct bt_cpu *cpu, struct vcpu_exit *exit)
{
	struct bt_exit_desc *chain_from = NULL;
	bool jc_fill = false;
	/* kept across exits to the VMM: an exit between a fault and its
	 * single-instruction rerun would otherwise lose the rerun */
	enum single_kind single = cpu->single_pending;

	/* the VMM may have changed anything since the last run (set_state, an
	 * injected interrupt, an interrupt window, the debugger) */
	bt_xfer_changed(cpu);
	fpu_enter_blocks(cpu);	/* once: every block run leaves it so again */
	callout_complete_io(cpu);
	callout_complete_msr(cpu);
	memset(exit, 0, sizeof(*exit));
	exit->error.last_vector = 0xff;
	if (bt_emulate_resume(cpu, exit))
		goto out;
	for (;;) {
		/* a debugger's step runs the guest's next instruction, not an
		 * interrupt handler (as QEMU's default SSTEP_NOIRQ) */
		bool irq_ok = (cpu->eflags & EFLAGS_IF) && !cpu->intr_shadow && !cpu->dbg.step;

		if (cpu->shutdown) {
			exit->kind = EXIT_SHUTDOWN;
			snprintf(exit->error.msg, sizeof(exit->error.msg),
				 "triple fault at eip %#x (last exception %u)", cpu->eip, cpu->last_vector);
			exit->error.last_vector = cpu->last_vector;
			break;
		}
		/* A mode bt cannot run, entered by the instruction just done (MOV
		 * to CR0 setting PG with EFER.LME): stop here with the state
		 * complete, so another engine can continue. Checked here because
		 * CR0 and CS loads come from many callouts and every one returns
		 * through here. */
		const char *mode = (cpu->arch.cr0 & CR0_PG) && (cpu->arch.efer & EFER_LME) ?
				   "long mode" : NULL;
		if (mode) {
			if (cpu->arch.cr0 & CR0_PG)
				cpu->arch.efer |= EFER_LMA;	/* what CR0.PG=1 with LME does */
			exit->kind = EXIT_MODE_UNSUPPORTED;
			snprintf(exit->error.msg, sizeof(exit->error.msg), "%s", mode);
			break;
		}
		/* An event another engine was delivering comes first, whatever
		 * IF says, as on its next VM entry (cpu/events.c). */
		if (bt_event_deliver(cpu)) {
			chain_from = NULL;
			jc_fill = false;
			continue;
		}
		/* An injected vector is taken before a kick can end the run:
		 * the VMM acknowledged it at the controller (IRR to ISR), so
		 * it must reach the guest (see irq_window_open below). */
		if (cpu->pending_irq >= 0 && irq_ok) {
			int v = cpu->pending_irq;
			cpu->pending_irq = -1;
			cpu->stats.irqs_delivered++;
			guest_interrupt(cpu, v, false, cpu->eip);
			chain_from = NULL;
			jc_fill = false;
			continue;
		}
		if (cpu->kicked) {
			tc_unkick(cpu->vm->tc);
			cpu->kicked = false;
			exit->kind = EXIT_KICKED;
			break;
		}
		if (cpu->halted) {
			exit->kind = EXIT_HLT;
			break;
		}
		if (cpu->irq_window_wanted && irq_ok) {
			exit->kind = EXIT_IRQ_WINDOW;
			break;
		}
		if (cpu->dbg.active && bt_debug_stop(cpu, exit))
			break;
		if (cpu->stlb_retranslate)
			stlb_retranslate(cpu);
		uint32_t phys;
		bool global = false;	/* a CR3 load keeps its jump-cache slot */
		if ((cpu->arch.cr0 & CR0_PG)
		    ? soft_tlb_fetch(cpu, cs_linear(cpu, cpu->eip), bt_cpl(cpu) == 3, &phys, &global,
				     true)
		    : mem_linear_to_phys(cpu, cs_linear(cpu, cpu->eip), false, false, &phys, true)) {
			chain_from = NULL;
			jc_fill = false;
			continue;	/* #PF on the fetch was delivered */
		}
		bool flushed = false;
		enum single_kind run_kind = single == RUN_BLOCKS && cpu->dbg.step ? RUN_SINGLE_STEP : single;
		struct bt_block *b = find_block(cpu, phys, run_kind, &flushed);
		if (flushed)
			chain_from = NULL;
		if (!b) {
			exit->kind = EXIT_ERROR;
			snprintf(exit->error.msg, sizeof(exit->error.msg),
				 "bt: cannot translate the block at %#x", cpu->eip);
			break;
		}
		if (chain_from && !b->debug_stop && chain_allowed(cpu, chain_from, b))
			tc_chain(cpu, chain_from, b);
		/* the set of the current segments; b was looked up under
		 * them, so a pending fill goes in that set */
		jc_segments_same(cpu);
		if (jc_fill && !b->debug_stop)
			/* global only if all of the block is on that page: the
			 * next page's translation may not be */
			jc_set(cpu, b, global &&
			       (cs_linear(cpu, cpu->eip) & 0xfff) + b->guest_len <= 4096);
		chain_from = NULL;
		jc_fill = false;

		uint8_t shadow_before = cpu->intr_shadow;
		run_block(cpu, b);
		cpu->dbg.step_done = cpu->dbg.step;
		if (run_kind != RUN_BLOCKS) {
			if (run_kind == RUN_SINGLE_SMC)
				tc_invalidate_block(cpu, b);
			single = RUN_BLOCKS;
			chain_from = NULL;
			shadow_trace_end(cpu);
		}
		struct bt_exit_desc *d = (struct bt_exit_desc *)(uintptr_t)cpu->exit_desc;
		/* The STI/MOV SS shadow covers the one instruction after it
		 * (SDM Vol. 3A 6.8.3; Vol. 2B STI). run_block enters at the
		 * body, past the block-entry poll, so every exit, an exit
		 * request included (a poll at the next chained block's entry),
		 * comes after at least one guest instruction: the shadow is
		 * over. Keeping it across a request left a guest spinning in a
		 * chained loop after STI (Linux's calibrate_APIC_clock waiting
		 * for jiffies) with interrupts blocked forever. */
		cpu->intr_shadow = 0;
		switch (d->kind) {
		case BT_EXIT_BRANCH:
			cpu->stats.unchained_exits++;
			chain_from = d;
			break;
		case BT_EXIT_INDIRECT:
			cpu->stats.jc_misses++;
			jc_fill = true;
			break;
		case BT_EXIT_CALLOUT:
			if (d->from->pt_callout) {
				enum ptw_result r = callout_pt_write(cpu, d->from->valid ?
								     d->from->callout : NULL, exit);
				if (r == PTW_EXIT)
					goto out;
				if (r == PTW_RUN_SINGLE && single == RUN_BLOCKS)
					single = RUN_SINGLE_PTW;
				break;
			}
			if (callout_emulate(cpu, d->from->valid ? d->from->callout : NULL, exit) == CALLOUT_EXIT)
				goto out;
			break;
		case BT_EXIT_REQUEST:
			cpu->stats.exit_requests++;
			if (!cpu->kicked)
				tc_unkick(cpu->vm->tc);	/* a kick we already answered */
			break;
		case BT_EXIT_FAULT:
			if (handle_fault(cpu, exit, &single))
				goto out;
			if (single != RUN_BLOCKS)
				cpu->dbg.step_done = false;	/* it runs again, alone */
			break;
		case BT_EXIT_RESUME:
			/* a callout done in its block (callout_in_block.c);
			 * cpu->eip is where to go on */
			break;
		case BT_EXIT_IO_STOP:
			/* an inline IN/OUT done; the VMM has work (io_call.c) */
			exit->kind = EXIT_KICKED;
			goto out;
		case BT_EXIT_DIV0:
			/* the inline check found a zero divisor; nothing of
			 * the DIV ran (SDM Vol. 3A 6.15: #DE is a fault) */
			cpu->stats.div_checks_taken++;
			guest_exception(cpu, VEC_DE, false, 0);
			break;
		case BT_EXIT_SMC_STALE:
		case BT_EXIT_SMC_QUIET:
			/* a self-checking block left at its entry, before any
			 * instruction: if it is the block entered here (not one
			 * chained to), no step was done and an STI or MOV SS
			 * shadow is still pending (translate/smc_check.c) */
			if (d->from == b) {
				cpu->intr_shadow = shadow_before;
				cpu->dbg.step_done = false;
			}
			if (d->kind == BT_EXIT_SMC_STALE)
				smc_check_stale(cpu, d->from);
			else
				smc_check_quiet(cpu, d->from);
			break;
		case BT_EXIT_STLB:
			/* a soft-TLB miss: filled (the instruction runs again
			 * and hits), #PF raised, or the view's turn, alone */
			if (soft_tlb_miss(cpu, cpu->stlb_miss_lin, d->vector) == STLB_VIEW &&
			    single == RUN_BLOCKS)
				single = RUN_SINGLE_VIEW;
			break;
		case BT_EXIT_LIMIT:
			/* the stub stored the instruction's eip; nothing of it ran */
			cpu->stats.limit_faults++;
			guest_exception(cpu, d->vector, true, 0);
			break;
		}
	}
out:
	cpu->single_pending = (uint8_t)single;
	exit->rip = cpu->eip;
	exit->irq_window_open = (cpu->eflags & EFLAGS_IF) && !cpu->intr_shadow && !cpu->halted;
	if (exit->kind == EXIT_HLT)
		exit->irq_window_open = (cpu->eflags & EFLAGS_IF) != 0;
	/* One injected vector at a time, as a VM-entry interruption field
	 * holds one event (SDM Vol. 3C, 26.6) and KVM clears
	 * ready_for_interrupt_injection while one waits: an exit before the
	 * guest took it (an MMIO access of an instruction still being
	 * emulated, a shutdown) must not invite a second inject_irq, which
	 * would overwrite the first. The first was already acknowledged, so
	 * its ISR bit would stay set with no handler to EOI it, and the
	 * processor priority would block its class and every lower one for
	 * good (11.8.3.1): the guest stalls in HLT with IF set. */
	if (cpu->pending_irq >= 0 || cpu->dbg.step)
		exit->irq_window_open = false;
	return exit->kind == EXIT_ERROR ? -1 : 0;
}
