/*
 * The gdb stub: hyvm run --gdb. A TCP listener in the VMM's fd watch set;
 * a debugger that connects stops the VM (vm_pause.h) and talks the remote
 * serial protocol while it stands still; c/s/vCont run it again until a
 * breakpoint, a step, a watchpoint, Ctrl-C (0x03) or the guest's end. A
 * client that sends garbage is NAKed or answered empty; one that leaves
 * (D, or a dropped connection) leaves the guest running without
 * breakpoints, and the next may connect.
 */
#ifndef HYVM_GDB_STUB_H
#define HYVM_GDB_STUB_H

#include <stddef.h>
#include "gdb/gdb_config.h"

struct vm;
struct gdb_stub;

/* Listens and hooks into the VM (its pause hook, its fd watch set).
 * NULL and one line in err if the address cannot be bound (in use). */
struct gdb_stub *gdb_stub_open(struct vm *vm, const struct gdb_config *cfg, char *err,
			       size_t errlen);
/* The guest is gone with this exit status: a connected debugger gets W. */
void gdb_stub_vm_ended(struct gdb_stub *s, int status);
void gdb_stub_close(struct gdb_stub *s);

#endif
