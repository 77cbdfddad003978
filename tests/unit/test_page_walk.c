/*
 * The shared guest page walker (userspace/x86/page_walk.c) on page tables
 * built in a 4 MiB buffer at guest-physical 0: 32-bit (4K, 4M, PSE-36),
 * PAE (4K, 2M), 4-level (4K, 2M, 1G); U/S, R/W with and without CR0.WP,
 * NX and the I/D error bit, reserved bits, A/D updates, and tables
 * outside RAM. Expected values come from the Intel SDM Vol. 3A, 4.3-4.8.
 */
#include <stdlib.h>
#include <string.h>
#include <hyvm/x86.h>
#include "unit.h"
#include "x86/page_walk.h"

#define RAM_SIZE	(4u << 20)
#define PG_ON		(CR0_PE | CR0_PG)

static uint8_t *ram;
static struct pw_context ctx;
static struct pw_result r;

static uint8_t *table_ptr(void *opaque, uint64_t gpa, unsigned len)
{
	return gpa + len <= RAM_SIZE ? (uint8_t *)opaque + gpa : NULL;
}

static int setup(void)
{
	ram = calloc(1, RAM_SIZE);
	return ram ? 0 : -1;
}

static int teardown(void)
{
	free(ram);
	return 0;
}

static void reset(uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer)
{
	memset(ram, 0, RAM_SIZE);
	ctx = (struct pw_context){ .cr0 = cr0, .cr3 = cr3, .cr4 = cr4, .efer = efer,
				   .maxphyaddr = 36, .table_ptr = table_ptr, .opaque = ram };
}

static void put32(uint64_t pa, uint32_t v) { memcpy(ram + pa, &v, 4); }
static uint32_t get32(uint64_t pa) { uint32_t v; memcpy(&v, ram + pa, 4); return v; }
static void put64(uint64_t pa, uint64_t v) { memcpy(ram + pa, &v, 8); }
static uint64_t get64(uint64_t pa) { uint64_t v; memcpy(&v, ram + pa, 8); return v; }

static enum pw_status walk(uint64_t lin, enum pw_access how, bool user)
{
	page_walk(&ctx, lin, how, user, &r);
	return r.status;
}

static void test_paging_off(void)
{
	reset(CR0_PE, 0, 0, 0);
	CU_ASSERT_EQUAL(walk(0x12345678, PW_WRITE, true), PW_OK);
	CU_ASSERT_EQUAL(r.phys, 0x12345678);
	CU_ASSERT_TRUE(r.writable);
}

