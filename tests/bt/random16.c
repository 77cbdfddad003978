/*
 * Random 16-bit instruction blocks as a Multiboot guest, for
 * tests/bt/random16.sh, which runs the image in QEMU TCG (the oracle) and
 * on bt and compares what it prints.
 *
 * The host CPU cannot be the oracle here, as it is for 32-bit code in
 * tests/unit/test_bt_random.c: a 64-bit Linux process can run 16-bit code
 * only through an LDT code segment (modify_ldt) in compatibility mode, and
 * the development machines' kernel (a PVM guest) runs no compatibility-mode
 * code at all (that test SKIPs there for this reason).
 *
 *   random16-gen SEED BLOCKS OUT.bin
 *
 * The image (the a.out kludge: loaded at 1 MiB): a 32-bit entry that loads
 * a GDT and jumps to 16-bit protected mode (CS base 1 MiB, D = 0; DS, ES,
 * SS base 2 MiB, B = 0, 64 KiB of random data; FS base 3 MiB, results).
 * Each block loads random registers (random upper halves too) and flags,
 * runs 1-8 random instructions with 16-bit (and 0x66 32-bit) operands and
 * 16-bit addressing, and stores the eight 32-bit registers and EFLAGS at
 * FS:36*i. At the end the results and the 64 KiB data segment are printed
 * on COM1, a byte as two letters 'a'..'p', and isa-debug-exit ends the run.
 *
 * Flags an instruction leaves undefined (SDM Vol. 1, Appendix A: AF after
 * logic ops, MUL's SF/ZF/AF/PF, OF of multi-bit shifts and rotates) differ
 * between QEMU TCG and the host CPU bt runs on: AF is not compared, and
 * the other cases are followed by a CMP, which defines them all.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <Zydis/Zydis.h>

#define LOAD	0x100000u
#define CODE16	0x1000u		/* CS offset of the first block */
#define CODE_END 0xf000u
#define DATA	0x100000u	/* image offset of the 64 KiB data segment */
#define IMAGE	(DATA + 0x10000u)
#define RESULT_BYTES 36u

static uint8_t img[IMAGE];
static uint32_t pc;		/* image offset */
static uint64_t rs;

static uint32_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (uint32_t)(rs >> 16);
}

static uint32_t pick(uint32_t n) { return rnd() % n; }
#define ARR(a) (sizeof(a) / sizeof((a)[0]))
#define ONE(a) ((a)[pick(ARR(a))])

static ZydisEncoderOperand reg(ZydisRegister r)
{
	ZydisEncoderOperand o = { .type = ZYDIS_OPERAND_TYPE_REGISTER };
	o.reg.value = r;
	return o;
}

static ZydisEncoderOperand imm(int64_t v)
{
	ZydisEncoderOperand o = { .type = ZYDIS_OPERAND_TYPE_IMMEDIATE };
	o.imm.s = v;
	return o;
}

static ZydisEncoderOperand mem(ZydisRegister base, ZydisRegister index, int64_t disp, int size)
{
	ZydisEncoderOperand o = { .type = ZYDIS_OPERAND_TYPE_MEMORY };
	o.mem.base = base;
	o.mem.index = index;
	o.mem.scale = index ? 1 : 0;
	o.mem.displacement = disp;
	o.mem.size = (ZyanU16)size;
	return o;
}

/* Encodes in 16-bit mode; an impossible combination is silently dropped. */
static bool asm16(ZydisMnemonic m, int n, ZydisEncoderOperand a, ZydisEncoderOperand b,
		  ZydisEncoderOperand c, ZydisInstructionAttributes prefixes)
{
	ZydisEncoderRequest q;
	ZyanUSize len = ZYDIS_MAX_INSTRUCTION_LENGTH;

	memset(&q, 0, sizeof(q));
	q.machine_mode = ZYDIS_MACHINE_MODE_LEGACY_16;
	q.mnemonic = m;
	q.prefixes = prefixes;
	q.operand_count = (ZyanU8)n;
	q.operands[0] = a;
	q.operands[1] = b;
	q.operands[2] = c;
	if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstruction(&q, img + pc, &len)))
		return false;
	pc += (uint32_t)len;
	return true;
}

