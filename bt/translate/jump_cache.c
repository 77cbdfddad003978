/*
 * The indirect-branch jump cache: guest eip -> host code of the block to
 * run, looked up by translated code (runtime.c's "indirect") without the
 * dispatcher. A slot is valid only for the segment bases, limit checks and
 * code size it was filled under (a block adds bases as constants and
 * compares with limits: tc_same_segments), so the cache is kept in
 * BT_JC_SETS sets, each tagged with that key, and a change of segments
 * switches to the set of the new key instead of emptying the cache. Of
 * the key, only what the set's blocks depend on must match (tc_lookup's
 * rule, tc_same_segments): Linux's kernel leaves the user's GS (its TLS
 * base, one per process) loaded, but no kernel block uses GS, so the
 * kernel's set serves every process.
 *
 * Linux i386 changes FS (its per-CPU base) at every kernel entry and exit,
 * and user processes have their own GS (TLS): with one set, each system
 * call and interrupt emptied the cache twice, and the kernel's returns
 * then missed one by one (~13,000 dispatcher lookups per fork+exec).
 *
 * What changes a linear-to-physical mapping (a CR3 load, INVLPG, a
 * dropped shadow mapping) empties or drops the same slots in every set,
 * all of which are for the current address space. A CR3 load keeps the
 * slots filled from global translations, as the processor keeps global
 * TLB entries (SDM Vol. 3A 4.10.4.1); a change of CR4.PGE or of the
 * paging mode empties everything. Linux's kernel text is global: without
 * this, each of a fork+exec's ~5 CR3 loads sent the kernel's returns
 * back through the dispatcher one by one (90% of the misses).
 */
#include <string.h>
#include "bt/bt.h"
#include "bt/cpu/cpu.h"
#include "bt/translate/translator.h"

/* The first slot of eip's pair: twice (eip plus its high 16 bits
 * byte-swapped), 16 bits (runtime.c's "indirect" computes the same
 * without touching RFLAGS: BSWAP, LEA, MOVZX). The low 16 bits alone put
 * Linux's kernel functions 64 KiB apart in one slot (a 10 MiB text), and
 * any one-slot hash still leaves a few hundred pairs of hot returns
 * sharing one among thousands: they took each other's slot, ~500 misses
 * per fork+exec of /bin/true. The added term depends on bits 16-31 only,
 * so a page's 4096 addresses have 4096 consecutive pairs
 * (set_drop_page). */
_Static_assert(BT_JC_BITS == 16, "runtime.c's indirect takes 16 bits of the slot");
static unsigned jc_slot(uint32_t eip)
{
	return (uint16_t)(2 * (eip + __builtin_bswap32(eip)));
}

static uint64_t jc_miss(const struct bt_cpu *cpu)
{
	return (uintptr_t)cpu->vm->tc->rt.jc_miss;
}

static void slot_clear(struct bt_jc *jc, uint32_t slot, uint64_t miss)
{
	jc->slot[slot].eip = 0;
	jc->slot[slot].host = miss;
}

static unsigned page_bit(uint32_t eip)
{
	return ((eip >> 12) * 0x9e3779b1u) >> (32 - 12);	/* BT_JC_PAGE_BITS */
}

static void note_page(struct bt_cpu *cpu, uint32_t eip)
{
	unsigned b = page_bit(eip);

	cpu->jc_pages[b / 64] |= 1ull << (b % 64);
}

/* The page filter again from what the sets hold, when every set's list
 * of filled slots is exact (else the bits stay: a bit too many costs a
 * scan, a bit too few would leave a slot behind). */
static void pages_rebuild(struct bt_cpu *cpu)
{
	for (unsigned s = 0; s < BT_JC_SETS; s++)
		if (cpu->jc_sets[s].nr_dirty > BT_JC_DIRTY)
			return;
	memset(cpu->jc_pages, 0, sizeof(cpu->jc_pages));
	for (unsigned s = 0; s < BT_JC_SETS; s++) {
		const struct bt_jc *jc = &cpu->jc_sets[s];
		for (uint32_t i = 0; i < jc->nr_dirty; i++)
			note_page(cpu, jc->slot[jc->dirty[i]].eip);
	}
}

