/* REP STOS and REP MOVS at instructions that kept faulting, which bt
 * then runs through its soft TLB a page at a time before the native
 * instruction finishes what is left (bt/memory/soft_tlb_string.c): the
 * result must be the instruction's, element by element (SDM Vol. 2B
 * MOVS/STOS, REP; Vol. 1 7.3.9.1), and a #PF in the middle must come at
 * the first element it cannot do, with ECX, ESI and EDI as far as it got
 * (Vol. 3A 6.6), the retry finishing the rest. Four sites (REP STOSD,
 * REP STOSB, REP MOVSD, REP MOVSB), each trained by 20 #PFs on
 * not-present pages; then, each run on 4 pages of a 4 MiB region:
 *   - across three pages from the middle of one; ECX = 0 (nothing);
 *   - STOSW of a value whose bytes differ; STOSD with DF=1 (downwards);
 *   - MOVSB overlapping forwards (the source's first bytes repeat) and
 *     backwards; MOVSD across pages of both;
 *   - the second destination page not present: #PF at its first byte
 *     with the registers at the boundary, then done after the fix; the
 *     same with the source's second page not present.
 * The memory CRC and the STATE line go to the differential test. */
#include "guest.h"

GUEST("rep_stlb", "paging32");

#define PDE 304u
#define BASE (PDE << 22)
#define NPAGES 8
#define TRAIN 20

static volatile uint32_t table[1024] __attribute__((aligned(4096)));
static uint8_t frames[NPAGES][4096] __attribute__((aligned(4096)));
static volatile uint32_t faults, seen_cr2, seen_ecx, seen_esi, seen_edi, seen_err;

struct regs { uint32_t ecx, esi, edi; };

#define STOS_SITE(name, insn)								\
	__attribute__((noinline, noclone)) static struct regs name(uint32_t dst, uint32_t v, uint32_t n) \
	{										\
		struct regs r;								\
		asm volatile(insn : "+D"(dst), "+c"(n) : "a"(v) : "memory");		\
		r.ecx = n, r.edi = dst, r.esi = 0;					\
		return r;								\
	}
#define MOVS_SITE(name, insn)								\
	__attribute__((noinline, noclone)) static struct regs name(uint32_t dst, uint32_t src, uint32_t n) \
	{										\
		struct regs r;								\
		asm volatile(insn : "+D"(dst), "+S"(src), "+c"(n) : : "memory");	\
		r.ecx = n, r.edi = dst, r.esi = src;					\
		return r;								\
	}
STOS_SITE(stosd, "rep stosl")
STOS_SITE(stosb, "rep stosb")
STOS_SITE(stosw, "rep stosw")
MOVS_SITE(movsd, "rep movsl")
MOVS_SITE(movsb, "rep movsb")

static void on_pf(struct trap_frame *tf)
{
	uint32_t cr2 = read_cr2();

	faults++;
	seen_cr2 = cr2;
	seen_err = tf->error;
	seen_ecx = tf->ecx;
	seen_esi = tf->esi;
	seen_edi = tf->edi;
	if (cr2 - BASE < NPAGES * 4096u)
		table[(cr2 - BASE) >> 12] |= PTE_P;
}

static uint32_t at(unsigned page, unsigned off) { return BASE + page * 4096 + off; }
static uint8_t *bytes(unsigned page) { return frames[page]; }

static void map_all(void)
{
	for (unsigned k = 0; k < NPAGES; k++) {
		table[k] = (uint32_t)frames[k] | PTE_P | PTE_W;
		invlpg((void *)at(k, 0));
	}
}

static void absent(unsigned k)
{
	table[k] &= ~PTE_P;
	invlpg((void *)at(k, 0));
}

/* TRAIN #PFs at each site: its page absent, the handler maps it, the
 * retry runs. */
static void train(void)
{
	for (unsigned i = 0; i < TRAIN; i++) {
		unsigned k = i % 4;
		absent(k);
		stosd(at(k, 0), i, 4);
		absent(k);
		stosb(at(k, 0), i, 4);
		absent(k);
		stosw(at(k, 0), i, 4);
		absent(k + 4);
		movsd(at(k + 4, 0), at(k, 0), 4);
		absent(k + 4);
		movsb(at(k + 4, 0), at(k, 0), 4);
	}
	check_eq("#PF while training", faults, 5 * TRAIN);
}

static uint32_t bad_bytes(unsigned page, unsigned from, unsigned to, uint8_t (*want)(unsigned i),
			  unsigned base_i)
{
	uint32_t bad = 0;

	for (unsigned i = from; i < to; i++)
		if (bytes(page + i / 4096)[i % 4096] != want(base_i + i - from))
			bad++;
	return bad;
}

static uint8_t b_ab(unsigned i) { (void)i; return 0xab; }
static uint8_t b_d(unsigned i) { return (uint8_t)(0x44332211u >> (8 * (i % 4))); }
static uint8_t b_w(unsigned i) { return i % 2 ? 0x12 : 0x34; }
static uint8_t b_src(unsigned i) { return (uint8_t)(i * 7 + 1); }
static uint8_t b_rep3(unsigned i) { return (uint8_t)((i % 3) * 7 + 1); }

