/* CPU-state conversions between hyvm_cpu_state and KVM's structs: every
 * field must survive the round trip, and the unpacked KVM attribute fields
 * must mean what the packed descriptor bits mean. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "engines/kvm/kvm_state.h"

static void fill_pattern(void *p, size_t n, unsigned seed)
{
	uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed * 131 + i * 7);
}

static void test_segment_attributes_unpack(void)
{
	/* a 32-bit ring-3 data segment, expand-up, writable, accessed, G=1 */
	struct hyvm_segment h = { .base = 0x12345678, .limit = 0xffffffff, .selector = 0x2b,
		.attrib = 0x3 | HYVM_SEG_S | (3 << HYVM_SEG_DPL_SHIFT) | HYVM_SEG_P |
			  HYVM_SEG_DB | HYVM_SEG_G };
	struct kvm_segment k;

	kvm_segment_from_hyvm(&k, &h);
	CU_ASSERT_EQUAL(k.base, 0x12345678);
	CU_ASSERT_EQUAL(k.limit, 0xffffffff);
	CU_ASSERT_EQUAL(k.selector, 0x2b);
	CU_ASSERT_EQUAL(k.type, 3);
	CU_ASSERT_EQUAL(k.s, 1);
	CU_ASSERT_EQUAL(k.dpl, 3);
	CU_ASSERT_EQUAL(k.present, 1);
	CU_ASSERT_EQUAL(k.db, 1);
	CU_ASSERT_EQUAL(k.g, 1);
	CU_ASSERT_EQUAL(k.l, 0);
	CU_ASSERT_EQUAL(k.avl, 0);
	CU_ASSERT_EQUAL(k.unusable, 0);
}

static void test_segment_round_trip_all_attribute_values(void)
{
	/* every combination of the 12 packed bits, plus unusable */
	for (uint32_t a = 0; a < 0x1000; a++) {
		for (int u = 0; u < 2; u++) {
			struct hyvm_segment h = { .base = a * 0x1001ull, .limit = a * 3,
				.selector = (uint16_t)(a ^ 0x5a5a),
				.attrib = a | (u ? HYVM_SEG_UNUSABLE : 0) }, back;
			struct kvm_segment k;
			kvm_segment_from_hyvm(&k, &h);
			hyvm_segment_from_kvm(&back, &k);
			if (memcmp(&h, &back, sizeof(h))) {
				CU_FAIL("segment round trip changed the segment");
				return;
			}
		}
	}
	CU_PASS("4096 x 2 attribute values round-tripped");
}

static void test_full_state_round_trip(void)
{
	struct hyvm_cpu_state *st = aligned_alloc(16, sizeof(*st));
	struct hyvm_cpu_state *back = aligned_alloc(16, sizeof(*back));
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	struct kvm_vcpu_events ev;
	struct kvm_msrs_buf msrs;

	memset(st, 0, sizeof(*st));
	fill_pattern(st->gpr, sizeof(st->gpr), 1);
	st->rip = 0xffffffff81000000ull;
	st->rflags = 0x246;
	for (int i = 0; i < HYVM_NR_SEGS; i++)
		st->seg[i] = (struct hyvm_segment){ .base = 0x1000u * i, .limit = 0xfff + i,
			.selector = 8 * i, .attrib = 0x93 + i };
	st->gdtr = (struct hyvm_dtable){ .base = 0x5000, .limit = 0x7f };
	st->idtr = (struct hyvm_dtable){ .base = 0x6000, .limit = 0x7ff };
	st->cr0 = 0x80050033; st->cr2 = 0xdead000; st->cr3 = 0x1000; st->cr4 = 0x6b0;
	st->cr8 = 5; st->efer = 0xd01;
	st->sysenter_cs = 0x10; st->sysenter_esp = 0x9000; st->sysenter_eip = 0x100200;
	st->star = 1; st->lstar = 2; st->cstar = 3; st->sfmask = 4; st->kernel_gs_base = 5;
	st->pat = 0x0007040600070406ull; st->tsc = 123456789;
	st->event = (struct hyvm_pending_event){ .type = HYVM_EVENT_EXCEPTION, .vector = 14,
		.has_error_code = 1, .error_code = 6 };
	st->interruptibility = HYVM_INTR_SHADOW_STI | HYVM_NMI_BLOCKED;
	/* FXSAVE image: only the bytes KVM carries (reserved bytes stay 0) */
	st->fxsave[0] = 0x7f; st->fxsave[1] = 0x03; st->fxsave[4] = 0x81;
	st->fxsave[24] = 0x80; st->fxsave[25] = 0x1f;
	fill_pattern(st->fxsave + 32, 8 * 16, 2);
	fill_pattern(st->fxsave + 160, 16 * 16, 3);
	for (int i = 0; i < 8; i++)	/* x87 registers are 10 bytes in 16 */
		memset(st->fxsave + 32 + 16 * i + 10, 0, 6);

	kvm_regs_from_state(&regs, st);
	kvm_sregs_from_state(&sregs, st);
	kvm_fpu_from_state(&fpu, st);
	kvm_events_from_state(&ev, st);
	kvm_msrs_from_state(&msrs, st);
	CU_ASSERT_EQUAL(regs.rbx, st->gpr[HYVM_RBX]);
	CU_ASSERT_EQUAL(regs.rsp, st->gpr[HYVM_RSP]);
	CU_ASSERT_EQUAL(sregs.tr.base, 0x7000);
	CU_ASSERT_EQUAL(sregs.ldt.selector, 6 * 8);
	CU_ASSERT_EQUAL(fpu.mxcsr, 0x1f80);
	CU_ASSERT_EQUAL(ev.exception.nr, 14);
	CU_ASSERT_EQUAL(ev.interrupt.shadow, KVM_X86_SHADOW_INT_STI);

	memset(back, 0, sizeof(*back));
	state_from_kvm_regs(back, &regs);
	state_from_kvm_sregs(back, &sregs);
	state_from_kvm_fpu(back, &fpu);
	state_from_kvm_events(back, &ev);
	state_from_kvm_msrs(back, &msrs);
	CU_ASSERT_EQUAL(memcmp(st, back, sizeof(*st)), 0);
	free(st);
	free(back);
}