#define X0(m) asm16(m, 0, imm(0), imm(0), imm(0), 0)
#define X1(m, a) asm16(m, 1, a, imm(0), imm(0), 0)
#define X2(m, a, b) asm16(m, 2, a, b, imm(0), 0)
#define Z(x) ZYDIS_REGISTER_##x
#define M(x) ZYDIS_MNEMONIC_##x

static const ZydisRegister gpr32[] = { Z(EAX), Z(ECX), Z(EDX), Z(EBX), Z(ESP), Z(EBP), Z(ESI), Z(EDI) };
static const ZydisRegister dst16[] = { Z(AX), Z(CX), Z(DX), Z(BX), Z(SI), Z(DI), Z(BP) };
static const ZydisRegister dst32[] = { Z(EAX), Z(ECX), Z(EDX), Z(EBX), Z(ESI), Z(EDI), Z(EBP) };
static const ZydisRegister reg8[] = { Z(AL), Z(CL), Z(DL), Z(BL), Z(AH), Z(CH), Z(DH), Z(BH) };
static const ZydisMnemonic alu[] = { M(ADD), M(OR), M(ADC), M(SBB), M(AND), M(SUB), M(XOR),
				     M(CMP), M(TEST), M(MOV) };
static const ZydisMnemonic shifts[] = { M(SHL), M(SHR), M(SAR), M(ROL), M(ROR), M(RCL), M(RCR) };
static const ZydisMnemonic unary[] = { M(INC), M(DEC), M(NEG), M(NOT) };
static const ZydisMnemonic setcc[] = { M(SETB), M(SETZ), M(SETBE), M(SETL), M(SETLE), M(SETO),
				       M(SETP), M(SETS) };
static const ZydisMnemonic cmov[] = { M(CMOVB), M(CMOVZ), M(CMOVNBE), M(CMOVL), M(CMOVO),
				      M(CMOVS) };
static const ZydisMnemonic jcc[] = { M(JB), M(JZ), M(JBE), M(JL), M(JLE), M(JO), M(JP), M(JS),
				     M(JNB), M(JNZ) };
static const ZydisMnemonic flagops[] = { M(CLC), M(STC), M(CMC), M(CLD), M(STD), M(CBW),
					 M(CWD), M(CWDE), M(CDQ), M(SAHF) };
static const ZydisMnemonic strops[] = { M(MOVSB), M(MOVSW), M(STOSB), M(STOSW), M(LODSB),
					M(LODSW), M(CMPSB), M(SCASB), M(MOVSD) };

/* A 16-bit memory operand: every base/index form (SDM Vol. 2A, Table 2-1). */
static ZydisEncoderOperand m16(int size)
{
	static const ZydisRegister base[] = { Z(BX), Z(BX), Z(BP), Z(BP), Z(NONE), Z(NONE), Z(BP), Z(BX), Z(NONE) };
	static const ZydisRegister index[] = { Z(SI), Z(DI), Z(SI), Z(DI), Z(SI), Z(DI), Z(NONE), Z(NONE), Z(NONE) };
	unsigned k = pick(ARR(base));
	int64_t disp = k == 8 ? (int64_t)pick(0x10000) : pick(3) == 0 ? 0 :
		       pick(2) ? (int64_t)(int8_t)rnd() : (int64_t)(int16_t)rnd();

	if (k == 8)
		disp = (int16_t)disp;
	return mem(base[k], index[k], disp, size);
}

/* Defines every flag after an instruction that leaves some undefined. */
static void define_flags(void)
{
	X2(M(CMP), reg(Z(DX)), imm((int16_t)rnd()));
}

