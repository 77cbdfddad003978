/* gdb's register numbering and target descriptions; see gdb_regs.h. */
#include <stdio.h>
#include <string.h>
#include <hyvm/x86.h>
#include "gdb/gdb_regs.h"

enum reg_kind { R_GPR, R_RIP, R_EFLAGS, R_SEG, R_ST, R_FX, R_XMM, R_SEGBASE, R_CR, R_EFER };

struct reg_desc {
	const char *name;
	unsigned bits;
	const char *type;
	const char *group;	/* NULL: gdb's default */
	uint8_t feature;	/* index into features[] */
	uint8_t kind;
	uint8_t index;		/* GPR/segment/ST/XMM number, CR number, FXSAVE offset */
};

enum { F_CORE, F_SSE, F_SEGMENTS, F_SYS };

static const char *const feature_name[] = {
	[F_CORE] = "org.gnu.gdb.i386.core", [F_SSE] = "org.gnu.gdb.i386.sse",
	[F_SEGMENTS] = "org.gnu.gdb.i386.segments", [F_SYS] = "org.hyvm.x86.sys",
};

#define GPR(n, i, t)	{ n, 32, t, NULL, F_CORE, R_GPR, i }
#define GPR64(n, i, t)	{ n, 64, t, NULL, F_CORE, R_GPR, i }
#define SEG(n, i)	{ n, 32, "int32", NULL, F_CORE, R_SEG, i }
#define ST(i)		{ "st" #i, 80, "i387_ext", NULL, F_CORE, R_ST, i }
/* FXSAVE offsets (SDM Vol. 1, 10.5.1, Table 10-2) */
#define FX(n, off)	{ n, 32, "int", "float", F_CORE, R_FX, off }
#define X87							\
	ST(0), ST(1), ST(2), ST(3), ST(4), ST(5), ST(6), ST(7),	\
	FX("fctrl", 0), FX("fstat", 2), FX("ftag", 4), FX("fiseg", 12), \
	FX("fioff", 8), FX("foseg", 20), FX("fooff", 16), FX("fop", 6)
#define XMM(i)		{ "xmm" #i, 128, "vec128", NULL, F_SSE, R_XMM, i }
#define MXCSR		{ "mxcsr", 32, "int", "vector", F_SSE, R_FX, 24 }
#define SYS(bits)						\
	{ "cr0", bits, "int", "system", F_SYS, R_CR, 0 },		\
	{ "cr2", bits, "int", "system", F_SYS, R_CR, 2 },		\
	{ "cr3", bits, "int", "system", F_SYS, R_CR, 3 },		\
	{ "cr4", bits, "int", "system", F_SYS, R_CR, 4 },		\
	{ "efer", 64, "int", "system", F_SYS, R_EFER, 0 }

/* gdb's features/i386/32bit-core.xml and 32bit-sse.xml order */
static const struct reg_desc regs_i386[] = {
	GPR("eax", HYVM_RAX, "int32"), GPR("ecx", HYVM_RCX, "int32"),
	GPR("edx", HYVM_RDX, "int32"), GPR("ebx", HYVM_RBX, "int32"),
	GPR("esp", HYVM_RSP, "data_ptr"), GPR("ebp", HYVM_RBP, "data_ptr"),
	GPR("esi", HYVM_RSI, "int32"), GPR("edi", HYVM_RDI, "int32"),
	{ "eip", 32, "code_ptr", NULL, F_CORE, R_RIP, 0 },
	{ "eflags", 32, "int32", NULL, F_CORE, R_EFLAGS, 0 },
	SEG("cs", HYVM_CS), SEG("ss", HYVM_SS), SEG("ds", HYVM_DS),
	SEG("es", HYVM_ES), SEG("fs", HYVM_FS), SEG("gs", HYVM_GS),
	X87,
	XMM(0), XMM(1), XMM(2), XMM(3), XMM(4), XMM(5), XMM(6), XMM(7), MXCSR,
	SYS(32),
};

