/* Compute kernels for bench-bt: the same C built as a guest (32-bit,
 * freestanding) and as a host program. Fixed-width arithmetic only, so
 * both builds compute the same checksums. */
#ifndef BENCH_BT_KERNELS_H
#define BENCH_BT_KERNELS_H

#include <stdint.h>

struct kernel {
	const char *name;
	uint32_t (*run)(void);
	unsigned reps;
};

extern const struct kernel kernels[];
extern const unsigned nr_kernels;

#endif
