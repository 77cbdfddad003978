/*
 * Laying the firmware tables out in guest RAM (fw_tables.h): the MP table
 * first, then the ACPI tables, bottom up in the memory map's
 * firmware-table area, which the e820 table reports reserved.
 */
#include <stdio.h>
#include <string.h>
#include "cpu/cpu_model.h"
#include "firmware/fw_tables.h"

uint32_t fw_place(struct fw_area *a, const struct fw_buf *b, uint32_t align)
{
	uint32_t at = (a->used + align - 1) & ~(align - 1);

	if (b->overflow || at > a->size || b->len > a->size - at)
		return 0;
	memcpy(a->mem + at, b->b, b->len);
	a->used = at + b->len;
	return a->gpa + at;
}

int fw_tables_build(const struct fw_machine *m, bool acpi, uint8_t *mem, uint32_t gpa,
		    uint32_t size, struct fw_layout *out, char *err, size_t errlen)
{
	struct fw_area a = { mem, gpa, size, 0 };

	memset(out, 0, sizeof(*out));
	memset(mem, 0, size);
	if (mptable_build(m, &a, out) < 0) {
		snprintf(err, errlen, "the MP table does not fit in %u bytes at %#x", size, gpa);
		return -1;
	}
	if (acpi && acpi_tables_build(m, &a, out) < 0) {
		snprintf(err, errlen, "the ACPI tables do not fit in %u bytes at %#x", size, gpa);
		return -1;
	}
	return 0;
}

int fw_tables_install(const struct memory_map *map, uint8_t *ram, const char *cpu_model,
		      bool acpi, char *err, size_t errlen)
{
	uint64_t gpa, size;
	struct fw_machine m;
	struct fw_layout layout;
	struct cpu_model model;
	/* CPUID leaf 1 does not depend on long mode; the pc machine gives
	 * the vCPU a local APIC, so the processor entry lists it */
	const struct cpu_model_limits lim = { .long_mode = false, .local_apic = true };

	if (!memory_map_firmware_tables(map, &gpa, &size))
		return 0;		/* a --rom BIOS brings its own */
	if (cpu_model_build(cpu_model ? cpu_model : CPU_MODEL_DEFAULT, &lim, &model,
			    err, errlen) < 0)
		return -1;
	fw_machine_pc(&m, &model.cpuid);
	fw_machine_pc_window(&m, map);
	return fw_tables_build(&m, acpi, ram + gpa, (uint32_t)gpa, (uint32_t)size, &layout,
			       err, errlen);
}
