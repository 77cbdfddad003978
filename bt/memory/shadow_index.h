/* The shadow MMU's internals, shared by shadow.c, shadow_pt_write.c and
 * shadow_index.c only: the record index (records named by id, found by
 * linear page, by physical page and by the exact guest entry they were
 * built from), and the mapping primitives of shadow.c. */
#ifndef HYVM_BT_SHADOW_INDEX_H
#define HYVM_BT_SHADOW_INDEX_H

#include "bt/bt.h"
#include "bt/memory/mmu.h"

struct shadow_rec *rec_of(struct bt_shadow *sh, uint32_t id);
/* Bytes of a page-table entry in the current paging mode. */
static inline uint32_t shadow_entry_width(const struct bt_vm *vm)
{
	return vm->cpu && (vm->cpu->arch.cr4 & CR4_PAE) ? 8 : 4;
}
uint32_t rec_id(unsigned space, uint32_t index);
bool page_indexed(const struct bt_shadow *sh, uint32_t page);
/* The index of the live record mapping lin_page in view, or -1. */
int64_t rec_find(struct shadow_space *sp, uint32_t lin_page, unsigned view);
/* Takes record i of space s out of every index and frees it. */
void rec_unlink(struct bt_shadow *sh, unsigned s, uint32_t i);
/* A new record in space s, linked everywhere; NULL if the space is full. */
struct shadow_rec *rec_add(struct bt_shadow *sh, unsigned s, uint32_t lin_page,
			   unsigned view, uint32_t phys_page, const struct mmu_walk *w);
/* Forgets every record of space s (its views are cleared by the caller). */
void space_forget(struct bt_shadow *sh, unsigned s);
/* The id of a live record built from the guest entry at physical address
 * entry (exactly), or 0. */
uint32_t rec_from_entry(struct bt_shadow *sh, uint32_t entry);
/* Up to max ids of the records built from that entry into ids; the
 * count, max + 1 if there are more. */
unsigned recs_from_entry(struct bt_shadow *sh, uint32_t entry, uint32_t *ids, unsigned max);
/* Marks record r of space s stale (or no longer), counting its entries'
 * stale nodes per page (ent_stale), which only_stale_from compares with
 * ent_count, and the space's records that are not (nonstale). */
void rec_set_stale(struct bt_shadow *sh, unsigned s, struct shadow_rec *r, bool stale);
/* Whether page holds entries records were built from, all of them stale
 * ones (a count compare: scanning the page's 512 entries was ~10,000
 * lookups per fork+exec of /bin/true). */
bool only_stale_from(const struct bt_shadow *sh, uint32_t page);
/* phys_head, ent_count, ent_stale: one allocation */
#define BT_INDEX_ARRAYS 3
/* Sizes the per-page index to the physical space (not in signal context). */
void index_size(struct bt_vm *vm);

/* --- shadow_dir.c --- */
/* The space left by a CR3 load: its top-level table remembered. */
void dir_snapshot(struct bt_vm *vm, unsigned s);
/* The space other than the current one whose top-level table holds the
 * entry at e, or -1. */
int dir_space_of(const struct bt_shadow *sh, uint32_t e);
/* Space s's top-level entries written while it was not current: the
 * mappings built from those whose value changed go stale now. */
void dir_judge(struct bt_vm *vm, unsigned s);
/* Whether the only mappings built from page that are not stale are
 * those of spaces whose deferred top-level table lies there (then it may
 * stop being traced; their loads trace it again). */
bool dir_only_deferred(struct bt_vm *vm, uint32_t page);

/* --- shadow_stale.c --- */
/* Every mapping built from entry e marked stale (all dropped now if there
 * are more than the stale list holds); none of space skip (-1: none). */
void stale_from_entry(struct bt_vm *vm, uint32_t e, int skip);
/* Marks a record stale: unmapped at the next TLB flush, not now. */
void rec_drop_later(struct bt_vm *vm, uint32_t id);

/* --- shadow_pte_run.c --- */
/* After the walk w of a 4K page: maps it with the neighbours in its group
 * of 16 entries that a fill would map the same way (A set, same bits,
 * contiguous frames), one mmap; false if there are none (nothing mapped). */
bool map_pte_run(struct bt_vm *vm, unsigned view, uint32_t lin, const struct mmu_walk *w,
		 const struct bt_phys_region *region);

/* --- shadow.c --- */
/* Maps lin_page of a view of the current space after walk w, replacing
 * its record; false if the mmap failed (nothing mapped then). */
bool map_walked(struct bt_vm *vm, unsigned view, uint32_t lin_page,
		const struct mmu_walk *w, const struct bt_phys_region *region);
/* Makes the guest pages holding entries [0, n) traced page tables (read-only
 * in every view, writes diffed): what a mapping built from them needs. */
void trace_entry_pages(struct bt_vm *vm, const uint32_t *entry, unsigned n);
/* Unmaps record i of space s and forgets it. */
void rec_drop(struct bt_vm *vm, unsigned s, uint32_t i);
/* rec_drop of the record of one linear page of a view, if any. */
void drop_lin(struct bt_vm *vm, unsigned s, unsigned view, uint32_t lin_page);
/* Unmaps one linear page of a view (its record, if any, is the caller's). */
void unmap_page(struct bt_vm *vm, unsigned space, unsigned view, uint32_t lin_page);

#endif