/* 64bit-core.xml, 64bit-sse.xml, 64bit-segments.xml order */
static const struct reg_desc regs_amd64[] = {
	GPR64("rax", HYVM_RAX, "int64"), GPR64("rbx", HYVM_RBX, "int64"),
	GPR64("rcx", HYVM_RCX, "int64"), GPR64("rdx", HYVM_RDX, "int64"),
	GPR64("rsi", HYVM_RSI, "int64"), GPR64("rdi", HYVM_RDI, "int64"),
	GPR64("rbp", HYVM_RBP, "data_ptr"), GPR64("rsp", HYVM_RSP, "data_ptr"),
	GPR64("r8", HYVM_R8, "int64"), GPR64("r9", HYVM_R9, "int64"),
	GPR64("r10", HYVM_R10, "int64"), GPR64("r11", HYVM_R11, "int64"),
	GPR64("r12", HYVM_R12, "int64"), GPR64("r13", HYVM_R13, "int64"),
	GPR64("r14", HYVM_R14, "int64"), GPR64("r15", HYVM_R15, "int64"),
	{ "rip", 64, "code_ptr", NULL, F_CORE, R_RIP, 0 },
	{ "eflags", 32, "int32", NULL, F_CORE, R_EFLAGS, 0 },
	SEG("cs", HYVM_CS), SEG("ss", HYVM_SS), SEG("ds", HYVM_DS),
	SEG("es", HYVM_ES), SEG("fs", HYVM_FS), SEG("gs", HYVM_GS),
	X87,
	XMM(0), XMM(1), XMM(2), XMM(3), XMM(4), XMM(5), XMM(6), XMM(7),
	XMM(8), XMM(9), XMM(10), XMM(11), XMM(12), XMM(13), XMM(14), XMM(15), MXCSR,
	{ "fs_base", 64, "int", NULL, F_SEGMENTS, R_SEGBASE, HYVM_FS },
	{ "gs_base", 64, "int", NULL, F_SEGMENTS, R_SEGBASE, HYVM_GS },
	SYS(64),
};

static const struct reg_desc *table(enum gdb_arch arch, unsigned *n)
{
	if (arch == GDB_ARCH_AMD64) {
		*n = sizeof(regs_amd64) / sizeof(regs_amd64[0]);
		return regs_amd64;
	}
	*n = sizeof(regs_i386) / sizeof(regs_i386[0]);
	return regs_i386;
}

enum gdb_arch gdb_arch_of(const struct hyvm_cpu_state *st)
{
	return (st->efer & EFER_LMA) ? GDB_ARCH_AMD64 : GDB_ARCH_I386;
}

unsigned gdb_nregs(enum gdb_arch arch)
{
	unsigned n;

	table(arch, &n);
	return n;
}

static __u64 *cr_field(struct hyvm_cpu_state *st, unsigned cr)
{
	switch (cr) {
	case 0: return &st->cr0;
	case 2: return &st->cr2;
	case 3: return &st->cr3;
	default: return &st->cr4;
	}
}

/* The abridged tag (one bit per register, 1 = valid) as the full x87 tag
 * word gdb shows: empty 11 or valid 00 (zero/special are not told apart). */
static uint32_t full_tag(uint8_t abridged)
{
	uint32_t t = 0;

	for (int i = 0; i < 8; i++)
		if (!(abridged >> i & 1))
			t |= 3u << (2 * i);
	return t;
}

unsigned gdb_reg_get(enum gdb_arch arch, const struct hyvm_cpu_state *st, unsigned n,
		     uint8_t *out)
{
	unsigned nr;
	const struct reg_desc *t = table(arch, &nr);
	uint64_t v = 0;

	if (n >= nr)
		return 0;
	const struct reg_desc *r = &t[n];
	unsigned bytes = r->bits / 8;
	switch (r->kind) {
	case R_GPR: v = st->gpr[r->index]; break;
	case R_RIP: v = st->rip; break;
	case R_EFLAGS: v = st->rflags; break;
	case R_SEG: v = st->seg[r->index].selector; break;
	case R_SEGBASE: v = st->seg[r->index].base; break;
	case R_CR: v = *cr_field((struct hyvm_cpu_state *)st, r->index); break;
	case R_EFER: v = st->efer; break;
	case R_ST: memcpy(out, st->fxsave + 32 + 16 * r->index, 10); return bytes;
	case R_XMM: memcpy(out, st->fxsave + 160 + 16 * r->index, 16); return bytes;
	case R_FX:
		if (r->index == 4)
			v = full_tag(st->fxsave[4]);
		else if (r->index == 8 || r->index == 16 || r->index == 24)
			memcpy(&v, st->fxsave + r->index, 4);
		else
			memcpy(&v, st->fxsave + r->index, 2);
		if (r->index == 6)
			v &= 0x7ff;	/* the opcode's 11 bits */
		break;
	}
	memcpy(out, &v, bytes);	/* little-endian host */
	return bytes;
}

