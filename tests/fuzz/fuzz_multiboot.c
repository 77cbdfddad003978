/* The Multiboot loader (userspace/boot/loader_multiboot.c) on any file:
 * header search, a.out kludge, ELF program headers and sections, the
 * .hyvm_requires section, into 8 MiB of guest RAM. */
#include <stdlib.h>
#include "boot/loader.h"
#include "fuzz_input.h"

#define RAM_BYTES (8u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	char path[32], err[512];
	struct guest_image img;
	struct boot_entry bp = { .cmdline = "fuzz", .loader_name = "hyvm fuzz" };

	if (!ram && !(ram = calloc(1, RAM_BYTES)))
		abort();
	if (fuzz_file(data, size, path) < 0)
		abort();
	struct guest_ram r = { .base = ram, .size = RAM_BYTES };
	if (multiboot_load(path, &bp, &r, &img, err, sizeof(err)) < 0 && !err[0])
		abort();	/* a refusal always says why */
	return 0;
}
