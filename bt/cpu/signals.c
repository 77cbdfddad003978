/*
 * Host faults inside translated code. A fault on a view page the shadow
 * MMU can fill is hidden: map it and retry. Anything else stops the guest
 * precisely: the insn map names the guest instruction, the registers come
 * from the signal frame (with the map's fixups undone), and the handler
 * resumes at fault_exit, which returns to the dispatcher. Faults outside
 * translated code are hyvm's own bugs: they go to the handler that was
 * there before bt's (the console's, which restores the terminal and dies
 * of the signal), or the default action.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include "bt/bt.h"
#include "bt/cpu/cpu.h"
#include "bt/memory/memory.h"
#include "bt/memory/soft_tlb.h"
#include "bt/translate/translator.h"

static __thread struct bt_cpu *running_cpu;
static __thread void *alt_stack;

static const int gpr_greg[8] = {
	REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_R14, REG_RBP, REG_RSI, REG_RDI,
};

static bool in_tc(const struct bt_tc *tc, uint64_t pc)
{
	return pc >= (uintptr_t)tc->mem && pc < (uintptr_t)tc->mem + tc->size;
}

static const int fault_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP };
static struct sigaction before_bt[sizeof(fault_signals) / sizeof(fault_signals[0])];

/* The faulting instruction re-runs and meets the previous handler. */
static void fall_back_to_default(int sig)
{
	for (unsigned i = 0; i < sizeof(fault_signals) / sizeof(fault_signals[0]); i++)
		if (fault_signals[i] == sig && before_bt[i].sa_handler != SIG_IGN) {
			sigaction(sig, &before_bt[i], NULL);
			return;
		}
	signal(sig, SIG_DFL);
}

/* A hidden shadow fill counts towards making its instruction a soft-TLB
 * access (memory/soft_tlb.c); at the threshold the blocks holding it are
 * translated again, by the dispatcher once the block has returned. */
static void fill_seen(struct bt_cpu *cpu, uint64_t pc)
{
	struct bt_block *b = tc_block_at_host(cpu->vm->tc, (void *)pc);
	const struct bt_insn_map *m = b ? tc_insn_at_host(b, (void *)pc) : NULL;

	if (m && !(b->mode & BT_MODE_SINGLE) && soft_tlb_note(cpu->vm, cs_linear(cpu, m->eip))) {
		cpu->stlb_retranslate = true;
		cpu->stlb_retranslate_lin = cs_linear(cpu, m->eip);
	}
}

static void on_fault(int sig, siginfo_t *si, void *uc_void)
{
	ucontext_t *uc = uc_void;
	greg_t *g = uc->uc_mcontext.gregs;
	struct bt_cpu *cpu = running_cpu;
	uint64_t pc = (uint64_t)g[REG_RIP];

	if (!cpu || !in_tc(cpu->vm->tc, pc)) {
		fall_back_to_default(sig);
		return;
	}
	uint64_t addr = (uintptr_t)si->si_addr;
	bool write = (g[REG_ERR] & 2) != 0;
	uint64_t view = cpu->view_base;
	if (sig == SIGSEGV && addr >= view && addr - view < (1ull << 32) &&
	    view_fault(cpu, (uint32_t)(addr - view), write)) {
		fill_seen(cpu, pc);
		return;
	}

	struct bt_block *b = tc_block_at_host(cpu->vm->tc, (void *)pc);
	const struct bt_insn_map *m = b ? tc_insn_at_host(b, (void *)pc) : NULL;
	if (b && addr - (uintptr_t)cpu->vm->tc->poll < 4096 && pc < (uintptr_t)b->body) {
		/* the kick poll at a block entry: guest state is the block's start */
		for (int i = 0; i < 8; i++)
			cpu->gpr[i] = (uint32_t)g[gpr_greg[i]];
		cpu->host_flags = (uint64_t)g[REG_EFL];
		cpu->eip = b->eip;
		cpu->exit_desc = (uintptr_t)&cpu->vm->tc->rt.request_desc;
		g[REG_RIP] = (greg_t)(uintptr_t)cpu->vm->tc->rt.fault_exit;
		g[REG_EFL] &= ~(greg_t)(EFLAGS_DF | EFLAGS_TF | EFLAGS_AC);
		return;
	}
	if (!m) {
		fall_back_to_default(sig);
		return;
	}
	for (int i = 0; i < 8; i++)
		cpu->gpr[i] = (uint32_t)g[gpr_greg[i]];
	/* a string op's rsi/rdi: view + segment base + offset (translate.c) */
	if (m->fixup & BT_FIXUP_RSI)
		cpu->gpr[HYVM_RSI] = (uint32_t)((uint64_t)g[REG_RSI] - view) -
				     b->seg_base[m->fixup >> BT_FIXUP_REG_SHIFT];
	if (m->fixup & BT_FIXUP_RDI)
		cpu->gpr[HYVM_RDI] = (uint32_t)((uint64_t)g[REG_RDI] - view) - b->seg_base[HYVM_ES];
	if (m->fixup & BT_FIXUP_SPILL)
		cpu->gpr[m->fixup >> BT_FIXUP_REG_SHIFT] = (uint32_t)cpu->spill;
	cpu->host_flags = (uint64_t)g[REG_EFL];
	cpu->eip = m->eip;
	cpu->fault_signo = sig;
	cpu->fault_code = si->si_code;
	cpu->fault_trapno = (int)g[REG_TRAPNO];
	cpu->fault_addr = addr;
	cpu->fault_write = write;
	cpu->fault_eip = m->eip;
	cpu->fault_block = b;
	cpu->exit_desc = (uintptr_t)&cpu->vm->tc->rt.fault_desc;
	g[REG_RIP] = (greg_t)(uintptr_t)cpu->vm->tc->rt.fault_exit;
	g[REG_EFL] &= ~(greg_t)(EFLAGS_DF | EFLAGS_TF | EFLAGS_AC);
}

int signals_install(char *err, size_t errlen)
{
	static bool installed;
	struct sigaction sa;

	if (installed)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for (unsigned i = 0; i < sizeof(fault_signals) / sizeof(fault_signals[0]); i++)
		if (sigaction(fault_signals[i], &sa, &before_bt[i])) {
			snprintf(err, errlen, "bt: sigaction: %m");
			return -1;
		}
	installed = true;
	return 0;
}

/* Translated code may fault with any host state; handle it on our own stack. */
void signals_enter(struct bt_cpu *cpu)
{
	if (!alt_stack) {
		stack_t ss = { .ss_size = 1 << 16 };
		alt_stack = malloc(ss.ss_size);
		ss.ss_sp = alt_stack;
		if (alt_stack)
			sigaltstack(&ss, NULL);
	}
	running_cpu = cpu;
}

void signals_leave(void)
{
	running_cpu = NULL;
}
