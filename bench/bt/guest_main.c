/* bench-bt guest: times each kernel with RDTSC and prints
 * "BENCH name kcycles checksum" on the serial port. Each repetition is
 * timed alone and the fastest counts for all of them (kcycles = fewest
 * cycles of one x reps): on a loaded host a repetition that was preempted
 * counts other processes' time; one of ~1-20 ms is likely to run whole.
 * native_main.c does the same. */
#include "guest.h"
#include "kernels.h"

GUEST("bench_bt", "");

void guest_main(const struct mb_info *mbi)
{
	(void)mbi;
	check_begin("kernels");
	for (unsigned k = 0; k < nr_kernels; k++) {
		uint32_t sum = 0;
		uint64_t best = ~0ull;
		kernels[k].run();	/* warm up: translate, fault pages in */
		for (unsigned r = 0; r < kernels[k].reps; r++) {
			uint64_t t0 = rdtsc();
			sum += kernels[k].run();
			uint64_t t = rdtsc() - t0;
			if (t < best)
				best = t;
		}
		printf_serial("BENCH %s %u %x\n", kernels[k].name, (uint32_t)((best * kernels[k].reps) >> 10), sum);
		check(sum != 0, "%s checksum is zero", kernels[k].name);
	}
	check_end();
}
