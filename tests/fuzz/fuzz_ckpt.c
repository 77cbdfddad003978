/* The checkpoint reader (userspace/checkpoint/): ckpt_verify,
 * checkpoint_read_meta and checkpoint_load into a 2 MiB pc VM (vm_init
 * with no extra device, as `hyvm run --mem 2 GUEST` makes it; a fake
 * engine with bt's capabilities), on the input as a file. Every refusal
 * must be one line; nothing may crash, leak or allocate past the file.
 * A mutated file almost never gets past the checksums, so each input is
 * read twice: as it is, and repaired (the header's size and checksum and
 * every whole section's checksum recomputed, as a hostile writer would),
 * which puts the section parsers (META, CPUID, CPU, DEVICE, DISK, RAM
 * with its runs and zstd frame) in the fuzzer's reach. */
#include <stdlib.h>
#include <string.h>
#include "checkpoint/checkpoint.h"
#include "checkpoint/ckpt_file.h"
#include "fuzz_input.h"
#include "vmm/memory_map.h"
#include "vmm/vm.h"
#include <hyvm/le.h>

#define RAM_BYTES (2u << 20)

static void bt_like_probe(struct engine_caps *caps)
{
	memset(caps, 0, sizeof(*caps));
	caps->present = true;
	caps->cannot[NEED_LONG_MODE] = "long mode needs hardware assist";
	caps->cannot[NEED_HIGH_RAM] = "no RAM above 4 GiB";
}

static const struct engine_ops fake_engine = { .name = "fake", .probe = bt_like_probe };

/* The checksums and sizes a real writer would have put there
 * (docs/checkpoint-format.md). */
static void repair(uint8_t *f, size_t size)
{
	size_t at = CKPT_HEADER_LEN;

	if (size < CKPT_HEADER_LEN)
		return;
	le_put(f + 16, size, 8);
	le_put(f + 32, ckpt_fnv1a(CKPT_FNV_INIT, f, 32), 8);
	while (size - at >= CKPT_SECTION_HDR_LEN) {
		uint64_t len = le_get(f + at + 8, 8);
		if (len > size - at - CKPT_SECTION_HDR_LEN)
			break;
		le_put(f + at + 16, ckpt_fnv1a(CKPT_FNV_INIT, f + at + CKPT_SECTION_HDR_LEN, len), 8);
		at += CKPT_SECTION_HDR_LEN + len;
	}
}

static void read_all(struct vm *vm, const uint8_t *data, size_t size)
{
	char path[32], err[512];
	struct ckpt_meta m;
	struct hyvm_cpu_state st;

	if (fuzz_file(data, size, path) < 0)
		abort();
	(void)ckpt_verify(path, err, sizeof(err));
	if (checkpoint_read_meta(path, &m, err, sizeof(err)) == 0)
		checkpoint_meta_free(&m);
	else if (!err[0] || strchr(err, '\n'))
		abort();	/* a refusal is one line */
	int k = checkpoint_load(vm, path, &fake_engine, &st, err, sizeof(err));
	if (getenv("FUZZ_DEBUG"))
		fprintf(stderr, "checkpoint_load: %s\n", k < 0 ? err : "loaded");
	if (k < 0 && (!err[0] || strchr(err, '\n')))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct memory_map map;
	static struct vm vm;
	static bool up;
	char err[256];

	if (!up) {
		if (memory_map_build_pc(&map, RAM_BYTES, err, sizeof(err)) < 0 ||
		    vm_init(&vm, &map, NULL, 0, -1, -1, err, sizeof(err)) < 0) {
			fprintf(stderr, "fuzz_ckpt: %s\n", err);
			abort();
		}
		up = true;
	}
	vm_reset(&vm);		/* RAM zero, devices at power-on, as a restore finds them */
	read_all(&vm, data, size);
	uint8_t *fixed = malloc(size ? size : 1);
	if (!fixed)
		abort();
	memcpy(fixed, data, size);
	repair(fixed, size);
	vm_reset(&vm);
	read_all(&vm, fixed, size);
	free(fixed);
	return 0;
}