int gdb_reg_set(enum gdb_arch arch, struct hyvm_cpu_state *st, unsigned n, const uint8_t *in)
{
	unsigned nr;
	const struct reg_desc *t = table(arch, &nr);
	uint64_t v = 0;

	if (n >= nr)
		return -1;
	const struct reg_desc *r = &t[n];
	unsigned bytes = r->bits / 8;
	if (bytes <= 8)
		memcpy(&v, in, bytes);
	switch (r->kind) {
	case R_GPR:
		st->gpr[r->index] = v;
		return 0;
	case R_RIP:
		st->rip = v;
		return 0;
	case R_EFLAGS:
		/* bit 1 always reads 1; VM and the reserved bits stay as they are */
		st->rflags = (st->rflags & ~0x3f7fd5ull) | (v & 0x3f7fd5ull) | 2;
		return 0;
	case R_ST:
		memcpy(st->fxsave + 32 + 16 * r->index, in, 10);
		return 0;
	case R_XMM:
		memcpy(st->fxsave + 160 + 16 * r->index, in, 16);
		return 0;
	case R_FX: {
		uint8_t cur[8];
		if (gdb_reg_get(arch, st, n, cur) && !memcmp(cur, in, bytes))
			return 0;
		if (r->index == 0 || r->index == 2 || r->index == 6) {	/* FCW, FSW, FOP */
			memcpy(st->fxsave + r->index, in, 2);
			return 0;
		}
		if (r->index == 24) {	/* MXCSR: no reserved bits set (#GP on FXRSTOR) */
			if (v & ~0xffffull)
				return -1;
			memcpy(st->fxsave + 24, in, 4);
			return 0;
		}
		return -1;
	}
	default: {
		/* segments, bases, control registers: only their own value */
		uint8_t cur[8];
		gdb_reg_get(arch, st, n, cur);
		return memcmp(cur, in, bytes) ? -1 : 0;
	}
	}
}

/* vec128 as gdb's 32bit-sse.xml defines it */
static const char vec128_types[] =
	"<vector id=\"v8bf16\" type=\"bfloat16\" count=\"8\"/>"
	"<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>"
	"<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
	"<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>"
	"<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
	"<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>"
	"<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>"
	"<union id=\"vec128\"><field name=\"v8_bfloat16\" type=\"v8bf16\"/>"
	"<field name=\"v4_float\" type=\"v4f\"/><field name=\"v2_double\" type=\"v2d\"/>"
	"<field name=\"v16_int8\" type=\"v16i8\"/><field name=\"v8_int16\" type=\"v8i16\"/>"
	"<field name=\"v4_int32\" type=\"v4i32\"/><field name=\"v2_int64\" type=\"v2i64\"/>"
	"<field name=\"uint128\" type=\"uint128\"/></union>";

size_t gdb_target_xml(enum gdb_arch arch, char *out, size_t cap)
{
	unsigned nr;
	const struct reg_desc *t = table(arch, &nr);
	size_t o = 0;
	int feature = -1;

#define PUT(...) do {									\
		int k_ = snprintf(out + o, cap > o ? cap - o : 0, __VA_ARGS__);		\
		if (k_ < 0 || (size_t)k_ >= (cap > o ? cap - o : 0))			\
			return 0;							\
		o += (size_t)k_;							\
	} while (0)
	PUT("<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\">"
	    "<target><architecture>%s</architecture>",
	    arch == GDB_ARCH_AMD64 ? "i386:x86-64" : "i386");
	for (unsigned i = 0; i < nr; i++) {
		if (t[i].feature != feature) {
			if (feature >= 0)
				PUT("</feature>");
			feature = t[i].feature;
			PUT("<feature name=\"%s\">", feature_name[feature]);
			if (feature == F_SSE)
				PUT("%s", vec128_types);
		}
		PUT("<reg name=\"%s\" bitsize=\"%u\" type=\"%s\" regnum=\"%u\"", t[i].name,
		    t[i].bits, t[i].type, i);
		if (t[i].group)
			PUT(" group=\"%s\"", t[i].group);
		PUT("/>");
	}
	PUT("</feature></target>");
#undef PUT
	return o;
}
