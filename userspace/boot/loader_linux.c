/*
 * Linux/x86 boot protocol loader (Documentation/arch/x86/boot.rst),
 * protocol 2.06 and later, bzImages only, entered through the 32-bit boot
 * protocol, or for a 64-bit kernel (XLF_KERNEL_64) on a CPU that runs long
 * mode through the 64-bit boot protocol: the real-mode setup code is never
 * run; hyvm is the boot loader that fills the zero page the setup code
 * would have filled.
 *
 * Guest-physical layout it uses:
 *   LINUX_GDT_GPA        the entry GDT (null, null, __BOOT_CS, __BOOT_DS)
 *   LINUX_ZERO_PAGE_GPA  struct boot_params (ESI/RSI at entry)
 *   LINUX_CMDLINE_GPA    the command line, up to cmdline_size + NUL, below
 *                        LINUX_PGT_GPA (4 KiB; Linux's COMMAND_LINE_SIZE is 2 KiB)
 *   LINUX_PGT_GPA        64-bit entry only: PML4, PDPT, 4 PDs (6 pages to
 *                        0xefff) identity-mapping the first 4 GiB
 *   1 MiB or pref_address  the protected-mode kernel (its init_size reserved)
 *   top of RAM below initrd_addr_max  the initrd, page-aligned
 * All of it lies in e820-usable RAM: the kernel copies the zero page and
 * the command line before it allocates anything, and reserves the initrd.
 * The page tables need to live only until the decompressor loads its own
 * (initialize_identity_maps(), before it extracts the kernel); until then
 * it writes nothing below its load address but its 5-level trampoline,
 * which it puts just below the EBDA or 0x9f000 (find_trampoline_placement(),
 * 0x9d000 here) and saves and restores; and Linux later keeps the first
 * 64 KiB out of its allocator (CONFIG_X86_RESERVE_LOW) in any case. So the
 * tables sit in low memory below 64 KiB, above the command line, away from
 * the kernel at 1 MiB and up and from the initrd at the top of RAM.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <hyvm/x86.h>
#include "boot/loader.h"
#include "boot/linux_boot.h"
#include "files/input_file.h"

#define LINUX_GDT_GPA		0x6000u
#define LINUX_ZERO_PAGE_GPA	0x7000u
#define LINUX_CMDLINE_GPA	0x8000u
#define LINUX_PGT_GPA		0x9000u	/* PML4; PDPT at +0x1000, PDs at +0x2000 */
#define LINUX_PAGE		4096u
/* The header through init_size: what protocol 2.10+ defines and we read. */
#define LINUX_HDR_MIN_END	0x264u

struct lctx {
	const char *path;
	char *err;
	size_t errlen;
};

static int lfail(struct lctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	loader_vfail(c->err, c->errlen, c->path, fmt, ap);
	va_end(ap);
	return -1;
}

