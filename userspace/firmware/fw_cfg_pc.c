/*
 * The pc machine's fw_cfg items (firmware/fw_cfg_pc.h).
 */
#include <stdio.h>
#include <string.h>
#include "firmware/fw_acpi_loader.h"
#include "firmware/fw_cfg_linux.h"
#include "firmware/fw_cfg_pc.h"
#include <hyvm/le.h>

size_t fw_cfg_pc_e820(const struct memory_map *map, uint8_t *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < map->nr; i++) {
		const struct mem_region *r = &map->r[i];
		if (r->kind != MEM_RAM)
			continue;
		uint8_t *prev = n ? out + (n - 1) * FW_CFG_E820_ENTRY : NULL;
		if (prev) {
			uint64_t a = 0, l = 0;
			for (int b = 7; b >= 0; b--) {
				a = a << 8 | prev[b];
				l = l << 8 | prev[8 + b];
			}
			if (a + l == r->gpa) {	/* adjacent RAM: one run */
				le_put(prev + 8, l + r->size, 8);
				continue;
			}
		}
		if (n == max)
			break;
		uint8_t *e = out + n++ * FW_CFG_E820_ENTRY;
		le_put(e, r->gpa, 8);
		le_put(e + 8, r->size, 8);
		le_put(e + 16, E820_USABLE, 4);
	}
	return n * FW_CFG_E820_ENTRY;
}

struct fw_cfg_store *fw_cfg_pc_build(const struct memory_map *map,
				     const struct fw_cfg_pc_config *cfg, char *err, size_t errlen)
{
	struct fw_cfg_store *s = fw_cfg_store_create();
	uint8_t e820[MEMMAP_MAX_REGIONS * FW_CFG_E820_ENTRY];
	size_t e820_len = fw_cfg_pc_e820(map, e820, MEMMAP_MAX_REGIONS);
	uint8_t sercon[2], wait[4];

	if (!s) {
		snprintf(err, errlen, "fw_cfg: out of memory");
		return NULL;
	}
	le_put(sercon, FW_CFG_SERCON_PORT, 2);
	le_put(wait, FW_CFG_BOOT_FAIL_WAIT, 4);
	if (fw_cfg_store_set_le(s, FW_CFG_RAM_SIZE, map->ram_below_4g + map->ram_above_4g, 8,
				err, errlen) < 0 ||
	    fw_cfg_store_set_le(s, FW_CFG_NB_CPUS, 1, 2, err, errlen) < 0 ||
	    fw_cfg_store_set_le(s, FW_CFG_MAX_CPUS, 1, 2, err, errlen) < 0 ||
	    fw_cfg_store_set_le(s, FW_CFG_NOGRAPHIC, 1, 2, err, errlen) < 0 ||
	    fw_cfg_store_set_le(s, FW_CFG_BOOT_MENU, 0, 2, err, errlen) < 0 ||
	    /* ISA IRQ 0 arrives on IOAPIC pin 2 (platform_pc.c) */
	    fw_cfg_store_set_le(s, FW_CFG_IRQ0_OVERRIDE, 1, 4, err, errlen) < 0 ||
	    fw_cfg_store_add_file(s, "etc/e820", e820, e820_len, err, errlen) < 0 ||
	    fw_cfg_store_add_file(s, "etc/sercon-port", sercon, sizeof(sercon), err, errlen) < 0 ||
	    fw_cfg_store_add_file(s, "etc/boot-fail-wait", wait, sizeof(wait), err, errlen) < 0 ||
	    (cfg->acpi && fw_acpi_loader_add(s, map, cfg->cpu_model, err, errlen) < 0) ||
	    (cfg->kernel && fw_cfg_linux_add(s, map, cfg->kernel, cfg->initrd, cfg->cmdline,
					     err, errlen) < 0) ||
	    fw_cfg_store_finish(s, err, errlen) < 0) {
		fw_cfg_store_destroy(s);
		return NULL;
	}
	return s;
}
