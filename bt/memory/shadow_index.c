/*
 * The shadow MMU's record index (mmu.h, struct shadow_rec): one record
 * per (linear page, view) in a hash per address space, a reverse map by
 * physical page, and chains by exact guest entry address. Ids and nodes
 * are 1-based, 0 is none. Signal context: nothing here allocates.
 */
#include <string.h>
#include <sys/mman.h>
#include "bt/memory/shadow_index.h"

struct shadow_rec *rec_of(struct bt_shadow *sh, uint32_t id)
{
	return &sh->space[(id - 1) / BT_SHADOW_RECS].rec[(id - 1) % BT_SHADOW_RECS];
}

uint32_t rec_id(unsigned s, uint32_t i)
{
	return s * BT_SHADOW_RECS + i + 1;
}

static uint32_t lin_bucket(uint32_t lin_page, unsigned view)
{
	return ((lin_page * 2 + view) * 0x9e3779b1u) % BT_SHADOW_HASH;
}

/* Entries are 4- or 8-byte aligned: the low two bits carry nothing. */
static uint32_t ent_bucket_of(uint32_t entry)
{
	return ((entry >> 2) * 0x9e3779b1u) >> (32 - BT_ENT_HASH_BITS);
}

/* The entry node's links: node = (id - 1) * 3 + k + 1. */
static uint32_t *ent_next_of(struct bt_shadow *sh, uint32_t node)
{
	return &rec_of(sh, (node - 1) / 3 + 1)->ent_next[(node - 1) % 3];
}

static uint32_t *ent_prev_of(struct bt_shadow *sh, uint32_t node)
{
	return &rec_of(sh, (node - 1) / 3 + 1)->ent_prev[(node - 1) % 3];
}

static uint32_t node_entry(struct bt_shadow *sh, uint32_t node)
{
	return rec_of(sh, (node - 1) / 3 + 1)->entry[(node - 1) % 3];
}

bool page_indexed(const struct bt_shadow *sh, uint32_t page)
{
	return sh->phys_head && page < sh->npages;
}

int64_t rec_find(struct shadow_space *sp, uint32_t lin_page, unsigned view)
{
	for (uint32_t i = sp->lin_head[lin_bucket(lin_page, view)]; i; i = sp->rec[i - 1].lin_next)
		if (sp->rec[i - 1].lin_page == lin_page && sp->rec[i - 1].view == view)
			return i - 1;
	return -1;
}

uint32_t rec_from_entry(struct bt_shadow *sh, uint32_t entry)
{
	if (!page_indexed(sh, entry >> 12) || !sh->ent_count[entry >> 12])
		return 0;
	for (uint32_t node = sh->ent_bucket[ent_bucket_of(entry)]; node;
	     node = *ent_next_of(sh, node))
		if (node_entry(sh, node) == entry)
			return (node - 1) / 3 + 1;
	return 0;
}

unsigned recs_from_entry(struct bt_shadow *sh, uint32_t entry, uint32_t *ids, unsigned max)
{
	unsigned n = 0;

	if (!page_indexed(sh, entry >> 12) || !sh->ent_count[entry >> 12])
		return 0;
	for (uint32_t node = sh->ent_bucket[ent_bucket_of(entry)]; node && n <= max;
	     node = *ent_next_of(sh, node))
		if (node_entry(sh, node) == entry) {
			if (n < max)
				ids[n] = (node - 1) / 3 + 1;
			n++;
		}
	return n;
}

void rec_set_stale(struct bt_shadow *sh, unsigned s, struct shadow_rec *r, bool stale)
{
	if (r->stale == stale)
		return;
	r->stale = stale;
	sh->space[s].nonstale += stale ? -1u : 1;
	for (unsigned k = 0; k < r->nentries; k++)
		if (page_indexed(sh, r->entry[k] >> 12))
			sh->ent_stale[r->entry[k] >> 12] += stale ? 1 : -1u;
}

bool only_stale_from(const struct bt_shadow *sh, uint32_t page)
{
	return page_indexed(sh, page) && sh->ent_count[page] &&
	       sh->ent_stale[page] == sh->ent_count[page];
}