static uint16_t rd16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static uint32_t rd32(const uint8_t *p)
{
	return rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

bool linux_is_bzimage(const char *path)
{
	uint8_t head[0x206];
	struct stat st;
	char why[128];
	int fd = input_file_open(path, O_RDONLY, INPUT_REGULAR, &st, why, sizeof(why));
	bool yes = false;

	if (fd < 0)
		return false;
	/* Either mark makes it a Linux image, so a damaged one is refused by
	 * this loader with a reason rather than as "not Multiboot"; an ELF
	 * file (a Multiboot kernel) never is one. */
	if (pread(fd, head, sizeof(head), 0) == (ssize_t)sizeof(head) && memcmp(head, "\x7f" "ELF", 4))
		yes = rd16(head + 0x1fe) == LINUX_BOOT_FLAG || rd32(head + 0x202) == LINUX_HDRS_MAGIC;
	close(fd);
	return yes;
}

/* Where the kernel goes and how far it reaches once it runs. */
struct kernel_place {
	uint64_t load, entry, reach_end;
	uint32_t setup_bytes, kernel_bytes;
};

static int check_header(struct lctx *c, size_t size,
			const struct linux_setup_header *h, struct kernel_place *kp)
{
	if (size < 0x206)
		return lfail(c, "%zu bytes is too short for a Linux bzImage (truncated?)", size);
	if (h->boot_flag != LINUX_BOOT_FLAG)
		return lfail(c, "not a Linux bzImage: boot flag at 0x1fe is 0x%04x, not 0xAA55",
			     h->boot_flag);
	if (h->header != LINUX_HDRS_MAGIC)
		return lfail(c, "not a Linux bzImage: no \"HdrS\" magic at 0x202 (a pre-2.00 zImage?)");
	if (size < LINUX_HDR_MIN_END)
		return lfail(c, "setup header is truncated (%zu bytes, needs 0x%x)", size,
			     LINUX_HDR_MIN_END);
	if (h->version < LINUX_MIN_PROTOCOL)
		return lfail(c, "Linux boot protocol %u.%02u is too old (hyvm loads 2.06 and later)",
			     h->version >> 8, h->version & 0xff);
	if (!(h->loadflags & LINUX_LOADED_HIGH))
		return lfail(c, "a zImage (loadflags without LOADED_HIGH): only bzImages are loaded");
	unsigned sects = h->setup_sects ? h->setup_sects : LINUX_DEFAULT_SETUP_SECTS;
	kp->setup_bytes = (sects + 1) * LINUX_SECTOR;
	if (kp->setup_bytes >= size)
		return lfail(c, "file of %zu bytes ends inside the %u setup sectors (truncated?)",
			     size, sects);
	kp->kernel_bytes = size - kp->setup_bytes;
	if ((uint64_t)h->syssize * 16 > kp->kernel_bytes)
		return lfail(c, "protected-mode kernel is %u bytes but syssize says %llu (truncated?)",
			     kp->kernel_bytes, (unsigned long long)h->syssize * 16);
	if (h->version >= 0x020a && h->init_size < kp->kernel_bytes)
		return lfail(c, "init_size 0x%x is smaller than the protected-mode kernel (%u bytes)",
			     h->init_size, kp->kernel_bytes);
	if (h->relocatable_kernel &&
	    (h->kernel_alignment == 0 || (h->kernel_alignment & (h->kernel_alignment - 1))))
		return lfail(c, "kernel_alignment 0x%x is not a power of two", h->kernel_alignment);
	return 0;
}

struct head_ctx {
	struct lctx *c;
	struct linux_setup_header *h;
	struct kernel_place *kp;
	uint64_t ram_end;
	size_t copy;		/* bytes of the setup header the file has */
};

static int place_kernel(struct lctx *c, const struct linux_setup_header *h, uint64_t ram_end,
			struct kernel_place *kp);

/* loader_read_file()'s header check: the setup header from the file's
 * first bytes, checked against the file's size and placed in RAM before
 * the rest of the file is read. */
static int check_head(void *ctx, const uint8_t *head, size_t n, uint64_t size)
{
	struct head_ctx *hc = ctx;

	/* The setup header ends at 0x202 + the jump's offset byte (boot.rst,
	 * "the end of setup header"); copy what the file has of our struct. */
	size_t hdr_end = n >= 0x202 ? 0x202u + head[0x201] : 0;
	size_t copy = sizeof(*hc->h);
	if (hdr_end && hdr_end - LINUX_SETUP_HDR_OFFSET < copy)
		copy = hdr_end - LINUX_SETUP_HDR_OFFSET;
	if (n > LINUX_SETUP_HDR_OFFSET) {
		if (copy > n - LINUX_SETUP_HDR_OFFSET)
			copy = n - LINUX_SETUP_HDR_OFFSET;
		memcpy(hc->h, head + LINUX_SETUP_HDR_OFFSET, copy);
	}
	hc->copy = copy;
	if (size > SIZE_MAX || check_header(hc->c, (size_t)size, hc->h, hc->kp) < 0)
		return -1;
	return place_kernel(hc->c, hc->h, hc->ram_end, hc->kp);
}

/* The usable e820 range that holds 1 MiB: where kernel and initrd go. */
static uint64_t high_ram_end(const struct memory_map *map)
{
	struct e820_entry e820[MEMMAP_MAX_REGIONS];
	unsigned n = memory_map_e820(map, e820, MEMMAP_MAX_REGIONS);

	for (unsigned i = 0; i < n; i++)
		if (e820[i].type == E820_USABLE && e820[i].addr <= HIGH_RAM_START &&
		    e820[i].addr + e820[i].size > HIGH_RAM_START)
			return e820[i].addr + e820[i].size;
	return 0;
}

static int place_kernel(struct lctx *c, const struct linux_setup_header *h, uint64_t ram_end,
			struct kernel_place *kp)
{
	/* Before 2.10 there is no init_size: the kernel's own estimate of
	 * decompressed size is unknown, so reserve four times the image. */
	uint64_t init = h->version >= 0x020a ? h->init_size : 4ull * kp->kernel_bytes;
	uint64_t pref = h->version >= 0x020a ? h->pref_address : 0;
	bool reloc = h->version >= 0x0205 && h->relocatable_kernel;
	uint64_t align = reloc ? h->kernel_alignment : 1;

	/* A relocatable kernel goes where it would move itself anyway, if it
	 * fits there; else at 1 MiB, from where it moves itself to the next
	 * kernel_alignment boundary, at least pref_address (LOAD_PHYSICAL_ADDR)
	 * (boot.rst, "kernel_alignment" and "pref_address"). */
	kp->load = HIGH_RAM_START;
	if (reloc && pref >= HIGH_RAM_START && !(pref & (align - 1)) && pref <= ram_end &&
	    init <= ram_end - pref)
		kp->load = pref;
	uint64_t run_at = kp->load;
	if (reloc && loader_align_up(run_at, align) > run_at)
		run_at = loader_align_up(run_at, align);
	if (pref > run_at)
		run_at = pref;
	/* pref_address is 64 bits of the file's: a sum with it saturates
	 * instead of wrapping below ram_end (fuzz_bzimage found the wrap:
	 * the kernel copied to ram->base + 2^64 - 2^32) */
	kp->reach_end = run_at > UINT64_MAX - init ? UINT64_MAX : run_at + init;
	if (kp->load + init > kp->reach_end)
		kp->reach_end = kp->load + init;
	if (kp->reach_end > ram_end)
		return lfail(c, "the kernel needs RAM up to 0x%llx (init_size 0x%llx at 0x%llx), "
			     "more than the %llu MiB below 4 GiB (try a larger --mem)",
			     (unsigned long long)kp->reach_end, (unsigned long long)init,
			     (unsigned long long)run_at, (unsigned long long)(ram_end >> 20));
	/* code32_start is where the protected-mode kernel is entered, as
	 * linked for 1 MiB; moved with the kernel. */
	if (h->code32_start < HIGH_RAM_START ||
	    h->code32_start - HIGH_RAM_START >= kp->kernel_bytes)
		return lfail(c, "code32_start 0x%x lies outside the protected-mode kernel "
			     "(0x100000-0x%llx)", h->code32_start,
			     (unsigned long long)HIGH_RAM_START + kp->kernel_bytes);
	kp->entry = kp->load + (h->code32_start - HIGH_RAM_START);
	return 0;
}

/* The 64-bit entry's page tables: the first 4 GiB identity-mapped, more
 * than boot.rst's "64-bit BOOT PROTOCOL" asks ("the range with
 * setup_header.init_size from start address of loaded kernel and zero
 * page and command line buffer get ident mapping"): all of RAM below
 * 4 GiB, wherever the kernel decompresses itself (KASLR), and the MMIO
 * hole. 4-level paging (AMD APM Vol. 2, 5.3): PML4[0] -> PDPT, whose
 * entries 0-3 point to a page directory of 512 2 MiB pages each (APM
 * 5.3.4), or are 1 GiB pages themselves when the CPU model has them
 * (Page1GB, APM 5.3.5). Returns CR3. */
static uint32_t build_identity_map(uint8_t *ram, bool gbpages)
{
	uint64_t *pml4 = (uint64_t *)(ram + LINUX_PGT_GPA), *pdpt = pml4 + 512;
	const uint64_t table = PTE_P | PTE_W | PTE_A, leaf = table | PTE_D | PTE_PS;

	memset(pml4, 0, (gbpages ? 2 : 6) * LINUX_PAGE);
	pml4[0] = (LINUX_PGT_GPA + LINUX_PAGE) | table;
	for (uint64_t i = 0; i < 4; i++) {
		if (gbpages) {
			pdpt[i] = i << 30 | leaf;
			continue;
		}
		uint64_t *pd = pml4 + 512 * (2 + i);
		pdpt[i] = (LINUX_PGT_GPA + (2 + i) * LINUX_PAGE) | table;
		for (uint64_t j = 0; j < 512; j++)
			pd[j] = (i << 30 | j << 21) | leaf;
	}
	return LINUX_PGT_GPA;
}

int linux_check_long_mode(const char *path, const struct guest_image *img, const char *engine,
			  bool engine_lm, const char *cpu, bool model_lm, char *err, size_t errlen)
{
	if (!img->kernel64 || (engine_lm && model_lm))
		return 0;
	if (!engine)
		snprintf(err, errlen, "%s is a 64-bit kernel; no engine here has long mode; "
			 "try --engine svm|vmx|kvm where one is present", path);
	else if (!engine_lm)
		snprintf(err, errlen, "%s is a 64-bit kernel; engine %s has no long mode; "
			 "try --engine svm|vmx|kvm", path, engine);
	else
		snprintf(err, errlen, "%s is a 64-bit kernel; CPU model %s has no long mode; "
			 "try --cpu host or core2duo", path, cpu ? cpu : "host");
	return -1;
}

int linux_load(const char *path, const struct boot_entry *bp, struct guest_ram *ram,
	       struct guest_image *img, char *err, size_t errlen)
{
	struct lctx c = { .path = path, .err = err, .errlen = errlen };
	struct linux_setup_header h = { 0 };
	struct kernel_place kp = { 0 };
	uint8_t *file = NULL, *initrd = NULL;
	size_t size = 0, initrd_size = 0;
	int ret = -1;

	memset(img, 0, sizeof(*img));
	if (ram->size < 2 * HIGH_RAM_START)
		return lfail(&c, "guest RAM of %llu KiB is too small (at least 2 MiB)",
			     (unsigned long long)(ram->size >> 10));
	if (bp->nr_modules)
		return lfail(&c, "a Linux kernel takes --initrd, not --module");

	struct memory_map pc;
	const struct memory_map *map = ram->map;
	if (!map) {
		if (memory_map_build_pc(&pc, ram->size, err, errlen) < 0)
			return -1;
		map = &pc;
	}
	uint64_t ram_end = high_ram_end(map);
	if (ram_end > ram->size)
		ram_end = ram->size;

	uint64_t limit = ram->size < LOADER_MAX_FILE_BYTES ? ram->size : LOADER_MAX_FILE_BYTES;
	struct head_ctx hc = { &c, &h, &kp, ram_end, 0 };
	if (loader_read_file(c.path, path, limit, check_head, &hc, &file, &size, c.err, c.errlen) < 0)
		return -1;

	const char *cmdline = bp->cmdline ? bp->cmdline : "";
	size_t cmdlen = strlen(cmdline);
	if (cmdlen > h.cmdline_size) {
		lfail(&c, "command line of %zu bytes is longer than the kernel's cmdline_size %u",
		      cmdlen, h.cmdline_size);
		goto out;
	}
	if (LINUX_CMDLINE_GPA + cmdlen + 1 > LINUX_PGT_GPA) {
		lfail(&c, "command line of %zu bytes does not fit below 0x%x", cmdlen, LINUX_PGT_GPA);
		goto out;
	}

	/* A 64-bit kernel on a CPU with long mode is entered at startup_64
	 * (XLF_KERNEL_64 says it has one, protocol 2.12); its 32-bit entry
	 * would work too, but switches to long mode at once. */
	bool kernel64 = h.version >= 0x020c && (h.xloadflags & LINUX_XLF_KERNEL_64);
	bool entry64 = kernel64 && bp->long_mode;
	if (entry64 && kp.kernel_bytes <= LINUX_STARTUP_64_OFFSET) {
		lfail(&c, "a 64-bit kernel of %u bytes has no startup_64 at +0x%x", kp.kernel_bytes,
		      LINUX_STARTUP_64_OFFSET);
		goto out;
	}

	uint64_t initrd_at = 0;
	if (bp->initrd) {
		struct lctx ic = c;
		ic.path = bp->initrd;
		if (loader_read_file(ic.path, bp->initrd, limit, NULL, NULL, &initrd, &initrd_size, ic.err, ic.errlen) < 0)
			goto out;
		if (!initrd_size) {
			lfail(&ic, "the initrd is empty");
			goto out;
		}
		/* As high as initrd_addr_max (the highest byte it may use) and
		 * RAM allow, page-aligned, above everything the kernel reaches. */
		uint64_t top = (uint64_t)h.initrd_addr_max + 1;
		if (top > ram_end)
			top = ram_end;
		top &= ~(uint64_t)(LINUX_PAGE - 1);
		if (initrd_size > top || ((top - initrd_size) & ~(uint64_t)(LINUX_PAGE - 1)) < kp.reach_end) {
			lfail(&ic, "initrd of %zu bytes does not fit in the RAM between the kernel's end "
			      "0x%llx and 0x%llx (initrd_addr_max 0x%x, %llu MiB of RAM)",
			      initrd_size, (unsigned long long)kp.reach_end, (unsigned long long)top,
			      h.initrd_addr_max, (unsigned long long)(ram_end >> 20));
			goto out;
		}
		initrd_at = (top - initrd_size) & ~(uint64_t)(LINUX_PAGE - 1);
	}

	/* Everything is checked: now write guest RAM. */
	memcpy(ram->base + kp.load, file + kp.setup_bytes, kp.kernel_bytes);
	if (initrd_size)
		memcpy(ram->base + initrd_at, initrd, initrd_size);
	memcpy(ram->base + LINUX_CMDLINE_GPA, cmdline, cmdlen + 1);

	/* __BOOT_CS: flat 32-bit code, or 64-bit code (L=1, D=0) for the
	 * 64-bit entry; __BOOT_DS: flat data (boot.rst, both protocols). */
	uint64_t gdt[] = { 0, 0, entry64 ? 0x00af9b000000ffffull : 0x00cf9b000000ffffull,
			   0x00cf93000000ffffull };
	memcpy(ram->base + LINUX_GDT_GPA, gdt, sizeof(gdt));
	if (entry64)
		img->page_table = build_identity_map(ram->base, bp->gbpages);

	struct linux_boot_params *zp = (struct linux_boot_params *)(ram->base + LINUX_ZERO_PAGE_GPA);
	memset(zp, 0, sizeof(*zp));
	/* The header as the kernel image has it, then what a loader sets. */
	memcpy(&zp->hdr, file + LINUX_SETUP_HDR_OFFSET, hc.copy);
	zp->hdr.vid_mode = LINUX_VID_MODE_NORMAL;
	zp->hdr.type_of_loader = LINUX_TYPE_OF_LOADER_UNDEF;
	zp->hdr.loadflags &= ~(LINUX_CAN_USE_HEAP | LINUX_KEEP_SEGMENTS);
	zp->hdr.code32_start = (uint32_t)kp.entry;
	zp->hdr.cmd_line_ptr = LINUX_CMDLINE_GPA;
	zp->hdr.ramdisk_image = (uint32_t)initrd_at;
	zp->hdr.ramdisk_size = (uint32_t)initrd_size;
	zp->hdr.setup_data = 0;

	struct e820_entry e820[MEMMAP_MAX_REGIONS];
	unsigned n = memory_map_e820(map, e820, MEMMAP_MAX_REGIONS);
	for (unsigned i = 0; i < n && i < LINUX_E820_MAX_ZEROPAGE; i++)
		zp->e820_table[i] = (struct linux_e820_entry){ e820[i].addr, e820[i].size,
							       e820[i].type };
	zp->e820_entries = n < LINUX_E820_MAX_ZEROPAGE ? n : LINUX_E820_MAX_ZEROPAGE;
	/* The pre-e820 memory sizes (KiB above 1 MiB), for completeness. */
	uint64_t upper_k = memory_map_upper_ram(map) >> 10;
	zp->alt_mem_k = upper_k > 0xffffffffu ? 0xffffffffu : (uint32_t)upper_k;
	uint16_t ext_mem_k = upper_k > 0xfc00 ? 0xfc00 : (uint16_t)upper_k;
	memcpy(zp->screen_info + 2, &ext_mem_k, sizeof(ext_mem_k));

	/* startup_64 is at the start of the loaded kernel + 0x200 (boot.rst),
	 * not relative to code32_start, which a loader may hook. */
	img->entry = (uint32_t)(entry64 ? kp.load + LINUX_STARTUP_64_OFFSET : kp.entry);
	img->entry64 = entry64;
	img->kernel64 = kernel64;
	img->boot_info = LINUX_ZERO_PAGE_GPA;
	img->gdt = LINUX_GDT_GPA;
	img->image_end = (uint32_t)(initrd_size ? initrd_at + initrd_size : kp.reach_end);
	if (kernel64) {
		/* A 64-bit kernel runs only in long mode, at either entry:
		 * the engine must run it. XLF_CAN_BE_LOADED_ABOVE_4G is
		 * ignored: everything is loaded below 4 GiB. */
		img->needs[NEED_LONG_MODE] = true;
		snprintf(img->needs_text, sizeof(img->needs_text), "long-mode");
	}
	ret = 0;
out:
	free(file);
	free(initrd);
	return ret;
}

void linux_entry_state(const struct guest_image *img, struct hyvm_cpu_state *st)
{
	boot_flat32_entry_state(img->entry, img->gdt, st);
	st->gpr[HYVM_RSI] = img->boot_info;
	if (!img->entry64)
		return;
	/* boot.rst, "64-bit BOOT PROTOCOL": 64-bit mode with paging on,
	 * identity-mapped tables, CS = __BOOT_CS and DS, ES, SS = __BOOT_DS
	 * (flat), interrupts off, RSI = the zero page. Long mode as the APM
	 * Vol. 2, 14.6.1 enters it: CR4.PAE, EFER.LME, then CR0.PG (which
	 * sets EFER.LMA), and a code segment with L=1, D=0 (4.8.1). */
	st->seg[HYVM_CS].attrib = (st->seg[HYVM_CS].attrib & ~HYVM_SEG_DB) | HYVM_SEG_L;
	st->cr0 |= CR0_PG;
	st->cr3 = img->page_table;
	st->cr4 = CR4_PAE;
	st->efer = EFER_LME | EFER_LMA;
}
