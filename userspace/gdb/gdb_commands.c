/*
 * The gdb remote protocol's commands (gdb manual, "Packets", "General
 * Query Packets", "Stop Reply Packets"), answered on a paused VM: the
 * registers in s->st (written back on resume), memory through gdb_mem.c,
 * breakpoints and watchpoints through engine_ops.set_guest_debug.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gdb/gdb_mem.h"
#include "gdb/gdb_stub_internal.h"
#include "vmm/vm.h"

/* Errors as gdbserver spells them: E14 (EFAULT) for memory, E22 (EINVAL). */
#define E_FAULT	"E14"
#define E_INVAL	"E22"

static void put(struct gdb_stub *s, const char *text)
{
	snprintf(s->reply, sizeof(s->reply), "%s", text);
}

/* The register layout: the one the last target.xml described, else the
 * guest's current mode. */
static enum gdb_arch arch(struct gdb_stub *s)
{
	return s->arch_sent ? s->arch : gdb_arch_of(&s->st);
}

void gdb_stop_reply(struct gdb_stub *s, const struct vcpu_exit *exit, char *out, size_t cap)
{
	if (exit && exit->kind == EXIT_DEBUG && exit->debug.reason == DEBUG_STOP_WATCH) {
		const char *kind = "watch";
		for (int i = 0; i < 4; i++)
			if (s->hw_kind[i] && s->dbg.dr[i] == exit->debug.addr)
				kind = s->hw_kind[i] == 4 ? "awatch" : s->hw_kind[i] == 3 ? "rwatch" : "watch";
		snprintf(out, cap, "T05%s:%llx;thread:01;", kind, (unsigned long long)exit->debug.addr);
		return;
	}
	snprintf(out, cap, "T%02xthread:01;", exit && exit->kind == EXIT_DEBUG ? 5 : s->stop_signal);
}

int gdb_apply_debug(struct gdb_stub *s, bool step, char *err, size_t errlen)
{
	const struct engine_ops *e = s->vm->engine;

	s->dbg.single_step = step;
	if (!s->can_debug) {
		snprintf(err, errlen, "engine %s cannot debug", e->name);
		return -1;
	}
	return e->set_guest_debug(s->vm->vcpu, &s->dbg, err, errlen);
}

static void read_regs(struct gdb_stub *s)
{
	unsigned n = gdb_nregs(arch(s));
	char *o = s->reply;
	uint8_t buf[16];

	for (unsigned i = 0; i < n; i++) {
		unsigned len = gdb_reg_get(arch(s), &s->st, i, buf);
		gdb_hex_encode(buf, len, o);
		o += 2 * len;
	}
}

static void write_regs(struct gdb_stub *s, const char *hex)
{
	struct hyvm_cpu_state st = s->st;
	unsigned n = gdb_nregs(arch(s));
	uint8_t buf[16], cur[16];
	size_t len = strlen(hex);

	for (unsigned i = 0; i < n; i++) {
		unsigned rl = gdb_reg_get(arch(s), &st, i, cur);
		if (len < 2 * rl)
			break;	/* gdb may send fewer registers than described */
		if (gdb_hex_decode(hex, 2 * rl, buf, sizeof(buf)) < 0 ||
		    (memcmp(buf, cur, rl) && gdb_reg_set(arch(s), &st, i, buf) < 0)) {
			put(s, E_INVAL);
			return;
		}
		hex += 2 * rl;
		len -= 2 * rl;
	}
	s->st = st;
	s->st_dirty = true;
	put(s, "OK");
}

static void read_reg(struct gdb_stub *s, const char *p)
{
	uint64_t n;
	uint8_t buf[16];
	unsigned len;

	if (!gdb_hex_u64(&p, &n) || *p || n > 1000 || !(len = gdb_reg_get(arch(s), &s->st, (unsigned)n, buf))) {
		put(s, E_INVAL);
		return;
	}
	gdb_hex_encode(buf, len, s->reply);
}

static void write_reg(struct gdb_stub *s, const char *p)
{
	uint64_t n;
	uint8_t cur[16], buf[16];
	unsigned len;

	if (!gdb_hex_u64(&p, &n) || *p++ != '=' || n > 1000 ||
	    !(len = gdb_reg_get(arch(s), &s->st, (unsigned)n, cur)) ||
	    gdb_hex_decode(p, strlen(p), buf, sizeof(buf)) != (long)len ||
	    gdb_reg_set(arch(s), &s->st, (unsigned)n, buf) < 0) {
		put(s, E_INVAL);
		return;
	}
	s->st_dirty = true;
	put(s, "OK");
}

/* "ADDR,LEN" then sep; false if malformed. */
static bool addr_len(const char **p, uint64_t *addr, uint64_t *len, char sep)
{
	return gdb_hex_u64(p, addr) && *(*p)++ == ',' && gdb_hex_u64(p, len) &&
	       (sep ? *(*p)++ == sep : **p == '\0');
}

