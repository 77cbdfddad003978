/*
 * The MMIO / string I/O instruction emulator on hand-assembled bytes: no
 * engine, a malloc'd "guest RAM" at guest-physical 0, MMIO at 0xe0000000.
 * Each test checks the access handed to the VMM and the state after it.
 */
#define RAM_SIZE	(4u << 20)
#include "emul_fixture.h"

static enum emul_status begin(void)
{
	return emul_begin(&em, &st, &mem, NULL, 0);
}

/* Expect an MMIO access; answer a read with val. */
static enum emul_status answer(uint64_t gpa, unsigned size, bool write, uint64_t val)
{
	CU_ASSERT_FALSE(em.acc.pio);
	CU_ASSERT_EQUAL(em.acc.addr, gpa);
	CU_ASSERT_EQUAL(em.acc.size, size);
	CU_ASSERT_EQUAL(em.acc.write, write);
	CU_ASSERT_EQUAL(em.acc.count, 1);
	if (write) {
		uint64_t got = 0;

		memcpy(&got, em.acc.data, size);
		CU_ASSERT_EQUAL(got, val);
	} else {
		memcpy(em.acc.data, &val, size);
	}
	return emul_resume(&em);
}

static void test_mov_load_store(void)
{
	static const uint8_t load[] = { 0x8b, 0x05, 0x00, 0x00, 0x00, 0xe0 };	/* mov eax,[0xe0000000] */
	static const uint8_t store[] = { 0x89, 0x4b, 0x04 };			/* mov [ebx+4],ecx */
	static const uint8_t imm8[] = { 0xc6, 0x00, 0x5a };			/* mov byte [eax],0x5a */
	static const uint8_t ah[] = { 0x8a, 0x27 };				/* mov ah,[edi] */

	flat32(load, sizeof(load));
	st.gpr[HYVM_RAX] = 0xdeadbeefcafef00dULL;
	CU_ASSERT_EQUAL_FATAL(begin(), EMUL_ACCESS);
	CU_ASSERT_EQUAL(answer(MMIO, 4, false, 0x11223344), EMUL_DONE);
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_RAX], 0x11223344);	/* zero-extended */
	CU_ASSERT_EQUAL(em.st.rip, CODE + 6);

	flat32(store, sizeof(store));
	st.gpr[HYVM_RBX] = MMIO;
	st.gpr[HYVM_RCX] = 0x87654321;
	CU_ASSERT_EQUAL_FATAL(begin(), EMUL_ACCESS);
	CU_ASSERT_EQUAL(answer(MMIO + 4, 4, true, 0x87654321), EMUL_DONE);
	CU_ASSERT_EQUAL(em.st.rip, CODE + 3);

	flat32(imm8, sizeof(imm8));
	st.gpr[HYVM_RAX] = MMIO + 0x10;
	CU_ASSERT_EQUAL_FATAL(begin(), EMUL_ACCESS);
	CU_ASSERT_EQUAL(answer(MMIO + 0x10, 1, true, 0x5a), EMUL_DONE);

	flat32(ah, sizeof(ah));
	st.gpr[HYVM_RDI] = MMIO + 1;
	st.gpr[HYVM_RAX] = 0x12345678;
	CU_ASSERT_EQUAL_FATAL(begin(), EMUL_ACCESS);
	CU_ASSERT_EQUAL(answer(MMIO + 1, 1, false, 0xab), EMUL_DONE);
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_RAX], 0x1234ab78);	/* AH merged */
	CU_ASSERT_EQUAL(em.st.rip, CODE + 2);
}

