/*
 * Issue 14: does the CPU we run on keep DF and OF as they were across
 * CMPXCHG8B? The SDM (Vol. 2A, CMPXCHG8B) says it changes ZF only. This
 * runs bt's host code for i386 Linux's SLUB fast path (this_cpu_cmpxchg_
 * double, the block at guest c42a9c32 that ends in cmpxchg8b %fs:(%esi)),
 * byte for byte as bt's trace dumped it inside the emulated AMD host
 * (/work/ckptbt's serial log, "DF set hostbytes"), entered and left the
 * way bt's runtime does (bt/translate/runtime.c: push host_flags; popfq;
 * jmp r11 ... pushfq; pop host_flags; cld), with GS based on a buffer of
 * our own (bt's GS is its guest view). Then smaller sequences to see which
 * part matters. Each case runs with the compare equal and not equal, with
 * the operand's page fresh (MADV_DONTNEED, so the access page-faults) and
 * warm, with DF=0 and OF=0 before, and with the ADD's source (which the
 * block's `add %esi,%eax` takes) holding bits 10 and 11 (DF, OF in RFLAGS)
 * or not. After: DF, OF and CF must be 0 (CMPXCHG8B keeps the XOR's/ADD's
 * flags: CF=OF=0 after XOR; for the ADD-only sequence CF/OF as the ADD
 * left them), ZF the outcome, SF/PF what the flag-setting instruction
 * before left.
 *
 * ITERATIONS [--df-before]: --df-before enters with DF=1 (a self-check:
 * every case must then count every run bad).
 * Prints one line per case: "case NAME: N runs, N bad" and the first bad
 * RFLAGS; exit 0 iff no run was bad. Build: cc -static -O2.
 */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define F_CF 0x1ul
#define F_PF 0x4ul
#define F_ZF 0x40ul
#define F_SF 0x80ul
#define F_DF 0x400ul
#define F_OF 0x800ul

struct ctx {			/* offsets used by the assembler below */
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;	/* 0x00..0x30 */
	uint64_t flags_in;	/* 0x38 */
	uint64_t flags_out;	/* 0x40 */
	uint64_t block;		/* 0x48 */
	uint64_t r15area[16];	/* 0x50: bt's context (r15), the exit eip at 0x50 */
	uint64_t host_rsp;	/* 0xd0 */
	uint64_t r9;		/* 0xd8: a 64-bit pointer for the unprefixed cases */
};

