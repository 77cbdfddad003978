/* bench-bt guest: times each kernel with RDTSC and prints
 * "BENCH name kcycles checksum" on the serial port. */
#include "guest.h"
#include "kernels.h"

GUEST("bench_bt", "");

void guest_main(const struct mb_info *mbi)
{
	(void)mbi;
	check_begin("kernels");
	for (unsigned k = 0; k < nr_kernels; k++) {
		uint32_t sum = 0;
		kernels[k].run();	/* warm up: translate, fault pages in */
		uint64_t t0 = rdtsc();
		for (unsigned r = 0; r < kernels[k].reps; r++)
			sum += kernels[k].run();
		uint64_t t1 = rdtsc();
		printf_serial("BENCH %s %u %x\n", kernels[k].name, (uint32_t)((t1 - t0) >> 10), sum);
		check(sum != 0, "%s checksum is zero", kernels[k].name);
	}
	check_end();
}
