/* The CPU part as the engine and the other CPU files use it: exceptions
 * and descriptor loads, callouts, #UD statistics, signals, dispatch. */
#ifndef HYVM_BT_CPU_H
#define HYVM_BT_CPU_H

#include "bt/bt.h"

/* --- exceptions.c --- */
/* Raises a guest exception at cpu->eip (state as at that instruction). */
void guest_exception(struct bt_cpu *cpu, int vector, bool has_err, uint32_t err);
/* A #PF at lin: CR2, the counter, the exception (memory's page_fault hook). */
void guest_page_fault(struct bt_cpu *cpu, uint32_t lin, uint32_t error);
/* Delivers an external interrupt or software interrupt through the IDT. */
int guest_interrupt(struct bt_cpu *cpu, int vector, bool soft, uint32_t next_eip);
int load_segment(struct bt_cpu *cpu, int seg, uint16_t sel, bool raise);
int read_descriptor(struct bt_cpu *cpu, uint16_t sel, uint64_t *desc);
void descriptor_to_segment(uint64_t d, uint16_t sel, struct hyvm_segment *s);
void descriptor_set_accessed(struct bt_cpu *cpu, uint16_t sel, struct hyvm_segment *s);
/* --- realmode.c: real-address mode --- */
/* A segment load in real or virtual-8086 mode: base = sel << 4. */
void real_segment_load(struct bt_cpu *cpu, int seg, uint16_t sel);
/* Delivery through the IVT; -1 with *fail the vector met on the way. */
int real_deliver(struct bt_cpu *cpu, int vector, uint32_t ret_eip, int *fail);
void real_iret(struct bt_cpu *cpu, unsigned size);
/* IRET from CPL 0 to virtual-8086 mode; the rest of the frame on the stack. */
void v86_enter_by_iret(struct bt_cpu *cpu, uint32_t eip, uint32_t cs, uint32_t fl);
/* IN/OUT allowed by IOPL or the TSS's I/O permission bitmap. */
bool io_permitted(struct bt_cpu *cpu, uint16_t port, unsigned size);
/* --- callouts.c: sensitive instructions emulated on virtual state --- */
enum callout_result {
	CALLOUT_DONE,		/* continue translated execution */
	CALLOUT_EXIT,		/* return to the VMM with *exit filled */
};
struct vcpu_exit;
/* d: the instruction at cpu->eip if the translator kept it, else NULL */
enum callout_result callout_emulate(struct bt_cpu *cpu, const struct bt_insn *d,
				    struct vcpu_exit *exit);
void callout_complete_io(struct bt_cpu *cpu);
/* callouts_msr.c: RDMSR/WRMSR at CPL0; a device's MSR exits (EXIT_MSR)
 * and is completed by callout_complete_msr at the next run. */
enum callout_result callout_msr(struct bt_cpu *cpu, bool write, uint32_t next,
				struct vcpu_exit *exit);
void callout_complete_msr(struct bt_cpu *cpu);
uint32_t cpu_mode_key(const struct bt_cpu *cpu);
/* dispatch.c: GS base = the view for the current CPL and paging */
void bt_set_view(struct bt_cpu *cpu);
/* dispatch.c: false (and the jump cache's key updated) when the segment
 * bases, limit checks or code size changed: the caller resets the cache */
/* Selects the jump-cache set of the current segments (translate/jump_cache.c);
 * false when it was not the one in use. */
bool jc_segments_same(struct bt_cpu *cpu);
/* callout_in_block.c: SYSENTER, SYSEXIT, INT n, IRET, far RET and POPF
 * called from their block (translate/callout_call.c), cpu->callout_in_block */
void callout_in_block(struct bt_cpu *cpu, struct bt_block *b);
/* The soft TLB's #PF from its block (translate/soft_tlb_emit.c),
 * cpu->stlb_fault_in_block */
void stlb_fault_in_block(struct bt_cpu *cpu, struct bt_block *b, uint32_t eip);

/* --- fpu_lazy.c: the guest's x87/SSE registers, loaded by the first
 * block that uses them --- */
/* Before the dispatcher runs blocks: the host's environment noted, the
 * guest's image in cpu->fx_guest (not loaded), as fpu_unload leaves it
 * after each block run. */
void fpu_enter_blocks(struct bt_cpu *cpu);
/* Back in the dispatcher's C: the image saved if a block loaded it, the
 * registers the host's again. */
void fpu_unload(struct bt_cpu *cpu);
/* C called from the middle of a block that may go on: the loaded image
 * saved (true) for fpu_put_back, which loads it again if the block goes
 * on, else leaves the registers to the host. */
bool fpu_set_aside(struct bt_cpu *cpu);
void fpu_put_back(struct bt_cpu *cpu, bool aside, bool block_goes_on);

/* --- ud_stats.c: a #UD at cpu->eip, counted by its opcode --- */
void ud_note(struct bt_cpu *cpu);

/* --- signals.c --- */
int signals_install(char *err, size_t errlen);
void signals_enter(struct bt_cpu *cpu);
void signals_leave(void);

/* --- debug.c: the debugger's steps and breakpoints --- */
struct engine_debug;
int bt_set_guest_debug(struct bt_cpu *cpu, const struct engine_debug *d, char *err,
		       size_t errlen);
/* At a block start with cpu->dbg.active: true with exit filled (EXIT_DEBUG)
 * when a step is done or eip is at a breakpoint. */
bool bt_debug_stop(struct bt_cpu *cpu, struct vcpu_exit *exit);

/* --- events.c: the event in flight that crosses engines --- */
/* set_state's event: EXTINT into pending_irq, a hardware exception or NMI
 * into pending_event; a software one is left to run again at RIP. */
void bt_event_from_state(struct bt_cpu *cpu, const struct hyvm_cpu_state *st);
/* get_state's event: what bt still has to deliver, else NONE. */
void bt_event_to_state(const struct bt_cpu *cpu, struct hyvm_cpu_state *st);
/* Delivers pending_event if there is one (true), before any instruction. */
bool bt_event_deliver(struct bt_cpu *cpu);

/* --- dispatch.c --- */
int dispatch_run(struct bt_cpu *cpu, struct vcpu_exit *exit);

#endif