/* void run(struct ctx *c): bt's enter and common_exit around a block */
__asm__(
	".text\n.globl run\nrun:\n"
	"push %rbx\npush %rbp\npush %r12\npush %r13\npush %r14\npush %r15\n"
	"sub $8, %rsp\n"
	"mov %rsp, 0xd0(%rdi)\n"
	"mov %rdi, %r15\n"
	"mov 0x48(%rdi), %r11\n"
	"pushq 0x38(%r15)\n"
	"popfq\n"
	"mov 0x00(%r15), %eax\nmov 0x08(%r15), %ebx\nmov 0x10(%r15), %ecx\nmov 0x18(%r15), %edx\n"
	"mov 0x20(%r15), %esi\nmov 0x28(%r15), %edi\nmov 0x30(%r15), %ebp\n"
	"mov 0xd8(%r15), %r9\n"
	"jmp *%r11\n"
	".globl common_exit\ncommon_exit:\n"
	"mov %eax, 0x00(%r15)\nmov %ebx, 0x08(%r15)\nmov %ecx, 0x10(%r15)\nmov %edx, 0x18(%r15)\n"
	"mov %esi, 0x20(%r15)\nmov %edi, 0x28(%r15)\nmov %ebp, 0x30(%r15)\n"
	"pushfq\n"
	"popq 0x40(%r15)\n"
	"cld\n"
	"mov 0xd0(%r15), %rsp\n"
	"add $8, %rsp\n"
	"pop %r15\npop %r14\npop %r13\npop %r12\npop %rbp\npop %rbx\n"
	"ret\n"

	/* bt's host code for guest block c42a9c32, as dumped, up to the
	 * exits' jumps (here to common_exit, rel32 as in bt's) */
	".globl blk_bt\nblk_bt:\n"
	".byte 0x65,0x67,0x8b,0x75,0xf0\n"		/* mov %gs:-0x10(%ebp),%esi */
	".byte 0x65,0x67,0x8b,0x47,0x1c\n"		/* mov %gs:0x1c(%edi),%eax */
	".byte 0x01,0xf0\n"				/* add %esi,%eax */
	".byte 0x89,0xc1\n"				/* mov %eax,%ecx */
	".byte 0x65,0x67,0x8b,0x00\n"			/* mov %gs:(%eax),%eax */
	".byte 0x65,0x67,0x33,0x47,0x78\n"		/* xor %gs:0x78(%edi),%eax */
	".byte 0x0f,0xc9\n"				/* bswap %ecx */
	".byte 0x31,0xc8\n"				/* xor %ecx,%eax */
	".byte 0x67,0x8d,0x4a,0x20\n"			/* lea 0x20(%edx),%ecx */
	".byte 0x89,0xc3\n"				/* mov %eax,%ebx */
	".byte 0x89,0xf0\n"				/* mov %esi,%eax */
	".byte 0x65,0x67,0x8b,0x37\n"			/* mov %gs:(%edi),%esi */
	".byte 0x65,0x67,0x0f,0xc7,0x8e,0x00,0x80,0xeb,0x02\n" /* cmpxchg8b %gs:0x2eb8000(%esi) */
	".byte 0x0f,0x85; .long 1f - (. + 4)\n"		/* jne (rel32) */
	".byte 0xe9; .long 2f - (. + 4)\n"		/* jmp (rel32) */
	"1: movl $0xc42a9c0e, 0x50(%r15)\n"
	"movabs $0x7f7d3ee0a950, %r11\n"
	"jmp common_exit\n"
	"2: movl $0xc42a9c54, 0x50(%r15)\n"
	"movabs $0x7f7d3ee0a970, %r11\n"
	"jmp common_exit\n"

	/* the same block with a jump to the next instruction (eb 00) before
	 * the cmpxchg8b: a workaround candidate for bt under QEMU TCG */
	".globl blk_bt_jmp\nblk_bt_jmp:\n"
	".byte 0x65,0x67,0x8b,0x75,0xf0\n"
	".byte 0x65,0x67,0x8b,0x47,0x1c\n"
	".byte 0x01,0xf0\n"
	".byte 0x89,0xc1\n"
	".byte 0x65,0x67,0x8b,0x00\n"
	".byte 0x65,0x67,0x33,0x47,0x78\n"
	".byte 0x0f,0xc9\n"
	".byte 0x31,0xc8\n"
	".byte 0x67,0x8d,0x4a,0x20\n"
	".byte 0x89,0xc3\n"
	".byte 0x89,0xf0\n"
	".byte 0x65,0x67,0x8b,0x37\n"
	".byte 0xeb,0x00\n"				/* jmp .+2 */
	".byte 0x65,0x67,0x0f,0xc7,0x8e,0x00,0x80,0xeb,0x02\n"
	"jmp common_exit\n"

	/* no prefixes: add, then cmpxchg8b (%r9) as the TB's second insn */
	".globl blk_add\nblk_add:\n"
	"add %esi, %eax\n"
	"mov %ebp, %eax\n"
	"cmpxchg8b (%r9)\n"
	"jmp common_exit\n"

	/* the add, then a jump (QEMU ends its translation block there and
	 * stores its lazy flags state), then cmpxchg8b */
	".globl blk_add_jmp\nblk_add_jmp:\n"
	"add %esi, %eax\n"
	"mov %ebp, %eax\n"
	"jmp 3f\n"
	"3: cmpxchg8b (%r9)\n"
	"jmp common_exit\n"

	/* the add, then LOCK CMPXCHG8B (QEMU's atomic helper with 2 CPUs) */
	".globl blk_add_lock\nblk_add_lock:\n"
	"add %esi, %eax\n"
	"mov %ebp, %eax\n"
	"lock cmpxchg8b (%r9)\n"
	"jmp common_exit\n"

	/* GS + 0x67 kept, the add gone: only the popfq's flags before */
	".globl blk_nothing\nblk_nothing:\n"
	".byte 0x65,0x67,0x0f,0xc7,0x0f\n"		/* cmpxchg8b %gs:(%edi) */
	"jmp common_exit\n"

	/* xor only (no add) then cmpxchg8b: what xor discards of its source */
	".globl blk_xor\nblk_xor:\n"
	"xor %esi, %ebx\n"
	"mov %ebp, %eax\n"
	"cmpxchg8b (%r9)\n"
	"jmp common_exit\n"
);
void run(struct ctx *c);
extern char blk_bt_jmp[], blk_bt[], blk_add[], blk_nothing[], blk_xor[], blk_add_jmp[], blk_add_lock[];

