/*
 * The engine interface: the only way the VMM talks to a thing that runs
 * guest code (bt, kvm, vmx, svm). Engines know nothing of devices: they
 * report a port or MMIO access in a struct vcpu_exit and the VMM's bus
 * answers it. An IN or an MMIO read is completed by the engine on the next
 * vcpu_run, from the data the VMM wrote into the exit record (KVM's model).
 */
#ifndef HYVM_ENGINE_H
#define HYVM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <hyvm/cpu_state.h>
#include <hyvm/cpuid_table.h>
#include <hyvm/x86.h>

struct engine_vm;	/* engine-private */
struct stats_writer;	/* stats.h */
struct engine_vcpu;	/* engine-private */

/* Guest features a guest may need beyond its CPU mode; an engine that
 * lacks one says why, so a runner reports SKIP with that reason. */
enum guest_need {
	NEED_REAL_MODE,		/* 16-bit real mode */
	NEED_PAGING32,		/* 2-level 32-bit paging */
	NEED_PAE,
	NEED_LONG_MODE,
	NEED_SOFT_INT_CPL0,	/* INT n / INT3 / INTO executed at CPL0 */
	NEED_USER_MODE,		/* ring 3 code with working gates back to ring 0 */
	NEED_SYSENTER,
	NEED_SSE,
	NEED_VM86,		/* virtual-8086 mode with IOPL-sensitive I/O (TSS bitmap) */
	NEED_A20,		/* the A20 gate masks address bit 20 (engine_ops.set_a20) */
	NEED_CPL0_COMPUTE,	/* 10^8 and more instructions at CPL0: an engine that
				 * emulates CPL0 code takes minutes */
	NEED_STI_WINDOW,	/* an interrupt pending under IF=0 is taken right after
				 * the one instruction STI shields, with no exit between */
	/* Not from the guest: the memory map has RAM above 4 GiB (--mem
	 * above 3.5 GiB), which the engine must reach. */
	NEED_HIGH_RAM,
	/* The local APIC's TSC-deadline mode: IA32_TSC_DEADLINE reaches the
	 * VMM (caps.msr_exits), so the CPU model lists it. */
	NEED_TSC_DEADLINE,
	/* AAA, AAS, DAA, DAS, AAM, AAD, SALC executed at CPL0 (an engine
	 * whose CPL0 code runs in an instruction emulator may lack them) */
	NEED_BCD_CPL0,
	/* x87 errors at the next waiting x87 instruction and SIMD exceptions
	 * as #XM or #UD: every engine runs guest FP on the host's CPU, which
	 * must do this itself (host_fp_faults.c) */
	NEED_FP_EXCEPTIONS,
	/* IA32_TSC_ADJUST (SDM Vol. 3B, 17.17.3), kept by the engine as the
	 * guest's TSC moves, so the CPU model lists it (cpu_model.h) */
	NEED_TSC_ADJUST,
	NEED_COUNT
};

struct engine_caps {
	bool present;
	/* Guest RDMSR/WRMSR of the MSRs engine_msr_to_vmm names come to the
	 * VMM as EXIT_MSR; false: the engine raises #GP(0) for them, and the
	 * CPU model leaves out the features they belong to. */
	bool msr_exits;
	char absent_why[160];		/* when !present: e.g. "/dev/kvm: No such file" */
	char description[96];		/* e.g. "KVM (kvm_pvm, software)" */
	bool hardware_assist;		/* true VT-x/AMD-V underneath */
	const char *cannot[NEED_COUNT];	/* non-NULL: the reason it cannot */
};

/* Why an EXIT_DEBUG stopped the vCPU. */
enum engine_debug_stop {
	DEBUG_STOP_STEP,	/* one instruction (or event delivery) done */
	DEBUG_STOP_BREAK,	/* at a breakpoint address, its instruction not run */
	DEBUG_STOP_WATCH,	/* a watched access done */
};

