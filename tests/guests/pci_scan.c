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
 * e1000) and hyvm's and which the differential test leaves out.
 *
 * hyvm's pci_testdev (1b36:0005 with subsystem 0000:0000; QEMU's
 * pci-testdev has the same IDs, subsystem 1af4:1100 and other registers)
 * is driven further: its BARs placed, its memory scratch register
 * written and read through the BAR and at the BAR's new place after a
 * move, and its INTA# taken through the IOAPIC pin its interrupt line
 * register names, level-triggered (delivered again after an EOI while
 * still asserted, held off by COMMAND's INTx disable). */
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

#define TESTDEV_MEM 0xc0000000u	/* in the PCI window with 128 MiB of RAM */
#define TESTDEV_IO 0xc000
#define TESTDEV_INTX (TESTDEV_IO + 4)
#define VEC_INTX 0x48
#define RTE_LEVEL (1u << 15)
#define RTE_ACTIVE_LOW (1u << 13)

static volatile unsigned intx_count;
static volatile uint32_t intx_status_seen;
static unsigned testdev_slot;

/* The level is still high at the first EOI: the IOAPIC sends it again;
 * the second time the handler lowers INTA# first. */
static void on_intx(struct trap_frame *tf)
{
	intx_status_seen = read16(testdev_slot, 6);
	if (++intx_count >= 2)
		outb(TESTDEV_INTX, 0);
	apic_eoi();
}

static void wait_intx(unsigned n)
{
	for (unsigned spins = 0; intx_count < n && spins < 1000000; spins++) {
		sti();
		asm volatile("pause");
		cli();
	}
}

static void hyvm_testdev(unsigned dev)
{
	testdev_slot = dev;
	check_begin("testdev_bars");
	write32(dev, 0x10, TESTDEV_MEM);
	write32(dev, 0x14, TESTDEV_IO);
	write16(dev, 4, 3);			/* I/O and memory decode */
	volatile uint32_t *mem = (volatile uint32_t *)TESTDEV_MEM;
	*mem = 0x12345678;
	check_eq("scratch through the memory BAR", *mem, 0x12345678);
	outw(TESTDEV_IO, 0xbeef);
	check_eq("scratch through the I/O BAR", inw(TESTDEV_IO), 0xbeef);
	write32(dev, 0x10, TESTDEV_MEM + 0x1000);	/* moved while decoding */
	check_eq("the old place", *mem, 0xffffffff);
	check_eq("the new place", mem[0x400], 0x12345678);
	write16(dev, 4, 1);			/* memory decode off */
	check_eq("decode off", mem[0x400], 0xffffffff);
	check_end();

	check_begin("testdev_intx");
	unsigned line = read8(dev, 0x3c);
	check_eq("interrupt pin", read8(dev, 0x3d), 1);
	check(line == 10 || line == 11, "interrupt line %u", line);
	trap_set_handler(VEC_INTX, on_intx);
	pic_init(0);
	apic_write(APIC_SVR, 0x1ff);
	ioapic_write(0x11 + 2 * line, 0);
	ioapic_write(0x10 + 2 * line, VEC_INTX | RTE_LEVEL | RTE_ACTIVE_LOW);
	/* INTx disable: the function's status shows it, the line stays low */
	write16(dev, 4, 1 | 0x400);
	outb(TESTDEV_INTX, 1);
	wait_intx(1);
	check_eq("interrupts while INTx is disabled", intx_count, 0);
	check(read16(dev, 6) & 0x8, "STATUS.INTERRUPT clear while INTA# is asserted");
	write16(dev, 4, 1);			/* let it out */
	wait_intx(2);
	check_eq("deliveries of one level interrupt", intx_count, 2);
	check(intx_status_seen & 0x8, "STATUS.INTERRUPT clear in the handler");
	check_eq("STATUS.INTERRUPT after INTA# fell", read16(dev, 6) & 0x8, 0);
	wait_intx(3);
	check_eq("deliveries after INTA# fell", intx_count, 2);
	ioapic_write(0x10 + 2 * line, 1u << 16);	/* masked again */
	write16(dev, 4, 0);
	write32(dev, 0x10, 0);
	write32(dev, 0x14, 0);
	check_end();
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
		if (id == 0x00051b36 && read32(dev, 0x2c) == 0 && !testdev_slot)
			testdev_slot = dev;
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
	if (testdev_slot)
		hyvm_testdev(testdev_slot);
}
