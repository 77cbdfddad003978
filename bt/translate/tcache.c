/*
 * The translation cache: one RWX region of host code, a hash of blocks by
 * (guest linear eip, guest physical address, mode), chaining of direct
 * branches (the indirect-branch jump cache is jump_cache.c's). Everything a block owns
 * is bump-allocated (code in the RWX region, the rest in the data arena),
 * and the two together stay under tc->limit bytes (translator.h). Memory
 * is never reclaimed block by block: invalidated blocks stay dead until
 * the next flush, which empties everything (like QEMU's tb_flush) when the
 * bound is reached or TC_MAX_DEAD blocks are dead, and gives the pages
 * back to the host, so hyvm's resident memory follows what is cached.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "bt/translate/translator.h"
#include "bt/memory/memory.h"
#include "bt/memory/mmu.h"

#define TC_HASH_SIZE	(1u << 18)	/* a boot of Linux keeps ~150K blocks */

size_t tc_limit_from_env(char *err, size_t errlen)
{
	const char *v = getenv("HYVM_BT_TC_KIB");
	char *end;

	if (!v)
		return TC_LIMIT_DEFAULT;
	errno = 0;
	unsigned long long kib = strtoull(v, &end, 10);
	if (errno || end == v || *end || *v == '-' || kib < TC_LIMIT_MIN / 1024 ||
	    kib > TC_LIMIT_MAX / 1024) {
		snprintf(err, errlen, "bt: HYVM_BT_TC_KIB must be a whole number of KiB from %u to %u, not '%.40s'",
			 TC_LIMIT_MIN / 1024, TC_LIMIT_MAX / 1024, v);
		return 0;
	}
	return (size_t)kib * 1024;
}

/* The poll page and the runtime routines at the start of the region. */
static int tc_runtime(struct bt_tc *tc)
{
	struct bt_emitter e;

	emit_init(&e, tc->mem + 4096, tc->size - 4096);
	if (runtime_generate(&e, &tc->rt))
		return -1;
	tc->used = ((size_t)(e.pos - tc->mem) + 63) & ~(size_t)63;
	tc->runtime_end = tc->used;
	return 0;
}

struct bt_tc *tc_create(size_t limit)
{
	struct bt_tc *tc = calloc(1, sizeof(*tc));

