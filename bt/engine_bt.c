/*
 * The bt engine: binary translation in user space (bt/), behind the same
 * engine interface as kvm. Runs 32-bit protected-mode guests on any x86-64
 * Linux host, no VT-x or AMD-V needed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <x86intrin.h>
#include "engines/engine.h"
#include "bt/bt.h"
#include "bt/cpu/cpu.h"
#include "bt/memory/soft_tlb.h"
#include "bt/memory/memory.h"
#include "bt/cpu/mmio.h"
#include "bt/memory/mmu.h"
#include "bt/translate/translator.h"
#include "cpu/cpu_model.h"

struct engine_vm {
	struct bt_vm vm;
};

struct engine_vcpu {
	struct bt_cpu *cpu;
	struct engine_stats st;
};

static void bt_probe(struct engine_caps *caps)
{
	memset(caps, 0, sizeof(*caps));
#if defined(__x86_64__) && defined(__linux__)
	caps->present = true;
	caps->msr_exits = true;		/* cpu/callouts_msr.c */
#else
	snprintf(caps->absent_why, sizeof(caps->absent_why), "bt needs an x86-64 Linux host");
#endif
	snprintf(caps->description, sizeof(caps->description),
		 "binary translation (user space, no VT needed)");
	caps->cannot[NEED_LONG_MODE] = "long mode needs hardware assist";
	caps->cannot[NEED_HIGH_RAM] = BT_NO_HIGH_RAM;
	host_fp_faults_limit(caps);
}

static int bt_vm_create(struct engine_vm **out, char *err, size_t errlen)
{
	struct engine_vm *evm = calloc(1, sizeof(*evm));

	if (!evm) {
		snprintf(err, errlen, "bt: out of memory");
		return -1;
	}
	evm->vm.memfd = -1;
	/* memory's way up to the CPU and the translator (bt.h) */
	evm->vm.hooks = (struct bt_memory_hooks){
		.page_fault = guest_page_fault,
		.code_page_written = tc_invalidate_phys_page,
		.retranslate_at = tc_invalidate_blocks_at,
		.mapping_dropped = jc_drop_page,
	};
	if (signals_install(err, errlen))
		goto fail;
	if (!ZYAN_SUCCESS(ZydisDecoderInit(&evm->vm.decoder, ZYDIS_MACHINE_MODE_LONG_COMPAT_32,
					   ZYDIS_STACK_WIDTH_32)) ||
	    !ZYAN_SUCCESS(ZydisDecoderInit(&evm->vm.decoder16, ZYDIS_MACHINE_MODE_LEGACY_16,
					   ZYDIS_STACK_WIDTH_16))) {
		snprintf(err, errlen, "bt: Zydis decoder init failed");
		goto fail;
	}
	size_t limit = tc_limit_from_env(err, errlen);
	if (!limit)
		goto fail;
	evm->vm.tc = tc_create(limit);
	if (!evm->vm.tc) {
		snprintf(err, errlen, "bt: cannot allocate the translation cache (%zu KiB)", limit >> 10);
		goto fail;
	}
	if (phys_init(&evm->vm, err, errlen) || view_init(&evm->vm, err, errlen))
		goto fail;
	*out = evm;
	return 0;
fail:
	tc_destroy(evm->vm.tc);
	phys_destroy(&evm->vm);
	free(evm);
	return -1;
}

static int bt_map_ram(struct engine_vm *evm, uint64_t gpa, void *host, uint64_t size,
		      int memfd, off_t offset, unsigned flags, char *err, size_t errlen)
{
	struct bt_vm *vm = &evm->vm;

	(void)host;	/* bt maps the memfd itself (phys.c) */
	if (vm->cpu) {
		snprintf(err, errlen, "bt: memory is mapped before the vCPU is created");
		return -1;
	}
	if (phys_add(vm, gpa, size, memfd, offset, flags & ENGINE_MAP_READONLY, err, errlen))
		return -1;
	/* per physical page below the end of the highest slot */
	size_t pages = (vm->ram_size >> 12) + 1;
	uint8_t *code = realloc(vm->code_pages, pages), *pt = realloc(vm->pt_pages, pages);
	if (code)
		vm->code_pages = code;
	if (pt)
		vm->pt_pages = pt;
	if (!code || !pt) {
		snprintf(err, errlen, "bt: out of memory");
		return -1;
	}
	memset(vm->code_pages, 0, pages);
	memset(vm->pt_pages, 0, pages);
	view_reset(vm);
	return 0;
}