static void test_movzx_movsx(void)
{
	static const uint8_t zx[] = { 0x0f, 0xb7, 0x06 };	/* movzx eax,word [esi] */
	static const uint8_t sx[] = { 0x0f, 0xbf, 0x06 };	/* movsx eax,word [esi] */
	static const uint8_t sxb[] = { 0x66, 0x0f, 0xbe, 0x0e };	/* movsx cx,byte [esi] */

	flat32(zx, sizeof(zx));
	st.gpr[HYVM_RSI] = MMIO;
	CU_ASSERT_EQUAL_FATAL(begin(), EMUL_ACCESS);
	CU_ASSERT_EQUAL(answer(MMIO, 2, false, 0x8001), EMUL_DONE);
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_RAX], 0x8001);

	flat32(sx, sizeof(sx));
	st.gpr[HYVM_RSI] = MMIO;
	CU_ASSERT_EQUAL_FATAL(begin(), EMUL_ACCESS);
	CU_ASSERT_EQUAL(answer(MMIO, 2, false, 0x8001), EMUL_DONE);
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_RAX], 0xffff8001);

	flat32(sxb, sizeof(sxb));
	st.gpr[HYVM_RSI] = MMIO;
	st.gpr[HYVM_RCX] = 0xaaaa5555;
	CU_ASSERT_EQUAL_FATAL(begin(), EMUL_ACCESS);
	CU_ASSERT_EQUAL(answer(MMIO, 1, false, 0x80), EMUL_DONE);
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_RCX], 0xaaaaff80);
	CU_ASSERT_EQUAL(em.st.rip, CODE + 4);
}

/* Read-modify-write: a read, then a write, then the flags. */
static void test_alu(void)
{
	static const uint8_t and_[] = { 0x83, 0x20, 0xf0 };	/* and dword [eax],-16 */
	static const uint8_t test_[] = { 0xf6, 0x00, 0x80 };	/* test byte [eax],0x80 */
	static const uint8_t or_[] = { 0x0b, 0x08 };		/* or ecx,[eax] */
	static const uint8_t cmp[] = { 0x3b, 0x08 };		/* cmp ecx,[eax] */

	flat32(and_, sizeof(and_));
	st.gpr[HYVM_RAX] = MMIO;
	st.rflags = 2 | 1;	/* CF set: AND clears it */
	CU_ASSERT_EQUAL_FATAL(begin(), EMUL_ACCESS);
	CU_ASSERT_EQUAL_FATAL(answer(MMIO, 4, false, 0x8000007f), EMUL_ACCESS);
	CU_ASSERT_EQUAL(answer(MMIO, 4, true, 0x80000070), EMUL_DONE);
	CU_ASSERT_EQUAL(em.st.rflags, 2 | 0x80);	/* SF; PF odd (0x70: 3 bits) */
	CU_ASSERT_EQUAL(em.st.rip, CODE + 3);

	flat32(test_, sizeof(test_));
	st.gpr[HYVM_RAX] = MMIO;
	CU_ASSERT_EQUAL_FATAL(begin(), EMUL_ACCESS);
	CU_ASSERT_EQUAL(answer(MMIO, 1, false, 0x7f), EMUL_DONE);	/* no write */
	CU_ASSERT_EQUAL(em.st.rflags, 2 | 0x40 | 0x4);		/* ZF, PF */

	flat32(or_, sizeof(or_));
	st.gpr[HYVM_RAX] = MMIO;
	st.gpr[HYVM_RCX] = 0x100;
	CU_ASSERT_EQUAL_FATAL(begin(), EMUL_ACCESS);
	CU_ASSERT_EQUAL(answer(MMIO, 4, false, 0x3), EMUL_DONE);
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_RCX], 0x103);

	flat32(cmp, sizeof(cmp));
	st.gpr[HYVM_RAX] = MMIO;
	st.gpr[HYVM_RCX] = 1;
	CU_ASSERT_EQUAL_FATAL(begin(), EMUL_ACCESS);
	CU_ASSERT_EQUAL(answer(MMIO, 4, false, 2), EMUL_DONE);
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_RCX], 1);
	/* 1 - 2 = 0xffffffff: CF, SF, PF, AF */
	CU_ASSERT_EQUAL(em.st.rflags, 2 | 0x1 | 0x80 | 0x4 | 0x10);
}

