/*
 * hyvm run --gdb tcp:[HOST]:PORT [--gdb-wait]: where the gdb stub listens
 * (QEMU's -gdb tcp::PORT spelling; an empty HOST is 127.0.0.1, never all
 * interfaces: the stub reads and writes all guest memory) and whether
 * the guest waits for the debugger before its first instruction (QEMU's -S).
 */
#ifndef HYVM_GDB_CONFIG_H
#define HYVM_GDB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

struct gdb_config {
	bool enabled;
	bool wait;
	struct in_addr addr;
	uint16_t port;
};

/* 0, or -1 with one line in err (unknown scheme, bad host, bad port). */
int gdb_config_parse(const char *spec, struct gdb_config *c, char *err, size_t errlen);

#endif
