/* Counters the translator keeps for the console (read_stats). */
#ifndef HYVM_BT_STATS_H
#define HYVM_BT_STATS_H

#include <stdint.h>

#define BT_STATS(X)							\
	X(blocks_translated, "bt.blocks_translated")			\
	X(tc_bytes, "bt.tc_bytes")					\
	X(tc_flushes, "bt.tc_flushes")					\
	X(tc_flushes_full, "bt.tc_flushes_full")			\
	X(tc_flushes_dead, "bt.tc_flushes_dead")			\
	X(chained, "bt.branches_chained")				\
	X(unchained_exits, "bt.exits_unchained")			\
	X(jc_misses, "bt.indirect_lookup_misses")			\
	X(jc_resets_cr3, "bt.jump_cache_resets_cr3")			\
	X(jc_resets_seg, "bt.jump_cache_resets_segments")		\
	X(callouts, "bt.callouts")					\
	X(callout_io, "bt.callout.io")					\
	X(io_fast, "bt.callout.io_without_exit")			\
	X(io_inline, "bt.io_inline_cpl0")				\
	X(callouts_in_block, "bt.callout_in_block")			\
	X(callouts_in_block_chained, "bt.callout_in_block_chained")	\
	X(sys_fast, "bt.sysenter_sysexit_translated")			\
	X(flags_inline_translated, "bt.pushfd_inline_translated")	\
	X(callout_flags, "bt.callout.pushf_popf_cli_sti")		\
	X(callout_int, "bt.callout.int_iret")				\
	X(callout_cr, "bt.callout.cr_msr_tables")			\
	X(callout_seg, "bt.callout.segments_far")			\
	X(callout_other, "bt.callout.other")				\
	X(callout_near, "bt.callout.near16_strings16")			\
	X(hidden_faults, "bt.shadow_faults_hidden")			\
	X(guest_faults, "bt.guest_faults")				\
	X(page_faults_guest, "bt.guest_page_faults")			\
	X(pt_write_traps, "bt.pt_write_traps")				\
	X(pt_write_callouts, "bt.pt_write_callouts")			\
	X(pt_write_emulated, "bt.pt_write_emulated")			\
	X(shadow_drops, "bt.shadow_mappings_dropped")			\
	X(shadow_updates, "bt.shadow_mappings_updated")			\
	X(shadow_stale_unmaps, "bt.shadow_stale_unmaps")		\
	X(shadow_stale_kept, "bt.shadow_stale_kept")			\
	X(shadow_pte_runs, "bt.shadow_pte_runs")			\
	X(shadow_mapped_ahead, "bt.shadow_mapped_at_pte_write")		\
	X(cr3_hits, "bt.cr3_cache_hits")				\
	X(cr3_misses, "bt.cr3_cache_misses")				\
	X(smc_invalidations, "bt.smc_invalidations")			\
	X(smc_check_pages, "bt.smc_check_pages")			\
	X(smc_check_stale, "bt.smc_check_stale")			\
	X(smc_check_reverts, "bt.smc_check_reverts")			\
	X(shadow_protects, "bt.shadow_write_protects")			\
	X(ud_unsupported, "bt.ud_unsupported")				\
	X(irqs_delivered, "bt.irqs_delivered")				\
	X(exit_requests, "bt.exit_request_checks_taken")		\
	X(limit_faults, "bt.segment_limit_faults")			\
	X(div_checks_translated, "bt.div_checks_translated")		\
	X(div_checks_taken, "bt.div_check_de_without_signal")		\
	X(stlb_translated, "bt.soft_tlb_accesses_translated")		\
	X(stlb_misses, "bt.soft_tlb_misses")				\
	X(stlb_fills, "bt.soft_tlb_fills")				\
	X(stlb_fills_in_block, "bt.soft_tlb_fills_in_block")		\
	X(stlb_string_pages, "bt.soft_tlb_string_pages")		\
	X(stlb_page_faults, "bt.soft_tlb_pf_without_signal")		\
	X(stlb_page_faults_in_block, "bt.soft_tlb_pf_in_block")		\
	X(cr_read_inline_translated, "bt.cr_read_inline_translated")	\
	X(stlb_to_view, "bt.soft_tlb_to_view")				\
	X(stlb_flushes, "bt.soft_tlb_flushes")

struct bt_stats {
#define BT_STAT_FIELD(f, name) uint64_t f;
	BT_STATS(BT_STAT_FIELD)
#undef BT_STAT_FIELD
};

#endif