static void test_xchg(void)
{
	static const uint8_t x[] = { 0x87, 0x18 };	/* xchg [eax],ebx */

	flat32(x, sizeof(x));
	st.gpr[HYVM_RAX] = MMIO;
	st.gpr[HYVM_RBX] = 0x55;
	CU_ASSERT_EQUAL_FATAL(begin(), EMUL_ACCESS);
	CU_ASSERT_EQUAL_FATAL(answer(MMIO, 4, false, 0x66), EMUL_ACCESS);
	CU_ASSERT_EQUAL(answer(MMIO, 4, true, 0x55), EMUL_DONE);
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_RBX], 0x66);
}

static void test_stos_movs(void)
{
	static const uint8_t stos[] = { 0xf3, 0xab };	/* rep stosd */
	static const uint8_t movsb[] = { 0xa4 };	/* movsb */
	static const uint8_t movs_fs[] = { 0x64, 0xa5 };	/* movsd es:[edi],fs:[esi] */

	flat32(stos, sizeof(stos));
	st.gpr[HYVM_RDI] = MMIO + 8;
	st.gpr[HYVM_RAX] = 0xa5a5a5a5;
	st.gpr[HYVM_RCX] = 2;
	st.rflags |= 1 << 10;	/* DF: downwards */
	CU_ASSERT_EQUAL_FATAL(begin(), EMUL_ACCESS);
	CU_ASSERT_EQUAL_FATAL(answer(MMIO + 8, 4, true, 0xa5a5a5a5), EMUL_ACCESS);
	CU_ASSERT_EQUAL(answer(MMIO + 4, 4, true, 0xa5a5a5a5), EMUL_DONE);
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_RDI], MMIO);
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_RCX], 0);
	CU_ASSERT_EQUAL(em.st.rip, CODE + 2);

	/* RAM -> MMIO */
	flat32(movsb, sizeof(movsb));
	ram[0x2000] = 0x42;
	st.gpr[HYVM_RSI] = 0x2000;
	st.gpr[HYVM_RDI] = MMIO;
	CU_ASSERT_EQUAL_FATAL(begin(), EMUL_ACCESS);
	CU_ASSERT_EQUAL(answer(MMIO, 1, true, 0x42), EMUL_DONE);
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_RSI], 0x2001);
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_RDI], MMIO + 1);

	/* MMIO through an FS override -> RAM */
	flat32(movs_fs, sizeof(movs_fs));
	st.seg[HYVM_FS].base = MMIO;
	st.gpr[HYVM_RSI] = 0x20;
	st.gpr[HYVM_RDI] = 0x3000;
	CU_ASSERT_EQUAL_FATAL(begin(), EMUL_ACCESS);
	CU_ASSERT_EQUAL(answer(MMIO + 0x20, 4, false, 0x01020304), EMUL_DONE);
	CU_ASSERT_EQUAL(*(uint32_t *)(ram + 0x3000), 0x01020304);
}

/* RAM writes reach the engine's hook (bt drops translations there). */
static uint64_t written_gpa, written_len;
static void note_written(void *opaque, uint64_t gpa, uint64_t len)
{
	written_gpa = gpa;
	written_len = len;
}

