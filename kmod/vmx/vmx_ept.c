// SPDX-License-Identifier: GPL-2.0
/*
 * Extended page tables (SDM 28.3): what is Intel's about the nested page
 * table hyvm_npt.c builds. The entry bits, the EPT pointer, and the
 * identity map an unpaged guest runs on without unrestricted guest (one
 * page outside guest RAM, mapped read-only beside it).
 */
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/mm.h>
#include "vmx.h"

/* SDM 28.3.2: an entry is present if R, W or X is set. RAM is write-back,
 * ignoring the guest's PAT like the host mapping (28.3.7); accessed and
 * dirty flags are off in the EPTP, so no A/D bits. */
static const struct hyvm_npt_format vmx_ept_format = {
	.present = VMX_EPT_RWX_MASK,
	.table = VMX_EPT_RWX_MASK,
	.leaf = VMX_EPT_RWX_MASK | (6ULL << VMX_EPT_MT_EPTE_SHIFT) | VMX_EPT_IPAT_BIT,
	.write = VMX_EPT_WRITABLE_MASK,	/* ROM: R and X (SDM 28.3.2: W without R is
					 * a misconfiguration; R+X without W is fine) */
	.large = 1ULL << 7,		/* SDM 28.3.2: bit 7 maps a page in a PDE/PDPTE */
};

/* the identity map: read-only to the guest */
#define EPT_IDMAP	(VMX_EPT_READABLE_MASK | (6ULL << VMX_EPT_MT_EPTE_SHIFT) | VMX_EPT_IPAT_BIT)

int vmx_ept_init(struct vmx_vm *v)
{
	int ret = hyvm_npt_init(&v->ept, &vmx_ept_format);

	if (ret)
		return ret;
	/* SDM 24.6.11: WB paging structures, 4-level walk */
	v->eptp = __pa(v->ept.root) | VMX_EPTP_MT_WB | VMX_EPTP_PWL_4;
	if (!vmx_cfg.unrestricted) {
		struct page *idmap = alloc_page(GFP_KERNEL_ACCOUNT);
		u32 *pde;
		int i;

		if (!idmap) {
			vmx_ept_free(v);
			return -ENOMEM;
		}
		/* SDM 4.3: 32-bit paging, 1024 PDEs of 4 MiB, P RW US A D PS */
		pde = page_address(idmap);
		for (i = 0; i < 1024; i++)
			pde[i] = ((u32)i << 22) | 0xe7;
		v->ept.extra_gpa = VMX_IDMAP_GPA;
		v->ept.extra_leaf = EPT_IDMAP;
		v->ept.extra_page = idmap;
	}
	return 0;
}

void vmx_ept_free(struct vmx_vm *v)
{
	hyvm_npt_free(&v->ept);
	if (v->ept.extra_page)
		__free_page(v->ept.extra_page);
	v->ept.extra_page = NULL;
}