static int bt_vcpu_create(struct engine_vm *evm, int index, struct engine_vcpu **out,
			  char *err, size_t errlen)
{
	struct engine_vcpu *v;
	struct bt_cpu *cpu;

	if (index != 0 || evm->vm.cpu || !evm->vm.nr_phys) {
		snprintf(err, errlen, "bt: one vCPU per VM, created after map_ram");
		return -1;
	}
	v = calloc(1, sizeof(*v));
	cpu = mmap(NULL, sizeof(*cpu), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!v || cpu == MAP_FAILED) {
		free(v);
		snprintf(err, errlen, "bt: out of memory");
		return -1;
	}
	cpu->vm = &evm->vm;
	cpu->pending_irq = -1;
	cpu->callout_in_block = callout_in_block;
	cpu->stlb_fault_in_block = stlb_fault_in_block;
	cpu->xfer_epoch = 1;	/* a bt_sys_fast's 0 never matches */
	cpu->last_vector = 0xff;
	cpu->eflags = 0x2;
	cpu->arch.cr0 = 0x10;
	/* a clean x87/SSE image: FCW 0x37f, MXCSR 0x1f80 */
	cpu->fx_guest[0] = 0x7f;
	cpu->fx_guest[1] = 0x03;
	cpu->fx_guest[24] = 0x80;
	cpu->fx_guest[25] = 0x1f;
	/* until set_cpuid: the host model, as bt alone honours it */
	struct cpu_model model;
	if (cpu_model_build(CPU_MODEL_DEFAULT, &(struct cpu_model_limits){ 0 }, &model,
			    err, errlen) < 0) {
		munmap(cpu, sizeof(*cpu));
		free(v);
		return -1;
	}
	cpu->cpuid = model.cpuid;
	bt_cpuid_prepare(cpu);
	cpu_msrs_init(&cpu->msrs, &cpu->cpuid, index == 0);
	evm->vm.cpu = cpu;
	jc_reset_all(cpu);
	soft_tlb_init(cpu);	/* a zero tag would match linear page 0 */
	v->cpu = cpu;
	*out = v;
	return 0;
}

static int bt_vcpu_run(struct engine_vcpu *v, struct vcpu_exit *exit)
{
	int r;

	v->st.runs++;
	r = dispatch_run(v->cpu, exit);
	if (exit->kind < EXIT_KIND_COUNT)
		v->st.exits[exit->kind]++;
	return r;
}

static int bt_get_state(struct engine_vcpu *v, struct hyvm_cpu_state *st)
{
	struct bt_cpu *cpu = v->cpu;

	*st = cpu->arch;
	for (int i = 0; i < 8; i++)
		st->gpr[i] = cpu->gpr[i];
	st->rip = cpu->eip;
	st->rflags = cpu->eflags;
	st->halted = cpu->halted;
	st->interruptibility = cpu->intr_shadow;
	/* The guest's TSC, as KVM's MSR_IA32_TSC and hyvm.ko give it: not
	 * bt's offset from the host's, or a hybrid switch to kvm would set
	 * the guest's TSC back to about zero (SDM Vol. 3B, 17.17) */
	st->tsc = __rdtsc() + cpu->tsc_offset;
	memcpy(st->fxsave, cpu->fx_guest, sizeof(st->fxsave));
	/* from what bt still has to deliver, never arch.event: that is the
	 * last set_state's, long delivered (a stale copy made the next
	 * engine inject it a second time) */
	bt_event_to_state(cpu, st);
	return 0;
}

