/*
 * hyvm run --bios (cli/run_bios.h).
 */
#include <stdio.h>
#include <string.h>
#include "boot/bios_image.h"
#include "cli/run_bios.h"
#include "devices/firmware/fw_cfg_store.h"
#include "firmware/fw_cfg_pc.h"
#include "vmm/vm.h"

#define FW_CFG_ITEMS_ID	"fw_cfg0"

int run_bios_prepare(struct run_args *a, struct memory_map *map, struct rom_image *rom,
		     char *err, size_t errlen)
{
	const struct fw_cfg_pc_config cfg = {
		.cpu_model = a->cpu, .acpi = !a->no_acpi,
		.kernel = a->guest, .initrd = a->boot.initrd, .cmdline = a->cmdline,
	};
	struct fw_cfg_store *s;

	if (a->boot.nr_modules) {
		snprintf(err, errlen, "--bios boots disks and Linux kernels; --module is for "
			 "Multiboot kernels hyvm loads itself");
		return -1;
	}
	if (a->boot.initrd && !a->guest) {
		snprintf(err, errlen, "--bios --initrd: the initrd is for a --kernel");
		return -1;
	}
	if (a->nr_devices == MAX_EXTRA_DEVICES) {
		snprintf(err, errlen, "--bios: too many --device instances for fw_cfg's");
		return -1;
	}
	if (bios_image_load(a->bios_file, map, rom, err, errlen) < 0)
		return -1;
	if (!(s = fw_cfg_pc_build(map, &cfg, err, errlen)))
		goto fail;
	if (fw_cfg_registry_add(FW_CFG_ITEMS_ID, s, err, errlen) < 0) {
		fw_cfg_store_destroy(s);
		goto fail;
	}
	a->devices[a->nr_devices++] = (struct machine_device){ "fw_cfg", "items=" FW_CFG_ITEMS_ID };
	return 0;
fail:
	rom_image_free(rom);
	return -1;
}

void run_bios_boot(struct vm *vm, const struct run_args *a, const struct rom_image *rom,
		   struct guest_image *img, struct hyvm_cpu_state *st)
{
	memset(img, 0, sizeof(*img));
	img->needs[NEED_REAL_MODE] = true;
	img->needs[NEED_HIGH_RAM] = vm->map.ram_above_4g != 0;
	snprintf(img->needs_text, sizeof(img->needs_text), "real-mode (--bios)");
	bios_shadow_legacy(vm->backing, rom);
	bios_reset_state(bios_cpu_signature(a->cpu), st);
}