static void fill_src(unsigned page, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		bytes(page + i / 4096)[i % 4096] = b_src(i);
}

void guest_main(const struct mb_info *mbi)
{
	paging32_enable();
	for (unsigned k = 0; k < NPAGES; k++)
		table[k] = (uint32_t)frames[k] | PTE_W;
	paging32_directory[PDE] = (uint32_t)table | PTE_P | PTE_W;
	write_cr3(read_cr3());
	trap_set_handler(VEC_PF, on_pf);

	check_begin("train");
	train();
	check_end();

	check_begin("stores");
	map_all();
	struct regs r = stosd(at(0, 2048), 0x44332211u, 2048);	/* 8 KiB: pages 0.5-2.5 */
	check_eq("STOSD ECX", r.ecx, 0);
	check_eq("STOSD EDI", r.edi, at(2, 2048));
	check_eq("STOSD bytes wrong", bad_bytes(0, 2048, 2048 + 8192, b_d, 0), 0);
	r = stosb(at(3, 100), 0xab, 5000);
	check_eq("STOSB EDI", r.edi, at(3, 5100));
	check_eq("STOSB bytes wrong", bad_bytes(3, 100, 5100, b_ab, 0), 0);
	r = stosw(at(5, 4090), 0x1234, 7);
	check_eq("STOSW EDI", r.edi, at(5, 4104));
	check_eq("STOSW bytes wrong", bad_bytes(5, 4090, 4104, b_w, 0), 0);
	frames[6][0] = 0x5a;
	r = stosd(at(6, 0), 0, 0);
	check_eq("ECX=0: EDI", r.edi, at(6, 0));
	check_eq("ECX=0: nothing stored", frames[6][0], 0x5a);
	asm volatile("std" ::: "cc");
	r = stosd(at(7, 4092), 0x44332211u, 1030);	/* downwards from page 7's last dword */
	asm volatile("cld" ::: "cc");
	check_eq("STOSD DF=1 EDI", r.edi, at(7, 4092) - 4 * 1030);
	check_eq("STOSD DF=1 bytes wrong", bad_bytes(6, 4096 + 4096 - 4 * 1029 - 4, 8192, b_d, 0), 0);
	check_end();

	check_begin("moves");
	map_all();
	fill_src(0, 3 * 4096);
	r = movsd(at(4, 1000), at(0, 2000), 2000);	/* 8000 bytes, both across pages */
	check(r.ecx == 0 && r.esi == at(0, 10000) && r.edi == at(4, 9000), "MOVSD registers %x %x %x",
	      r.ecx, r.esi, r.edi);
	check_eq("MOVSD bytes wrong", bad_bytes(4, 1000, 9000, b_src, 2000), 0);
	fill_src(0, 3 * 4096);
	r = movsb(at(0, 3), at(0, 0), 6000);	/* forwards, overlapping: 3 bytes repeat */
	check_eq("MOVSB forward-overlap bytes wrong", bad_bytes(0, 0, 6003, b_rep3, 0), 0);
	fill_src(0, 3 * 4096);
	r = movsb(at(0, 0), at(0, 3), 6000);	/* backwards overlap: a plain copy */
	check_eq("MOVSB backward-overlap bytes wrong", bad_bytes(0, 0, 6000, b_src, 3), 0);
	check_end();

	check_begin("faults_midway");
	map_all();
	absent(1);
	uint32_t before = faults;
	r = stosd(at(0, 2048), 0x44332211u, 2048);
	check_eq("#PF", faults - before, 1);
	check_eq("CR2", seen_cr2, at(1, 0));
	check_eq("error (write, not present)", seen_err, 2);
	check_eq("ECX at the #PF", seen_ecx, 2048 - 512);
	check_eq("EDI at the #PF", seen_edi, at(1, 0));
	check(r.ecx == 0 && r.edi == at(2, 2048), "after the retry: %x %x", r.ecx, r.edi);
	check_eq("bytes wrong", bad_bytes(0, 2048, 2048 + 8192, b_d, 0), 0);
	fill_src(4, 2 * 4096);
	absent(5);
	before = faults;
	r = movsd(at(0, 1024), at(4, 3072), 1024);	/* the source's second page absent */
	check_eq("MOVSD #PF", faults - before, 1);
	check_eq("MOVSD CR2", seen_cr2, at(5, 0));
	check_eq("MOVSD error (read, not present)", seen_err, 0);
	check(seen_ecx == 1024 - 256 && seen_esi == at(5, 0) && seen_edi == at(0, 2048),
	      "MOVSD registers at the #PF %x %x %x", seen_ecx, seen_esi, seen_edi);
	check_eq("MOVSD bytes wrong", bad_bytes(0, 1024, 1024 + 4096, b_src, 3072), 0);
	check_end();
	trap_set_handler(VEC_PF, NULL);
}
