/*
 * Finishing, in user space, an instruction whose memory or port access the
 * hardware handed back: an access outside guest RAM (MMIO: the nested page
 * fault knows only the guest-physical address) or a string port
 * instruction (INS/OUTS, REP). The instruction at CS:RIP is fetched through
 * the guest's page tables, decoded with Zydis and executed here; each
 * access that only the VMM's buses can answer is handed out as an
 * emul_access, one at a time, and the instruction resumes when it is
 * answered. Engine-agnostic: an engine calls emul_begin at such an exit,
 * returns each access as an EXIT_MMIO/EXIT_IO, calls emul_resume on its
 * next vcpu_run, and on EMUL_DONE writes e->st back with its set_state.
 *
 * Handled: MOV (all register/immediate forms), MOVZX, MOVSX, MOVSXD, XCHG,
 * XLAT, AND/OR/XOR/ADD/SUB/CMP/TEST, CMPXCHG/XADD/INC/DEC/NOT/NEG/ADC/SBB
 * (emul_rmw.c), shifts and rotates of group 2 and SHLD/SHRD (emul_shift.c),
 * BT/BTS/BTR/BTC/BSF/BSR (emul_bits.c), SETcc/CMOVcc (emul_condition.c),
 * MUL/IMUL/DIV/IDIV with #DE (emul_muldiv.c), PUSH/POP (emul_stack.c);
 * STOS/LODS/MOVS/CMPS/SCAS with or without REP/REPE/REPNE (emul_string.c);
 * INS and OUTS with or without REP (up to EMUL_BUF_SIZE bytes per exit; the rest by
 * re-executing, as the CPU does after an interrupt). Page faults during the
 * emulated accesses are injected into the guest.
 */
#ifndef HYVM_MMIO_EMULATE_H
#define HYVM_MMIO_EMULATE_H

#include <stdbool.h>
#include <stdint.h>
#include <Zydis/Zydis.h>
#include <hyvm/cpu_state.h>
#include "emul/guest_walk.h"

#define EMUL_BUF_SIZE	1024	/* bytes one string I/O exit moves at most */
#define EMUL_MAX_ITER	1024	/* REP elements to MMIO before the guest runs again */
/* Bus accesses of one instruction (element): a read-modify-write of an
 * operand that crosses a page boundary into MMIO, each half split into
 * naturally sized pieces, takes up to 12. */
#define EMUL_MAX_ACCESSES 16

enum emul_status {
	EMUL_ACCESS,	/* e->acc must be done by the VMM, then emul_resume */
	EMUL_DONE,	/* e->st is the guest's new state */
	EMUL_ERROR,	/* e->err says why; the guest cannot go on */
};

struct emul_access {
	bool pio;		/* port I/O, else MMIO */
	bool write;
	uint8_t size;		/* element size: 1, 2, 4 or 8 */
	uint32_t count;		/* elements: >1 only for REP INS/OUTS */
	uint64_t addr;		/* guest-physical address or port */
	uint8_t *data;		/* count * size bytes, e->buf */
};

struct emul {
	struct hyvm_cpu_state st;	/* state as the instruction leaves it */
	const struct guest_mem *mem;
	ZydisDecodedInstruction insn;
	ZydisDecodedOperand op[ZYDIS_MAX_OPERAND_COUNT];
	uint8_t bytes[16];
	unsigned nbytes;
	/* Replay: an element of the instruction is re-executed from its start
	 * after each answered access, consuming the answers in order, so
	 * every handler is straight-line code. */
	unsigned answered, cursor;
	uint64_t answer[EMUL_MAX_ACCESSES];
	unsigned iterations;
	bool ram_only;			/* INS/OUTS: memory must be RAM */
	struct emul_access acc;
	uint8_t buf[EMUL_BUF_SIZE];
	char err[192];
};

/* insn/insn_len: the instruction's bytes if the hardware fetched them
 * (decode assists), else NULL/0 and they are read from guest memory. */
enum emul_status emul_begin(struct emul *e, const struct hyvm_cpu_state *st,
			    const struct guest_mem *mem, const uint8_t *insn,
			    unsigned insn_len);
struct vcpu_exit;
/* The access e->acc as the VMM sees it: an EXIT_IO or EXIT_MMIO whose
 * data buffer is the emulator's own (engines/engine.h). */
void emul_access_exit(const struct emul *e, struct vcpu_exit *exit);
/* After the VMM did e->acc (and, for a read, filled e->acc.data). */
enum emul_status emul_resume(struct emul *e);

#endif
