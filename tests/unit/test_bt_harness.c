/* The bt test VM (see test_bt_harness.h). */
#include <stdio.h>
#include <sys/mman.h>
#include "test_bt_harness.h"

int tg_init(struct tg *g)
{
	memset(g, 0, sizeof(*g));
	g->memfd = memfd_create("bt-test-ram", 0);
	if (g->memfd < 0 || ftruncate(g->memfd, TG_RAM_SIZE))
		return -1;
	g->ram = mmap(NULL, TG_RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, g->memfd, 0);
	if (g->ram == MAP_FAILED)
		return -1;
	if (bt_engine_ops.vm_create(&g->vm, g->err, sizeof(g->err)) ||
	    bt_engine_ops.map_ram(g->vm, 0, g->ram, TG_RAM_SIZE, g->memfd, 0, 0, g->err, sizeof(g->err)) ||
	    bt_engine_ops.vcpu_create(g->vm, 0, &g->vcpu, g->err, sizeof(g->err)))
		return -1;
	g->pc = 0x10000;
	return 0;
}

void tg_fini(struct tg *g)
{
	if (g->vcpu)
		bt_engine_ops.vcpu_destroy(g->vcpu);
	if (g->vm)
		bt_engine_ops.vm_destroy(g->vm);
	if (g->ram && g->ram != MAP_FAILED)
		munmap(g->ram, TG_RAM_SIZE);
	if (g->memfd >= 0)
		close(g->memfd);
}

static void flat_seg(struct hyvm_segment *s, uint16_t sel, bool code, unsigned dpl)
{
	s->selector = sel;
	s->base = 0;
	s->limit = 0xffffffffu;
	s->attrib = (code ? 0xb : 0x3) | HYVM_SEG_S | (dpl << HYVM_SEG_DPL_SHIFT) | HYVM_SEG_P |
		    HYVM_SEG_DB | HYVM_SEG_G;
}

void tg_flat_state(struct tg *g, uint32_t eip)
{
	struct hyvm_cpu_state *st = &g->st;

	memset(st, 0, sizeof(*st));
	flat_seg(&st->seg[HYVM_CS], 0x08, true, 0);
	for (int s = HYVM_ES; s <= HYVM_GS; s++)
		if (s != HYVM_CS)
			flat_seg(&st->seg[s], 0x10, false, 0);
	st->seg[HYVM_LDTR].attrib = HYVM_SEG_UNUSABLE;
	st->seg[HYVM_TR].selector = 0x28;
	st->seg[HYVM_TR].base = 0x600;
	st->seg[HYVM_TR].limit = 0x67;
	st->seg[HYVM_TR].attrib = 0xb | HYVM_SEG_P;
	st->gdtr.base = 0x500;
	st->gdtr.limit = 0x2f;
	st->idtr.base = 0x800;
	st->idtr.limit = 0x7ff;
	st->cr0 = 0x11;
	st->rflags = 0x2;
	st->rip = eip;
	st->gpr[HYVM_RSP] = 0x80000;
}

int tg_start(struct tg *g)
{
	return bt_engine_ops.set_state(g->vcpu, &g->st, g->err, sizeof(g->err));
}

int tg_run(struct tg *g)
{
	for (int i = 0; i < 1000; i++) {
		if (bt_engine_ops.vcpu_run(g->vcpu, &g->exit) < 0)
			return EXIT_ERROR;
		if (g->exit.kind != EXIT_KICKED && g->exit.kind != EXIT_IRQ_WINDOW)
			break;
	}
	bt_engine_ops.get_state(g->vcpu, &g->st);
	return g->exit.kind;
}

uint64_t tg_counter(struct tg *g, const char *name)
{
	struct engine_stats st;

	bt_engine_ops.read_stats(g->vcpu, &st);
	for (unsigned i = 0; i < st.nr_counters; i++)
		if (!strcmp(st.counter[i].name, name))
			return st.counter[i].value;
	return ~0ull;
}

static void put_desc(uint8_t *p, uint32_t base, uint32_t limit, unsigned access, unsigned flags)
{
	uint64_t d = (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) |
		     ((uint64_t)access << 40) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
		     ((uint64_t)flags << 52) | ((uint64_t)(base >> 24) << 56);
	memcpy(p, &d, 8);
}

void tg_tables(struct tg *g, const uint32_t *handlers, int n)
{
	uint8_t *gdt = g->ram + 0x500;

	memset(gdt, 0, 0x30);
	put_desc(gdt + 0x08, 0, 0xfffff, 0x9b, 0xc);
	put_desc(gdt + 0x10, 0, 0xfffff, 0x93, 0xc);
	put_desc(gdt + 0x18, 0, 0xfffff, 0xfb, 0xc);
	put_desc(gdt + 0x20, 0, 0xfffff, 0xf3, 0xc);
	put_desc(gdt + 0x28, 0x600, 0x67, 0x89, 0x0);
	memset(g->ram + 0x800, 0, 0x800);
	for (int i = 0; i < n; i++) {
		if (!handlers[i])
			continue;
		uint64_t gate = (handlers[i] & 0xffff) | (0x08ull << 16) | (0xeeull << 40) |
				((uint64_t)(handlers[i] >> 16) << 48);
		memcpy(g->ram + 0x800 + 8 * i, &gate, 8);
	}
	/* TSS: ring-0 stack for interrupts from ring 3 */
	uint32_t esp0 = 0x70000, ss0 = 0x10;
	memcpy(g->ram + 0x600 + 4, &esp0, 4);
	memcpy(g->ram + 0x600 + 8, &ss0, 4);
}
