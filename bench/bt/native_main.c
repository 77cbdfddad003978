/* bench-bt on the host: the same kernels, the same output format, the
 * same timing (the fastest repetition x reps, as guest_main.c). */
#include <stdio.h>
#include <x86intrin.h>
#include "kernels.h"

int main(void)
{
	for (unsigned k = 0; k < nr_kernels; k++) {
		uint32_t sum = 0;
		uint64_t best = ~0ull;
		kernels[k].run();
		for (unsigned r = 0; r < kernels[k].reps; r++) {
			uint64_t t0 = __rdtsc();
			sum += kernels[k].run();
			uint64_t t = __rdtsc() - t0;
			if (t < best)
				best = t;
		}
		printf("BENCH %s %u %x\n", kernels[k].name, (unsigned)((best * kernels[k].reps) >> 10), sum);
	}
	return 0;
}