void rec_unlink(struct bt_shadow *sh, unsigned s, uint32_t i)
{
	struct shadow_space *sp = &sh->space[s];
	struct shadow_rec *r = &sp->rec[i];

	rec_set_stale(sh, s, r, false);
	sp->nonstale--;

	for (uint32_t *pp = &sp->lin_head[lin_bucket(r->lin_page, r->view)]; *pp;
	     pp = &sp->rec[*pp - 1].lin_next)
		if (*pp == i + 1) {
			*pp = r->lin_next;
			break;
		}
	if (page_indexed(sh, r->phys_page)) {
		if (r->phys_prev)
			rec_of(sh, r->phys_prev)->phys_next = r->phys_next;
		else
			sh->phys_head[r->phys_page] = r->phys_next;
		if (r->phys_next)
			rec_of(sh, r->phys_next)->phys_prev = r->phys_prev;
	}
	for (unsigned k = 0; k < r->nentries; k++) {
		uint32_t page = r->entry[k] >> 12;
		if (!page_indexed(sh, page))
			continue;
		if (r->ent_prev[k])
			*ent_next_of(sh, r->ent_prev[k]) = r->ent_next[k];
		else
			sh->ent_bucket[ent_bucket_of(r->entry[k])] = r->ent_next[k];
		if (r->ent_next[k])
			*ent_prev_of(sh, r->ent_next[k]) = r->ent_prev[k];
		sh->ent_count[page]--;
	}
	r->live = false;
	r->lin_next = sp->free;
	sp->free = i + 1;
}

struct shadow_rec *rec_add(struct bt_shadow *sh, unsigned s, uint32_t lin_page,
			   unsigned view, uint32_t phys_page, const struct mmu_walk *w)
{
	struct shadow_space *sp = &sh->space[s];
	uint32_t i;

	if (sp->free) {
		i = sp->free - 1;
		sp->free = sp->rec[i].lin_next;
	} else if (sp->nr < BT_SHADOW_RECS) {
		i = sp->nr++;
	} else {
		return NULL;
	}
	struct shadow_rec *r = &sp->rec[i];
	uint32_t id = rec_id(s, i);
	sp->nonstale++;
	memset(r, 0, sizeof(*r));
	r->lin_page = lin_page;
	r->phys_page = phys_page;
	r->view = (uint8_t)view;
	r->live = true;
	r->nentries = (uint8_t)w->nentries;
	memcpy(r->entry, w->entry, sizeof(r->entry));
	uint32_t b = lin_bucket(lin_page, view);
	r->lin_next = sp->lin_head[b];
	sp->lin_head[b] = i + 1;
	if (page_indexed(sh, phys_page)) {
		r->phys_next = sh->phys_head[phys_page];
		if (r->phys_next)
			rec_of(sh, r->phys_next)->phys_prev = id;
		sh->phys_head[phys_page] = id;
	}
	for (unsigned k = 0; k < r->nentries; k++) {
		uint32_t page = r->entry[k] >> 12, node = (id - 1) * 3 + k + 1;
		if (!page_indexed(sh, page))
			continue;
		uint32_t *head = &sh->ent_bucket[ent_bucket_of(r->entry[k])];
		r->ent_next[k] = *head;
		if (r->ent_next[k])
			*ent_prev_of(sh, r->ent_next[k]) = node;
		*head = node;
		sh->ent_count[page]++;
	}
	return r;
}

void space_forget(struct bt_shadow *sh, unsigned s)
{
	struct shadow_space *sp = &sh->space[s];

	for (uint32_t i = 0; i < sp->nr; i++)
		if (sp->rec[i].live) {
			sp->lin_head[lin_bucket(sp->rec[i].lin_page, sp->rec[i].view)] = 0;
			rec_unlink(sh, s, i);
		}
	sp->nr = 0;
	sp->free = 0;
	sp->nonstale = 0;
	sp->nr_stale = 0;	/* every record went */
}

/* From view_reset, when memory is mapped or the paging mode changes,
 * after every space was forgotten (every head and count is 0 again). */
void index_size(struct bt_vm *vm)
{
	struct bt_shadow *sh = vm->shadow;
	uint64_t pages = (vm->ram_size >> 12) + 1;

	if (sh->phys_head && sh->npages == pages)
		return;
	if (sh->phys_head)
		munmap(sh->phys_head, sh->npages * BT_INDEX_ARRAYS * sizeof(uint32_t));
	sh->npages = 0;
	sh->phys_head = sh->ent_count = sh->ent_stale = NULL;
	/* zero pages until touched: 12 bytes of address space per 4K page */
	void *p = mmap(NULL, pages * BT_INDEX_ARRAYS * sizeof(uint32_t), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return;		/* unindexed: no record is linked by page */
	sh->phys_head = p;
	sh->ent_count = sh->phys_head + pages;
	sh->ent_stale = sh->ent_count + pages;
	sh->npages = pages;
}