static int bt_set_state(struct engine_vcpu *v, const struct hyvm_cpu_state *st,
			char *err, size_t errlen)
{
	struct bt_cpu *cpu = v->cpu;

	if ((st->efer & EFER_LMA) || (st->seg[HYVM_CS].attrib & HYVM_SEG_L)) {
		snprintf(err, errlen, "bt: long mode needs hardware assist");
		return -1;
	}
	cpu->arch = *st;
	for (int i = 0; i < 8; i++)
		cpu->gpr[i] = (uint32_t)st->gpr[i];
	cpu->eip = (uint32_t)st->rip;
	cpu->eflags = ((uint32_t)st->rflags | EFLAGS_FIXED1) & ~EFLAGS_RF;
	cpu->halted = st->halted;
	cpu->intr_shadow = (uint8_t)(st->interruptibility & 3);
	cpu->shutdown = false;
	bt_event_from_state(cpu, st);
	memset(&cpu->arch.event, 0, sizeof(cpu->arch.event));
	cpu->tsc_offset = st->tsc - __rdtsc();	/* the TSC goes on from st->tsc */
	memcpy(cpu->fx_guest, st->fxsave, sizeof(cpu->fx_guest));
	if (!cpu->fx_guest[0] && !cpu->fx_guest[1]) {
		cpu->fx_guest[0] = 0x7f;	/* an all-zero image would unmask x87 faults */
		cpu->fx_guest[1] = 0x03;
		cpu->fx_guest[24] = 0x80;
		cpu->fx_guest[25] = 0x1f;
	}
	tc_flush(cpu->vm, "new CPU state");
	return 0;
}

static int bt_set_cpuid(struct engine_vcpu *v, const struct hyvm_cpuid_table *t,
			char *err, size_t errlen)
{
	if (hyvm_cpuid_table_check(t) < 0) {
		snprintf(err, errlen, "bt: invalid CPUID table");
		return -1;
	}
	v->cpu->cpuid = *t;
	bt_cpuid_prepare(v->cpu);
	cpu_msrs_init(&v->cpu->msrs, t, true);	/* one vCPU: the BSP */
	return 0;
}

static int bt_inject_irq(struct engine_vcpu *v, uint8_t vector)
{
	v->cpu->pending_irq = vector;
	v->cpu->halted = false;
	return 0;
}

static void bt_request_irq_window(struct engine_vcpu *v, bool on)
{
	v->cpu->irq_window_wanted = on;
}

static void bt_kick(struct engine_vcpu *v)
{
	v->cpu->kicked = true;
	tc_kick(v->cpu->vm->tc);
}

static void bt_read_stats(struct engine_vcpu *v, struct engine_stats *st)
{
	*st = v->st;
	st->nr_counters = 0;
#define BT_STAT_COUNTER(f, cname)						\
	if (st->nr_counters < sizeof(st->counter) / sizeof(st->counter[0])) {	\
		st->counter[st->nr_counters].name = cname;			\
		st->counter[st->nr_counters++].value = v->cpu->stats.f;	\
	}
	BT_STATS(BT_STAT_COUNTER)
#undef BT_STAT_COUNTER
	/* #UD by opcode, as many as fit after the fixed counters */
	for (unsigned i = 0; i < BT_UD_KINDS && v->cpu->ud[i].count; i++)
		if (st->nr_counters < sizeof(st->counter) / sizeof(st->counter[0])) {
			st->counter[st->nr_counters].name = v->cpu->ud[i].name;
			st->counter[st->nr_counters++].value = v->cpu->ud[i].count;
		}
	if (v->cpu->ud_other && st->nr_counters < sizeof(st->counter) / sizeof(st->counter[0])) {
		st->counter[st->nr_counters].name = "bt.ud.other";
		st->counter[st->nr_counters++].value = v->cpu->ud_other;
	}
}

