/*
 * Configuration mechanism #1 (PCI Local Bus 3.0, 3.2.2.3.2): a dword
 * write to CONFIG_ADDRESS (0xcf8) selects enable (bit 31), bus (23:16),
 * device (15:11), function (10:8) and dword register (7:2); accesses to
 * CONFIG_DATA (0xcfc-0xcff) of any width then reach that register, the
 * byte lanes by the port's low two bits. Only dword accesses hit
 * CONFIG_ADDRESS: a byte or word there is ordinary I/O, which nothing
 * here claims (reads all-ones; PIIX's reset control at 0xcf9 is not
 * modelled: the pc machine resets through the i8042). A cycle with the
 * enable bit clear is not a configuration cycle; one to a bus, device or
 * function that is not there ends in a master abort, which reads
 * all-ones (3.2.2.3.4) and drops writes.
 */
#include "devices/device_util.h"
#include "devices/pci/pci_internal.h"

#define CONFIG_ENABLE		0x80000000u
/* Bits 30:24 are reserved and read 0; bits 1:0 select type 0/1 cycles
 * and read 0 here (3.2.2.3.2). */
#define CONFIG_ADDRESS_MASK	0x80fffffcu

uint32_t pci_config_address(const struct pci_bus *bus)
{
	return bus->config_address;
}

void pci_set_config_address(struct pci_bus *bus, uint32_t v)
{
	bus->config_address = v & CONFIG_ADDRESS_MASK;
}

void pci_config_address_io(void *opaque, uint64_t port, uint8_t *data, unsigned len,
			   bool is_write)
{
	struct pci_bus *bus = opaque;

	if (port != PCI_CONFIG_ADDRESS_PORT || len != 4) {
		bus->counters.config_bad_access++;
		if (!is_write)
			for (unsigned i = 0; i < len; i++)
				data[i] = 0xff;
		return;
	}
	if (is_write) {
		pci_set_config_address(bus, (uint32_t)access_value(data, 4));
		return;
	}
	for (unsigned i = 0; i < 4; i++)
		data[i] = (uint8_t)(bus->config_address >> (8 * i));
}

/* The function CONFIG_ADDRESS selects, or NULL (master abort). */
static struct pci_device *selected(struct pci_bus *bus)
{
	uint32_t a = bus->config_address;
	unsigned busno = (a >> 16) & 0xff, slot = (a >> 11) & 0x1f, fn = (a >> 8) & 7;

	if (!(a & CONFIG_ENABLE) || busno != 0 || fn != 0)
		return NULL;
	return bus->slot[slot];
}

void pci_config_data_io(void *opaque, uint64_t port, uint8_t *data, unsigned len,
			bool is_write)
{
	struct pci_bus *bus = opaque;
	unsigned lane = (unsigned)(port - PCI_CONFIG_DATA_PORT);
	struct pci_device *dev = selected(bus);

	/* the bus splits accesses that straddle 0xcff; clip in case */
	if (lane >= 4)
		return;
	if (len > 4 - lane)
		len = 4 - lane;
	if (!dev) {
		bus->counters.config_absent++;
		if (!is_write)
			for (unsigned i = 0; i < len; i++)
				data[i] = 0xff;
		return;
	}
	unsigned off = (bus->config_address & 0xfc) + lane;
	if (is_write) {
		pci_config_write(dev, off, len, (uint32_t)access_value(data, len));
		return;
	}
	uint32_t v = pci_config_read(dev, off, len);
	for (unsigned i = 0; i < len; i++)
		data[i] = (uint8_t)(v >> (8 * i));
}
