/*
 * Guest-physical RAM lookup and the guest page-table walk (AMD APM Vol. 2,
 * 5.2-5.4; Intel SDM Vol. 3, 4.3-4.5). Entries are updated with atomic
 * ORs because the guest's other vCPUs may walk the same tables.
 */
#include <string.h>
#include "emul/guest_walk.h"

#include <hyvm/x86.h>

#define ADDR_MASK	0x000ffffffffff000ULL

int guest_mem_add(struct guest_mem *m, uint64_t gpa, void *host, uint64_t size)
{
	if (m->nr >= GUEST_MEM_MAX_SLOTS || !size || !host)
		return -1;
	m->slot[m->nr].gpa = gpa;
	m->slot[m->nr].size = size;
	m->slot[m->nr].host = host;
	m->nr++;
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

/* One table entry: its host address, 4 or 8 bytes wide. */
struct walk {
	const struct guest_mem *m;
	void *entry[4];
	bool wide[4];
	unsigned depth;
};

static bool read_entry(struct walk *w, uint64_t gpa, bool wide, uint64_t *val)
{
	uint8_t *p = guest_mem_ptr(w->m, gpa, wide ? 8 : 4);

	if (!p)
		return false;
	if (wide) {
		*val = __atomic_load_n((uint64_t *)p, __ATOMIC_RELAXED);
	} else {
		*val = __atomic_load_n((uint32_t *)p, __ATOMIC_RELAXED);
	}
	w->entry[w->depth] = p;
	w->wide[w->depth] = wide;
	w->depth++;
	return true;
}

static void set_bits(struct walk *w, bool write)
{
	for (unsigned i = 0; i < w->depth; i++) {
		uint64_t bits = PTE_A | (write && i == w->depth - 1 ? PTE_D : 0);

		if (w->wide[i])
			__atomic_fetch_or((uint64_t *)w->entry[i], bits, __ATOMIC_RELAXED);
		else
			__atomic_fetch_or((uint32_t *)w->entry[i], (uint32_t)bits, __ATOMIC_RELAXED);
	}
}

enum gm_result guest_translate(const struct guest_mem *m, const struct hyvm_cpu_state *st,
			       uint64_t linear, enum gm_access how, uint64_t *gpa,
			       uint32_t *pf_err)
{
	struct walk w = { .m = m };
	bool user = guest_cpl(st) == 3, write = how == GM_WRITE;
	bool nxe = st->efer & EFER_NXE;
	uint64_t e = 0, allowed = PTE_W | PTE_U, nx = 0, base;
	uint32_t err = (write ? PFERR_W : 0) | (user ? PFERR_U : 0) |
		       (how == GM_FETCH && nxe ? PFERR_I : 0);
	int level;		/* 2-level, 3-level PAE or 4-level */
	unsigned shift;

	if (!(st->cr0 & CR0_PG)) {
		*gpa = (st->efer & EFER_LMA) ? linear : (uint32_t)linear;
		return GM_OK;
	}
	if (!(st->cr4 & CR4_PAE)) {
		/* 32-bit paging: PDE, then PTE or a 4 MiB page (PSE, PSE-36). */
		uint32_t lin = linear;

		if (!read_entry(&w, (st->cr3 & 0xfffff000) + (lin >> 22) * 4, false, &e))
			return GM_TABLE_NOT_RAM;
		if (!(e & PTE_P))
			goto fault;
		allowed &= e;
		if ((e & PTE_PS) && (st->cr4 & CR4_PSE)) {
			*gpa = (e & 0xffc00000) | ((e >> 13) & 0xff) << 32 | (lin & 0x3fffff);
			goto check;
		}
		if (!read_entry(&w, (e & 0xfffff000) + ((lin >> 12) & 0x3ff) * 4, false, &e))
			return GM_TABLE_NOT_RAM;
		if (!(e & PTE_P))
			goto fault;
		allowed &= e;
		*gpa = (e & 0xfffff000) | (lin & 0xfff);
		goto check;
	}
	if (st->efer & EFER_LMA) {
		level = 4;
		base = st->cr3 & ADDR_MASK;
	} else {
		/* PAE: the PDPTE has no RW/US/NX (APM 5.3.3). */
		linear = (uint32_t)linear;
		if (!read_entry(&w, (st->cr3 & 0xffffffe0) + ((linear >> 30) & 3) * 8, true, &e))
			return GM_TABLE_NOT_RAM;
		if (!(e & PTE_P))
			goto fault;
		level = 2;
		base = e & ADDR_MASK;
	}
	for (; level >= 1; level--) {
		shift = 12 + 9 * (level - 1);
		if (!read_entry(&w, base + ((linear >> shift) & 0x1ff) * 8, true, &e))
			return GM_TABLE_NOT_RAM;
		if (!(e & PTE_P))
			goto fault;
		allowed &= e;
		nx |= nxe ? (e & PTE_NX) : 0;
		if (level == 1 || ((e & PTE_PS) && level <= 3)) {
			uint64_t mask = (1ULL << shift) - 1;

			*gpa = (e & ADDR_MASK & ~mask) | (linear & mask);
			goto check;
		}
		base = e & ADDR_MASK;
	}
check:
	err |= PFERR_P;
	if (user && !(allowed & PTE_U))
		goto fault;
	if (write && !(allowed & PTE_W) && (user || (st->cr0 & CR0_WP)))
		goto fault;
	if (how == GM_FETCH && nx)
		goto fault;
	set_bits(&w, write);
	return GM_OK;
fault:
	*pf_err = err;
	return GM_PAGE_FAULT;
}