static void test_push_pop(void)
{
	static const uint8_t push_m[] = { 0xff, 0x30 };		/* push dword [eax] */
	static const uint8_t pop_m[] = { 0x8f, 0x40, 0x08 };	/* pop dword [eax+8] */
	static const uint8_t pop_esp[] = { 0x8f, 0x44, 0x24, 0xfc };	/* pop dword [esp-4] */
	static const uint8_t push_i[] = { 0x6a, 0xfe };		/* push -2 */

	/* MMIO -> a RAM stack, the write reported to the hook */
	flat32(push_m, sizeof(push_m));
	mem.ram_written = note_written;
	st.gpr[HYVM_RAX] = MMIO;
	st.gpr[HYVM_RSP] = 0x2000;
	CU_ASSERT_EQUAL_FATAL(begin(), EMUL_ACCESS);
	CU_ASSERT_EQUAL(answer(MMIO, 4, false, 0xcafe1234), EMUL_DONE);
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_RSP], 0x1ffc);
	CU_ASSERT_EQUAL(*(uint32_t *)(ram + 0x1ffc), 0xcafe1234);
	CU_ASSERT_EQUAL(written_gpa, 0x1ffc);
	CU_ASSERT_EQUAL(written_len, 4);
	CU_ASSERT_EQUAL(em.st.rip, CODE + 2);

	/* a RAM stack -> MMIO; ESP moves once, after the store */
	flat32(pop_m, sizeof(pop_m));
	*(uint32_t *)(ram + 0x1ffc) = 0x11223344;
	st.gpr[HYVM_RAX] = MMIO;
	st.gpr[HYVM_RSP] = 0x1ffc;
	CU_ASSERT_EQUAL_FATAL(begin(), EMUL_ACCESS);
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_RSP], 0x1ffc);		/* not yet */
	CU_ASSERT_EQUAL(answer(MMIO + 8, 4, true, 0x11223344), EMUL_DONE);
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_RSP], 0x2000);

	/* POP's destination address uses the incremented ESP (SDM POP) */
	flat32(pop_esp, sizeof(pop_esp));
	st.seg[HYVM_SS].base = 0;
	st.gpr[HYVM_RSP] = 0x1ffc;
	*(uint32_t *)(ram + 0x1ffc) = 0x5a5a5a5a;
	CU_ASSERT_EQUAL(begin(), EMUL_DONE);				/* all RAM */
	CU_ASSERT_EQUAL(*(uint32_t *)(ram + 0x1ffc), 0x5a5a5a5a);	/* [0x2000 - 4] */
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_RSP], 0x2000);

	/* a stack outside RAM: the push is the MMIO write */
	flat32(push_i, sizeof(push_i));
	st.gpr[HYVM_RSP] = MMIO + 0x100;
	CU_ASSERT_EQUAL_FATAL(begin(), EMUL_ACCESS);
	CU_ASSERT_EQUAL(answer(MMIO + 0xfc, 4, true, 0xfffffffe), EMUL_DONE);
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_RSP], MMIO + 0xfc);
}

/* 32-bit paging: linear 0x400000 -> MMIO through a PDE and a PTE. */
static void test_paging32(void)
{
	static const uint8_t load[] = { 0x8b, 0x03 };	/* mov eax,[ebx] */
	uint32_t *pd, *pt;

	flat32(load, sizeof(load));
	pd = (uint32_t *)(ram + 0x10000);
	pt = (uint32_t *)(ram + 0x11000);
	pd[0] = 0x00000083;			/* 4 MiB identity page for the code */
	pd[1] = 0x11000 | 7;
	pt[5] = (MMIO + 0x3000) | 3;
	st.cr0 |= CR0_PG;
	st.cr3 = 0x10000;
	st.cr4 = 0x10;				/* PSE */
	st.gpr[HYVM_RBX] = 0x405010;
	CU_ASSERT_EQUAL_FATAL(begin(), EMUL_ACCESS);
	CU_ASSERT_EQUAL(answer(MMIO + 0x3010, 4, false, 7), EMUL_DONE);
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_RAX], 7);
	CU_ASSERT(pt[5] & 0x20);		/* accessed */

	/* Not present: a #PF with CR2, RIP unchanged. */
	flat32(load, sizeof(load));
	pd = (uint32_t *)(ram + 0x10000);
	pd[0] = 0x00000083;
	st.cr0 |= CR0_PG;
	st.cr3 = 0x10000;
	st.cr4 = 0x10;
	st.gpr[HYVM_RBX] = 0x805000;
	CU_ASSERT_EQUAL(begin(), EMUL_DONE);
	CU_ASSERT_EQUAL(em.st.event.type, HYVM_EVENT_EXCEPTION);
	CU_ASSERT_EQUAL(em.st.event.vector, 14);
	CU_ASSERT_EQUAL(em.st.event.error_code, 0);
	CU_ASSERT_EQUAL(em.st.cr2, 0x805000);
	CU_ASSERT_EQUAL(em.st.rip, CODE);
}

/* 4-level paging, 64-bit code: a 2 MiB page at linear 0xc0000000 maps
 * MMIO; the code is identity-mapped. */
