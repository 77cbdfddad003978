/*
 * The guest page walk (see page_walk.h). Section numbers are the Intel
 * SDM Vol. 3A's; the AMD APM Vol. 2 (5.2-5.4) describes the same walk.
 */
#include <string.h>
#include <hyvm/x86.h>
#include "x86/page_walk.h"

/* One walk in progress: the entries read so far, for the A/D update. */
struct walker {
	const struct pw_context *ctx;
	struct pw_result *r;
	void *host[PW_MAX_ENTRIES];
	bool wide[PW_MAX_ENTRIES];
	bool has_accessed[PW_MAX_ENTRIES];	/* the PAE PDPTE has no A bit (4.4.1) */
	bool readonly[PW_MAX_ENTRIES];		/* in ROM: A/D writes dropped */
	unsigned n;
};

/* Address bits 12..M-1 of a PAE/4-level entry or CR3. */
static uint64_t frame_mask(unsigned maxphyaddr)
{
	return ((1ull << maxphyaddr) - 1) & ~0xfffull;
}

static bool read_entry(struct walker *w, uint64_t gpa, bool wide, bool has_accessed, uint64_t *e)
{
	uint8_t *p = w->ctx->table_ptr(w->ctx->opaque, gpa, wide ? 8 : 4);

	if (!p)
		return false;
	*e = wide ? __atomic_load_n((uint64_t *)p, __ATOMIC_RELAXED)
		  : __atomic_load_n((uint32_t *)p, __ATOMIC_RELAXED);
	w->host[w->n] = p;
	w->wide[w->n] = wide;
	w->has_accessed[w->n] = has_accessed;
	w->readonly[w->n] = w->ctx->table_readonly && w->ctx->table_readonly(w->ctx->opaque, gpa);
	w->n++;
	w->r->entry[w->r->nentries++] = gpa;
	return true;
}

/* A and D as the CPU's walker sets them (4.8): A in every entry used, D
 * in the leaf on a write. */
static void set_accessed_dirty(struct walker *w, bool write)
{
	for (unsigned i = 0; i < w->n; i++) {
		uint64_t bits = (w->has_accessed[i] ? PTE_A : 0) |
				(write && i == w->n - 1 ? PTE_D : 0);

		if (!bits || w->readonly[i])
			continue;
		/* "if it is not already set" (SDM Vol. 3A 4.8): a plain load
		 * spares the locked OR, ~half of a walk's cost, on the usual
		 * walk, where A (and D) are set already */
		if (w->wide[i] ? (__atomic_load_n((uint64_t *)w->host[i], __ATOMIC_RELAXED) & bits) == bits
			       : (__atomic_load_n((uint32_t *)w->host[i], __ATOMIC_RELAXED) & bits) == bits)
			continue;
		if (w->wide[i])
			__atomic_fetch_or((uint64_t *)w->host[i], bits, __ATOMIC_RELAXED);
		else
			__atomic_fetch_or((uint32_t *)w->host[i], (uint32_t)bits, __ATOMIC_RELAXED);
	}
}

/* Reserved bits of a PAE or 4-level entry at a level (4: PML4E, 3:
 * PDPTE, 2: PDE, 1: PTE), from Tables 4-8 and 4-14..4-19: bits 51:M,
 * XD while EFER.NXE is clear, PS in a PML4E, and the low address bits of
 * a 1 GiB or 2 MiB page. */
static uint64_t reserved_bits(const struct pw_context *ctx, int level, uint64_t e, bool nxe)
{
	uint64_t rsvd = ((1ull << 52) - 1) & ~((1ull << ctx->maxphyaddr) - 1);

	if (!nxe)
		rsvd |= PTE_NX;
	if (level == 4)
		rsvd |= PTE_PS;
	else if (level == 3 && (e & PTE_PS))
		rsvd |= 0x3fffe000ull;		/* bits 29:13 */
	else if (level == 2 && (e & PTE_PS))
		rsvd |= 0x1fe000ull;		/* bits 20:13 */
	return rsvd;
}

/* 32-bit paging (4.3): PDE, then a PTE or a 4 MiB page (CR4.PSE) whose
 * PDE bits 20:13 are physical bits 39:32 (PSE-36) and bits 21:(M-19)
 * reserved. *leaf gets the last entry. false: the walk stopped. */
static bool walk_32bit(struct walker *w, uint32_t lin, uint64_t *allowed, uint64_t *leaf)
{
	const struct pw_context *ctx = w->ctx;
	struct pw_result *r = w->r;
	uint64_t e;

	if (!read_entry(w, (ctx->cr3 & 0xfffff000u) + (lin >> 22) * 4, false, true, &e))
		goto not_ram;
	if (!(e & PTE_P))
		return false;
	*allowed &= e;
	if ((e & PTE_PS) && (ctx->cr4 & CR4_PSE)) {
		unsigned high_bits = (ctx->maxphyaddr < 40 ? ctx->maxphyaddr : 40) - 32;
		uint64_t rsvd = 0x3fe000u & ~((1u << (13 + high_bits)) - 1);

		if (e & rsvd) {
			r->error |= PFERR_P | PFERR_RSVD;
			return false;
		}
		r->phys = (e & 0xffc00000u) | ((e >> 13) & ((1u << high_bits) - 1)) << 32 |
			  (lin & 0x3fffffu);
		r->page_size = 4u << 20;
		*leaf = e;
		return true;
	}
	if (!read_entry(w, (e & 0xfffff000u) + ((lin >> 12) & 0x3ff) * 4, false, true, &e))
		goto not_ram;
	if (!(e & PTE_P))
		return false;
	*allowed &= e;
	r->phys = (e & 0xfffff000u) | (lin & 0xfffu);
	r->page_size = 4096;
	*leaf = e;
	return true;
not_ram:
	r->status = PW_TABLE_NOT_RAM;
	return false;
}

