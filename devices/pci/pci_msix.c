/*
 * MSI-X (PCI Local Bus 3.0, 6.8.2; pci_msix.h). The capability is 12
 * bytes: ID 0x11, next, Message Control (table size - 1 in bits 10:0,
 * read-only; Function Mask bit 14 and MSI-X Enable bit 15 writable), the
 * table's offset and BIR (6.8.2.4), the PBA's (6.8.2.5). A table entry is
 * 16 bytes (6.8.2.6-9): message address (bits 1:0 read 0), upper address,
 * data, vector control (bit 0: mask, set at reset; the rest reserved,
 * read 0). The PBA is read-only: bit v is set while vector v has a
 * message it could not send because it, or the function, is masked; the
 * message goes out when the mask is cleared (6.8.2.9).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "devices/device_state.h"
#include "devices/pci/pci_internal.h"
#include "vmm/irq_router.h"

#define MSIX_CAP_LEN		12
#define MSIX_CONTROL		2	/* offsets inside the capability */
#define MSIX_TABLE		4
#define MSIX_PBA		8
#define MSIX_CONTROL_ENABLE	0x8000
#define MSIX_CONTROL_MASKALL	0x4000
#define MSIX_ENTRY_ADDR_LO	0
#define MSIX_ENTRY_ADDR_HI	4
#define MSIX_ENTRY_DATA		8
#define MSIX_ENTRY_CTRL		12
#define MSIX_VECTOR_MASKED	0x1

struct pci_msix {
	struct pci_device *dev;
	unsigned cap, nr;
	uint64_t table_off, pba_off;
	uint8_t *table;			/* nr * 16 bytes */
	uint64_t *pba;			/* one bit per vector */
	struct pci_msix_counters counters;
};

static unsigned pba_bytes(unsigned nr)
{
	return (nr + 63) / 64 * 8;
}

static bool inside(uint64_t off, uint64_t len, uint64_t start, uint64_t size)
{
	return off >= start && off - start < size && len <= size - (off - start);
}

static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

struct pci_msix *pci_msix_create(struct pci_device *dev, unsigned nr, unsigned bar,
				 uint64_t table_off, uint64_t pba_off, char *err, size_t errlen)
{
	const char *name = dev->desc.name;

	if (dev->msix) {
		snprintf(err, errlen, "pci %s: MSI-X is there already", name);
		return NULL;
	}
	if (nr < 1 || nr > PCI_MSIX_MAX_VECTORS) {
		snprintf(err, errlen, "pci %s: %u MSI-X vectors (1-%d)", name, nr,
			 PCI_MSIX_MAX_VECTORS);
		return NULL;
	}
	const struct pci_bar_desc *b = bar < PCI_NUM_BARS ? &dev->desc.bar[bar] : NULL;
	uint64_t tsize = (uint64_t)nr * PCI_MSIX_ENTRY_SIZE, psize = pba_bytes(nr);
	if (!b || (b->kind != PCI_BAR_MEM32 && b->kind != PCI_BAR_MEM64) ||
	    (table_off | pba_off) & 7 || !inside(table_off, tsize, 0, b->size) ||
	    !inside(pba_off, psize, 0, b->size) || overlap(table_off, tsize, pba_off, psize) ||
	    table_off > UINT32_MAX || pba_off > UINT32_MAX) {
		snprintf(err, errlen, "pci %s: the MSI-X table or PBA does not fit in memory BAR %u",
			 name, bar);
		return NULL;
	}
	struct pci_msix *m = calloc(1, sizeof(*m));
	if (m) {
		m->table = calloc(nr, PCI_MSIX_ENTRY_SIZE);
		m->pba = calloc(1, psize);
	}
	if (!m || !m->table || !m->pba) {
		if (m) {
			free(m->table);
			free(m->pba);
		}
		free(m);
		snprintf(err, errlen, "pci %s: out of memory", name);
		return NULL;
	}
	m->cap = pci_add_capability(dev, PCI_CAP_ID_MSIX, MSIX_CAP_LEN);
	if (!m->cap) {
		free(m->table);
		free(m->pba);
		free(m);
		snprintf(err, errlen, "pci %s: no room for the MSI-X capability", name);
		return NULL;
	}
	m->dev = dev;
	m->nr = nr;
	m->table_off = table_off;
	m->pba_off = pba_off;
	pci_config_set(dev, m->cap + MSIX_CONTROL, 2, nr - 1);
	pci_config_set_wmask(dev, m->cap + MSIX_CONTROL, 2,
			     MSIX_CONTROL_ENABLE | MSIX_CONTROL_MASKALL);
	pci_config_set(dev, m->cap + MSIX_TABLE, 4, (uint32_t)table_off | bar);
	pci_config_set(dev, m->cap + MSIX_PBA, 4, (uint32_t)pba_off | bar);
	dev->msix = m;
	pci_msix_reset(m);
	return m;
}

void pci_msix_destroy(struct pci_msix *m)
{
	if (!m)
		return;
	m->dev->msix = NULL;
	free(m->table);
	free(m->pba);
	free(m);
}

void pci_msix_reset(struct pci_msix *m)
{
	memset(m->table, 0, (size_t)m->nr * PCI_MSIX_ENTRY_SIZE);
	memset(m->pba, 0, pba_bytes(m->nr));
	for (unsigned v = 0; v < m->nr; v++)
		m->table[v * PCI_MSIX_ENTRY_SIZE + MSIX_ENTRY_CTRL] = MSIX_VECTOR_MASKED;
}

static uint16_t control(const struct pci_msix *m)
{
	return (uint16_t)pci_config_get(m->dev, m->cap + MSIX_CONTROL, 2);
}