static void test_event_kinds(void)
{
	struct hyvm_cpu_state st = { 0 }, back = { 0 };
	struct kvm_vcpu_events ev;
	static const uint8_t types[] = { HYVM_EVENT_EXTINT, HYVM_EVENT_SOFTINT, HYVM_EVENT_NMI };

	for (unsigned i = 0; i < sizeof(types); i++) {
		st.event = (struct hyvm_pending_event){ .type = types[i],
			.vector = types[i] == HYVM_EVENT_NMI ? 2 : 0x20 + i };
		kvm_events_from_state(&ev, &st);
		state_from_kvm_events(&back, &ev);
		CU_ASSERT_EQUAL(back.event.type, st.event.type);
		CU_ASSERT_EQUAL(back.event.vector, st.event.vector);
	}
}

/* An NMI KVM has latched but not begun to deliver (nmi.pending, as after
 * KVM_NMI) is state too: a save that dropped it lost the NMI. */
static void test_nmi_pending_is_saved(void)
{
	struct hyvm_cpu_state st;
	struct kvm_vcpu_events ev = { .flags = KVM_VCPUEVENT_VALID_NMI_PENDING };

	memset(&st, 0, sizeof(st));
	ev.nmi.pending = 1;
	state_from_kvm_events(&st, &ev);
	CU_ASSERT_EQUAL(st.event.type, HYVM_EVENT_NMI);
	CU_ASSERT_EQUAL(st.event.vector, 2);
	/* given back, the next entry delivers it */
	kvm_events_from_state(&ev, &st);
	CU_ASSERT(ev.flags & KVM_VCPUEVENT_VALID_NMI_PENDING);
	CU_ASSERT_EQUAL(ev.nmi.injected + ev.nmi.pending, 1);
	CU_ASSERT_EQUAL(ev.exception.injected, 0);
	CU_ASSERT_EQUAL(ev.interrupt.injected, 0);

	/* an exception in delivery keeps the one slot */
	memset(&ev, 0, sizeof(ev));
	ev.nmi.pending = 1;
	ev.exception.injected = 1;
	ev.exception.nr = 14;
	ev.exception.has_error_code = 1;
	ev.exception.error_code = 2;
	state_from_kvm_events(&st, &ev);
	CU_ASSERT_EQUAL(st.event.type, HYVM_EVENT_EXCEPTION);
	CU_ASSERT_EQUAL(st.event.vector, 14);

	/* nothing pending: no event */
	memset(&ev, 0, sizeof(ev));
	state_from_kvm_events(&st, &ev);
	CU_ASSERT_EQUAL(st.event.type, HYVM_EVENT_NONE);
}

UNIT_SUITE(kvm_state, NULL, NULL,
	UNIT_TEST(test_nmi_pending_is_saved),
	UNIT_TEST(test_segment_attributes_unpack),
	UNIT_TEST(test_segment_round_trip_all_attribute_values),
	UNIT_TEST(test_full_state_round_trip),
	UNIT_TEST(test_event_kinds))
