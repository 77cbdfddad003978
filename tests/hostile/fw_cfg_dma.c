/* Hostile: fw_cfg DMA (QEMU docs/specs/fw_cfg.rst, "DMA interface") aimed
 * outside RAM: a descriptor whose buffer lies in unbacked space, in the
 * BIOS ROM area and across the end of RAM, a length of 4 GiB, and
 * descriptors that themselves lie outside RAM or straddle its end. hyvm
 * fails each transfer (control = CTL_ERROR, no byte moved) or drops a
 * descriptor it cannot read (counted); the guest keeps control and a
 * good transfer still works after them (tests/hostile/run.sh runs it
 * with --device fw_cfg, --mem 16). bt only: QEMU writes a 4 GiB length
 * over its RAM and ignores writes to ROM. */
#include "guest.h"

GUEST("fw_cfg_dma", "");

#define FW_CFG_PORT_SEL 0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_PORT_DMA 0x514
#define CTL_ERROR 0x01
#define CTL_READ 0x02
#define CTL_SELECT 0x08
#define RAM_END (16u << 20)

struct dma_access { uint32_t control, length; uint32_t address_hi, address_lo; };
static struct dma_access desc __attribute__((aligned(16)));
static char buf[16];

static uint32_t be32(uint32_t v) { return __builtin_bswap32(v); }

/* The DMA register takes the descriptor's address big-endian, high half
 * at 0x514, low half at 0x518 (the write that starts the transfer). */
static void dma_kick(uint32_t desc_addr)
{
	asm volatile("outl %0, %w1" : : "a"(0), "Nd"(FW_CFG_PORT_DMA));
	asm volatile("outl %0, %w1" : : "a"(be32(desc_addr)), "Nd"(FW_CFG_PORT_DMA + 4) : "memory");
}

static uint32_t read_signature(uint32_t to, uint32_t len)
{
	desc.control = be32(CTL_SELECT | CTL_READ);	/* key 0: the signature */
	desc.length = be32(len);
	desc.address_hi = 0;
	desc.address_lo = be32(to);
	dma_kick((uint32_t)&desc);
	return be32(desc.control);
}

void guest_main(const struct mb_info *mbi)
{
	check_begin("signature");
	outw(FW_CFG_PORT_SEL, 0);
	char sig[5] = { 0 };
	for (int i = 0; i < 4; i++)
		sig[i] = (char)inb(FW_CFG_PORT_DATA);
	check(!memcmp(sig, "QEMU", 4), "no fw_cfg: signature '%s' (run with --device fw_cfg)", sig);
	check_end();

	check_begin("buffers_outside_ram");
	check_eq("into unbacked space", read_signature(0xe0000000u, 4), CTL_ERROR);
	check_eq("into the BIOS ROM area", read_signature(0xffff0000u, 4), CTL_ERROR);
	check_eq("across the end of RAM", read_signature(RAM_END - 2, 4), CTL_ERROR);
	check_eq("4 GiB - 1 bytes", read_signature((uint32_t)buf, 0xffffffffu), CTL_ERROR);
	check_end();

	check_begin("descriptors_outside_ram");
	dma_kick(0xe0000000u);
	dma_kick(RAM_END - 8);
	dma_kick(0xfffffff8u);
	check_end();

	check_begin("still_works");
	memset(buf, 0, sizeof(buf));
	check_eq("a good transfer", read_signature((uint32_t)buf, 4), 0);
	check(!memcmp(buf, "QEMU", 4), "read '%.4s'", buf);
	check_end();
}