/* 32-bit paging: PD at 0x1000, PT at 0x2000. */
static void test_32bit_4k(void)
{
	reset(PG_ON | CR0_WP, 0x1000, 0, 0);
	put32(0x1000 + 1 * 4, 0x2000 | PTE_P | PTE_W | PTE_U);		/* 4M..8M */
	put32(0x2000 + 5 * 4, 0x345000 | PTE_P | PTE_U);		/* 0x405000: read-only */

	CU_ASSERT_EQUAL(walk(0x405123, PW_READ, true), PW_OK);
	CU_ASSERT_EQUAL(r.phys, 0x345123);
	CU_ASSERT_EQUAL(r.page_size, 4096);
	CU_ASSERT_FALSE(r.writable);
	CU_ASSERT_EQUAL(r.nentries, 2);
	CU_ASSERT_EQUAL(r.entry[0], 0x1004);
	CU_ASSERT_EQUAL(r.entry[1], 0x2014);
	CU_ASSERT_EQUAL(get32(0x1004) & (PTE_A | PTE_D), PTE_A);	/* A on the PDE */
	CU_ASSERT_EQUAL(get32(0x2014) & (PTE_A | PTE_D), PTE_A);	/* a read: no D */
	CU_ASSERT_FALSE(r.dirty);

	/* user write to a read-only page: #PF P|W|U, and nothing changes */
	put32(0x2014, 0x345000 | PTE_P | PTE_U);
	put32(0x1004, 0x2000 | PTE_P | PTE_W | PTE_U);
	CU_ASSERT_EQUAL(walk(0x405000, PW_WRITE, true), PW_FAULT);
	CU_ASSERT_EQUAL(r.vector, VEC_PF);
	CU_ASSERT_EQUAL(r.error, PFERR_P | PFERR_W | PFERR_U);
	CU_ASSERT_EQUAL(get32(0x1004) & PTE_A, 0);			/* a fault sets no A */
	/* supervisor write: faults with CR0.WP, allowed (and D set) without */
	CU_ASSERT_EQUAL(walk(0x405000, PW_WRITE, false), PW_FAULT);
	CU_ASSERT_EQUAL(r.error, PFERR_P | PFERR_W);
	ctx.cr0 &= ~(uint64_t)CR0_WP;
	CU_ASSERT_EQUAL(walk(0x405000, PW_WRITE, false), PW_OK);
	CU_ASSERT_TRUE(r.writable);
	CU_ASSERT_TRUE(r.dirty);
	CU_ASSERT_EQUAL(get32(0x2014) & (PTE_A | PTE_D), PTE_A | PTE_D);
	/* ... but a user write still faults without WP */
	CU_ASSERT_EQUAL(walk(0x405000, PW_WRITE, true), PW_FAULT);

	/* not present: error code without P; a fetch has no I/D bit here */
	CU_ASSERT_EQUAL(walk(0x406000, PW_FETCH, true), PW_FAULT);
	CU_ASSERT_EQUAL(r.error, PFERR_U);
	CU_ASSERT_EQUAL(walk(0x00800000, PW_WRITE, false), PW_FAULT);	/* PDE 2 absent */
	CU_ASSERT_EQUAL(r.error, PFERR_W);
}

/* U/S and R/W combine over both levels: a supervisor PDE makes its user
 * PTEs supervisor; a read-only PDE makes its writable PTEs read-only. */
static void test_32bit_rights_combine(void)
{
	reset(PG_ON | CR0_WP, 0x1000, 0, 0);
	put32(0x1000 + 1 * 4, 0x2000 | PTE_P | PTE_W);			/* supervisor */
	put32(0x1000 + 2 * 4, 0x3000 | PTE_P | PTE_U);			/* read-only */
	put32(0x2000, 0x10000 | PTE_P | PTE_W | PTE_U);
	put32(0x3000, 0x11000 | PTE_P | PTE_W | PTE_U);

	CU_ASSERT_EQUAL(walk(0x400000, PW_READ, true), PW_FAULT);
	CU_ASSERT_EQUAL(r.error, PFERR_P | PFERR_U);
	CU_ASSERT_EQUAL(walk(0x400000, PW_WRITE, false), PW_OK);
	CU_ASSERT_EQUAL(walk(0x800000, PW_WRITE, true), PW_FAULT);
	CU_ASSERT_EQUAL(r.error, PFERR_P | PFERR_W | PFERR_U);
	CU_ASSERT_EQUAL(walk(0x800000, PW_READ, true), PW_OK);
	CU_ASSERT_EQUAL(r.phys, 0x11000);
}