/* PAE (4.4) and 4-level (4.5) paging: 8-byte entries, 9 bits a level. */
static bool walk_wide(struct walker *w, uint64_t linear, bool nxe, uint64_t *allowed,
		      uint64_t *nx, uint64_t *leaf)
{
	const struct pw_context *ctx = w->ctx;
	struct pw_result *r = w->r;
	uint64_t mask = frame_mask(ctx->maxphyaddr), base, e;
	int level;

	if (ctx->efer & EFER_LMA) {
		level = 4;
		base = ctx->cr3 & mask;
	} else {
		/* The PDPTE carries no R/W, U/S or XD, and no A (4.4.1). A real
		 * CPU loads the four at MOV CR3 and #GPs there on reserved
		 * bits; read at each walk, they are reported as #PF RSVD. */
		linear = (uint32_t)linear;
		if (!read_entry(w, (ctx->cr3 & 0xffffffe0u) + ((linear >> 30) & 3) * 8, true,
				false, &e))
			goto not_ram;
		if (!(e & PTE_P))
			return false;
		if (e & (0x1e6ull | ~((1ull << ctx->maxphyaddr) - 1))) {	/* 2:1, 8:5, 63:M */
			r->error |= PFERR_P | PFERR_RSVD;
			return false;
		}
		level = 2;
		base = e & mask;
	}
	for (; level >= 1; level--) {
		unsigned shift = 12 + 9 * (level - 1);

		if (!read_entry(w, base + ((linear >> shift) & 0x1ff) * 8, true, true, &e))
			goto not_ram;
		if (!(e & PTE_P))
			return false;
		if (e & reserved_bits(ctx, level, e, nxe)) {
			r->error |= PFERR_P | PFERR_RSVD;
			return false;
		}
		*allowed &= e;
		*nx |= nxe ? (e & PTE_NX) : 0;
		if (level == 1 || ((e & PTE_PS) && level <= 3)) {
			uint64_t offset = (1ull << shift) - 1;

			r->phys = (e & mask & ~offset) | (linear & offset);
			r->page_size = 1ull << shift;
			*leaf = e;
			return true;
		}
		base = e & mask;
	}
	return false;	/* not reached: level 1 is always a leaf */
not_ram:
	r->status = PW_TABLE_NOT_RAM;
	return false;
}

void page_walk(const struct pw_context *ctx, uint64_t linear, enum pw_access how, bool user,
	       struct pw_result *r)
{
	struct pw_context c = *ctx;
	struct walker w = { .ctx = &c, .r = r };
	bool write = how == PW_WRITE, fetch = how == PW_FETCH;
	bool pae = ctx->cr4 & CR4_PAE;
	bool nxe = pae && (ctx->efer & EFER_NXE);	/* XD exists only in 8-byte entries */
	uint64_t allowed = PTE_W | PTE_U, nx = 0, leaf = 0;
	bool walked;

	memset(r, 0, sizeof(*r));
	if (c.maxphyaddr < 32 || c.maxphyaddr > 52)
		c.maxphyaddr = 36;	/* what a CPU without CPUID 0x80000008 has */
	ctx = &c;
	/* I/D is reported only where fetches can fault for their own sake (4.7). */
	r->error = (write ? PFERR_W : 0) | (user ? PFERR_U : 0) |
		   (fetch && (nxe || (ctx->cr4 & CR4_SMEP)) ? PFERR_I : 0);
	if (!(ctx->cr0 & CR0_PG)) {
		r->phys = (ctx->efer & EFER_LMA) ? linear : (uint32_t)linear;
		r->writable = r->dirty = true;
		r->page_size = 4096;
		r->status = PW_OK;
		return;
	}
	walked = pae ? walk_wide(&w, linear, nxe, &allowed, &nx, &leaf)
		     : walk_32bit(&w, (uint32_t)linear, &allowed, &leaf);
	if (!walked) {
		if (r->status != PW_TABLE_NOT_RAM)
			r->status = PW_FAULT;
		r->vector = VEC_PF;
		return;
	}
	/* Access rights (4.6): U/S and R/W combine over every level; a
	 * supervisor write ignores R/W unless CR0.WP. */
	bool fault = (user && !(allowed & PTE_U)) ||
		     (write && !(allowed & PTE_W) && (user || (ctx->cr0 & CR0_WP))) ||
		     (fetch && nx) ||
		     (fetch && !user && (allowed & PTE_U) && (ctx->cr4 & CR4_SMEP));
	if (fault) {
		r->error |= PFERR_P;
		r->status = PW_FAULT;
		r->vector = VEC_PF;
		return;
	}
	set_accessed_dirty(&w, write);
	r->writable = (allowed & PTE_W) || (!user && !(ctx->cr0 & CR0_WP));
	r->dirty = write || (leaf & PTE_D);
	r->status = PW_OK;
}
