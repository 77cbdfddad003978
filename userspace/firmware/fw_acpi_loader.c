/*
 * ACPI tables through QEMU's table loader (firmware/fw_acpi_loader.h).
 * acpi_tables_build lays the tables out at a base address of our
 * choosing; every pointer field then holds base + offset. Each becomes
 * the offset alone plus an ADD_POINTER command, which makes the BIOS add
 * the address it allocated the file at; an ADD_CHECKSUM per table follows
 * its pointers (SeaBIOS subtracts the sum of the range from the checksum
 * byte, so whatever the byte holds, the range then sums to zero).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cpu/cpu_model.h"
#include "firmware/fw_acpi_loader.h"
#include "firmware/fw_tables.h"
#include <hyvm/le.h>

#define TABLES_FILE	"etc/acpi/tables"
#define RSDP_FILE	"etc/acpi/rsdp"
#define LOADER_FILE	"etc/table-loader"
/* Any base works; a nonzero one keeps fw_place's 0-is-failure rule. */
#define BUILD_BASE	0x100000u
#define AREA_SIZE	0x10000u
#define MAX_COMMANDS	32
#define SDT_LENGTH	4		/* ACPI 6.4 5.2.6: header fields */
#define SDT_CHECKSUM	9
#define SDT_HEADER	36

struct loader {
	uint8_t cmd[MAX_COMMANDS][FW_LOADER_ENTRY_SIZE];
	unsigned n;
	bool overflow;
};

static uint8_t *next(struct loader *l, uint32_t command)
{
	if (l->n == MAX_COMMANDS) {
		l->overflow = true;
		return NULL;
	}
	uint8_t *c = l->cmd[l->n++];
	memset(c, 0, FW_LOADER_ENTRY_SIZE);
	le_put(c, command, 4);
	return c;
}

static void allocate(struct loader *l, const char *file, uint32_t align, uint8_t zone)
{
	uint8_t *c = next(l, FW_LOADER_ALLOCATE);

	if (!c)
		return;
	strncpy((char *)c + 4, file, FW_LOADER_FILE_MAX - 1);
	le_put(c + 4 + FW_LOADER_FILE_MAX, align, 4);
	c[4 + FW_LOADER_FILE_MAX + 4] = zone;
}

/* The pointer of size bytes at offset in dest (holding BUILD_BASE + x)
 * becomes x, and the BIOS adds where TABLES_FILE went. */
static void pointer(struct loader *l, const char *dest, uint8_t *dest_bytes, uint32_t offset,
		    uint8_t size)
{
	uint8_t *c = next(l, FW_LOADER_ADD_POINTER);

	le_put(dest_bytes + offset, le_get(dest_bytes + offset, size) - BUILD_BASE, size);
	if (!c)
		return;
	strncpy((char *)c + 4, dest, FW_LOADER_FILE_MAX - 1);
	strncpy((char *)c + 4 + FW_LOADER_FILE_MAX, TABLES_FILE, FW_LOADER_FILE_MAX - 1);
	le_put(c + 4 + 2 * FW_LOADER_FILE_MAX, offset, 4);
	c[4 + 2 * FW_LOADER_FILE_MAX + 4] = size;
}

static void checksum(struct loader *l, const char *file, uint32_t at, uint32_t start,
		     uint32_t length)
{
	uint8_t *c = next(l, FW_LOADER_ADD_CHECKSUM);

	if (!c)
		return;
	strncpy((char *)c + 4, file, FW_LOADER_FILE_MAX - 1);
	le_put(c + 4 + FW_LOADER_FILE_MAX, at, 4);
	le_put(c + 4 + FW_LOADER_FILE_MAX + 4, start, 4);
	le_put(c + 4 + FW_LOADER_FILE_MAX + 8, length, 4);
}

/* An RSDT (4-byte entries) or XSDT (8-byte): each entry points into the
 * tables file. */
