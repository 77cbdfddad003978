/* The Linux boot protocol loader (userspace/boot/loader_linux.c) on any
 * file, through the 32-bit and the 64-bit entry: setup header checks,
 * placement, zero page, the identity map. */
#include <stdlib.h>
#include "boot/loader.h"
#include "fuzz_input.h"

#define RAM_BYTES (32u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	char path[32], err[512];
	struct guest_image img;

	if (!ram && !(ram = calloc(1, RAM_BYTES)))
		abort();
	if (fuzz_file(data, size, path) < 0)
		abort();
	for (int lm = 0; lm < 2; lm++) {
		struct boot_entry bp = { .cmdline = "console=ttyS0", .long_mode = lm };
		struct guest_ram r = { .base = ram, .size = RAM_BYTES };

		(void)linux_is_bzimage(path);
		err[0] = 0;
		if (linux_load(path, &bp, &r, &img, err, sizeof(err)) < 0 && !err[0])
			abort();
	}
	return 0;
}
