/* Guest virtual memory for the gdb stub; see gdb_mem.h. */
#include <string.h>
#include <hyvm/x86.h>
#include "gdb/gdb_mem.h"
#include "x86/page_walk.h"

static uint8_t *table_ptr(void *opaque, uint64_t gpa, unsigned len)
{
	return dma_ptr(opaque, gpa, len, false);
}

/* Every entry "read-only", so the walk leaves A/D alone. */
static bool table_readonly(void *opaque, uint64_t gpa)
{
	return true;
}

static int translate(const struct dma_mem *m, const struct hyvm_cpu_state *st, uint64_t addr,
		     uint64_t *gpa)
{
	struct pw_context ctx = {
		.cr0 = st->cr0, .cr3 = st->cr3, .cr4 = st->cr4, .efer = st->efer,
		.maxphyaddr = 52, .table_ptr = table_ptr, .table_readonly = table_readonly,
		.opaque = (void *)m,
	};
	struct pw_result r;

	/* supervisor read: what the kernel may see; writes as reads, since a
	 * debugger's write to code goes past the page's R/W bit */
	page_walk(&ctx, addr, PW_READ, false, &r);
	if (r.status != PW_OK)
		return -1;
	*gpa = r.phys;
	return 0;
}

static int access(const struct dma_mem *m, const struct hyvm_cpu_state *st, uint64_t addr,
		  uint8_t *buf, size_t len, bool write)
{
	/* outside long mode linear addresses are 32 bits wide */
	uint64_t mask = (st->efer & EFER_LMA) ? ~0ull : 0xffffffffull;

	while (len) {
		uint64_t lin = addr & mask, gpa;
		size_t chunk = 4096 - (lin & 4095);
		if (chunk > len)
			chunk = len;
		if (translate(m, st, lin, &gpa) < 0)
			return -1;
		if (write ? dma_write(m, gpa, buf, chunk) : dma_read(m, gpa, buf, chunk))
			return -1;
		addr += chunk;
		buf += chunk;
		len -= chunk;
	}
	return 0;
}

int gdb_mem_read(const struct dma_mem *m, const struct hyvm_cpu_state *st, uint64_t addr,
		 uint8_t *buf, size_t len)
{
	return access(m, st, addr, buf, len, false);
}

int gdb_mem_write(const struct dma_mem *m, const struct hyvm_cpu_state *st, uint64_t addr,
		  const uint8_t *buf, size_t len)
{
	return access(m, st, addr, (uint8_t *)buf, len, true);
}