static void sdt_entries(struct loader *l, uint8_t *t, uint32_t off, unsigned width)
{
	uint32_t len = (uint32_t)le_get(t + off + SDT_LENGTH, 4);

	for (uint32_t e = SDT_HEADER; e + width <= len; e += width)
		pointer(l, TABLES_FILE, t, off + e, (uint8_t)width);
}

int fw_acpi_loader_add(struct fw_cfg_store *s, const struct memory_map *map,
		       const char *cpu_model, char *err, size_t errlen)
{
	static uint8_t area[AREA_SIZE];
	struct fw_area a = { area, BUILD_BASE, AREA_SIZE, 0 };
	struct fw_layout out = { 0 };
	struct fw_machine m;
	struct cpu_model model;
	struct loader *l;
	const struct cpu_model_limits lim = { .long_mode = false, .local_apic = true };
	int r = -1;

	if (cpu_model_build(cpu_model ? cpu_model : CPU_MODEL_DEFAULT, &lim, &model,
			    err, errlen) < 0)
		return -1;
	fw_machine_pc(&m, &model.cpuid);
	fw_machine_pc_window(&m, map);
	memset(area, 0, sizeof(area));
	if (acpi_tables_build(&m, &a, &out) < 0) {
		snprintf(err, errlen, "the ACPI tables do not fit in %u bytes", AREA_SIZE);
		return -1;
	}
	if (!(l = calloc(1, sizeof(*l)))) {
		snprintf(err, errlen, "fw_cfg: out of memory");
		return -1;
	}
	/* the RSDP was placed last: the tables file is everything before it */
	uint32_t tables_len = out.rsdp - BUILD_BASE;
	uint8_t rsdp[36];
	memcpy(rsdp, area + tables_len, sizeof(rsdp));
	uint32_t fadt = out.fadt - BUILD_BASE, rsdt = out.rsdt - BUILD_BASE,
		 xsdt = out.xsdt - BUILD_BASE;

	allocate(l, TABLES_FILE, 64, FW_LOADER_ZONE_HIGH);	/* the FACS is first, 64-aligned */
	allocate(l, RSDP_FILE, 16, FW_LOADER_ZONE_FSEG);
	/* FADT: FIRMWARE_CTRL (36), DSDT (40), X_DSDT (140); X_FIRMWARE_CTRL
	 * stays 0 (acpi_tables.c) */
	pointer(l, TABLES_FILE, area, fadt + 36, 4);
	pointer(l, TABLES_FILE, area, fadt + 40, 4);
	pointer(l, TABLES_FILE, area, fadt + 140, 8);
	sdt_entries(l, area, rsdt, 4);
	sdt_entries(l, area, xsdt, 8);
	const uint32_t sdts[] = { out.dsdt, out.fadt, out.madt, out.rsdt, out.xsdt };
	for (unsigned i = 0; i < sizeof(sdts) / sizeof(sdts[0]); i++) {
		uint32_t off = sdts[i] - BUILD_BASE;
		checksum(l, TABLES_FILE, off + SDT_CHECKSUM, off,
			 (uint32_t)le_get(area + off + SDT_LENGTH, 4));
	}
	/* RSDP: RsdtAddress (16), XsdtAddress (24); checksum over the first
	 * 20 bytes (8), the extended one over all 36 (32), in that order */
	pointer(l, RSDP_FILE, rsdp, 16, 4);
	pointer(l, RSDP_FILE, rsdp, 24, 8);
	checksum(l, RSDP_FILE, 8, 0, 20);
	checksum(l, RSDP_FILE, 32, 0, 36);
	if (l->overflow) {
		snprintf(err, errlen, "the ACPI table loader needs more than %d commands",
			 MAX_COMMANDS);
	} else if (fw_cfg_store_add_file(s, TABLES_FILE, area, tables_len, err, errlen) >= 0 &&
		   fw_cfg_store_add_file(s, RSDP_FILE, rsdp, sizeof(rsdp), err, errlen) >= 0 &&
		   fw_cfg_store_add_file(s, LOADER_FILE, l->cmd, l->n * FW_LOADER_ENTRY_SIZE,
					 err, errlen) >= 0) {
		r = 0;
	}
	free(l);
	return r;
}
