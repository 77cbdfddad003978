/* What gdb_stub.c (connection, pause) and gdb_commands.c (packets) share. */
#ifndef HYVM_GDB_STUB_INTERNAL_H
#define HYVM_GDB_STUB_INTERNAL_H

#include <stdbool.h>
#include "engines/engine.h"
#include "gdb/gdb_packet.h"
#include "gdb/gdb_regs.h"
#include "gdb/gdb_stub.h"
#include "vmm/dma_mem.h"

struct gdb_stub {
	struct vm *vm;
	struct gdb_config cfg;
	int listen_fd, fd;		/* fd: the client, -1 without one */
	bool no_ack;			/* after QStartNoAckMode */
	bool running;			/* the client waits for a stop reply */
	int stop_signal;		/* of the next stop reply: 5 SIGTRAP, 2 SIGINT */
	struct gdb_rx rx;
	uint8_t in[4096];		/* bytes read, not yet fed to rx */
	size_t in_pos, in_len;
	uint8_t out[2 * GDB_PACKET_MAX + 8];	/* the last framed reply (for a NAK) */
	size_t out_len;
	uint8_t payload[GDB_PACKET_MAX + 1];	/* unescaped packet, NUL-terminated */
	char reply[GDB_PACKET_MAX + 1];

	/* while paused */
	struct hyvm_cpu_state st;
	bool st_dirty;
	enum gdb_arch arch;		/* the layout of the last target.xml */
	bool arch_sent;
	struct dma_mem mem;

	/* breakpoints and watchpoints as the engine gets them */
	struct engine_debug dbg;
	bool can_debug;			/* the engine has set_guest_debug */
	uint8_t hw_kind[4];		/* Z type (1-4) of each used slot, 0 free */
};

enum gdb_action { GDB_STAY, GDB_RESUME, GDB_DETACH, GDB_KILL };

/* One unescaped packet (s->payload) while paused: the reply in s->reply
 * (possibly empty = unsupported; none for a resume or k), what to do next. */
enum gdb_action gdb_handle_packet(struct gdb_stub *s, size_t len, bool *send_reply);
/* The stop reply for the exit the VM stopped at (NULL: attach/interrupt). */
void gdb_stop_reply(struct gdb_stub *s, const struct vcpu_exit *exit, char *out, size_t cap);
/* Debug registers and breakpoints to the engine; -1 and a line in err if refused. */
int gdb_apply_debug(struct gdb_stub *s, bool step, char *err, size_t errlen);

#endif