static void test_32bit_4m_and_pse36(void)
{
	reset(PG_ON | CR0_WP, 0x1000, CR4_PSE, 0);
	put32(0x1000 + 2 * 4, 0x00c00000 | PTE_P | PTE_W | PTE_PS);	/* 8M: 4M page at 12M */
	/* PSE-36: PDE bits 16:13 are physical bits 35:32 (MAXPHYADDR 36) */
	put32(0x1000 + 3 * 4, 0x00400000 | (0x5u << 13) | PTE_P | PTE_PS);
	/* bit 17 is reserved with MAXPHYADDR 36 (bits 21:M-19) */
	put32(0x1000 + 4 * 4, 0x00400000 | (1u << 17) | PTE_P | PTE_PS);

	CU_ASSERT_EQUAL(walk(0x00923456, PW_WRITE, false), PW_OK);
	CU_ASSERT_EQUAL(r.phys, 0x00d23456);
	CU_ASSERT_EQUAL(r.page_size, 4u << 20);
	CU_ASSERT_EQUAL(r.nentries, 1);
	CU_ASSERT_EQUAL(get32(0x1008) & (PTE_A | PTE_D), PTE_A | PTE_D);
	CU_ASSERT_EQUAL(walk(0x00923456, PW_READ, true), PW_FAULT);
	CU_ASSERT_EQUAL(r.error, PFERR_P | PFERR_U);
	CU_ASSERT_EQUAL(walk(0x00c00010, PW_READ, false), PW_OK);
	CU_ASSERT_EQUAL(r.phys, 0x500400010ull);
	CU_ASSERT_EQUAL(walk(0x01000000, PW_READ, false), PW_FAULT);
	CU_ASSERT_EQUAL(r.error, PFERR_P | PFERR_RSVD);
	/* without CR4.PSE the PS bit is ignored: the PDE points at a page
	 * table at 12M, outside this 4 MiB of RAM */
	ctx.cr4 = 0;
	CU_ASSERT_EQUAL(walk(0x00923456, PW_READ, false), PW_TABLE_NOT_RAM);
	CU_ASSERT_EQUAL(r.nentries, 1);
}

/* PAE: PDPT at 0x1000, PD at 0x2000, PT at 0x3000. */
static void pae_tables(void)
{
	reset(PG_ON | CR0_WP, 0x1000, CR4_PAE, EFER_NXE);
	put64(0x1000 + 8 * 1, 0x2000 | PTE_P);				/* 1G..2G */
	put64(0x2000 + 8 * 3, 0x3000 | PTE_P | PTE_W | PTE_U);		/* 1G+6M */
	put64(0x3000 + 8 * 2, 0x7000 | PTE_P | PTE_W | PTE_U | PTE_NX);
	put64(0x3000 + 8 * 3, 0x8000 | PTE_P | PTE_W | PTE_U);
	put64(0x2000 + 8 * 4, 0x00400000 | PTE_P | PTE_W | PTE_PS);	/* 2M page at 1G+8M */
}

static void test_pae(void)
{
	const uint32_t nx_page = 0x40000000u + (3u << 21) + (2u << 12);

	pae_tables();
	CU_ASSERT_EQUAL(walk(nx_page + 0x10, PW_WRITE, true), PW_OK);
	CU_ASSERT_EQUAL(r.phys, 0x7010);
	CU_ASSERT_EQUAL(r.nentries, 3);
	CU_ASSERT_EQUAL(r.entry[0], 0x1008);				/* the PDPTE counts */
	CU_ASSERT_EQUAL(get64(0x1008), 0x2000 | PTE_P);			/* but gets no A */
	CU_ASSERT_EQUAL(get64(0x2018) & (PTE_A | PTE_D), PTE_A);
	CU_ASSERT_EQUAL(get64(0x3010) & (PTE_A | PTE_D), PTE_A | PTE_D);
	CU_ASSERT_EQUAL(get64(0x3010) >> 63, 1);			/* NX untouched */
	/* NX: a fetch faults with I/D; a fetch from the next page does not */
	CU_ASSERT_EQUAL(walk(nx_page, PW_FETCH, false), PW_FAULT);
	CU_ASSERT_EQUAL(r.error, PFERR_P | PFERR_I);
	CU_ASSERT_EQUAL(walk(nx_page + 0x1000, PW_FETCH, true), PW_OK);
	CU_ASSERT_EQUAL(r.phys, 0x8000);
	/* not present with NXE: a fetch's error code has I/D */
	CU_ASSERT_EQUAL(walk(nx_page + 0x2000, PW_FETCH, true), PW_FAULT);
	CU_ASSERT_EQUAL(r.error, PFERR_U | PFERR_I);
	/* 2M page, supervisor only */
	CU_ASSERT_EQUAL(walk(0x40000000u + (4u << 21) + 0x1234, PW_READ, false), PW_OK);
	CU_ASSERT_EQUAL(r.phys, 0x00401234);
	CU_ASSERT_EQUAL(r.page_size, 2u << 20);
	CU_ASSERT_EQUAL(walk(0x40000000u + (4u << 21), PW_READ, true), PW_FAULT);
	CU_ASSERT_EQUAL(r.error, PFERR_P | PFERR_U);
	/* PDPTE 2 absent */
	CU_ASSERT_EQUAL(walk(0x80000000u, PW_READ, false), PW_FAULT);
	CU_ASSERT_EQUAL(r.error, 0);
}

