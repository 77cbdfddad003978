/*
 * Guest-physical RAM lookup and, on the shared page walker
 * (x86/page_walk.c), the emulator's linear -> guest-physical translation.
 */
#include <string.h>
#include <hyvm/x86.h>
#include "emul/guest_walk.h"
#include "x86/page_walk.h"

int guest_mem_add(struct guest_mem *m, uint64_t gpa, void *host, uint64_t size)
{
	if (m->nr >= GUEST_MEM_MAX_SLOTS || !size || !host)
		return -1;
	m->slot[m->nr].gpa = gpa;
	m->slot[m->nr].size = size;
	m->slot[m->nr].host = host;
	m->slot[m->nr].readonly = false;
	m->nr++;
	return 0;
}

int guest_mem_add_rom(struct guest_mem *m, uint64_t gpa, void *host, uint64_t size)
{
	if (guest_mem_add(m, gpa, host, size) < 0)
		return -1;
	m->slot[m->nr - 1].readonly = true;
	return 0;
}

uint8_t *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < m->nr; i++) {
		uint64_t off = gpa - m->slot[i].gpa;

		if (gpa >= m->slot[i].gpa && off < m->slot[i].size &&
		    len <= m->slot[i].size - off)
			return m->slot[i].host + off;
	}
	return NULL;
}

uint8_t *guest_mem_ptr_write(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < m->nr; i++) {
		uint64_t off = gpa - m->slot[i].gpa;

		if (gpa >= m->slot[i].gpa && off < m->slot[i].size &&
		    len <= m->slot[i].size - off)
			return m->slot[i].readonly ? NULL : m->slot[i].host + off;
	}
	return NULL;
}

unsigned guest_cpl(const struct hyvm_cpu_state *st)
{
	if (!(st->cr0 & CR0_PE))
		return 0;
	if (st->rflags & EFLAGS_VM)
		return 3;
	return hyvm_seg_dpl(&st->seg[HYVM_SS]);
}

bool guest_is_64bit(const struct hyvm_cpu_state *st)
{
	return (st->efer & EFER_LMA) && (st->seg[HYVM_CS].attrib & HYVM_SEG_L);
}

static uint8_t *table_ptr(void *opaque, uint64_t gpa, unsigned len)
{
	return guest_mem_ptr(opaque, gpa, len);
}

static bool table_readonly(void *opaque, uint64_t gpa)
{
	return !guest_mem_ptr_write(opaque, gpa, 1);
}

enum gm_result guest_translate(const struct guest_mem *m, const struct hyvm_cpu_state *st,
			       uint64_t linear, enum gm_access how, uint64_t *gpa,
			       uint32_t *pf_err)
{
	/* The hardware walked these tables once already and would have
	 * raised a reserved-bit fault itself: assume the widest MAXPHYADDR
	 * rather than report one the CPU did not. */
	struct pw_context ctx = {
		.cr0 = st->cr0, .cr3 = st->cr3, .cr4 = st->cr4, .efer = st->efer,
		.maxphyaddr = 52, .table_ptr = table_ptr, .table_readonly = table_readonly, .opaque = (void *)m,
	};
	static const enum pw_access access[] = {
		[GM_READ] = PW_READ, [GM_WRITE] = PW_WRITE, [GM_FETCH] = PW_FETCH,
	};
	struct pw_result r;

	page_walk(&ctx, linear, access[how], guest_cpl(st) == 3, &r);
	switch (r.status) {
	case PW_OK:
		*gpa = r.phys;
		return GM_OK;
	case PW_TABLE_NOT_RAM:
		return GM_TABLE_NOT_RAM;
	default:
		*pf_err = r.error;
		return GM_PAGE_FAULT;
	}
}
