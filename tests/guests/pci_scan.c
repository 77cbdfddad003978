/* PCI bus 0 through configuration mechanism #1 (PCI Local Bus 3.0,
 * 3.2.2.3.2) as Linux's pci_check_type1 and its scan use it:
 * CONFIG_ADDRESS read back (a byte write to 0xcfb leaves it alone),
 * byte/word/dword reads of CONFIG_DATA at every lane, all-ones for an
 * absent device, another bus, another function and with the enable bit
 * clear; the host bridge (i440FX 8086:1237, class 0600) at 00:00.0 and
 * the ISA bridge (PIIX3 8086:7000, class 0601) at 00:01.0, as QEMU's pc
 * has them; every BAR of any other function sized (all-ones written with
 * decode off, the size mask read back, the BAR restored). The devices
 * found are printed on "fw:" lines, which differ between QEMU's pc (VGA,
 * e1000) and hyvm's and which the differential test leaves out. */
#include "guest.h"

GUEST("pci_scan", "");

#define CONFIG_ADDRESS 0xcf8
#define CONFIG_DATA 0xcfc
#define ENABLE 0x80000000u

static uint32_t address(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	return ENABLE | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc);
}

static uint32_t read32(unsigned dev, unsigned reg)
{
	outl(CONFIG_ADDRESS, address(0, dev, 0, reg));
	return inl(CONFIG_DATA);
}

static void write32(unsigned dev, unsigned reg, uint32_t v)
{
	outl(CONFIG_ADDRESS, address(0, dev, 0, reg));
	outl(CONFIG_DATA, v);
}

static uint16_t read16(unsigned dev, unsigned reg)
{
	outl(CONFIG_ADDRESS, address(0, dev, 0, reg));
	return inw(CONFIG_DATA + (reg & 2));
}

static void write16(unsigned dev, unsigned reg, uint16_t v)
{
	outl(CONFIG_ADDRESS, address(0, dev, 0, reg));
	outw(CONFIG_DATA + (reg & 2), v);
}

static uint8_t read8(unsigned dev, unsigned reg)
{
	outl(CONFIG_ADDRESS, address(0, dev, 0, reg));
	return inb(CONFIG_DATA + (reg & 3));
}

static void config_address(void)
{
	check_begin("config_address");
	outl(CONFIG_ADDRESS, ENABLE);
	check_eq("CONFIG_ADDRESS read back", inl(CONFIG_ADDRESS), ENABLE);
	outb(CONFIG_ADDRESS + 3, 0x01);		/* Linux's probe: not the register */
	check_eq("CONFIG_ADDRESS after a byte write", inl(CONFIG_ADDRESS), ENABLE);
	outl(CONFIG_ADDRESS, address(0, 3, 0, 0x3c));
	check_eq("CONFIG_ADDRESS with a register", inl(CONFIG_ADDRESS), address(0, 3, 0, 0x3c));
	outl(CONFIG_ADDRESS, 0);
	check_end();
}

static void bridges(void)
{
	check_begin("host_bridge");
	check_eq("00:00.0 vendor/device", read32(0, 0), 0x12378086);
	check_eq("00:00.0 class", read32(0, 8) >> 8, 0x060000);
	check_eq("00:00.0 header type", read8(0, 0x0e) & 0x7f, 0);
	check_end();

	check_begin("isa_bridge");
	check_eq("00:01.0 vendor/device", read32(1, 0), 0x70008086);
	check_eq("00:01.0 class", read32(1, 8) >> 16, 0x0601);
	check_eq("00:01.0 header type", read8(1, 0x0e) & 0x7f, 0);
	check_end();

	check_begin("widths");
	uint32_t id = read32(0, 0);
	for (unsigned lane = 0; lane < 4; lane++)
		check_eq("byte lane", read8(0, lane), (id >> (8 * lane)) & 0xff);
	check_eq("word 0", read16(0, 0), id & 0xffff);
	check_eq("word 2", read16(0, 2), id >> 16);
	uint32_t class = read32(1, 8);
	check_eq("word at 0xa", read16(1, 0x0a), class >> 16);
	check_end();
}

static void absent(void)
{
	check_begin("absent");
	check_eq("00:1f.0", read32(31, 0), 0xffffffff);
	check_eq("00:1f.0 word", read16(31, 2), 0xffff);
	check_eq("00:1f.0 byte", read8(31, 1), 0xff);
	outl(CONFIG_ADDRESS, address(1, 0, 0, 0));
	check_eq("bus 1", inl(CONFIG_DATA), 0xffffffff);
	outl(CONFIG_ADDRESS, address(0, 0, 7, 0));
	check_eq("00:00.7", inl(CONFIG_DATA), 0xffffffff);
	outl(CONFIG_ADDRESS, address(0, 0, 0, 0) & ~ENABLE);
	check_eq("enable bit clear", inl(CONFIG_DATA), 0xffffffff);
	write32(31, 4, 0xffffffff);			/* to nobody: no effect */
	check_eq("00:1f.0 after a write", read32(31, 0), 0xffffffff);
	check_end();
}

/* Sizes BAR reg of dev as Linux's __pci_read_base does; its size. */
static uint32_t size_bar(unsigned dev, unsigned reg, bool *is_io)
{
	uint32_t orig = read32(dev, reg);
	write32(dev, reg, 0xffffffff);
	uint32_t mask = read32(dev, reg);
	write32(dev, reg, orig);
	check_eq("BAR restored", read32(dev, reg), orig);
	*is_io = orig & 1;
	if (!mask || mask == 0xffffffff)
		return 0;
	check_eq("BAR type bits kept", mask & (*is_io ? 1 : 0xf), orig & (*is_io ? 1 : 0xf));
	uint32_t size = ~(mask & (*is_io ? ~3u : ~0xfu)) + 1;
	if (*is_io)
		size &= 0xffff;			/* upper 16 bits may read 0 */
	check(size && !(size & (size - 1)), "BAR 0x%x of %02x size 0x%x not a power of two", reg,
	      dev, size);
	return size;
}

static void scan(void)
{
	unsigned found = 0, bars = 0;

	for (unsigned dev = 0; dev < 32; dev++) {
		uint32_t id = read32(dev, 0);
		if ((id & 0xffff) == 0xffff)
			continue;
		found++;
		printf_serial("fw: pci 00:%02x.0 %04x:%04x class %06x\n", dev, id & 0xffff,
			      id >> 16, read32(dev, 8) >> 8);
		if (dev < 2 || (read8(dev, 0x0e) & 0x7f) != 0)
			continue;
		/* decode off while a BAR holds the size mask */
		uint16_t cmd = read16(dev, 4);
		write16(dev, 4, cmd & ~3);
		for (unsigned reg = 0x10; reg < 0x28; reg += 4) {
			bool is_io;
			uint32_t size = size_bar(dev, reg, &is_io);
			if (size) {
				bars++;
				printf_serial("fw: pci 00:%02x.0 BAR %u %s 0x%x bytes\n", dev,
					      (reg - 0x10) / 4, is_io ? "io" : "mem", size);
			}
			if (!is_io && (read32(dev, reg) & 6) == 4)
				reg += 4;		/* the high half of a 64-bit BAR */
		}
		write16(dev, 4, cmd);
		check_eq("COMMAND restored", read16(dev, 4), cmd);
	}
	check(found >= 2, "only %u functions on bus 0", found);
	printf_serial("fw: pci %u functions, %u BARs sized\n", found, bars);
}

void guest_main(const struct mb_info *mbi)
{
	config_address();
	bridges();
	absent();
	check_begin("bar_sizing");
	scan();
	check_end();
}