static void test_pae_reserved_bits(void)
{
	const uint32_t nx_page = 0x40000000u + (3u << 21) + (2u << 12);

	/* XD set while EFER.NXE is clear is a reserved bit (4.4.2) */
	pae_tables();
	ctx.efer = 0;
	CU_ASSERT_EQUAL(walk(nx_page, PW_READ, false), PW_FAULT);
	CU_ASSERT_EQUAL(r.error, PFERR_P | PFERR_RSVD);
	CU_ASSERT_EQUAL(get64(0x2018) & PTE_A, 0);			/* nothing set */
	/* without NXE a fetch reports no I/D bit */
	CU_ASSERT_EQUAL(walk(nx_page + 0x2000, PW_FETCH, false), PW_FAULT);
	CU_ASSERT_EQUAL(r.error, 0);
	/* address bits at or above MAXPHYADDR (36) */
	pae_tables();
	put64(0x3000 + 8 * 3, (1ull << 40) | 0x8000 | PTE_P | PTE_W);
	CU_ASSERT_EQUAL(walk(nx_page + 0x1000, PW_READ, false), PW_FAULT);
	CU_ASSERT_EQUAL(r.error, PFERR_P | PFERR_RSVD);
	ctx.maxphyaddr = 46;						/* then it is an address bit */
	CU_ASSERT_EQUAL(walk(nx_page + 0x1000, PW_READ, false), PW_OK);
	CU_ASSERT_EQUAL(r.phys, (1ull << 40) | 0x8000);
	/* a 2M page's bits 20:13 */
	pae_tables();
	put64(0x2000 + 8 * 4, 0x00400000 | (1u << 13) | PTE_P | PTE_PS);
	CU_ASSERT_EQUAL(walk(0x40000000u + (4u << 21), PW_WRITE, false), PW_FAULT);
	CU_ASSERT_EQUAL(r.error, PFERR_P | PFERR_W | PFERR_RSVD);
	/* the PDPTE's bits 2:1 (R/W is reserved there) */
	pae_tables();
	put64(0x1008, 0x2000 | PTE_P | PTE_W);
	CU_ASSERT_EQUAL(walk(nx_page, PW_READ, false), PW_FAULT);
	CU_ASSERT_EQUAL(r.error, PFERR_P | PFERR_RSVD);
}

