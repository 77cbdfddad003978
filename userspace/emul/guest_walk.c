/*
 * Guest-physical RAM lookup and the guest page-table walk (AMD APM Vol. 2,
 * 5.2-5.4; Intel SDM Vol. 3, 4.3-4.5). Entries are updated with atomic
 * ORs because the guest's other vCPUs may walk the same tables.
 */
#include <string.h>
#include "emul/guest_walk.h"

#define PTE_P		(1ULL << 0)
#define PTE_RW		(1ULL << 1)
#define PTE_US		(1ULL << 2)
#define PTE_A		(1ULL << 5)
#define PTE_D		(1ULL << 6)
#define PTE_PS		(1ULL << 7)
#define PTE_NX		(1ULL << 63)
#define ADDR_MASK	0x000ffffffffff000ULL

#define CR0_PE		(1ULL << 0)
#define CR0_WP		(1ULL << 16)
#define CR0_PG		(1ULL << 31)
#define CR4_PSE		(1ULL << 4)
#define CR4_PAE		(1ULL << 5)
#define EFER_LMA	(1ULL << 10)
#define EFER_NXE	(1ULL << 11)
#define RFLAGS_VM	(1ULL << 17)

/* #PF error code bits (APM 8.4.2) */
#define PF_P		(1u << 0)
#define PF_W		(1u << 1)
#define PF_U		(1u << 2)
#define PF_I		(1u << 4)

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
	if (st->rflags & RFLAGS_VM)
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
	uint64_t e = 0, allowed = PTE_RW | PTE_US, nx = 0, base;
	uint32_t err = (write ? PF_W : 0) | (user ? PF_U : 0) |
		       (how == GM_FETCH && nxe ? PF_I : 0);
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
	err |= PF_P;
	if (user && !(allowed & PTE_US))
		goto fault;
	if (write && !(allowed & PTE_RW) && (user || (st->cr0 & CR0_WP)))
		goto fault;
	if (how == GM_FETCH && nx)
		goto fault;
	set_bits(&w, write);
	return GM_OK;
fault:
	*pf_err = err;
	return GM_PAGE_FAULT;
}