#define REGION	(64ul << 20)	/* the GS view: covers disp 0x2eb8000 */
static uint8_t *gsb;
static uint64_t df_before;	/* --df-before: the self-check, every run must be bad */

static void put32(uint32_t off, uint32_t v) { memcpy(gsb + off, &v, 4); }

static int parity_even(uint32_t v) { return !__builtin_parity(v & 0xff); }

enum kind { K_BT, K_ADD, K_NOTHING, K_XOR, K_ADD_JMP, K_ADD_LOCK, K_BT_JMP };
static const char *const kind_name[] = { "bt-block(gs,67,add,xor,bswap)", "add;cmpxchg8b(no prefix)",
	"gs67-cmpxchg8b-only", "xor;cmpxchg8b(no prefix)", "add;jmp;cmpxchg8b(no prefix)", "add;lock cmpxchg8b", "bt-block+jmp(eb 00) before cmpxchg8b" };

/* one run; returns 0 if the flags are as the SDM says */
static int one(enum kind k, int equal, int fresh, uint32_t src, uint64_t *got, uint64_t *want_out)
{
	struct ctx c;
	const uint32_t target_esi = 0x1000;		/* cmpxchg8b at 0x2eb8000 + 0x1000 */
	const uint32_t target = 0x2eb8000 + target_esi;
	uint64_t expect = 0, mask = F_DF | F_OF | F_CF | F_ZF | F_SF | F_PF;
	uint32_t eax = 0, edx = 0x33333333;

	memset(&c, 0, sizeof(c));
	c.flags_in = 0x202 | F_SF | F_PF | df_before;	/* as the traced block: 0x86 (and IF) */
	if (fresh && madvise(gsb + (target & ~0xfffu), 4096, MADV_DONTNEED) != 0) {
		perror("madvise");
		exit(2);
	}
	switch (k) {
	case K_BT:
	case K_BT_JMP: {
		/* ebp: gs:(ebp-0x10) = src (esi, the add's source);
		 * edi: gs:(edi+0x1c) = w, gs:(edi) = target_esi, gs:(edi+0x78) = x;
		 * eax = w + src, a cell holding y; eax = y ^ x ^ bswap(w + src) */
		const uint32_t ebp = 0x100010, edi = 0x200000, w = 0x300000;
		const uint32_t y = 0x12345678, x = 0x0f0f0f0f;
		put32(ebp - 0x10, src);
		put32(edi + 0x1c, w);
		put32(edi, target_esi);
		put32(edi + 0x78, x);
		put32(w + src, y);
		uint32_t r = y ^ x ^ __builtin_bswap32(w + src);
		c.rbp = ebp; c.rdi = edi; c.rdx = edx;
		eax = src;			/* mov %esi,%eax */
		expect = (r == 0 ? F_ZF : 0) | (r & 0x80000000u ? F_SF : 0) | (parity_even(r) ? F_PF : 0);
		c.block = (uintptr_t)(k == K_BT ? blk_bt : blk_bt_jmp);
		break;
	}
	case K_ADD:
	case K_ADD_JMP:
	case K_ADD_LOCK: {
		/* eax = 0x40000000, esi = src: add result and flags in C */
		uint32_t a = 0x40000000, r = a + src;
		uint64_t of = (~(a ^ src) & (a ^ r) & 0x80000000u) ? F_OF : 0;
		c.rax = a; c.rsi = src; c.rbp = eax = 0x11111111; c.rdx = edx;
		c.r9 = (uintptr_t)(gsb + target);
		expect = (r < a ? F_CF : 0) | of | (r == 0 ? F_ZF : 0) | (r & 0x80000000u ? F_SF : 0) |
			 (parity_even(r) ? F_PF : 0);
		c.block = (uintptr_t)(k == K_ADD ? blk_add : k == K_ADD_JMP ? blk_add_jmp : blk_add_lock);
		break;
	}
	case K_XOR: {
		uint32_t b = 0x01000000, r = b ^ src;
		c.rbx = b; c.rsi = src; c.rbp = eax = 0x11111111; c.rdx = edx;
		c.r9 = (uintptr_t)(gsb + target);
		expect = (r == 0 ? F_ZF : 0) | (r & 0x80000000u ? F_SF : 0) | (parity_even(r) ? F_PF : 0);
		c.block = (uintptr_t)blk_xor;
		break;
	}
	case K_NOTHING:
		c.rdi = target; c.rax = eax = 0x11111111; c.rdx = edx;
		expect = c.flags_in & (F_SF | F_PF | F_CF);
		c.block = (uintptr_t)blk_nothing;
		break;
	}
	uint32_t mem[2] = { equal ? eax : eax ^ 0x5a5a, edx };
	memcpy(gsb + target, mem, 8);
	c.rbx = k == K_BT ? 0 : c.rbx;
	c.rcx = 0x66666666;
	expect &= ~F_ZF;
	expect |= equal ? F_ZF : 0;
	run(&c);
	*got = c.flags_out;
	*want_out = expect;
	return (c.flags_out & mask) != expect;
}