/*
 * What a debugger (userspace/gdb/) asks of an engine. Hardware slots in
 * DR7 terms (SDM Vol. 3B 18.2.4): dr[i] is enabled by DR7.Li (bit 2i),
 * its R/Wi field (bits 16+4i) is 00 execute, 01 write, 11 read/write, its
 * LENi (bits 18+4i) 00/01/11/10 for 1/2/4/8 bytes. Software breakpoints
 * are linear addresses the engine stops before without touching guest
 * memory. An engine takes what it can and refuses the rest with one line
 * (e.g. kvm: the software breakpoints must fit the free debug registers;
 * bt: no watchpoints), so the stub can answer gdb "unsupported".
 */
#define ENGINE_DEBUG_MAX_SW	64
#define DR7_RW_EXEC		0u
#define DR7_RW_WRITE		1u
#define DR7_RW_ACCESS		3u
struct engine_debug {
	bool single_step;
	uint64_t dr[4];
	uint32_t dr7;
	unsigned nr_sw;
	uint64_t sw[ENGINE_DEBUG_MAX_SW];
};

enum exit_kind {
	EXIT_NONE,
	EXIT_IO,		/* port access, see io */
	EXIT_MMIO,		/* access outside RAM, see mmio */
	EXIT_HLT,
	EXIT_IRQ_WINDOW,	/* the guest can take an interrupt now */
	EXIT_KICKED,		/* engine_ops.kick or a signal interrupted the run */
	EXIT_SHUTDOWN,		/* triple fault */
	EXIT_ERROR,		/* engine failure; see error */
	/* The guest switched to a mode this engine cannot run (bt: real mode,
	 * 16-bit code, long mode). The state is complete and consistent after
	 * the instruction that switched, so another engine can continue from
	 * it (the hybrid engine does); error.msg names the mode. */
	EXIT_MODE_UNSUPPORTED,
	/* A stop set_guest_debug asked for: a single step done, an execution
	 * breakpoint reached (before its instruction runs), a watchpoint hit
	 * (after the access); see debug. */
	EXIT_DEBUG,
	/* A guest RDMSR/WRMSR of an MSR that belongs to a device model, not
	 * to the CPU (engine_msr_to_vmm): the VMM answers it, see msr. */
	EXIT_MSR,
	EXIT_KIND_COUNT
};

/* An EXIT_MSR's access. The engine completes the instruction on its next
 * vcpu_run, as an IN: a read loads EDX:EAX from data; gp, set by the VMM,
 * raises #GP(0) instead and changes nothing (KVM's KVM_EXIT_X86_RDMSR/
 * WRMSR model). */
struct engine_msr {
	uint32_t index;		/* ECX */
	bool write;
	bool gp;		/* VMM: refuse with #GP(0) */
	uint64_t data;		/* WRMSR: EDX:EAX; RDMSR: the VMM's answer */
	uint64_t tsc;		/* the guest's TSC at the access */
};

struct vcpu_exit {
	enum exit_kind kind;
	bool irq_window_open;	/* after this exit, inject_irq would be taken */
	uint32_t raw_reason;	/* engine's own exit reason number */
	uint64_t rip;		/* guest RIP (linear if known) at the exit */
	/* Optional: CR0/CR4/EFER at this exit, set by an engine that has them
	 * for free (bt keeps them in memory; kvm with KVM_SYNC_X86_SREGS), so
	 * the stats see a mode switch at the first exit after it instead of
	 * at the next 100 ms sample. false: unknown. */
	bool ctl_valid;
	uint64_t cr0, cr4, efer;
	union {
		struct {
			uint16_t port;
			uint8_t size;		/* 1, 2 or 4 */
			bool write;
			uint32_t count;		/* >1 for REP INS/OUTS */
			uint8_t *data;		/* count*size bytes, engine-owned */
		} io;
		struct {
			uint64_t gpa;
			uint8_t size;		/* 1 to 8 */
			bool write;
			uint8_t *data;		/* size bytes, engine-owned, as io.data */
		} mmio;
		struct engine_msr *msr;	/* engine-owned, as io.data */
		struct {
			enum engine_debug_stop reason;
			uint64_t addr;		/* the breakpoint's or watched address */
		} debug;
		struct {
			char msg[192];
			uint8_t last_vector;	/* last exception seen, 0xff: none */
		} error;
	};
};