static void set_reset(struct bt_cpu *cpu, struct bt_jc *jc)
{
	uint64_t miss = jc_miss(cpu);

	if (jc->nr_dirty <= BT_JC_DIRTY) {
		for (uint32_t i = 0; i < jc->nr_dirty; i++)
			slot_clear(jc, jc->dirty[i], miss);
	} else {
		for (unsigned i = 0; i < BT_JC_SIZE; i++)
			slot_clear(jc, i, miss);
	}
	jc->nr_dirty = 0;
	jc->nr_local = 0;
	jc->used_mask = jc->based_mask = 0;
	jc->lo_page = ~0u;
	jc->hi_page = 0;
}

/* A CR3 load: the slots of non-global translations go; the list of
 * filled slots is rebuilt from what is left, so that it stays exact. */
static void set_cr3_loaded(struct bt_cpu *cpu, struct bt_jc *jc)
{
	uint64_t miss = jc_miss(cpu);

	if (jc->nr_local > BT_JC_DIRTY) {
		set_reset(cpu, jc);
		return;
	}
	if (!jc->nr_local)
		return;	/* nothing to clear, the list stays as it is */
	for (uint32_t i = 0; i < jc->nr_local; i++)
		slot_clear(jc, jc->local[i], miss);
	jc->nr_local = 0;
	if (jc->nr_dirty > BT_JC_DIRTY)
		return;	/* not exact already: resets and drops scan */
	/* each slot once (jc_listed is clear before and after): a clear
	 * array on the stack cost a 8 KiB memset per set, three times the
	 * CR3 load itself (hyvm bench cr3) */
	uint64_t *listed = cpu->jc_listed;
	uint32_t n = 0;
	for (uint32_t i = 0; i < jc->nr_dirty; i++) {
		uint16_t slot = jc->dirty[i];
		if (jc->slot[slot].host != miss && !(listed[slot / 64] >> (slot % 64) & 1)) {
			listed[slot / 64] |= 1ull << (slot % 64);
			jc->dirty[n++] = slot;
		}
	}
	for (uint32_t i = 0; i < n; i++)
		listed[jc->dirty[i] / 64] &= ~(1ull << (jc->dirty[i] % 64));
	jc->nr_dirty = n;
}

void jc_cr3_loaded(struct bt_cpu *cpu)
{
	bool cleared = false;

	bt_xfer_changed(cpu);	/* a translated SYSENTER/SYSEXIT's target */

	for (unsigned s = 0; s < BT_JC_SETS; s++) {
		cleared |= cpu->jc_sets[s].nr_local != 0;
		set_cr3_loaded(cpu, &cpu->jc_sets[s]);
	}
	if (cleared)
		pages_rebuild(cpu);
}

/* A change of paging mode or of CR4.PGE: every set's filled slots. */
void jc_reset(struct bt_cpu *cpu)
{
	bt_xfer_changed(cpu);
	for (unsigned s = 0; s < BT_JC_SETS; s++)
		set_reset(cpu, &cpu->jc_sets[s]);
	memset(cpu->jc_pages, 0, sizeof(cpu->jc_pages));
}

/* Every slot of every set, and no set keyed (a new vCPU, a new runtime). */
void jc_reset_all(struct bt_cpu *cpu)
{
	bt_xfer_changed(cpu);
	for (unsigned s = 0; s < BT_JC_SETS; s++) {
		struct bt_jc *jc = &cpu->jc_sets[s];
		jc->nr_dirty = BT_JC_DIRTY + 1;
		set_reset(cpu, jc);
		jc->keyed = false;
		jc->last_use = 0;
	}
	memset(cpu->jc_pages, 0, sizeof(cpu->jc_pages));
	if (!cpu->jc)
		cpu->jc = &cpu->jc_sets[0];
	cpu->jc->keyed = false;
}

/* The set in use is keyed by the current segments (jc_segments_same ran
 * since they last changed), under which b was looked up. */
