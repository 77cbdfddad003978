/*
 * A function's configuration space: 256 bytes with a mask of the bits the
 * guest may write (the rest are read-only, PCI Local Bus 3.0, 6.1: "read
 * only registers return ... when read, writes have no effect"), the
 * capability list (6.7), and what a write to COMMAND or a BAR changes.
 */
#include "devices/pci/pci_internal.h"

static bool in_space(unsigned off, unsigned len)
{
	return len >= 1 && len <= 4 && off < PCI_CONFIG_SIZE && len <= PCI_CONFIG_SIZE - off;
}

uint32_t pci_config_get(const struct pci_device *dev, unsigned off, unsigned len)
{
	uint32_t v = 0;

	if (!in_space(off, len))
		return 0;
	for (unsigned i = 0; i < len; i++)
		v |= (uint32_t)dev->config[off + i] << (8 * i);
	return v;
}

void pci_config_set(struct pci_device *dev, unsigned off, unsigned len, uint32_t v)
{
	if (!in_space(off, len))
		return;
	for (unsigned i = 0; i < len; i++) {
		dev->config[off + i] = (uint8_t)(v >> (8 * i));
		dev->initial[off + i] = dev->config[off + i];
	}
}

void pci_config_set_wmask(struct pci_device *dev, unsigned off, unsigned len, uint32_t mask)
{
	if (!in_space(off, len))
		return;
	for (unsigned i = 0; i < len; i++)
		dev->wmask[off + i] = (uint8_t)(mask >> (8 * i));
}

uint32_t pci_config_read(struct pci_device *dev, unsigned off, unsigned len)
{
	return pci_config_get(dev, off, len);
}

static bool touches(unsigned off, unsigned len, unsigned start, unsigned end)
{
	return off < end && off + len > start;
}

void pci_config_write(struct pci_device *dev, unsigned off, unsigned len, uint32_t v)
{
	if (!in_space(off, len))
		return;
	for (unsigned i = 0; i < len; i++) {
		uint8_t m = dev->wmask[off + i];
		dev->config[off + i] = (uint8_t)((dev->config[off + i] & ~m) |
						 ((uint8_t)(v >> (8 * i)) & m));
	}
	/* BARs are decoded while COMMAND says so (6.2.2, bits 0 and 1). */
	if (touches(off, len, PCI_COMMAND, PCI_COMMAND + 2) ||
	    touches(off, len, PCI_BAR0, PCI_BAR0 + 4 * PCI_NUM_BARS))
		pci_bars_update(dev);
	if (dev->msix) {
		unsigned cap = pci_find_capability(dev, PCI_CAP_ID_MSIX);
		if (cap && touches(off, len, cap + 2, cap + 4))
			pci_msix_control_written(dev->msix);
	}
	if (touches(off, len, PCI_COMMAND, PCI_COMMAND + 2) || dev->msix)
		pci_intx_update(dev);
	if (dev->desc.config_write)
		dev->desc.config_write(dev->desc.opaque, off, len);
}

/* Capabilities sit dword-aligned after the header, each starting with
 * its ID and the offset of the next one (0: the last), the first named by
 * the capabilities pointer at 0x34 with STATUS bit 4 set (6.7). New ones
 * go at the end of the list. */
unsigned pci_add_capability(struct pci_device *dev, uint8_t id, unsigned len)
{
	unsigned at = (dev->cap_end + 3) & ~3u;

	if (len < 2 || len > PCI_CONFIG_SIZE || at > PCI_CONFIG_SIZE - len)
		return 0;
	unsigned link = PCI_CAPABILITY_LIST;
	/* the pointers are the bus's own (read-only to the guest), dword
	 * aligned from 0x40: a next pointer is at most 0xfd */
	for (unsigned guard = 0; dev->config[link] && guard < 64; guard++) {
		link = (dev->config[link] & ~3u) + 1;
		if (link < PCI_HEADER_END || link >= PCI_CONFIG_SIZE)
			return 0;
	}
	pci_config_set(dev, link, 1, at);
	pci_config_set(dev, at, 1, id);
	pci_config_set(dev, at + 1, 1, 0);
	pci_config_set(dev, PCI_STATUS, 1, dev->config[PCI_STATUS] | PCI_STATUS_CAP_LIST);
	dev->cap_end = at + len;
	return at;
}

unsigned pci_find_capability(const struct pci_device *dev, uint8_t id)
{
	if (!(dev->config[PCI_STATUS] & PCI_STATUS_CAP_LIST))
		return 0;
	unsigned at = dev->config[PCI_CAPABILITY_LIST] & ~3u;
	/* a list is at most 48 capabilities of 4 bytes; a loop ends here */
	for (unsigned guard = 0; at >= PCI_HEADER_END && guard < 48; guard++) {
		if (dev->config[at] == id)
			return at;
		at = dev->config[at + 1] & ~3u;
	}
	return 0;
}