struct engine_stats {
	uint64_t runs;
	uint64_t exits[EXIT_KIND_COUNT];
	/* engine-specific counters, name/value pairs for the console */
	unsigned nr_counters;
	struct { const char *name; uint64_t value; } counter[64];	/* STATS_MAX_COUNTERS */
};

#define ENGINE_MAP_READONLY	0x1u

/*
 * The VMM's port-I/O fast path (engine_ops.set_io_fast). An engine that
 * can finish a port access without returning from vcpu_run (bt: from the
 * IN/OUT callout) calls io() instead of reporting EXIT_IO, and saves the
 * VMM's whole exit path (device polls, statistics, a poll syscall). io()
 * does the access on the VMM's bus (an IN fills data, size bytes) and
 * answers whether the vCPU may run on: false when the VMM must see an
 * exit now (an interrupt became pending, a stop or pause was asked). The
 * engine then completes the instruction and returns EXIT_KICKED, which
 * the VMM answers as any other exit. The engine still knows no device:
 * it calls the VMM, the VMM's bus finds the device. rip: the IN/OUT's
 * address, as vcpu_exit.rip would be (hyvm top's exit sites).
 */
struct engine_io_fast {
	bool (*io)(void *ctx, uint64_t rip, uint16_t port, uint8_t size, bool write,
		   uint8_t *data);
	void *ctx;
};