static void emit_random(int *depth)
{
	ZydisMnemonic m;
	bool o32 = pick(4) == 0;
	ZydisRegister d = o32 ? ONE(dst32) : ONE(dst16);
	int sz = o32 ? 4 : 2;

	switch (pick(24)) {
	case 0: X2(ONE(alu), reg(d), reg(o32 ? ONE(dst32) : ONE(dst16))); break;
	case 1: X2(ONE(alu), reg(d), imm(o32 ? (int32_t)rnd() : (int16_t)rnd())); break;
	case 2: X2(ONE(alu), reg(d), m16(sz)); break;
	case 3: X2(ONE(alu), m16(sz), reg(d)); break;
	case 4: X2(ONE(alu), m16(pick(2) ? sz : 1), imm((int8_t)rnd())); break;
	case 5: X2(ONE(alu), reg(ONE(reg8)), pick(2) ? reg(ONE(reg8)) : m16(1)); break;
	case 6: X2(ONE(alu), m16(1), reg(ONE(reg8))); break;
	case 7:
		m = ONE(shifts);
		if (pick(2)) {
			X2(m, pick(2) ? reg(d) : m16(sz), imm(1));
		} else {
			X2(m, pick(2) ? reg(d) : m16(sz), pick(2) ? imm(2 + pick(30)) : reg(Z(CL)));
			define_flags();
		}
		break;
	case 8: X1(ONE(unary), pick(2) ? reg(d) : m16(pick(2) ? sz : 1)); break;
	case 9:
		X1(pick(2) ? M(MUL) : M(IMUL), pick(2) ? reg(d) : m16(sz));
		define_flags();
		break;
	case 10:
		asm16(M(IMUL), 3, reg(d), pick(2) ? reg(o32 ? ONE(dst32) : ONE(dst16)) : m16(sz),
		      imm((int16_t)rnd()), 0);
		define_flags();
		break;
	case 11:
		X2(pick(2) ? M(MOVZX) : M(MOVSX), reg(d), pick(2) ? reg(ONE(reg8)) : m16(1));
		break;
	case 12:
		if (pick(2))
			X1(ONE(setcc), pick(2) ? reg(ONE(reg8)) : m16(1));
		else
			X2(ONE(cmov), reg(d), pick(2) ? reg(o32 ? ONE(dst32) : ONE(dst16)) : m16(sz));
		break;
	case 13: {
		static const ZydisMnemonic bits[] = { M(BT), M(BTS), M(BTR), M(BTC) };
		X2(ONE(bits), pick(2) ? reg(d) : m16(sz), imm(pick(16)));
		define_flags();
		break;
	}
	case 14:
		switch (pick(4)) {
		case 0: X2(M(XCHG), reg(d), reg(o32 ? ONE(dst32) : ONE(dst16))); break;
		case 1: X2(M(XCHG), m16(sz), reg(d)); break;
		case 2: X2(M(XADD), m16(sz), reg(d)); break;
		default: X2(M(CMPXCHG), m16(sz), reg(o32 ? Z(ECX) : Z(CX))); break;
		}
		break;
	case 15: X2(M(LEA), reg(d), m16(sz)); break;
	case 16:
		if (*depth > 0 && pick(2)) {
			X1(M(POP), pick(3) ? reg(d) : m16(sz));
			(*depth)--;
		} else if (*depth < 8) {
			switch (pick(3)) {
			case 0: X1(M(PUSH), reg(d)); break;
			case 1: asm16(M(PUSH), 1, imm((int16_t)rnd()), imm(0), imm(0), 0); break;
			default: X1(M(PUSH), m16(sz)); break;
			}
			(*depth)++;
		}
		break;
	case 17: {
		m = ONE(strops);
		X2(M(MOV), reg(Z(CX)), imm(pick(9)));
		ZydisInstructionAttributes p = m == M(CMPSB) ? ZYDIS_ATTRIB_HAS_REPE :
					       m == M(SCASB) ? ZYDIS_ATTRIB_HAS_REPNE :
					       pick(4) ? ZYDIS_ATTRIB_HAS_REP : 0;
		if (m == M(LODSB) || m == M(LODSW))
			p = 0;
		asm16(m, 0, imm(0), imm(0), imm(0), p);
		break;
	}
	case 18: X0(ONE(flagops)); break;
	case 19: {
		/* a conditional branch over one instruction */
		uint32_t at = pc;
		X1(ONE(jcc), imm(0x7f));	/* rel8 patched below */
		uint32_t after = pc;
		X2(ONE(alu), reg(d), imm((int16_t)rnd()));
		img[after - 1] = (uint8_t)(pc - after);
		(void)at;
		break;
	}
	case 20: {
		/* LOOP on CX: cx = 1..5 rounds of an ADD */
		X2(M(MOV), reg(Z(CX)), imm(1 + pick(5)));
		uint32_t top = pc;
		X2(M(ADD), reg(Z(AX)), imm((int8_t)rnd()));
		img[pc] = 0xe2;
		img[pc + 1] = (uint8_t)(top - (pc + 2));
		pc += 2;
		break;
	}
	case 21:
		/* XLAT from a random table base */
		X0(M(XLAT));
		break;
	case 22: {
		/* a near call to a routine that returns (16-bit CALL/RET) */
		uint32_t call = pc;
		img[pc++] = 0xe8;		/* call rel16: over the jmp */
		img[pc++] = 2;
		img[pc++] = 0;
		uint32_t jmp = pc;
		img[pc++] = 0xeb;		/* jmp short over the routine */
		img[pc++] = 0;
		uint32_t start = pc;
		X2(ONE(alu), reg(d), imm((int16_t)rnd()));
		img[pc++] = 0xc3;		/* ret */
		img[jmp + 1] = (uint8_t)(pc - start);
		(void)call;
		break;
	}
	default:
		if (pick(2)) {
			X0(M(PUSHA));
			X2(M(MOV), reg(Z(AX)), imm((int16_t)rnd()));
			X0(M(POPA));
		} else {
			asm16(M(ENTER), 2, imm(pick(64)), imm(0), imm(0), 0);
			X2(M(MOV), reg(Z(AX)), mem(Z(BP), Z(NONE), -2 * (int)pick(4), 2));
			X0(M(LEAVE));
		}
		break;
	}
}