static void read_mem(struct gdb_stub *s, const char *p)
{
	uint64_t addr, len;
	static uint8_t buf[GDB_PACKET_MAX / 2];

	if (!addr_len(&p, &addr, &len, 0)) {
		put(s, E_INVAL);
		return;
	}
	if (len > sizeof(buf))
		len = sizeof(buf);	/* gdb asks again for the rest */
	if (gdb_mem_read(&s->mem, &s->st, addr, buf, len) < 0) {
		put(s, E_FAULT);
		return;
	}
	gdb_hex_encode(buf, len, s->reply);
}

static void write_mem(struct gdb_stub *s, const char *p, size_t plen, bool binary)
{
	const char *start = p;
	uint64_t addr, len;
	static uint8_t buf[GDB_PACKET_MAX];

	if (!addr_len(&p, &addr, &len, ':') || len > sizeof(buf)) {
		put(s, E_INVAL);
		return;
	}
	size_t rest = plen - (size_t)(p - start);
	if (binary ? rest != len : gdb_hex_decode(p, rest, buf, sizeof(buf)) != (long)len) {
		put(s, E_INVAL);
		return;
	}
	if (binary)
		memcpy(buf, p, len);
	put(s, len && gdb_mem_write(&s->mem, &s->st, addr, buf, len) < 0 ? E_FAULT : "OK");
}

/* DR7 LEN encoding for 1, 2, 4, 8 bytes (SDM Vol. 3B 18.2.4). */
static int dr7_len(uint64_t len)
{
	switch (len) {
	case 1: return 0;
	case 2: return 1;
	case 4: return 3;
	case 8: return 2;
	default: return -1;
	}
}

/* Z/z TYPE,ADDR,KIND. Unsupported (empty reply) when the engine cannot:
 * gdb then falls back (to memory breakpoints, software watchpoints). */
static void breakpoint(struct gdb_stub *s, const char *p, bool insert)
{
	uint64_t type, addr, kind;
	char err[200];
	struct engine_debug saved = s->dbg;
	uint8_t saved_kind[4];

	memcpy(saved_kind, s->hw_kind, sizeof(saved_kind));
	if (!gdb_hex_u64(&p, &type) || *p++ != ',' || !gdb_hex_u64(&p, &addr) || *p++ != ',' ||
	    !gdb_hex_u64(&p, &kind) || (*p && *p != ';') || type > 4) {
		put(s, E_INVAL);
		return;
	}
	if (!s->can_debug || type == 3) {	/* x86 has no read-only watch (R/W 10 is I/O) */
		put(s, "");
		return;
	}
	if (type == 0) {
		unsigned i;
		for (i = 0; i < s->dbg.nr_sw && s->dbg.sw[i] != addr; i++)
			;
		if (insert && i == s->dbg.nr_sw) {
			if (s->dbg.nr_sw == ENGINE_DEBUG_MAX_SW) {
				put(s, E_INVAL);
				return;
			}
			s->dbg.sw[s->dbg.nr_sw++] = addr;
		} else if (!insert && i < s->dbg.nr_sw) {
			s->dbg.sw[i] = s->dbg.sw[--s->dbg.nr_sw];
		}
	} else {
		unsigned rw = type == 1 ? DR7_RW_EXEC : type == 2 ? DR7_RW_WRITE : DR7_RW_ACCESS;
		int len = type == 1 ? 0 : dr7_len(kind);
		int slot = -1;
		if (len < 0 || (type != 1 && (addr & (kind - 1)))) {
			put(s, "");	/* unaligned or odd size: let gdb split or fall back */
			return;
		}
		for (int i = 0; i < 4; i++) {
			bool same = s->hw_kind[i] == type && s->dbg.dr[i] == addr;
			if (insert ? (!s->hw_kind[i] && slot < 0) : same)
				slot = i;
		}
		if (slot < 0) {
			put(s, insert ? "" : "OK");	/* no free slot: gdb falls back */
			return;
		}
		s->dbg.dr7 &= ~(3u << (2 * slot) | 0xfu << (16 + 4 * slot));
		if (insert) {
			s->dbg.dr[slot] = addr;
			s->dbg.dr7 |= 1u << (2 * slot) | (rw | (unsigned)len << 2) << (16 + 4 * slot);
			s->hw_kind[slot] = (uint8_t)type;
		} else {
			s->hw_kind[slot] = 0;
		}
	}
	if (gdb_apply_debug(s, false, err, sizeof(err)) < 0) {
		s->dbg = saved;
		memcpy(s->hw_kind, saved_kind, sizeof(saved_kind));
		put(s, "");
		return;
	}
	put(s, "OK");
}

