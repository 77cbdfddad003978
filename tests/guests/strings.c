/* 32-bit flat protected mode: string instructions with and without REP,
 * forwards and backwards (DF), and the registers they leave behind. */
#include "guest.h"

GUEST("strings", "");

struct string_regs {
	uint32_t esi, edi, ecx, flags;
};

#define STRING_OP(prefix_insn, si, di, count, al) ({ \
	struct string_regs r_ = { (uint32_t)(si), (uint32_t)(di), (uint32_t)(count), 0 }; \
	uint32_t a_ = (al); \
	asm volatile(prefix_insn "\n\tpushfl\n\tpopl %[fl]\n\tcld" \
	             : "+S"(r_.esi), "+D"(r_.edi), "+c"(r_.ecx), "+a"(a_), [fl] "=r"(r_.flags) \
	             : : "memory", "cc"); \
	r_; })

static void expect_regs(const char *what, struct string_regs got, uint32_t esi, uint32_t edi, uint32_t ecx)
{
	check(got.esi == esi && got.edi == edi && got.ecx == ecx,
	      "%s: esi/edi/ecx = %x/%x/%x, want %x/%x/%x", what, got.esi, got.edi, got.ecx, esi, edi, ecx);
}

static void moves(void)
{
	static char src[64], dst[64];
	static uint32_t dsrc[8], ddst[8];
	check_begin("movs");
	for (int i = 0; i < 64; i++)
		src[i] = (char)(i * 7 + 1);
	struct string_regs r = STRING_OP("rep movsb", src, dst, 37, 0);
	expect_regs("rep movsb", r, (uint32_t)src + 37, (uint32_t)dst + 37, 0);
	check(memcmp(src, dst, 37) == 0 && dst[37] == 0, "rep movsb copied the wrong bytes");

	for (int i = 0; i < 8; i++)
		dsrc[i] = 0x01010101u * (i + 1);
	r = STRING_OP("rep movsl", dsrc, ddst, 8, 0);
	expect_regs("rep movsd", r, (uint32_t)(dsrc + 8), (uint32_t)(ddst + 8), 0);
	check(memcmp(dsrc, ddst, sizeof(dsrc)) == 0, "rep movsd copied the wrong dwords");

	/* Overlapping copy to a higher address must run backwards. */
	char buf[9] = "abcdefgh";
	r = STRING_OP("std\n\trep movsb", buf + 5, buf + 7, 6, 0);
	expect_regs("std rep movsb", r, (uint32_t)buf - 1, (uint32_t)buf + 1, 0);
	check(memcmp(buf, "ababcdef", 8) == 0, "backward overlapping copy gave %s", buf);
	check(r.flags & EFLAGS_DF, "DF not set after std");

	r = STRING_OP("rep movsb", src, dst, 0, 0);
	expect_regs("rep movsb with ecx=0", r, (uint32_t)src, (uint32_t)dst, 0);
	check_end();
}

static void stores_loads(void)
{
	static uint32_t fill[16];
	static uint16_t words[4];
	check_begin("stos_lods");
	struct string_regs r = STRING_OP("rep stosl", 0, fill, 16, 0xdeadbeef);
	expect_regs("rep stosd", r, 0, (uint32_t)(fill + 16), 0);
	bool all = true;
	for (int i = 0; i < 16; i++)
		all &= fill[i] == 0xdeadbeef;
	check(all, "rep stosd left a dword unwritten");

	r = STRING_OP("std\n\tstosw\n\tstosw", 0, &words[3], 0, 0x5a5a);
	expect_regs("std stosw x2", r, 0, (uint32_t)&words[1], 0);
	check(words[3] == 0x5a5a && words[2] == 0x5a5a && words[1] == 0, "stosw backwards wrote %x %x %x",
	      words[1], words[2], words[3]);

	static const uint8_t seq[4] = { 0x11, 0x22, 0x33, 0x44 };
	uint32_t sum, esi = (uint32_t)seq;
	asm volatile("xorl %%edx, %%edx\n\t"
	             "lodsb\n\taddl %%eax, %%edx\n\tlodsb\n\taddl %%eax, %%edx\n\t"
	             "lodsw\n\taddl %%eax, %%edx"
	             : "=d"(sum), "+S"(esi) : "a"(0) : "cc");
	/* lodsb/lodsw replace only AL/AX: 0x11 + 0x22 + 0x4433 */
	check_eq("lodsb,lodsb,lodsw sum", sum, 0x11 + 0x22 + 0x4433);
	check_eq("esi after lods", esi, (uint32_t)seq + 4);
	check_end();
}

static void compares_scans(void)
{
	static const char a[] = "hello world", b[] = "hello there", s[] = "abcxdef";
	check_begin("cmps_scas");
	struct string_regs r = STRING_OP("repe cmpsb", a, b, 11, 0);
	expect_regs("repe cmpsb", r, (uint32_t)a + 7, (uint32_t)b + 7, 4);
	check(!(r.flags & EFLAGS_ZF), "repe cmpsb stopped with ZF set");

	r = STRING_OP("repe cmpsb", a, a, 5, 0);
	expect_regs("repe cmpsb equal", r, (uint32_t)a + 5, (uint32_t)a + 5, 0);
	check(r.flags & EFLAGS_ZF, "repe cmpsb over equal bytes left ZF clear");

	r = STRING_OP("repne scasb", 0, s, 7, 'x');
	expect_regs("repne scasb", r, 0, (uint32_t)s + 4, 3);
	check(r.flags & EFLAGS_ZF, "repne scasb found 'x' but ZF clear");

	r = STRING_OP("repne scasb", 0, s, 7, 'z');
	expect_regs("repne scasb miss", r, 0, (uint32_t)s + 7, 0);
	check(!(r.flags & EFLAGS_ZF), "repne scasb missed but ZF set");

	static const uint32_t d1[3] = { 1, 2, 3 }, d2[3] = { 1, 9, 3 };
	r = STRING_OP("std\n\trepe cmpsl", &d1[2], &d2[2], 3, 0);
	expect_regs("std repe cmpsd", r, (uint32_t)&d1[0], (uint32_t)&d2[0], 1);
	check((r.flags & (EFLAGS_ZF | EFLAGS_CF)) == EFLAGS_CF, "cmpsd 2 vs 9: flags %x", r.flags);
	check_end();
}

void guest_main(const struct mb_info *mbi)
{
	moves();
	stores_loads();
	compares_scans();
}