/* Flags a block starts with: CF PF ZF SF OF random, DF rarely, IF off. */
static uint16_t start_flags(void)
{
	return (uint16_t)((rnd() & 0x8d5u) | 0x2u | (pick(8) ? 0 : 0x400u));
}

static void emit_block(unsigned i)
{
	int depth = 0;

	X2(M(MOV), reg(Z(ESP)), imm((int32_t)((rnd() & 0xffff0000u) | (0x8000u + (pick(0x7000) & ~1u)))));
	asm16(M(PUSH), 1, imm((int16_t)start_flags()), imm(0), imm(0), 0);
	X0(M(POPF));
	for (int k = 0; k < 8; k++) {
		if (k == 4)
			continue;
		X2(M(MOV), reg(gpr32[k]), imm((int32_t)rnd()));
	}
	unsigned n = 1 + pick(8);
	for (unsigned k = 0; k < n; k++)
		emit_random(&depth);
	for (int k = 0; k < 8; k++)
		asm16(M(MOV), 2, mem(Z(NONE), Z(NONE), (int16_t)(i * RESULT_BYTES + 4 * k), 4),
		      reg(gpr32[k]), imm(0), ZYDIS_ATTRIB_HAS_SEGMENT_FS);
	X0(M(PUSHFD));
	asm16(M(POP), 1, mem(Z(NONE), Z(NONE), (int16_t)(i * RESULT_BYTES + 32), 4), imm(0), imm(0),
	      ZYDIS_ATTRIB_HAS_SEGMENT_FS);
	/* the EFLAGS image left below SP holds AF: overwrite it */
	img[pc++] = 0x66;	/* push dword 0 */
	img[pc++] = 0x6a;
	img[pc++] = 0x00;
	X1(M(POP), reg(Z(EAX)));
}