/* qXfer:features:read:target.xml:OFFSET,LENGTH */
static void xfer_features(struct gdb_stub *s, const char *p)
{
	static char xml[16384];
	uint64_t off, len;

	if (strncmp(p, "target.xml:", 11)) {
		put(s, E_INVAL);
		return;
	}
	p += 11;
	if (!addr_len(&p, &off, &len, 0)) {
		put(s, E_INVAL);
		return;
	}
	if (off == 0 || !s->arch_sent) {
		s->arch = gdb_arch_of(&s->st);	/* the guest's mode now */
		s->arch_sent = true;
	}
	size_t n = gdb_target_xml(s->arch, xml, sizeof(xml));
	if (len > GDB_PACKET_MAX - 2)
		len = GDB_PACKET_MAX - 2;
	if (off >= n) {
		put(s, "l");
		return;
	}
	size_t chunk = n - off < len ? n - off : len;
	s->reply[0] = off + chunk < n ? 'm' : 'l';
	memcpy(s->reply + 1, xml + off, chunk);
	s->reply[1 + chunk] = '\0';
}

static void query(struct gdb_stub *s, const char *p)
{
	if (!strncmp(p, "qSupported", 10))
		snprintf(s->reply, sizeof(s->reply),
			 "PacketSize=%x;qXfer:features:read+;QStartNoAckMode+;vContSupported+",
			 GDB_PACKET_MAX);
	else if (!strncmp(p, "qXfer:features:read:", 20))
		xfer_features(s, p + 20);
	else if (!strcmp(p, "qAttached") || !strncmp(p, "qAttached:", 10))
		put(s, "1");
	else if (!strcmp(p, "qC"))
		put(s, "QC01");
	else if (!strcmp(p, "qfThreadInfo"))
		put(s, "m01");	/* one thread per vCPU: this VM has one */
	else if (!strcmp(p, "qsThreadInfo"))
		put(s, "l");
	else if (!strncmp(p, "qSymbol", 7))
		put(s, "OK");
	else
		put(s, "");
}

/* vCont;ACTION[:TID]...: the first action that names thread 1 or all. */
static enum gdb_action vcont(struct gdb_stub *s, const char *p, bool *step)
{
	while (*p == ';') {
		char a = p[1];
		const char *tid = strchr(p + 1, ':'), *next = strchr(p + 1, ';');
		bool ours = !tid || (next && tid > next) || strtol(tid + 1, NULL, 16) <= 1;
		if (ours && (a == 'c' || a == 'C' || a == 's' || a == 'S')) {
			*step = a == 's' || a == 'S';
			return GDB_RESUME;
		}
		if (!next)
			break;
		p = next;
	}
	put(s, E_INVAL);
	return GDB_STAY;
}

enum gdb_action gdb_handle_packet(struct gdb_stub *s, size_t len, bool *send_reply)
{
	const char *p = (const char *)s->payload;
	bool step = false;
	enum gdb_action act = GDB_STAY;
	char err[200];

	*send_reply = true;
	s->reply[0] = '\0';
	switch (p[0]) {
	case '?':
		gdb_stop_reply(s, NULL, s->reply, sizeof(s->reply));
		break;
	case 'q':
		query(s, p);
		break;
	case 'Q':
		if (!strcmp(p, "QStartNoAckMode"))
			put(s, "OK");	/* takes effect after this reply's ack */
		break;
	case 'g':
		read_regs(s);
		break;
	case 'G':
		write_regs(s, p + 1);
		break;
	case 'p':
		read_reg(s, p + 1);
		break;
	case 'P':
		write_reg(s, p + 1);
		break;
	case 'm':
		read_mem(s, p + 1);
		break;
	case 'M':
		write_mem(s, p + 1, len - 1, false);
		break;
	case 'X':
		write_mem(s, p + 1, len - 1, true);
		break;
	case 'H':
	case 'T':
		put(s, "OK");	/* every thread is thread 1 */
		break;
	case 'Z':
	case 'z':
		breakpoint(s, p + 1, p[0] == 'Z');
		break;
	case 's':
	case 'S':
		step = true;
		/* fall through */
	case 'c':
	case 'C':
		act = GDB_RESUME;
		break;
	case 'v':
		if (!strcmp(p, "vCont?"))
			put(s, "vCont;c;C;s;S");
		else if (!strncmp(p, "vCont;", 5) && p[5] == ';')
			act = vcont(s, p + 5, &step);
		else if (!strncmp(p, "vKill", 5))
			act = GDB_KILL;
		else
			put(s, "");	/* vMustReplyEmpty and the rest */
		break;
	case 'D':
		put(s, "OK");
		return GDB_DETACH;
	case 'k':
		*send_reply = false;
		return GDB_KILL;
	default:
		put(s, "");
		break;
	}
	if (act == GDB_RESUME) {
		/* c ADDR / s ADDR resume elsewhere (the address after the letter) */
		uint64_t addr;
		const char *a = p + 1;
		if ((p[0] == 'c' || p[0] == 's') && gdb_hex_u64(&a, &addr)) {
			s->st.rip = addr;
			s->st_dirty = true;
		}
		if (s->can_debug && gdb_apply_debug(s, step, err, sizeof(err)) < 0 && step) {
			snprintf(s->reply, sizeof(s->reply), "E01");
			return GDB_STAY;
		}
		*send_reply = false;
	} else if (act == GDB_KILL) {
		*send_reply = p[0] == 'v';
		put(s, "OK");
	}
	return act;
}
