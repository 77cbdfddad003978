/*
 * The guest's mode from the shared CPU state (guest_mode.h). What VT-x
 * without unrestricted guest can enter is narrower than "CR0.PE = 1": VM
 * entry checks every segment register against protected-mode rules (SDM
 * Vol. 3C, 26.3.1.2), and a guest that has just set CR0.PE still holds
 * the caches real mode left (a data-typed CS, selectors whose low bits
 * are arbitrary paragraph numbers) until it loads them. Such a state is
 * one only bt runs, so the policy keeps the vCPU there until the guest
 * has loaded real descriptors.
 */
#include <hyvm/x86.h>
#include "hybrid/guest_mode.h"

#define RFLAGS_VM	(1u << 17)

static unsigned seg_type(const struct hyvm_segment *s)
{
	return s->attrib & HYVM_SEG_TYPE_MASK;
}

static bool seg_present_code_data(const struct hyvm_segment *s)
{
	return (s->attrib & HYVM_SEG_S) && (s->attrib & HYVM_SEG_P);
}

/* SDM 26.3.1.2, access-rights checks for a guest that is not in
 * virtual-8086 mode and runs without unrestricted guest. */
bool hy_segments_protected(const struct hyvm_cpu_state *st)
{
	const struct hyvm_segment *cs = &st->seg[HYVM_CS], *ss = &st->seg[HYVM_SS];
	unsigned cs_type = seg_type(cs);

	/* CS: an accessed code segment (type 9, 11, 13 or 15) */
	if (!seg_present_code_data(cs) || (cs_type & 9) != 9)
		return false;
	if (!(ss->attrib & HYVM_SEG_UNUSABLE)) {
		/* SS: a writable accessed data segment, RPL = CS.RPL = DPL */
		if (!seg_present_code_data(ss) || (seg_type(ss) != 3 && seg_type(ss) != 7) ||
		    (ss->selector & 3) != (cs->selector & 3) ||
		    hyvm_seg_dpl(ss) != (ss->selector & 3u))
			return false;
		/* non-conforming CS: DPL = SS.DPL; conforming: DPL <= SS.DPL */
		if (cs_type & 4 ? hyvm_seg_dpl(cs) > hyvm_seg_dpl(ss)
				: hyvm_seg_dpl(cs) != hyvm_seg_dpl(ss))
			return false;
	}
	static const int data_segs[] = { HYVM_DS, HYVM_ES, HYVM_FS, HYVM_GS };
	for (unsigned i = 0; i < sizeof(data_segs) / sizeof(data_segs[0]); i++) {
		const struct hyvm_segment *s = &st->seg[data_segs[i]];
		unsigned t = seg_type(s);

		if (s->attrib & HYVM_SEG_UNUSABLE)
			continue;
		/* accessed; a code segment must be readable; DPL >= RPL
		 * unless conforming code (types 12-15) */
		if (!seg_present_code_data(s) || !(t & 1) || ((t & 8) && !(t & 2)) ||
		    (t < 12 && hyvm_seg_dpl(s) < (s->selector & 3u)))
			return false;
	}
	return true;
}

struct hy_guest hy_guest_of(const struct hyvm_cpu_state *st)
{
	struct hy_guest g = { .cpl = st->seg[HYVM_CS].selector & 3 };

	if (!(st->cr0 & CR0_PE)) {
		g.mode = HY_MODE_REAL;
		g.cpl = 0;
	} else if ((st->efer & EFER_LMA) || ((st->cr0 & CR0_PG) && (st->efer & EFER_LME))) {
		g.mode = HY_MODE_LONG;
	} else {
		g.mode = !(st->cr0 & CR0_PG) ? HY_MODE_PROT :
			 (st->cr4 & CR4_PAE) ? HY_MODE_PAE : HY_MODE_PAGED32;
		g.code16 = !(st->seg[HYVM_CS].attrib & HYVM_SEG_DB);
		g.real_segments = !(st->rflags & RFLAGS_VM) && !hy_segments_protected(st);
	}
	return g;
}
