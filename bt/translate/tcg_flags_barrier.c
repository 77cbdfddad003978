/*
 * A short jump to the next instruction in front of every translated
 * CMPXCHG8B. Nothing on a real CPU needs it (two bytes, predicted); it is
 * for hosts that are themselves emulated: QEMU 7.2's TCG, the CPU of the
 * emulated AMD host hyvm.ko is tested in, computes CMPXCHG8B's flags in a
 * helper from the flags state last saved, not from the instructions
 * before it in the same translation block, so after bt's `popfq ... add
 * ... cmpxchg8b` the guest's RFLAGS came back with the ADD's source ORed
 * in: DF and OF set in Linux's SLUB (this_cpu_cmpxchg_double), memset
 * running downwards, an oops after every kvm -> bt restore there
 * (tests/kmod/tcg-cmpxchg8b proves it: bad in every run of bt's block
 * under TCG, clean on AMD EPYC, clean with this jump, which ends TCG's
 * block so the flags are saved). SDM Vol. 2A CMPXCHG8B: only ZF changes.
 */
#include "bt/translate/translate.h"
#include "bt/translate/emit.h"

bool tcg_flags_barrier(struct tx *t, const struct bt_insn *d)
{
	if (d->insn.mnemonic != ZYDIS_MNEMONIC_CMPXCHG8B)
		return true;
	uint8_t *rel = emit_branch8(&t->e, ZYDIS_MNEMONIC_JMP, false);
	if (!rel)
		return false;
	patch_rel8(rel, t->e.pos);	/* eb 00 */
	return true;
}