static void bt_vcpu_destroy(struct engine_vcpu *v)
{
	if (!v)
		return;
	/* HYVM_BT_STATS=1: the counters on stderr at the end of a run */
	if (getenv("HYVM_BT_STATS")) {
		struct engine_stats st;
		bt_read_stats(v, &st);
		fprintf(stderr, "bt: %llu runs\n", (unsigned long long)st.runs);
		for (unsigned i = 0; i < st.nr_counters; i++)
			fprintf(stderr, "bt: %-36s %llu\n", st.counter[i].name,
				(unsigned long long)st.counter[i].value);
	}
	v->cpu->vm->cpu = NULL;
	bt_emulate_free(v->cpu);
	munmap(v->cpu, sizeof(*v->cpu));
	free(v);
}

static void bt_vm_destroy(struct engine_vm *evm)
{
	if (!evm)
		return;
	tc_destroy(evm->vm.tc);
	if (evm->vm.view)
		munmap(evm->vm.view, BT_VIEW_BYTES);
	shadow_destroy(&evm->vm);
	phys_destroy(&evm->vm);
	free(evm->vm.code_pages);
	free(evm->vm.pt_pages);
	free(evm->vm.smc_pages);
	free(evm);
}

/* DMA behind bt's back: translations from the written pages die and the
 * pages lose their write protection, as a guest write there would do
 * (dispatch.c); a page table written this way drops every shadow. */
static void bt_ram_written(struct engine_vm *evm, uint64_t gpa, uint64_t len)
{
	struct bt_vm *vm = &evm->vm;
	uint64_t pages = vm->ram_size >> 12, first = gpa >> 12, last = (gpa + len - 1) >> 12;
	bool pt = false;

	if (!vm->code_pages || !vm->cpu || len == 0 || first >= pages)
		return;
	if (last >= pages)
		last = pages - 1;
	for (uint64_t p = first; p <= last; p++) {
		if (vm->code_pages[p]) {
			tc_invalidate_phys_page(vm, (uint32_t)p);
			view_unprotect_code_page(vm, (uint32_t)p);
		}
		if (vm->pt_pages && vm->pt_pages[p])
			pt = true;
	}
	if (pt)
		shadow_reset(vm);
}

static void bt_set_io_fast(struct engine_vcpu *v, const struct engine_io_fast *f)
{
	v->cpu->io_fast = f;
}

/* The A20 gate: phys_a20 masks bit 20 from now on. Translations, shadow
 * mappings and the flat view were made for the other physical map, so
 * all are dropped (A20 changes a few times a boot). */
static void bt_set_a20(struct engine_vcpu *v, bool enabled)
{
	struct bt_vm *vm = v->cpu->vm;

	if (vm->a20_off == !enabled)
		return;
	vm->a20_off = !enabled;
	tc_flush(vm, "A20 gate changed");	/* view_reset clears the flat view too */
}

static int bt_set_debug(struct engine_vcpu *v, const struct engine_debug *d, char *err,
			size_t errlen)
{
	return bt_set_guest_debug(v->cpu, d, err, errlen);
}

const struct engine_ops bt_engine_ops = {
	.name = "bt",
	.probe = bt_probe,
	.vm_create = bt_vm_create,
	.map_ram = bt_map_ram,
	.vcpu_create = bt_vcpu_create,
	.vcpu_run = bt_vcpu_run,
	.get_state = bt_get_state,
	.set_state = bt_set_state,
	.set_cpuid = bt_set_cpuid,
	.inject_irq = bt_inject_irq,
	.request_irq_window = bt_request_irq_window,
	.kick = bt_kick,
	.read_stats = bt_read_stats,
	.ram_written = bt_ram_written,
	.set_io_fast = bt_set_io_fast,
	.set_guest_debug = bt_set_debug,
	.set_a20 = bt_set_a20,
	.vcpu_destroy = bt_vcpu_destroy,
	.vm_destroy = bt_vm_destroy,
};
ENGINE_REGISTER(bt_engine_ops, 10)
