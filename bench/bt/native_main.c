/* bench-bt on the host: the same kernels, the same output format. */
#include <stdio.h>
#include <x86intrin.h>
#include "kernels.h"

int main(void)
{
	for (unsigned k = 0; k < nr_kernels; k++) {
		uint32_t sum = 0;
		kernels[k].run();
		uint64_t t0 = __rdtsc();
		for (unsigned r = 0; r < kernels[k].reps; r++)
			sum += kernels[k].run();
		uint64_t t1 = __rdtsc();
		printf("BENCH %s %u %x\n", kernels[k].name, (unsigned)((t1 - t0) >> 10), sum);
	}
	return 0;
}
