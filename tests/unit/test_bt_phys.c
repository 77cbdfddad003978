/* bt's guest-physical space (bt/phys.c): slots at their addresses, ROM
 * readable but not writable through the lookup, holes unbacked, and RAM
 * above 4 GiB refused with the reason `hyvm engines -v` shows. */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "unit.h"
#include "bt/bt.h"
#include "bt/memory/memory.h"

#define RAM_BYTES	0x200000ull
#define ROM_GPA		0xffff0000ull
#define ROM_BYTES	0x10000ull

static void test_slots_and_lookup(void)
{
	struct bt_vm vm = { .memfd = -1 };
	char err[256];
	int fd = memfd_create("bt-phys-test", MFD_CLOEXEC);

	CU_ASSERT_FATAL(fd >= 0 && ftruncate(fd, RAM_BYTES + ROM_BYTES) == 0);
	uint8_t *host = mmap(NULL, RAM_BYTES + ROM_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CU_ASSERT_FATAL(host != MAP_FAILED);
	memset(host + RAM_BYTES, 0xa5, ROM_BYTES);		/* the ROM's bytes */
	CU_ASSERT_EQUAL_FATAL(phys_init(&vm, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(phys_add(&vm, 0, RAM_BYTES, fd, 0, false, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(phys_add(&vm, ROM_GPA, ROM_BYTES, fd, RAM_BYTES, true, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(vm.ram_size, ROM_GPA + ROM_BYTES);

	/* RAM: read and write; the bytes are the memfd's */
	uint8_t *p = phys_host(&vm, 0x1000, 4, true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	p[0] = 0x5a;
	CU_ASSERT_EQUAL(host[0x1000], 0x5a);
	/* ROM: readable, its memfd offset, never writable */
	p = phys_host(&vm, ROM_GPA + 0xfff0, 4, false);
	CU_ASSERT(p && p[0] == 0xa5);
	CU_ASSERT_PTR_NULL(phys_host(&vm, ROM_GPA + 0xfff0, 4, true));
	const struct bt_phys_region *r = phys_region(&vm, ROM_GPA + 0x2000, 1);
	CU_ASSERT(r && r->readonly && phys_memfd_offset(r, ROM_GPA + 0x2000) ==
		  (off_t)(RAM_BYTES + 0x2000));
	/* holes and straddles are unbacked (MMIO) */
	CU_ASSERT_PTR_NULL(phys_region(&vm, RAM_BYTES, 1));
	CU_ASSERT_PTR_NULL(phys_region(&vm, RAM_BYTES - 2, 4));
	CU_ASSERT_PTR_NULL(phys_region(&vm, 0xfee00000, 4));
	/* refusals: overlap, misalignment, above 4 GiB */
	CU_ASSERT_EQUAL(phys_add(&vm, 0x100000, 0x1000, fd, 0, false, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(phys_add(&vm, 0x300800, 0x1000, fd, 0, false, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(phys_add(&vm, 1ull << 32, 0x1000, fd, 0, false, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "above 4 GiB"));
	CU_ASSERT_EQUAL(vm.nr_phys, 2);
	phys_destroy(&vm);
	munmap(host, RAM_BYTES + ROM_BYTES);
	close(fd);
}

UNIT_SUITE(bt_phys, NULL, NULL,
	   UNIT_TEST(test_slots_and_lookup))