struct engine_ops {
	const char *name;
	/* Fills caps; never fails: absence is a cap. */
	void (*probe)(struct engine_caps *caps);
	/* Errors: return -1 and write one line to err. */
	int (*vm_create)(struct engine_vm **vm, char *err, size_t errlen);
	/* One slot of the memory map (vmm/memory_map.h), called once per slot
	 * before vcpu_create. host: the VMM's single mapping of the memfd;
	 * memfd/offset let an engine map its own views of the same pages (bt,
	 * hyvm.ko). ENGINE_MAP_READONLY (ROM): guest reads see the bytes,
	 * guest writes leave them unchanged (an engine may report them as
	 * EXIT_MMIO writes, which the VMM drops). An engine that cannot map
	 * a slot (too high, or read-only) refuses it with one line. */
	int (*map_ram)(struct engine_vm *vm, uint64_t gpa, void *host,
		       uint64_t size, int memfd, off_t offset, unsigned flags,
		       char *err, size_t errlen);
	int (*vcpu_create)(struct engine_vm *vm, int index,
			   struct engine_vcpu **vcpu, char *err, size_t errlen);
	/* Runs until an exit the VMM must see. 0 on success, -1 + exit->error
	 * on failure. */
	int (*vcpu_run)(struct engine_vcpu *vcpu, struct vcpu_exit *exit);
	int (*get_state)(struct engine_vcpu *vcpu, struct hyvm_cpu_state *st);
	int (*set_state)(struct engine_vcpu *vcpu, const struct hyvm_cpu_state *st,
			 char *err, size_t errlen);
	/* The VM's CPU model (cpu/): what CPUID answers from now on. Called
	 * once after vcpu_create, before set_state. */
	int (*set_cpuid)(struct engine_vcpu *vcpu, const struct hyvm_cpuid_table *t,
			 char *err, size_t errlen);
	/* Valid only right after an exit with irq_window_open. */
	int (*inject_irq)(struct engine_vcpu *vcpu, uint8_t vector);
	/* Ask for EXIT_IRQ_WINDOW as soon as the guest can take an interrupt. */
	void (*request_irq_window)(struct engine_vcpu *vcpu, bool on);
	/* Async-signal-safe: make a running or about-to-run vcpu_run return
	 * EXIT_KICKED soon. */
	void (*kick)(struct engine_vcpu *vcpu);
	void (*read_stats)(struct engine_vcpu *vcpu, struct engine_stats *st);
	/* Optional: the engine's name for a raw_reason (e.g. "KVM_EXIT_IO");
	 * NULL op or NULL result: the console shows the number. */
	const char *(*raw_reason_name)(uint32_t raw_reason);
	/* Optional: the live statistics, for an engine that records events
	 * of its own there (the hybrid engine's switches). */
	void (*attach_stats)(struct engine_vcpu *vcpu, struct stats_writer *w, int index);
	/* Optional: the VMM (a device's DMA, vmm/dma_mem.h) wrote guest RAM
	 * at [gpa, gpa + len) behind the engine's back. Called on the vCPU
	 * thread between runs. An engine that keeps something derived from
	 * RAM (bt: translated code, shadow page tables) drops it; hardware
	 * engines see RAM coherently and leave this NULL. */
	void (*ram_written)(struct engine_vm *vm, uint64_t gpa, uint64_t len);
	/* Optional: port accesses from now on through f (NULL: every one an
	 * EXIT_IO). Called on the vCPU thread between runs; f outlives the
	 * vCPU or is withdrawn (NULL) first. */
	void (*set_io_fast)(struct engine_vcpu *vcpu, const struct engine_io_fast *f);
	/* Optional: debugging from now on (dbg NULL: none). Called on the
	 * vCPU thread between runs. -1 and one line in err for what the
	 * engine cannot do; NULL op: the engine cannot debug at all. */
	int (*set_guest_debug)(struct engine_vcpu *vcpu, const struct engine_debug *dbg,
			       char *err, size_t errlen);
	/* Optional: the A20 gate (devices' A20 line: port 0x92, the i8042),
	 * called on the vCPU thread between runs. Off: the vCPU drives
	 * physical address bit 20 low (SDM Vol. 3A, 8.7.13.4, A20M#), so the
	 * odd megabytes alias the even ones (the 1 MiB wrap of the 8086).
	 * On at vcpu_create. NULL: the engine has no gate and keeps A20 on;
	 * the hardware engines (kvm, svm, vmx) are such: VT-x and AMD-V have
	 * no A20 masking, KVM offers none, and an alias would have to be
	 * every odd megabyte remapped in the nested page tables. */
	void (*set_a20)(struct engine_vcpu *vcpu, bool enabled);
	void (*vcpu_destroy)(struct engine_vcpu *vcpu);
	void (*vm_destroy)(struct engine_vm *vm);
};

/* The MSRs that belong to a device model rather than to the CPU, which
 * an engine with caps.msr_exits hands to the VMM as EXIT_MSR whatever the
 * CPU model says (the VMM raises #GP for one the model lacks): only the
 * local APIC's IA32_TSC_DEADLINE (devices/apic/lapic_timer.c) so far. */
static inline bool engine_msr_to_vmm(uint32_t index)
{
	return index == MSR_IA32_TSC_DEADLINE;
}

/* Engines register themselves; auto prefers higher preference (hardware
 * engines over bt). */
void engine_register(const struct engine_ops *ops, int preference);
#define ENGINE_REGISTER(ops, preference)				\
	__attribute__((constructor)) static void register_##ops(void)	\
	{ engine_register(&(ops), (preference)); }

/* The registry: engines in order of preference for --engine auto. */
const struct engine_ops *engine_find(const char *name);
const struct engine_ops *const *engine_list(void);
/* Picks the first present engine that can run a guest with these needs;
 * NULL if none (why says so). */
const struct engine_ops *engine_pick_auto(const bool needs[NEED_COUNT],
					  char *why, size_t whylen);
const char *guest_need_name(enum guest_need n);
int guest_need_parse(const char *token);	/* -1 if unknown */

/* host_fp_faults.c: whether the host CPU raises FP errors as the SDM
 * says; each engine's probe calls the second, which marks
 * NEED_FP_EXCEPTIONS when it does not. */
bool host_fp_faults_exact(void);
void host_fp_faults_limit(struct engine_caps *caps);

#endif