void jc_set(struct bt_cpu *cpu, const struct bt_block *b, bool global)
{
	struct bt_jc *jc = cpu->jc;
	unsigned slot = jc_slot(b->eip);

	/* the pair's first slot keeps what it holds; the second takes the
	 * rest (a pair of hot returns that share a hash both hit) */
	if (jc->slot[slot].eip != b->eip && jc->slot[slot].host != jc_miss(cpu))
		slot++;
	jc->slot[slot].eip = b->eip;
	jc->slot[slot].host = (uintptr_t)b->check_entry;
	jc->used_mask |= b->seg_used;
	jc->based_mask |= b->seg_based;
	if (b->eip >> 12 < jc->lo_page)
		jc->lo_page = b->eip >> 12;
	if (b->eip >> 12 > jc->hi_page)
		jc->hi_page = b->eip >> 12;
	note_page(cpu, b->eip);
	if (jc->nr_dirty < BT_JC_DIRTY)
		jc->dirty[jc->nr_dirty] = (uint16_t)slot;
	if (jc->nr_dirty <= BT_JC_DIRTY)
		jc->nr_dirty++;
	if (global)
		return;
	if (jc->nr_local < BT_JC_DIRTY)
		jc->local[jc->nr_local] = (uint16_t)slot;
	if (jc->nr_local <= BT_JC_DIRTY)
		jc->nr_local++;
}

static void key_now(const struct bt_cpu *cpu, struct bt_jc_key *k)
{
	memset(k, 0, sizeof(*k));
	for (int s = 0; s < 6; s++) {
		const struct hyvm_segment *g = &cpu->arch.seg[s];
		uint8_t kind = seg_check_kind(g);
		k->base[s] = (uint32_t)g->base;
		k->limit[s] = kind == BT_SEGCHK_NONE ? 0 : (uint32_t)g->limit;
		k->check[s] = kind;
	}
	/* blocks for 16-bit and 32-bit code at one offset are different
	 * blocks: the code and stack sizes are part of the key */
	k->code_mode = cpu_mode_key(cpu) & (BT_MODE_CODE16 | BT_MODE_STACK16);
}

/* Whether the set's blocks may run under key k: the segments they use
 * have k's limit checks, those whose base they add have k's bases. */
static bool key_fits(const struct bt_jc *jc, const struct bt_jc_key *k)
{
	const struct bt_jc_key *a = &jc->key;

	/* field by field in registers: a memcmp of the byte arrays stalled on
	 * store forwarding (a fifth of a SYSENTER round trip, bt-exits.md) */
	for (int s = 0; s < 6; s++) {
		if ((jc->used_mask >> s & 1) && (a->limit[s] != k->limit[s] || a->check[s] != k->check[s]))
			return false;
		if ((jc->based_mask >> s & 1) && a->base[s] != k->base[s])
			return false;
	}
	return a->code_mode == k->code_mode;
}

/* Whether key a is the current segments' key (key_now's, compared field
 * by field without building it: the memset, the stores and a memcmp
 * that stalled on forwarding them were a sixth of the pgfault nano, whose
 * five in-block callouts a fault each ask with the segments unchanged). */
static bool key_is_now(const struct bt_jc_key *a, const struct bt_cpu *cpu)
{
	for (int s = 0; s < 6; s++) {
		const struct hyvm_segment *g = &cpu->arch.seg[s];
		uint8_t kind = seg_check_kind(g);
		if (a->base[s] != (uint32_t)g->base || a->check[s] != kind ||
		    a->limit[s] != (kind == BT_SEGCHK_NONE ? 0 : (uint32_t)g->limit))
			return false;
	}
	return a->code_mode == (cpu_mode_key(cpu) & (BT_MODE_CODE16 | BT_MODE_STACK16));
}

/*
 * Makes cpu->jc the set for the current segments: the one in use when its
 * key still holds (the common case, no change), another set of that key,
 * or the least recently chosen set, emptied and keyed anew. False when
 * the set in use was not the current key's (the caller's pending fill was
 * looked up under the new segments, so it may still go in the new set).
 */