static void test_long_mode(void)
{
	static const uint8_t viarbx[] = { 0x4c, 0x8b, 0x0b };		/* mov r9,[rbx] */
	static const uint8_t riprel[] = { 0x4c, 0x8b, 0x0d, 0x00, 0x01, 0x00, 0x00 };
	uint64_t *pml4, *pdpt, *pd;

	flat32(viarbx, sizeof(viarbx));
	pml4 = (uint64_t *)(ram + 0x20000);
	pdpt = (uint64_t *)(ram + 0x21000);
	pd = (uint64_t *)(ram + 0x22000);
	pml4[0] = 0x21000 | 3;
	pdpt[0] = 0x23000 | 3;
	((uint64_t *)(ram + 0x23000))[0] = 0x83;
	pdpt[3] = 0x22000 | 3;
	pd[0] = MMIO | 0x83;
	st.cr0 |= CR0_PG;
	st.cr3 = 0x20000;
	st.cr4 = 0x20;
	st.efer = 0x500;			/* LME, LMA */
	st.seg[HYVM_CS].attrib = (st.seg[HYVM_CS].attrib & ~HYVM_SEG_DB) | HYVM_SEG_L;
	st.gpr[HYVM_RBX] = 0xc0000008ULL;
	st.gpr[HYVM_R9] = ~0ULL;
	CU_ASSERT_EQUAL_FATAL(begin(), EMUL_ACCESS);
	CU_ASSERT_EQUAL(answer(MMIO + 8, 8, false, 0x1122334455667788ULL), EMUL_DONE);
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_R9], 0x1122334455667788ULL);
	CU_ASSERT_EQUAL(em.st.rip, CODE + 3);

	/* RIP-relative: from the next RIP; here it lands in RAM, which the
	 * emulator reads itself without a VMM access. */
	memcpy(ram + CODE, riprel, sizeof(riprel));
	uint64_t target = 0xabcdef;
	memcpy(ram + CODE + 7 + 0x100, &target, sizeof(target));	/* unaligned */
	CU_ASSERT_EQUAL(begin(), EMUL_DONE);
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_R9], 0xabcdef);
	CU_ASSERT_EQUAL(em.st.rip, CODE + 7);
}

/* PAE: PDPTE -> PD (2 MiB page) -> MMIO. */
static void test_pae(void)
{
	static const uint8_t store[] = { 0x66, 0x89, 0x03 };	/* mov [ebx],ax */
	uint64_t *pdpt, *pd;

	flat32(store, sizeof(store));
	pdpt = (uint64_t *)(ram + 0x30000);
	pd = (uint64_t *)(ram + 0x31000);
	pdpt[0] = 0x31000 | 1;
	pd[0] = 0x83;				/* code identity */
	pd[5] = (MMIO + 0x200000) | 0x83;
	st.cr0 |= CR0_PG;
	st.cr3 = 0x30000;
	st.cr4 = 0x20;
	st.gpr[HYVM_RBX] = 0xa00004;
	st.gpr[HYVM_RAX] = 0xbeef;
	CU_ASSERT_EQUAL_FATAL(begin(), EMUL_ACCESS);
	CU_ASSERT_EQUAL(answer(MMIO + 0x200004, 2, true, 0xbeef), EMUL_DONE);
	CU_ASSERT(pd[5] & 0x40);		/* dirty */
}