bool pci_msix_enabled(const struct pci_msix *m)
{
	return m && (control(m) & MSIX_CONTROL_ENABLE);
}

static uint32_t entry_u32(const struct pci_msix *m, unsigned v, unsigned field)
{
	const uint8_t *p = m->table + v * PCI_MSIX_ENTRY_SIZE + field;
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool masked(const struct pci_msix *m, unsigned v)
{
	return (control(m) & MSIX_CONTROL_MASKALL) ||
	       (entry_u32(m, v, MSIX_ENTRY_CTRL) & MSIX_VECTOR_MASKED);
}

bool pci_msix_pending(const struct pci_msix *m, unsigned v)
{
	return v < m->nr && (m->pba[v / 64] >> (v % 64) & 1);
}

static void send(struct pci_msix *m, unsigned v)
{
	uint64_t addr = entry_u32(m, v, MSIX_ENTRY_ADDR_LO) |
			(uint64_t)entry_u32(m, v, MSIX_ENTRY_ADDR_HI) << 32;
	struct irq_router *r = pci_device_irq(m->dev);

	if (!r || irq_router_send_msi(r, addr, entry_u32(m, v, MSIX_ENTRY_DATA)) < 0)
		m->counters.refused++;
	else
		m->counters.sent++;
}

bool pci_msix_notify(struct pci_msix *m, unsigned v)
{
	if (!m || v >= m->nr || !pci_msix_enabled(m))
		return false;
	if (masked(m, v)) {
		m->pba[v / 64] |= 1ull << (v % 64);
		m->counters.held++;
		return true;
	}
	send(m, v);
	return true;
}

/* Sends what is pending and no longer masked. */
static void release(struct pci_msix *m, unsigned first, unsigned count)
{
	if (!pci_msix_enabled(m))
		return;
	for (unsigned v = first; v < first + count && v < m->nr; v++)
		if (pci_msix_pending(m, v) && !masked(m, v)) {
			m->pba[v / 64] &= ~(1ull << (v % 64));
			send(m, v);
		}
}

void pci_msix_control_written(struct pci_msix *m)
{
	release(m, 0, m->nr);
}

/* Which bits of an entry's byte i the guest writes. */
static uint8_t entry_wmask(unsigned i)
{
	if (i == MSIX_ENTRY_ADDR_LO)
		return 0xfc;			/* dword-aligned address */
	if (i >= MSIX_ENTRY_CTRL)
		return i == MSIX_ENTRY_CTRL ? MSIX_VECTOR_MASKED : 0;
	return 0xff;
}

bool pci_msix_bar_io(struct pci_msix *m, uint64_t off, uint8_t *data, unsigned len,
		     bool is_write)
{
	uint64_t tsize = (uint64_t)m->nr * PCI_MSIX_ENTRY_SIZE;
	uint64_t psize = pba_bytes(m->nr);

	if (inside(off, 1, m->table_off, tsize)) {
		uint64_t at = off - m->table_off;
		for (unsigned i = 0; i < len; i++, at++) {
			if (at >= tsize) {		/* past the table: ignored */
				if (!is_write)
					data[i] = 0;
				continue;
			}
			uint8_t wm = entry_wmask(at % PCI_MSIX_ENTRY_SIZE);
			if (is_write)
				m->table[at] = (uint8_t)((m->table[at] & ~wm) | (data[i] & wm));
			else
				data[i] = m->table[at];
		}
		if (is_write) {
			unsigned first = (unsigned)((off - m->table_off) / PCI_MSIX_ENTRY_SIZE);
			release(m, first, 2);	/* an 8-byte write touches at most 2 */
		}
		return true;
	}
	if (inside(off, 1, m->pba_off, psize)) {
		uint64_t at = off - m->pba_off;
		/* read-only: writes are ignored (6.8.2.10) */
		for (unsigned i = 0; !is_write && i < len; i++, at++)
			data[i] = at < psize ? (uint8_t)(m->pba[at / 8] >> (8 * (at % 8))) : 0;
		return true;
	}
	return false;
}

const struct pci_msix_counters *pci_msix_counters(const struct pci_msix *m)
{
	return &m->counters;
}

void pci_msix_save(const struct pci_msix *m, struct ds_writer *w)
{
	ds_put_u32(w, m->nr);
	ds_put_bytes(w, m->table, (size_t)m->nr * PCI_MSIX_ENTRY_SIZE);
	ds_put_bytes(w, m->pba, pba_bytes(m->nr));
}

void *pci_msix_read(const struct pci_msix *m, struct ds_reader *r)
{
	size_t tsize = (size_t)m->nr * PCI_MSIX_ENTRY_SIZE, psize = pba_bytes(m->nr);

	if (ds_get_u32(r) != m->nr) {
		ds_fail(r, "MSI-X vector count differs");
		return NULL;
	}
	uint8_t *copy = malloc(tsize + psize);
	if (!copy) {
		ds_fail(r, "out of memory");
		return NULL;
	}
	ds_get_bytes(r, copy, tsize + psize);
	/* reserved bits stay as the hardware has them */
	for (size_t i = 0; i < tsize; i++) {
		uint8_t wm = entry_wmask(i % PCI_MSIX_ENTRY_SIZE);
		copy[i] &= wm;
	}
	/* no pending bits past the last vector */
	for (unsigned v = m->nr; v < psize * 8; v++)
		copy[tsize + v / 8] &= (uint8_t)~(1u << (v % 8));
	return copy;
}

void pci_msix_commit(struct pci_msix *m, void *copy)
{
	size_t tsize = (size_t)m->nr * PCI_MSIX_ENTRY_SIZE;

	memcpy(m->table, copy, tsize);
	memcpy(m->pba, (uint8_t *)copy + tsize, pba_bytes(m->nr));
	free(copy);
}
