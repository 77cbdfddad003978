/* A segment register as Zydis names it -> its index in hyvm_cpu_state.seg
 * (DS when the operand names none: SDM Vol. 1, 3.7.4, the default
 * segment of a memory operand that is not SS-based). One copy for bt and
 * the instruction emulator. */
#ifndef HYVM_X86_SEGMENT_REG_H
#define HYVM_X86_SEGMENT_REG_H

#include <Zydis/Zydis.h>
#include <hyvm/cpu_state.h>

static inline int x86_seg_index(ZydisRegister seg)
{
	switch (seg) {
	case ZYDIS_REGISTER_ES: return HYVM_ES;
	case ZYDIS_REGISTER_CS: return HYVM_CS;
	case ZYDIS_REGISTER_SS: return HYVM_SS;
	case ZYDIS_REGISTER_FS: return HYVM_FS;
	case ZYDIS_REGISTER_GS: return HYVM_GS;
	default: return HYVM_DS;
	}
}

#endif
