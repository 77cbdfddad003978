/*
 * Accesses outside RAM: translated code that touches a guest-physical
 * address beyond RAM faults (nothing is mapped there), and the faulting
 * instruction is finished by the engine-agnostic instruction emulator
 * (userspace/emul/mmio_emulate.c), the same one the hardware engines use
 * for their MMIO exits: every form it knows (mmio_emulate.h lists them)
 * works on bt too. Each bus access becomes one EXIT_MMIO; the next
 * vcpu_run resumes the emulator, and the finished state is copied back
 * into the vCPU. The few moves the translator cannot encode, and XLAT
 * (callouts.c), are finished the same way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bt/cpu/cpu.h"
#include "bt/memory/memory.h"
#include "bt/cpu/mmio.h"
#include "emul/mmio_emulate.h"

struct bt_mmio {
	struct emul emul;
	struct guest_mem mem;
	bool in_progress;	/* an access is out with the VMM */
};

/* The emulator wrote guest RAM (MOVS from MMIO, PUSH of an MMIO value):
 * translations of that page and shadow mappings built from it go. */
static void ram_written(void *opaque, uint64_t gpa, uint64_t len)
{
	mem_note_phys_write(opaque, gpa, (unsigned)len);
}

/* The architectural state the emulator starts from. Only registers and
 * flags change in an emulated instruction; control registers and
 * segments are read. No event: bt delivers its own at block boundaries. */
static void state_for_emulator(const struct bt_cpu *cpu, struct hyvm_cpu_state *st)
{
	*st = cpu->arch;
	for (int i = 0; i < 8; i++)
		st->gpr[i] = cpu->gpr[i];
	st->rip = cpu->eip;
	st->rflags = cpu->eflags;
	st->interruptibility = cpu->intr_shadow;
	memset(&st->event, 0, sizeof(st->event));
}

/* The emulator's next step: true with exit filled (an access for the VMM,
 * or an error), false when the instruction is done and the vCPU goes on. */
static bool step(struct bt_cpu *cpu, enum emul_status s, struct vcpu_exit *exit)
{
	struct bt_mmio *m = cpu->mmio;
	struct emul *e = &m->emul;

	m->in_progress = s == EMUL_ACCESS;
	switch (s) {
	case EMUL_ACCESS:
		emul_access_exit(e, exit);
		return true;
	case EMUL_DONE:
		for (int i = 0; i < 8; i++)
			cpu->gpr[i] = (uint32_t)e->st.gpr[i];
		cpu->eip = (uint32_t)e->st.rip;
		cpu->eflags = (uint32_t)e->st.rflags;
		cpu->intr_shadow = (uint8_t)(e->st.interruptibility & 3);
		if (e->st.event.type == HYVM_EVENT_EXCEPTION) {
			/* a #PF on the instruction's other operand, RIP unchanged */
			cpu->arch.cr2 = e->st.cr2;
			if (e->st.event.vector == VEC_PF)
				cpu->stats.page_faults_guest++;
			guest_exception(cpu, e->st.event.vector, e->st.event.has_error_code,
					e->st.event.error_code);
		}
		return false;
	default:
		exit->kind = EXIT_ERROR;
		snprintf(exit->error.msg, sizeof(exit->error.msg), "bt: access outside RAM at eip %#x: %.120s",
			 cpu->eip, e->err);
		return true;
	}
}

bool bt_emulate_insn(struct bt_cpu *cpu, struct vcpu_exit *exit)
{
	struct bt_vm *vm = cpu->vm;
	struct hyvm_cpu_state st;

	if (!cpu->mmio) {
		cpu->mmio = calloc(1, sizeof(*cpu->mmio));
		if (!cpu->mmio) {
			exit->kind = EXIT_ERROR;
			snprintf(exit->error.msg, sizeof(exit->error.msg), "bt: out of memory");
			return true;
		}
	}
	struct bt_mmio *m = cpu->mmio;
	memset(&m->mem, 0, sizeof(m->mem));
	/* the emulator sees bt's slots as they are: RAM, and ROM whose
	 * writes go to the bus (the VMM drops them) */
	for (unsigned i = 0; i < vm->nr_phys; i++) {
		const struct bt_phys_region *r = &vm->phys[i];
		(r->readonly ? guest_mem_add_rom : guest_mem_add)(&m->mem, r->gpa, vm->ram + r->gpa,
								  r->size);
	}
	m->mem.ram_written = ram_written;
	m->mem.opaque = vm;
	state_for_emulator(cpu, &st);
	return step(cpu, emul_begin(&m->emul, &st, &m->mem, NULL, 0), exit);
}

bool bt_emulate_resume(struct bt_cpu *cpu, struct vcpu_exit *exit)
{
	if (!cpu->mmio || !cpu->mmio->in_progress)
		return false;
	return step(cpu, emul_resume(&cpu->mmio->emul), exit);
}

void bt_emulate_free(struct bt_cpu *cpu)
{
	free(cpu->mmio);
	cpu->mmio = NULL;
}