static void test_string_io(void)
{
	static const uint8_t outsb[] = { 0xf3, 0x6e };	/* rep outsb */
	static const uint8_t insw[] = { 0xf3, 0x66, 0x6d };	/* rep insw */

	flat32(outsb, sizeof(outsb));
	memcpy(ram + 0x2000, "hello", 5);
	st.gpr[HYVM_RSI] = 0x2000;
	st.gpr[HYVM_RCX] = 5;
	st.gpr[HYVM_RDX] = 0x3f8;
	CU_ASSERT_EQUAL_FATAL(begin(), EMUL_ACCESS);
	CU_ASSERT(em.acc.pio && em.acc.write);
	CU_ASSERT_EQUAL(em.acc.addr, 0x3f8);
	CU_ASSERT_EQUAL(em.acc.size, 1);
	CU_ASSERT_EQUAL(em.acc.count, 5);
	CU_ASSERT_EQUAL(memcmp(em.acc.data, "hello", 5), 0);
	CU_ASSERT_EQUAL(emul_resume(&em), EMUL_DONE);
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_RSI], 0x2005);
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_RCX], 0);
	CU_ASSERT_EQUAL(em.st.rip, CODE + 2);

	/* More than one exit's worth: RIP stays, the count goes down. */
	flat32(outsb, sizeof(outsb));
	st.gpr[HYVM_RSI] = 0x2000;
	st.gpr[HYVM_RCX] = EMUL_BUF_SIZE + 3;
	CU_ASSERT_EQUAL_FATAL(begin(), EMUL_ACCESS);
	CU_ASSERT_EQUAL(em.acc.count, EMUL_BUF_SIZE);
	CU_ASSERT_EQUAL(emul_resume(&em), EMUL_DONE);
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_RCX], 3);
	CU_ASSERT_EQUAL(em.st.rip, CODE);

	/* IN with DF=1: stored downwards on resume. */
	flat32(insw, sizeof(insw));
	st.gpr[HYVM_RDI] = 0x2002;
	st.gpr[HYVM_RCX] = 2;
	st.gpr[HYVM_RDX] = 0x1234;
	st.rflags |= 1 << 10;
	CU_ASSERT_EQUAL_FATAL(begin(), EMUL_ACCESS);
	CU_ASSERT(em.acc.pio && !em.acc.write);
	CU_ASSERT_EQUAL(em.acc.size, 2);
	CU_ASSERT_EQUAL(em.acc.count, 2);
	memcpy(em.acc.data, "\x11\x22\x33\x44", 4);
	CU_ASSERT_EQUAL(emul_resume(&em), EMUL_DONE);
	CU_ASSERT_EQUAL(*(uint16_t *)(ram + 0x2002), 0x2211);
	CU_ASSERT_EQUAL(*(uint16_t *)(ram + 0x2000), 0x4433);
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_RDI], 0x1ffe);
	CU_ASSERT_EQUAL(em.st.rip, CODE + 3);
}

/* 16-bit real mode: mov ax,[bx+si] with DS base 0x10000 (segment 0x1000). */
static void test_real_mode(void)
{
	static const uint8_t load[] = { 0x8b, 0x00 };

	flat32(load, sizeof(load));
	st.cr0 = 0;
	for (int i = 0; i < HYVM_LDTR; i++)
		st.seg[i].attrib &= ~(HYVM_SEG_DB | HYVM_SEG_G);
	st.seg[HYVM_DS].base = 0xe0000000;	/* as unreal mode leaves it */
	st.gpr[HYVM_RBX] = 0xfff0;
	st.gpr[HYVM_RSI] = 0x20;		/* wraps at 16 bits */
	st.gpr[HYVM_RAX] = 0x12345678;
	CU_ASSERT_EQUAL_FATAL(begin(), EMUL_ACCESS);
	CU_ASSERT_EQUAL(answer(MMIO + 0x10, 2, false, 0xffff), EMUL_DONE);
	CU_ASSERT_EQUAL(em.st.gpr[HYVM_RAX], 0x1234ffff);
}

static void test_errors(void)
{
	static const uint8_t fld[] = { 0xd9, 0x00 };	/* fld dword [eax] */
	static const uint8_t bad[] = { 0x0f, 0x04 };	/* undefined */

	flat32(fld, sizeof(fld));
	st.gpr[HYVM_RAX] = MMIO;
	CU_ASSERT_EQUAL(begin(), EMUL_ERROR);
	CU_ASSERT_PTR_NOT_NULL(strstr(em.err, "fld"));

	flat32(bad, sizeof(bad));
	CU_ASSERT_EQUAL(begin(), EMUL_ERROR);
	CU_ASSERT_PTR_NOT_NULL(strstr(em.err, "decode"));

	flat32(bad, sizeof(bad));
	st.rip = MMIO;				/* executing from MMIO */
	CU_ASSERT_EQUAL(begin(), EMUL_ERROR);
	CU_ASSERT_PTR_NOT_NULL(strstr(em.err, "outside RAM"));

	/* OUTS whose memory side is MMIO */
	static const uint8_t outsb[] = { 0x6e };
	flat32(outsb, sizeof(outsb));
	st.gpr[HYVM_RSI] = MMIO;
	CU_ASSERT_EQUAL(begin(), EMUL_ERROR);

	/* An event being delivered: not an instruction's access */
	flat32(fld, sizeof(fld));
	st.event.type = HYVM_EVENT_EXCEPTION;
	CU_ASSERT_EQUAL(begin(), EMUL_ERROR);
}