/* 4-level: PML4 at 0x1000, PDPT 0x2000, PD 0x3000, PT 0x4000. */
static void test_4level(void)
{
	const uint64_t lin = 0x0000008000000000ull + (1ull << 30) * 2 + (5ull << 21) + (7ull << 12);

	reset(PG_ON | CR0_WP, 0x1000, CR4_PAE, EFER_LME | EFER_LMA | EFER_NXE);
	put64(0x1000 + 8 * 1, 0x2000 | PTE_P | PTE_W | PTE_U);
	put64(0x2000 + 8 * 2, 0x3000 | PTE_P | PTE_W | PTE_U);
	put64(0x3000 + 8 * 5, 0x4000 | PTE_P | PTE_W | PTE_U);
	put64(0x4000 + 8 * 7, 0x9000 | PTE_P | PTE_U);			/* read-only */
	put64(0x2000 + 8 * 3, 0x40000000 | PTE_P | PTE_W | PTE_PS);	/* 1G page */
	put64(0x3000 + 8 * 6, 0x00600000 | PTE_P | PTE_W | PTE_U | PTE_PS | PTE_NX);

	CU_ASSERT_EQUAL(walk(lin + 0x45, PW_READ, true), PW_OK);
	CU_ASSERT_EQUAL(r.phys, 0x9045);
	CU_ASSERT_EQUAL(r.nentries, 4);
	CU_ASSERT_EQUAL(get64(0x1008) & PTE_A, PTE_A);
	CU_ASSERT_EQUAL(get64(0x4038) & (PTE_A | PTE_D), PTE_A);
	CU_ASSERT_EQUAL(walk(lin, PW_WRITE, true), PW_FAULT);
	CU_ASSERT_EQUAL(r.error, PFERR_P | PFERR_W | PFERR_U);
	/* 1 GiB page */
	CU_ASSERT_EQUAL(walk(0x0000008000000000ull + (3ull << 30) + 0x12345678, PW_WRITE, false),
			PW_OK);
	CU_ASSERT_EQUAL(r.phys, 0x40000000ull + 0x12345678);
	CU_ASSERT_EQUAL(r.page_size, 1u << 30);
	/* 2 MiB NX page: readable, not executable */
	CU_ASSERT_EQUAL(walk(lin - (7ull << 12) + (1ull << 21) + 0x10, PW_READ, true), PW_OK);
	CU_ASSERT_EQUAL(r.phys, 0x00600010);
	CU_ASSERT_EQUAL(walk(lin - (7ull << 12) + (1ull << 21), PW_FETCH, true), PW_FAULT);
	CU_ASSERT_EQUAL(r.error, PFERR_P | PFERR_U | PFERR_I);
	/* PS in a PML4E is reserved; so are a 1G page's bits 29:13 */
	put64(0x1000 + 8 * 2, 0x2000 | PTE_P | PTE_PS);
	CU_ASSERT_EQUAL(walk(0x0000010000000000ull, PW_READ, false), PW_FAULT);
	CU_ASSERT_EQUAL(r.error, PFERR_P | PFERR_RSVD);
	put64(0x2000 + 8 * 3, 0x40000000 | (1u << 20) | PTE_P | PTE_PS);
	CU_ASSERT_EQUAL(walk(0x0000008000000000ull + (3ull << 30), PW_READ, false), PW_FAULT);
	CU_ASSERT_EQUAL(r.error, PFERR_P | PFERR_RSVD);
	/* PML4E 0 absent */
	CU_ASSERT_EQUAL(walk(0x1000, PW_READ, false), PW_FAULT);
	CU_ASSERT_EQUAL(r.error, 0);
}

static void test_smep(void)
{
	reset(PG_ON, 0x1000, CR4_PSE | CR4_SMEP, 0);
	put32(0x1000, 0x00000000 | PTE_P | PTE_W | PTE_U | PTE_PS);	/* user 4M page */
	CU_ASSERT_EQUAL(walk(0x1000, PW_FETCH, true), PW_OK);
	CU_ASSERT_EQUAL(walk(0x1000, PW_FETCH, false), PW_FAULT);
	CU_ASSERT_EQUAL(r.error, PFERR_P | PFERR_I);
	CU_ASSERT_EQUAL(walk(0x1000, PW_READ, false), PW_OK);		/* SMAP is not modelled */
}

/* A table outside RAM is reported as such, with the error a not-present
 * entry would give, so the caller can choose. */
static void test_table_not_ram(void)
{
	reset(PG_ON, 0x1000, 0, 0);
	put32(0x1000 + 1 * 4, 0x80000000u | PTE_P | PTE_W);
	CU_ASSERT_EQUAL(walk(0x400000, PW_WRITE, false), PW_TABLE_NOT_RAM);
	CU_ASSERT_EQUAL(r.error, PFERR_W);
	ctx.cr3 = 0x10000000;
	CU_ASSERT_EQUAL(walk(0x400000, PW_READ, false), PW_TABLE_NOT_RAM);
}

UNIT_SUITE(page_walk, setup, teardown,
	   UNIT_TEST(test_paging_off),
	   UNIT_TEST(test_32bit_4k),
	   UNIT_TEST(test_32bit_rights_combine),
	   UNIT_TEST(test_32bit_4m_and_pse36),
	   UNIT_TEST(test_pae),
	   UNIT_TEST(test_pae_reserved_bits),
	   UNIT_TEST(test_4level),
	   UNIT_TEST(test_smep),
	   UNIT_TEST(test_table_not_ram));