	if (!tc)
		return NULL;
	if (limit < TC_LIMIT_MIN || limit > TC_LIMIT_MAX)
		goto fail;
	tc->limit = limit;
	/* each region could hold the whole bound; only what is written of
	 * them is resident (the bound is on the sum: tc_alloc_data, tc_has_room) */
	tc->size = limit + 65536;	/* + the poll page and the runtime */
	tc->mem = mmap(NULL, tc->size, PROT_READ | PROT_WRITE | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	tc->data_size = limit;
	tc->data_arena = mmap(NULL, tc->data_size, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	tc->hash_size = TC_HASH_SIZE;
	tc->hash = calloc(tc->hash_size, sizeof(*tc->hash));
	if (tc->mem == MAP_FAILED || tc->data_arena == MAP_FAILED || !tc->hash)
		goto fail;
	/* the first page is the kick poll page, read by every block entry */
	tc->poll = tc->mem;
	if (mprotect(tc->poll, 4096, PROT_READ) || tc_runtime(tc))
		goto fail;
	return tc;
fail:
	tc_destroy(tc);
	return NULL;
}

bool tc_has_room(const struct bt_tc *tc)
{
	return tc_bytes_used(tc) + 2 * TC_BLOCK_ROOM <= tc->limit &&
	       tc->size - tc->used >= TC_BLOCK_ROOM;
}

static void tc_free_blocks(struct bt_tc *tc)
{
	tc->nr_blocks = 0;
	tc->nr_dead = 0;
	memset(tc->page_head, 0, sizeof(tc->page_head));
	tc->wide = NULL;
}

void tc_destroy(struct bt_tc *tc)
{
	if (!tc)
		return;
	free(tc->blocks);
	free(tc->hash);
	if (tc->mem && tc->mem != MAP_FAILED)
		munmap(tc->mem, tc->size);
	if (tc->data_arena && tc->data_arena != MAP_FAILED)
		munmap(tc->data_arena, tc->data_size);
	free(tc);
}

/*
 * kick() makes the poll page unreadable; the next block entry faults on
 * it and the signal handler stops the guest there, at a block boundary.
 * This costs translated code one load per loop instead of a test.
 * mprotect is a plain system call, safe from a signal handler.
 */
void tc_kick(struct bt_tc *tc)
{
	mprotect(tc->poll, 4096, PROT_NONE);
}

void tc_unkick(struct bt_tc *tc)
{
	mprotect(tc->poll, 4096, PROT_READ);
}

/* Empties the cache. Its pages go back to the host (MADV_DONTNEED reads
 * zeros next time), so resident memory is what the cache holds now, not
 * the most it ever held. Never from inside translated code or a callout:
 * the dispatcher and the engine's entry points call it. */
void tc_flush(struct bt_vm *vm, const char *why)
{
	struct bt_tc *tc = vm->tc;
	size_t code_end = (tc->used + 4095) & ~(size_t)4095;
	size_t data_end = (tc->data_used + 4095) & ~(size_t)4095;

	(void)why;
	tc_free_blocks(tc);
	memset(tc->hash, 0, tc->hash_size * sizeof(*tc->hash));
	if (code_end > 4096)	/* all but the poll page */
		madvise(tc->mem + 4096, code_end - 4096, MADV_DONTNEED);
	if (data_end)
		madvise(tc->data_arena, data_end, MADV_DONTNEED);
	tc_runtime(tc);	/* the same bytes at the same place as before */
	tc->data_used = 0;
	if (vm->cpu) {
		jc_reset_all(vm->cpu);	/* the runtime was generated again */
		vm->cpu->stats.tc_flushes++;
		vm->cpu->stats.tc_bytes = tc_bytes_used(tc);
	}
	memset(vm->code_pages, 0, (vm->ram_size >> 12) + 1);
	view_reset(vm);
}

static unsigned tc_hash(const struct bt_tc *tc, uint32_t eip, uint32_t phys, uint32_t mode)
{
	/* every key bit reaches the index bits (murmur3's finalizer): user
	 * blocks share their page offset in eip and phys, and a product's low
	 * bits see only the factor's low bits */
	uint32_t h = eip ^ (phys * 0x85ebca6bu) ^ (mode * 0x9e3779b1u);

	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h & (tc->hash_size - 1);
}

bool tc_same_segments(const struct bt_block *b, const struct bt_cpu *cpu)
{
	for (int s = 0; s < 6; s++) {
		if (!(b->seg_used >> s & 1))
			continue;
		const struct hyvm_segment *g = &cpu->arch.seg[s];
		uint8_t kind = seg_check_kind(g);
		uint32_t limit = kind == BT_SEGCHK_NONE ? 0 : (uint32_t)g->limit;
		if (((b->seg_based >> s & 1) && b->seg_base[s] != (uint32_t)g->base) ||
		    b->seg_limit[s] != limit || b->seg_check[s] != kind)
			return false;
	}
	return true;
}

/* Segment bases and limit checks are part of the key: translated memory
 * operands add the bases as constants and compare with the limits. Only
 * the segments a block uses count (seg_used, seg_based), so code that
 * never names GS is shared by processes whose TLS bases differ, and so is
 * code that reads GS's base at run time (gs_base.c). */
struct bt_block *tc_lookup(struct bt_tc *tc, const struct bt_cpu *cpu, uint32_t eip,
			   uint32_t phys, uint32_t mode)
{
	for (struct bt_block *b = tc->hash[tc_hash(tc, eip, phys, mode)]; b; b = b->hash_next)
		if (b->eip == eip && b->phys == phys && b->mode == mode && tc_same_segments(b, cpu))
			return b;
	return NULL;
}

void tc_insert(struct bt_tc *tc, struct bt_block *b)
{
	unsigned h = tc_hash(tc, b->eip, b->phys, b->mode);

	if (tc->nr_blocks == tc->cap_blocks) {
		unsigned cap = tc->cap_blocks ? 2 * tc->cap_blocks : 1024;
		struct bt_block **nb = realloc(tc->blocks, cap * sizeof(*nb));
		if (!nb)
			abort();
		tc->blocks = nb;
		tc->cap_blocks = cap;
	}
	tc->blocks[tc->nr_blocks++] = b;
	b->hash_next = tc->hash[h];
	tc->hash[h] = b;
	uint32_t first = b->phys >> 12, last = (b->phys + (b->guest_len ? b->guest_len - 1 : 0)) >> 12;
	if (last - first > 1) {
		b->page_next[0] = tc->wide;
		tc->wide = b;
		return;
	}
	b->page_next[0] = tc->page_head[first % TC_PAGE_BUCKETS];
	tc->page_head[first % TC_PAGE_BUCKETS] = b;
	if (last != first) {
		b->page_next[1] = tc->page_head[last % TC_PAGE_BUCKETS];
		tc->page_head[last % TC_PAGE_BUCKETS] = b;
	}
}

/* Zeroed bytes of the data arena, NULL past the cache's bound. */
void *tc_alloc_data(struct bt_tc *tc, size_t size)
{
	size = (size + 15) & ~(size_t)15;
	if (tc->data_used + size > tc->data_size || tc_bytes_used(tc) + size > tc->limit)
		return NULL;
	void *p = tc->data_arena + tc->data_used;
	tc->data_used += size;
	memset(p, 0, size);
	return p;
}

struct bt_block *tc_block_at_host(struct bt_tc *tc, const void *host_pc)
{
	const uint8_t *pc = host_pc;
	unsigned lo = 0, hi = tc->nr_blocks;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (tc->blocks[mid]->check_entry <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	struct bt_block *b = tc->blocks[lo - 1];
	return pc < b->check_entry + b->host_len ? b : NULL;
}

const struct bt_insn_map *tc_insn_at_host(const struct bt_block *b, const void *host_pc)
{
	uint32_t off = (uint32_t)((const uint8_t *)host_pc - b->body);
	const struct bt_insn_map *found = NULL;

	if ((const uint8_t *)host_pc < b->body)
		return NULL;
	for (unsigned i = 0; i < b->nr_insns; i++)
		if (b->map[i].host_off <= off)
			found = &b->map[i];
	return found;
}

/*
 * Re-points an exit stub's jump straight at its target. Backward edges go
 * to the target's exit_request check, so that every loop of chained blocks
 * passes a check and kick() or an interrupt window is noticed.
 */
void tc_chain(struct bt_cpu *cpu, struct bt_exit_desc *d, struct bt_block *to)
{
	bool backward = to->eip <= d->from->eip;

	if (d->chained || !d->patch_site)
		return;
	if (to->nr_incoming == to->cap_incoming) {
		uint32_t cap = to->cap_incoming ? 2 * to->cap_incoming : 4;
		/* from the arena: the old array stays there until the flush
		 * (doubling: at most as many bytes again as the last one) */
		struct bt_exit_desc **n = tc_alloc_data(cpu->vm->tc, cap * sizeof(*n));
		if (!n)
			return;	/* the cache is full: not chained, still correct */
		if (to->nr_incoming)
			memcpy(n, to->incoming, to->nr_incoming * sizeof(*n));
		to->incoming = n;
		to->cap_incoming = cap;
	}
	to->incoming[to->nr_incoming++] = d;
	patch_rel32(d->patch_site, backward ? to->check_entry : to->body);
	d->chained = true;
	cpu->stats.chained++;
}

static void tc_unchain(struct bt_exit_desc *d)
{
	patch_rel32(d->patch_site, d->stub);
	d->chained = false;
}

void tc_invalidate_block(struct bt_cpu *cpu, struct bt_block *b)
{
	struct bt_tc *tc = cpu->vm->tc;
	struct bt_block **pp = &tc->hash[tc_hash(tc, b->eip, b->phys, b->mode)];

	for (; *pp; pp = &(*pp)->hash_next)
		if (*pp == b) {
			*pp = b->hash_next;
			break;
		}
	for (uint32_t i = 0; i < b->nr_incoming; i++)
		if (b->incoming[i]->chained)
			tc_unchain(b->incoming[i]);
	b->nr_incoming = 0;
	jc_drop_block(cpu, b->eip, b->check_entry);
	b->valid = false;
	tc->nr_dead++;
	bt_xfer_changed(cpu);	/* it may be a translated SYSENTER/SYSEXIT's target */
}

/* Calls kill on every valid block of one page's chain (or of the wide
 * list) that covers [lo, hi), and unlinks the blocks that are dead then:
 * dead blocks stay in memory until the next flush, but a page rewritten
 * in a loop must not gather thousands of them in its chain. */
static void page_chain_kill(struct bt_cpu *cpu, struct bt_block **head, uint32_t bucket,
			    uint32_t lo, uint32_t hi, bool singles_too)
{
	for (struct bt_block **pp = head; *pp;) {
		struct bt_block *b = *pp;
		unsigned k = head == &cpu->vm->tc->wide ? 0 :
			     (b->phys >> 12) % TC_PAGE_BUCKETS == bucket ? 0 : 1;
		if (b->valid && b->phys < hi && b->phys + b->guest_len > lo &&
		    (singles_too || !(b->mode & BT_MODE_SINGLE)))
			tc_invalidate_block(cpu, b);
		if (!b->valid)
			*pp = b->page_next[k];
		else
			pp = &b->page_next[k];
	}
}

static void blocks_kill(struct bt_cpu *cpu, uint32_t lo, uint32_t hi, bool singles_too)
{
	struct bt_tc *tc = cpu->vm->tc;
	uint32_t bucket = (lo >> 12) % TC_PAGE_BUCKETS;

	page_chain_kill(cpu, &tc->page_head[bucket], bucket, lo, hi, singles_too);
	page_chain_kill(cpu, &tc->wide, 0, lo, hi, singles_too);
}

/* Self-modifying code: every block with bytes on this physical page dies. */
void tc_invalidate_phys_page(struct bt_vm *vm, uint32_t page)
{
	blocks_kill(vm->cpu, page << 12, (page << 12) + 4096, true);
	if (page < (vm->ram_size >> 12))
		vm->code_pages[page] = 0;
	vm->cpu->stats.smc_invalidations++;
}

void tc_invalidate_phys_range(struct bt_cpu *cpu, uint32_t lo, uint32_t hi)
{
	blocks_kill(cpu, lo, hi, true);
}

void tc_invalidate_blocks_at(struct bt_cpu *cpu, uint32_t phys)
{
	blocks_kill(cpu, phys, phys + 1, false);
}
