/* Guest loaders: put a kernel image into guest RAM and describe how to
 * enter it. Loaders touch only the RAM buffer they are given, so a failed
 * load never leaves a partly started VM, and they are unit-tested on
 * plain buffers. */
#ifndef HYVM_LOADER_H
#define HYVM_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include "engines/engine.h"
#include "vmm/memory_map.h"

#define LOADER_MAX_MODULES 16

/* The RAM below the PCI hole, flat from guest-physical 0, and the map
 * it belongs to (NULL: the PC layout for size bytes). */
struct guest_ram {
	uint8_t *base;
	uint64_t size;
	const struct memory_map *map;
};

/* What the user asked to boot, as a boot menu entry says it (not Linux's
 * struct boot_params): the kernel's command line, the loader name the
 * guest is told, and the modules. */
struct boot_entry {
	const char *cmdline;		/* NULL: empty */
	const char *loader_name;	/* Multiboot boot_loader_name */
	const char *modules[LOADER_MAX_MODULES];	/* "FILE [ARGS]" */
	unsigned nr_modules;
	const char *initrd;		/* Linux: the initial RAM disk file, or NULL */
	/* Linux: the VM's CPU runs long mode (the engine does and the CPU
	 * model lists it): a 64-bit kernel is entered at startup_64 through
	 * the 64-bit boot protocol; gbpages: the model has 1 GiB pages. */
	bool long_mode, gbpages;
};

struct guest_image {
	uint32_t entry;
	uint32_t boot_info;		/* guest-physical Multiboot info (EBX) or Linux zero page (ESI) */
	uint32_t gdt;			/* guest-physical flat GDT for entry */
	uint32_t image_end;		/* first byte after kernel + modules */
	bool needs[NEED_COUNT];		/* from the .hyvm_requires section */
	bool kernel64;			/* Linux: XLF_KERNEL_64, it runs only in long mode */
	bool entry64;			/* Linux: entered in 64-bit mode with paging on */
	uint32_t page_table;		/* entry64: CR3, identity map of the first 4 GiB */
	char needs_text[128];
};

/* Guest-physical layout the loaders respect: the legacy hole. */
#define LOW_RAM_END	((uint32_t)MEMMAP_CONVENTIONAL_END)
#define HIGH_RAM_START	((uint32_t)MEMMAP_HIGH_MEMORY)
/* Entry GDT selectors the Multiboot entry state uses. */
#define BOOT_CS		0x10
#define BOOT_DS		0x18

/* Loads a Multiboot v1 kernel (ELF32, ELF64 with the a.out kludge, or any
 * file with the kludge). 0 on success; -1 with one line in err. */
int multiboot_load(const char *path, const struct boot_entry *bp,
		   struct guest_ram *ram, struct guest_image *img,
		   char *err, size_t errlen);

/* Entry CPU state per the Multiboot spec, section 3.2. */
void multiboot_entry_state(const struct guest_image *img,
			   struct hyvm_cpu_state *st);

/* What both entries share: 32-bit protected mode, paging and interrupts
 * off, CS = BOOT_CS and the data segments BOOT_DS, flat 4 GiB, in the GDT
 * at gdt (null, null, code, data); every general register zero. */
void boot_flat32_entry_state(uint32_t entry, uint32_t gdt, struct hyvm_cpu_state *st);

/* Linux/x86 boot protocol 2.06+ (loader_linux.c). True when the file
 * starts with a bzImage setup header (boot flag and "HdrS"): hyvm run
 * takes it for a Linux kernel rather than a Multiboot one. */
bool linux_is_bzimage(const char *path);

/* Loads a bzImage's protected-mode kernel, bp->initrd and bp->cmdline and
 * builds the zero page; a 64-bit kernel (XLF_KERNEL_64) marks
 * NEED_LONG_MODE and kernel64, and with bp->long_mode gets the 64-bit
 * entry (page tables, 64-bit GDT: entry64). 0 on success; -1 with one
 * line in err. */
int linux_load(const char *path, const struct boot_entry *bp, struct guest_ram *ram,
	       struct guest_image *img, char *err, size_t errlen);

/* A 64-bit kernel needs long mode at either entry (its startup_32 enables
 * it at once): -1 and one line in err when the engine (engine_lm) or the
 * CPU model (model_lm, named cpu) has none; 0 otherwise. */
int linux_check_long_mode(const char *path, const struct guest_image *img, const char *engine,
			  bool engine_lm, const char *cpu, bool model_lm, char *err, size_t errlen);

/* The entry state. 32-bit boot protocol: flat __BOOT_CS/__BOOT_DS, ESI =
 * the zero page, EBX = EBP = EDI = 0, paging and interrupts off. 64-bit
 * (entry64): long mode with the loader's identity map, 64-bit __BOOT_CS,
 * RSI = the zero page, interrupts off. */
void linux_entry_state(const struct guest_image *img, struct hyvm_cpu_state *st);

/* --- loader_file.c: what every loader does the same way --- */
/* The largest image a loader reads: no kernel, module or initrd is this big. */
#define LOADER_MAX_FILE_BYTES	(1ull << 30)
/* "PATH: message" into err; returns -1. */
int loader_vfail(char *err, size_t errlen, const char *path, const char *fmt, va_list ap);
/* How much of a file a loader's header check sees: the Multiboot header
 * lies in the first 8 KiB (spec 3.1.1), the bzImage setup header in the
 * first 0x264 bytes. */
#define LOADER_HEAD_BYTES	8192u
/* Checks a file's first min(size, LOADER_HEAD_BYTES) bytes (head, n) and
 * its size: 0, or -1 with one line in the loader's err. */
typedef int (*loader_head_check)(void *ctx, const uint8_t *head, size_t n, uint64_t size);
/* The whole regular file at path, at most limit bytes, into a malloc'd
 * buffer, after check (if any) accepted its head; a FIFO or device is
 * refused without blocking. Errors name errpath (the image being
 * loaded). 0 or -1. */
int loader_read_file(const char *errpath, const char *path, uint64_t limit,
		     loader_head_check check, void *ctx,
		     uint8_t **data, size_t *size, char *err, size_t errlen);
static inline uint64_t loader_align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

#endif