static const uint8_t entry32[] = {
	0xfa,					/* cli */
	0x0f, 0x01, 0x15, 0, 0, 0, 0,		/* lgdt [gdtr]: patched */
	0xea, 0, 0, 0, 0, 0x08, 0x00,		/* jmp 0x08:CODE16-ish: patched */
};

/* 16-bit tail: FS:0 results and DS:0 data out as letters, then exit. */
static void emit_tail(unsigned blocks)
{
	/* putc: AL out on COM1 once the transmitter is empty (QEMU's 16550
	 * drops bytes written while it is not) */
	static const uint8_t putc_code[] = {
		0x50,			/* push ax */
		0xba, 0xfd, 0x03,	/* mov dx, 0x3fd */
		0xec,			/* .w: in al, dx */
		0xa8, 0x20,		/* test al, 0x20 */
		0x74, 0xfb,		/* jz .w */
		0x58,			/* pop ax */
		0xba, 0xf8, 0x03,	/* mov dx, 0x3f8 */
		0xee,			/* out dx, al */
		0xc3,			/* ret */
	};
	uint32_t skip = pc;			/* jmp main: the blocks run into here */
	img[pc] = 0xe9;
	pc += 3;
	uint32_t putc_at = pc;
	memcpy(img + pc, putc_code, sizeof(putc_code));
	pc += sizeof(putc_code);
	/* dump: CX bytes from DS:SI, each as two letters, then a newline */
	uint32_t dump_at = pc, top = pc;
	static const uint8_t hi[] = { 0xac, 0x88, 0xc4, 0xc0, 0xe8, 0x04, 0x04, 0x61 };
	static const uint8_t lo[] = { 0x88, 0xe0, 0x24, 0x0f, 0x04, 0x61 };
#define CALL_PUTC() do { int16_t r = (int16_t)(putc_at - (pc + 3)); img[pc] = 0xe8; \
		memcpy(img + pc + 1, &r, 2); pc += 3; } while (0)
	memcpy(img + pc, hi, sizeof(hi));	/* lodsb; mov ah, al; shr al, 4; add al, 'a' */
	pc += sizeof(hi);
	CALL_PUTC();
	memcpy(img + pc, lo, sizeof(lo));	/* mov al, ah; and al, 15; add al, 'a' */
	pc += sizeof(lo);
	CALL_PUTC();
	img[pc] = 0xe2;				/* loop top */
	img[pc + 1] = (uint8_t)(top - (pc + 2));
	pc += 2;
	img[pc++] = 0xb0;			/* mov al, 10 */
	img[pc++] = 0x0a;
	CALL_PUTC();
	img[pc++] = 0xc3;
	uint32_t main_at = pc;
	int16_t to_main = (int16_t)(main_at - (skip + 3));
	memcpy(img + skip + 1, &to_main, 2);
	X0(M(CLD));
	X2(M(MOV), reg(Z(AX)), imm(0x18));
	X2(M(MOV), reg(Z(DS)), reg(Z(AX)));
	X2(M(XOR), reg(Z(SI)), reg(Z(SI)));
	X2(M(MOV), reg(Z(CX)), imm((int16_t)(blocks * RESULT_BYTES)));
	img[pc] = 0xe8;		/* call dump */
	int16_t rel = (int16_t)(dump_at - (pc + 3));
	memcpy(img + pc + 1, &rel, 2);
	pc += 3;
	X2(M(MOV), reg(Z(AX)), imm(0x10));
	X2(M(MOV), reg(Z(DS)), reg(Z(AX)));
	X2(M(XOR), reg(Z(SI)), reg(Z(SI)));
	X2(M(XOR), reg(Z(CX)), reg(Z(CX)));	/* 65536 rounds */
	img[pc] = 0xe8;
	rel = (int16_t)(dump_at - (pc + 3));
	memcpy(img + pc + 1, &rel, 2);
	pc += 3;
	static const uint8_t out_exit[] = { 0xba, 0xf4, 0x00, 0x30, 0xc0, 0xee, 0xf4, 0xeb, 0xfe };
	memcpy(img + pc, out_exit, sizeof(out_exit));	/* isa-debug-exit 0; hlt */
	pc += sizeof(out_exit);
}