bool jc_segments_same(struct bt_cpu *cpu)
{
	struct bt_jc_key k;
	struct bt_jc *jc = cpu->jc;

	/* the common case, nothing changed: what the memcmp and key_fits
	 * below would find, a set that fits a key equal to its own */
	if (jc->keyed && key_is_now(&jc->key, cpu))
		return true;
	key_now(cpu, &k);
	/* any change of segments, used by this set's blocks or not: a
	 * translated SYSENTER/SYSEXIT's target block was looked up under
	 * all of them (translate/sys_fast.c) */
	if (memcmp(&jc->key, &k, sizeof(k)))
		bt_xfer_changed(cpu);
	if (jc->keyed && key_fits(jc, &k)) {
		jc->key = k;	/* what its next fills are looked up under */
		return true;
	}
	struct bt_jc *victim = NULL;
	bool fits = false;
	for (unsigned s = 0; s < BT_JC_SETS; s++) {
		struct bt_jc *c = &cpu->jc_sets[s];
		if (c->keyed && key_fits(c, &k)) {
			victim = c;
			fits = true;
			break;
		}
		if (!victim || !c->keyed || (victim->keyed && c->last_use < victim->last_use))
			victim = c;
	}
	if (!fits) {
		set_reset(cpu, victim);
		victim->keyed = true;
		cpu->stats.jc_resets_seg++;
	}
	victim->key = k;
	victim->last_use = ++cpu->jc_clock;
	cpu->jc = victim;
	return false;
}

static void slot_drop_if_page(struct bt_jc *jc, uint32_t slot, uint32_t page, uint64_t miss)
{
	if ((jc->slot[slot].eip & ~0xfffu) == page)
		slot_clear(jc, slot, miss);
}

/* Jump-cache slots of a linear page: the pairs of 4096 hashes from
 * jc_slot(page) on. While the fills since the last reset are all
 * remembered (dirty), only those can hold the page: scanning the page's
 * slots instead was 18% of an INVLPG's time (ptemod). */
static void set_drop_page(struct bt_cpu *cpu, struct bt_jc *jc, uint32_t page)
{
	uint64_t miss = jc_miss(cpu);

	/* the kernel's set when a process's pages go, a process's set when
	 * its data, heap or stack pages go: ~5% of a fork+exec loop's time
	 * went to scanning such sets' slots */
	if (page >> 12 < jc->lo_page || page >> 12 > jc->hi_page)
		return;
	if (jc->nr_dirty <= BT_JC_DIRTY) {
		for (uint32_t i = 0; i < jc->nr_dirty; i++)
			slot_drop_if_page(jc, jc->dirty[i], page, miss);
		return;
	}
	for (uint32_t i = 0; i < 4096; i++) {
		uint32_t slot = (jc_slot(page) + 2 * i) & (BT_JC_SIZE - 1);
		slot_drop_if_page(jc, slot, page, miss);
		slot_drop_if_page(jc, slot + 1, page, miss);
	}
}

void jc_drop_page(struct bt_cpu *cpu, uint32_t lin)
{
	unsigned b = page_bit(lin);

	bt_xfer_changed(cpu);	/* a remembered target may lie there */
	if (!(cpu->jc_pages[b / 64] >> (b % 64) & 1))
		return;
	for (unsigned s = 0; s < BT_JC_SETS; s++)
		if (cpu->jc_sets[s].nr_dirty)
			set_drop_page(cpu, &cpu->jc_sets[s], lin & ~0xfffu);
}

/* A block died: no set may jump to it. */
void jc_drop_block(struct bt_cpu *cpu, uint32_t eip, const void *host)
{
	unsigned slot = jc_slot(eip);

	for (unsigned s = 0; s < BT_JC_SETS; s++) {
		struct bt_jc *jc = &cpu->jc_sets[s];
		for (unsigned w = 0; w < 2; w++)
			if (jc->slot[slot + w].host == (uintptr_t)host)
				slot_clear(jc, slot + w, jc_miss(cpu));
	}
}
