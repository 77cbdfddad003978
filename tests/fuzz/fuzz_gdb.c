/* The GDB remote stub's packet path as gdb_stub.c runs it, without a
 * socket or a VM: the input's bytes go through the framing (gdb_rx_byte:
 * acks, interrupts, checksums, overflow), each whole packet is unescaped
 * (gdb_unescape) and handled (gdb_handle_packet: registers, memory through
 * the guest's page tables, breakpoints and watchpoints to a fake engine,
 * target.xml, resume and kill), and each reply is framed (gdb_frame).
 * The first byte picks the paused vCPU's mode (real, 32-bit flat, 32-bit
 * paging, PAE, long mode, with CR3 from the next bytes) and whether the
 * engine can debug; the packets can write the page tables they then read
 * memory through. A checksum is not checked unless the second byte's low
 * bit says so, so the seeds and the fuzzer reach the handlers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hyvm/x86.h>
#include "gdb/gdb_stub_internal.h"
#include "vmm/memory_map.h"
#include "vmm/vm.h"

#define RAM_BYTES (2u << 20)

static int fake_set_guest_debug(struct engine_vcpu *vcpu, const struct engine_debug *dbg,
				char *err, size_t errlen)
{
	/* what an engine relies on: at most its slots, lengths DR7 can say */
	if (dbg->nr_sw > ENGINE_DEBUG_MAX_SW)
		abort();
	if (dbg->dr7 & 0xc0) {	/* slot 3: refused, as an engine with 3 may; the stub rolls back */
		snprintf(err, errlen, "refused");
		return -1;
	}
	return 0;
}

static const struct engine_ops fake_engine = {
	.name = "fake",
	.set_guest_debug = fake_set_guest_debug,
};

static struct memory_map map;
static uint8_t *backing;
static struct vm vm;
static struct gdb_stub s;

static void setup_once(void)
{
	char err[256];

	if (backing)
		return;
	if (memory_map_build_pc(&map, RAM_BYTES, err, sizeof(err)) < 0 ||
	    !(backing = calloc(1, map.memfd_size)))
		abort();
	vm.engine = &fake_engine;
}

static void set_mode(struct hyvm_cpu_state *st, unsigned mode, uint64_t cr3)
{
	memset(st, 0, sizeof(*st));
	for (int i = 0; i < HYVM_NR_SEGS; i++)
		st->seg[i].limit = 0xffff;
	st->cr3 = cr3;
	st->rip = 0xfff0;
	switch (mode % 5) {
	case 0:			/* real mode */
		break;
	case 1:			/* protected, flat */
		st->cr0 = CR0_PE;
		break;
	case 2:			/* 32-bit paging */
		st->cr0 = CR0_PE | CR0_PG;
		break;
	case 3:			/* PAE */
		st->cr0 = CR0_PE | CR0_PG;
		st->cr4 = CR4_PAE;
		break;
	case 4:			/* long mode */
		st->cr0 = CR0_PE | CR0_PG;
		st->cr4 = CR4_PAE;
		st->efer = EFER_LME | EFER_LMA;
		break;
	}
}

static void packet(void)
{
	long len = gdb_unescape(s.rx.buf, s.rx.len, s.payload, sizeof(s.payload) - 1);
	bool send_reply;

	if (len < 0)
		return;		/* E22 */
	s.payload[len] = '\0';
	enum gdb_action act = gdb_handle_packet(&s, (size_t)len, &send_reply);
	if (send_reply) {
		size_t n = strnlen(s.reply, sizeof(s.reply));
		if (n == sizeof(s.reply))
			abort();	/* a reply without its NUL */
		if (gdb_frame((const uint8_t *)s.reply, n, true, s.out, sizeof(s.out)) < 0)
			abort();	/* a reply too big to send */
	}
	if (act == GDB_RESUME) {	/* the target stops again at once */
		s.arch_sent = false;
		gdb_stop_reply(&s, NULL, s.reply, sizeof(s.reply));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	uint8_t mode = data[0], flags = data[1];
	uint64_t cr3 = (uint64_t)(mode >> 3) << 15;	/* page-aligned, in RAM */

	setup_once();
	memset(backing, 0, RAM_BYTES);
	memset(&s, 0, offsetof(struct gdb_stub, rx));
	s.vm = &vm;
	s.fd = -1;
	s.stop_signal = 5;
	s.can_debug = mode & 0x80 ? false : true;
	s.mem = (struct dma_mem){ .map = &map, .backing = backing };
	gdb_rx_init(&s.rx);
	memset(&s.dbg, 0, sizeof(s.dbg));
	memset(s.hw_kind, 0, sizeof(s.hw_kind));
	s.arch_sent = false;
	set_mode(&s.st, mode & 7, cr3);
	for (size_t i = 2; i < size; i++) {
		enum gdb_rx_event e = gdb_rx_byte(&s.rx, data[i]);
		if (e == GDB_RX_PACKET || (e == GDB_RX_BAD_CHECKSUM && !(flags & 1)))
			packet();
	}
	return 0;
}