static void put_desc(uint32_t off, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	uint64_t d = (limit & 0xffffull) | ((uint64_t)(base & 0xffffff) << 16) |
		     ((uint64_t)access << 40) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
		     ((uint64_t)(flags & 0xf) << 52) | ((uint64_t)(base >> 24) << 56);
	memcpy(img + off, &d, 8);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: random16-gen SEED BLOCKS OUT.bin\n");
		return 2;
	}
	char *end;
	unsigned long long seed = strtoull(argv[1], &end, 0);
	unsigned long blocks = strtoul(argv[2], &end, 0);
	if (!seed || !blocks || blocks > 0xffff / RESULT_BYTES) {
		fprintf(stderr, "random16-gen: SEED must be non-zero, BLOCKS 1..%u\n",
			0xffff / RESULT_BYTES);
		return 2;
	}
	rs = seed;
	/* Multiboot v1 header with the a.out kludge (flags bit 16) */
	uint32_t hdr[8] = { 0x1badb002, 0x00010000, (uint32_t)-(0x1badb002 + 0x00010000), LOAD, LOAD,
			    LOAD + IMAGE, LOAD + IMAGE, LOAD + 0x40 };
	memcpy(img, hdr, sizeof(hdr));
	/* GDT at 0x800: null, 16-bit code at 1 MiB, data at 2 MiB, results at 3 MiB */
	put_desc(0x808, LOAD, 0xffff, 0x9b, 0);
	put_desc(0x810, LOAD + DATA, 0xffff, 0x93, 0);
	put_desc(0x818, 0x300000, 0xffff, 0x93, 0);
	uint16_t glimit = 0x1f;
	uint32_t gbase = LOAD + 0x800;
	memcpy(img + 0x840, &glimit, 2);
	memcpy(img + 0x842, &gbase, 4);
	memcpy(img + 0x40, entry32, sizeof(entry32));
	uint32_t gdtr = LOAD + 0x840, target = CODE16;
	memcpy(img + 0x40 + 4, &gdtr, 4);
	memcpy(img + 0x40 + 9, &target, 4);

	pc = CODE16;
	/* segments for the blocks */
	X2(M(MOV), reg(Z(AX)), imm(0x10));
	X2(M(MOV), reg(Z(DS)), reg(Z(AX)));
	X2(M(MOV), reg(Z(ES)), reg(Z(AX)));
	X2(M(MOV), reg(Z(SS)), reg(Z(AX)));
	X2(M(MOV), reg(Z(AX)), imm(0x18));
	X2(M(MOV), reg(Z(FS)), reg(Z(AX)));
	for (unsigned i = 0; i < blocks; i++) {
		emit_block(i);
		if (pc > CODE_END) {
			fprintf(stderr, "random16-gen: %lu blocks do not fit in 56 KiB of code\n", blocks);
			return 2;
		}
	}
	emit_tail((unsigned)blocks);
	for (uint32_t i = 0; i < 0x10000; i++)
		img[DATA + i] = (uint8_t)rnd();

	FILE *f = fopen(argv[3], "wb");
	if (!f || fwrite(img, 1, sizeof(img), f) != sizeof(img) || fclose(f)) {
		fprintf(stderr, "random16-gen: cannot write %s\n", argv[3]);
		return 2;
	}
	return 0;
}