/* An operand across a page boundary into MMIO: one bus access per page
 * (pieces of 4, 2, 1 bytes), lowest address first; a store sends each
 * page its bytes, an ADD reads both halves, then writes both; a load
 * from RAM on one side and MMIO on the other mixes them. */
static void test_page_crossing(void)
{
	static const uint8_t load[] = { 0x8b, 0x05, 0xfe, 0x0f, 0x00, 0xe0 };	/* mov eax,[0xe0000ffe] */
	static const uint8_t store[] = { 0x89, 0x0d, 0xfd, 0x0f, 0x00, 0xe0 };	/* mov [0xe0000ffd],ecx */
	static const uint8_t add[] = { 0x83, 0x05, 0xff, 0x0f, 0x00, 0xe0, 0x01 };	/* add dword [0xe0000fff],1 */

	flat32(load, sizeof(load));
	CU_ASSERT_EQUAL_FATAL(begin(), EMUL_ACCESS);
	CU_ASSERT_EQUAL_FATAL(answer(MMIO + 0xffe, 2, false, 0x2211), EMUL_ACCESS);
	CU_ASSERT_EQUAL(answer(MMIO + 0x1000, 2, false, 0x4433), EMUL_DONE);
	CU_ASSERT_EQUAL(em.st.gpr[0], 0x44332211);

	flat32(store, sizeof(store));
	st.gpr[1] = 0x87654321;
	CU_ASSERT_EQUAL_FATAL(begin(), EMUL_ACCESS);
	CU_ASSERT_EQUAL_FATAL(answer(MMIO + 0xffd, 2, true, 0x4321), EMUL_ACCESS);	/* 3 bytes: 2 + 1 */
	CU_ASSERT_EQUAL_FATAL(answer(MMIO + 0xfff, 1, true, 0x65), EMUL_ACCESS);
	CU_ASSERT_EQUAL(answer(MMIO + 0x1000, 1, true, 0x87), EMUL_DONE);

	flat32(add, sizeof(add));
	CU_ASSERT_EQUAL_FATAL(begin(), EMUL_ACCESS);
	CU_ASSERT_EQUAL_FATAL(answer(MMIO + 0xfff, 1, false, 0xff), EMUL_ACCESS);
	CU_ASSERT_EQUAL_FATAL(answer(MMIO + 0x1000, 2, false, 0xffff), EMUL_ACCESS);	/* 3 bytes: 2 + 1 */
	CU_ASSERT_EQUAL_FATAL(answer(MMIO + 0x1002, 1, false, 0x00), EMUL_ACCESS);
	CU_ASSERT_EQUAL_FATAL(answer(MMIO + 0xfff, 1, true, 0x00), EMUL_ACCESS);
	CU_ASSERT_EQUAL_FATAL(answer(MMIO + 0x1000, 2, true, 0x0000), EMUL_ACCESS);
	CU_ASSERT_EQUAL(answer(MMIO + 0x1002, 1, true, 0x01), EMUL_DONE);
}

UNIT_SUITE(mmio_emulate, setup, teardown,
	   UNIT_TEST(test_mov_load_store), UNIT_TEST(test_movzx_movsx), UNIT_TEST(test_page_crossing),
	   UNIT_TEST(test_alu), UNIT_TEST(test_xchg), UNIT_TEST(test_stos_movs),
	   UNIT_TEST(test_push_pop),
	   UNIT_TEST(test_paging32), UNIT_TEST(test_long_mode), UNIT_TEST(test_pae),
	   UNIT_TEST(test_string_io), UNIT_TEST(test_real_mode), UNIT_TEST(test_errors));