int main(int argc, char **argv)
{
	int iters = argc > 1 ? atoi(argv[1]) : 256, bad_total = 0, leak_total = 0;

	if (argc > 2 && !strcmp(argv[2], "--df-before"))
		df_before = F_DF;
	static const uint32_t srcs[] = { 0x00000c00, 0x00001000, 0x00000400, 0x00000800, 0xfffff000, 0x12345c00 };

	gsb = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (gsb == MAP_FAILED) { perror("mmap"); return 2; }
	if (syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)gsb) != 0) { perror("arch_prctl"); return 2; }
	for (int k = K_BT; k <= K_BT_JMP; k++)
		for (unsigned s = 0; s < sizeof(srcs) / sizeof(srcs[0]); s++)
			for (int equal = 0; equal < 2; equal++)
				for (int fresh = 0; fresh < 2; fresh++) {
					int bad = 0, leak = 0;
					uint64_t got = 0, want = 0, bad_got = 0, bad_want = 0;
					if ((k == K_BT || k == K_BT_JMP) && (srcs[s] > 0x100000))
						continue;	/* w + src must stay in the view */
					for (int i = 0; i < iters; i++)
						if (one(k, equal, fresh, srcs[s], &got, &want)) {
							if (!bad) { bad_got = got; bad_want = want; }
							bad++;
							/* the add's/xor's source operand's bits in RFLAGS */
							if (k != K_NOTHING && (got & srcs[s] & ~0x3ffu) == (srcs[s] & ~0x3ffu))
								leak++;
						}
					printf("case %s src=%#x %s %s: %d runs, %d bad", kind_name[k], srcs[s],
					       equal ? "equal" : "not-equal", fresh ? "page-fault" : "warm", iters, bad);
					if (bad)
						printf(" (first: rflags %#llx, want %#llx in CF|PF|ZF|SF|DF|OF; DF %s, OF %s)",
						       (unsigned long long)bad_got, (unsigned long long)bad_want,
						       bad_got & F_DF ? "SET" : "clear", bad_got & F_OF ? "SET" : "clear");
					if (leak)
						printf(" [%d with the source operand's bits above bit 9 ORed into RFLAGS]", leak);
					printf("\n");
					bad_total += bad;
					leak_total += leak;
				}
	printf("%s: %d bad runs, %d of them with the source operand of the ADD before in RFLAGS\n",
	       bad_total ? "FAIL" : "PASS", bad_total, leak_total);
	return bad_total ? 1 : 0;
}
