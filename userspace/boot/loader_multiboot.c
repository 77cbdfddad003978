/*
 * Multiboot v1 loader (libelf). The guest-visible contract is the
 * specification's: header in the first 8 KiB, ELF program headers loaded at
 * their physical addresses unless the a.out kludge gives the addresses, and
 * a boot information block with memory sizes, a memory map, the command
 * line, modules and the boot loader's name.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "boot/loader.h"
#include "boot/multiboot.h"

#define MAX_SEGMENTS	32
#define PAGE_SIZE_4K	4096u

struct file_buf {
	uint8_t *data;
	size_t size;
};

struct loaded_range {
	uint64_t start, end;
};

struct load_ctx {
	const char *path;
	struct guest_ram *ram;
	struct loaded_range ranges[MAX_SEGMENTS + LOADER_MAX_MODULES];
	unsigned nr_ranges;
	char *err;
	size_t errlen;
};

static int fail(struct load_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	loader_vfail(c->err, c->errlen, c->path, fmt, ap);
	va_end(ap);
	return -1;
}

static const struct mb_header *find_header(const struct file_buf *fb, size_t *offset);

/* The kernel's header check, on its first 8 KiB: a file with no Multiboot
 * header there is refused before the rest of it is read. */
static int check_head(void *ctx, const uint8_t *head, size_t n, uint64_t size)
{
	struct load_ctx *c = ctx;
	struct file_buf fb = { (uint8_t *)head, n };
	size_t hoff;
	bool is_elf = n >= SELFMAG && !memcmp(head, ELFMAG, SELFMAG);

	if (find_header(&fb, &hoff))
		return 0;
	if (!is_elf)
		return fail(c, "not an ELF file and no Multiboot header in the first 8 KiB");
	return fail(c, "ELF%s file without a Multiboot header in the first 8 KiB: not a Multiboot kernel",
		    n > EI_CLASS && head[EI_CLASS] == ELFCLASS64 ? "64" : "32");
}

/* The kernel (check_head) or a module (no check) into fb. */
static int read_file(struct load_ctx *c, const char *path, bool kernel, struct file_buf *fb)
{
	uint64_t limit = c->ram->size < LOADER_MAX_FILE_BYTES ? c->ram->size : LOADER_MAX_FILE_BYTES;

	return loader_read_file(c->path, path, limit, kernel ? check_head : NULL, c,
				&fb->data, &fb->size, c->err, c->errlen);
}

/* Reserves [start, end) of guest-physical memory, refusing what lies outside
 * RAM, in the legacy hole, or on top of something already loaded. */
static int claim(struct load_ctx *c, uint64_t start, uint64_t end, const char *what)
{
	if (end < start || end > c->ram->size || end > (1ull << 32))
		return fail(c, "%s at 0x%llx-0x%llx lies outside guest RAM (%llu MiB)",
			    what, (unsigned long long)start, (unsigned long long)end,
			    (unsigned long long)(c->ram->size >> 20));
	if (start < HIGH_RAM_START && end > LOW_RAM_END)
		return fail(c, "%s at 0x%llx-0x%llx overlaps the legacy hole 0x%x-0x%x",
			    what, (unsigned long long)start, (unsigned long long)end,
			    LOW_RAM_END, HIGH_RAM_START);
	for (unsigned i = 0; i < c->nr_ranges; i++)
		if (start < c->ranges[i].end && c->ranges[i].start < end)
			return fail(c, "%s at 0x%llx-0x%llx overlaps another loaded range at 0x%llx-0x%llx",
				    what, (unsigned long long)start, (unsigned long long)end,
				    (unsigned long long)c->ranges[i].start,
				    (unsigned long long)c->ranges[i].end);
	if (c->nr_ranges == sizeof(c->ranges) / sizeof(c->ranges[0]))
		return fail(c, "too many segments and modules");
	c->ranges[c->nr_ranges++] = (struct loaded_range){ start, end };
	return 0;
}

static uint64_t loaded_end(const struct load_ctx *c)
{
	uint64_t end = 0;

	for (unsigned i = 0; i < c->nr_ranges; i++)
		if (c->ranges[i].end > end)
			end = c->ranges[i].end;
	return end;
}

static const struct mb_header *find_header(const struct file_buf *fb, size_t *offset)
{
	size_t limit = fb->size < MB_SEARCH_BYTES ? fb->size : MB_SEARCH_BYTES;

	for (size_t off = 0; off + sizeof(uint32_t) * 3 <= limit; off += 4) {
		const uint32_t *w = (const uint32_t *)(fb->data + off);
		if (w[0] == MB_HEADER_MAGIC && (uint32_t)(w[0] + w[1] + w[2]) == 0) {
			*offset = off;
			return (const struct mb_header *)w;
		}
	}
	return NULL;
}

static int load_kludge(struct load_ctx *c, const struct file_buf *fb,
		       const struct mb_header *h, size_t hoff, struct guest_image *img)
{
	if (hoff + sizeof(*h) > fb->size)
		return fail(c, "Multiboot header is truncated");
	if (h->load_addr > h->header_addr || h->header_addr - h->load_addr > hoff)
		return fail(c, "Multiboot load_addr 0x%x is inconsistent with header_addr 0x%x",
			    h->load_addr, h->header_addr);
	uint64_t file_start = hoff - (h->header_addr - h->load_addr);
	uint64_t load_end = h->load_end_addr ? h->load_end_addr
					     : h->load_addr + (fb->size - file_start);
	if (load_end < h->load_addr || file_start + (load_end - h->load_addr) > fb->size)
		return fail(c, "Multiboot load_end_addr 0x%llx runs past the end of the file (truncated?)",
			    (unsigned long long)load_end);
	uint64_t bss_end = h->bss_end_addr ? h->bss_end_addr : load_end;
	if (bss_end < load_end)
		return fail(c, "Multiboot bss_end_addr 0x%x is below load_end_addr",
			    h->bss_end_addr);
	if (claim(c, h->load_addr, bss_end, "kernel image") < 0)
		return -1;
	memcpy(c->ram->base + h->load_addr, fb->data + file_start, load_end - h->load_addr);
	memset(c->ram->base + load_end, 0, bss_end - load_end);
	if (h->entry_addr < h->load_addr || h->entry_addr >= bss_end)
		return fail(c, "entry point 0x%x lies outside the loaded image", h->entry_addr);
	img->entry = h->entry_addr;
	return 0;
}

static int load_elf_segments(struct load_ctx *c, const struct file_buf *fb, Elf *elf,
			     struct guest_image *img)
{
	GElf_Ehdr eh;
	size_t phnum;
	bool entry_found = false;
	unsigned loaded = 0;

	if (!gelf_getehdr(elf, &eh) || elf_getphdrnum(elf, &phnum) != 0)
		return fail(c, "bad ELF header: %s", elf_errmsg(-1));
	if (eh.e_machine != EM_386)
		return fail(c, "ELF32 for machine %u, not i386", eh.e_machine);
	if (phnum > MAX_SEGMENTS)
		return fail(c, "%zu program headers (at most %d)", phnum, MAX_SEGMENTS);
	if (eh.e_phoff > fb->size || phnum * (uint64_t)eh.e_phentsize > fb->size - eh.e_phoff)
		return fail(c, "program headers run past the end of the file (truncated?)");
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		char what[32];

		if (!gelf_getphdr(elf, i, &ph))
			return fail(c, "bad program header %zu: %s", i, elf_errmsg(-1));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		snprintf(what, sizeof(what), "segment %zu", i);
		if (ph.p_filesz > ph.p_memsz)
			return fail(c, "%s: file size 0x%llx exceeds memory size 0x%llx", what,
				    (unsigned long long)ph.p_filesz,
				    (unsigned long long)ph.p_memsz);
		if (ph.p_offset > fb->size || ph.p_filesz > fb->size - ph.p_offset)
			return fail(c, "%s runs past the end of the file (truncated?)", what);
		if (ph.p_memsz > c->ram->size)
			return fail(c, "%s is %llu bytes, more than guest RAM", what,
				    (unsigned long long)ph.p_memsz);
		if (claim(c, ph.p_paddr, ph.p_paddr + ph.p_memsz, what) < 0)
			return -1;
		memcpy(c->ram->base + ph.p_paddr, fb->data + ph.p_offset, ph.p_filesz);
		memset(c->ram->base + ph.p_paddr + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
		loaded++;
		/* Higher-half kernels link the entry virtually: translate it
		 * through the segment that contains it. */
		if (!entry_found && eh.e_entry >= ph.p_vaddr &&
		    eh.e_entry < ph.p_vaddr + ph.p_memsz) {
			img->entry = ph.p_paddr + (eh.e_entry - ph.p_vaddr);
			entry_found = true;
		}
	}
	if (!loaded)
		return fail(c, "no loadable segments");
	if (!entry_found)
		return fail(c, "entry point 0x%llx lies outside every loadable segment",
			    (unsigned long long)eh.e_entry);
	return 0;
}

/* The guest says what it needs in a non-allocated .hyvm_requires section,
 * so runners can skip a guest an engine cannot run, with the reason. */
static int read_requirements(struct load_ctx *c, Elf *elf, struct guest_image *img)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return 0;	/* stripped of section names: no requirements */
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".hyvm_requires"))
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf || sh.sh_type == SHT_NOBITS)
			return fail(c, ".hyvm_requires section is unreadable");
		size_t n = d->d_size < sizeof(img->needs_text) - 1 ? d->d_size
								     : sizeof(img->needs_text) - 1;
		memcpy(img->needs_text, d->d_buf, n);
		img->needs_text[n] = 0;
		char copy[sizeof(img->needs_text)], *save, *tok;
		strcpy(copy, img->needs_text);
		for (tok = strtok_r(copy, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
			int need = guest_need_parse(tok);
			if (need < 0)
				return fail(c, "unknown requirement '%s' in .hyvm_requires", tok);
			img->needs[need] = true;
		}
	}
	return 0;
}

static int load_kernel(struct load_ctx *c, const struct file_buf *fb, struct guest_image *img)
{
	size_t hoff = 0;
	const struct mb_header *h = find_header(fb, &hoff);
	bool is_elf = fb->size >= SELFMAG && !memcmp(fb->data, ELFMAG, SELFMAG);
	Elf *elf = NULL;
	int ret = -1, cls = ELFCLASSNONE;

	if (is_elf) {
		elf = elf_memory((char *)fb->data, fb->size);
		if (!elf || elf_kind(elf) != ELF_K_ELF) {
			fail(c, "malformed ELF file: %s", elf_errmsg(-1));
			goto out;
		}
		cls = gelf_getclass(elf);
	}
	if (!h) {
		if (!is_elf)
			fail(c, "not an ELF file and no Multiboot header in the first 8 KiB");
		else
			fail(c, "ELF%s file without a Multiboot header in the first 8 KiB: not a Multiboot kernel",
			     cls == ELFCLASS64 ? "64" : "32");
		goto out;
	}
	if (h->flags & 0xffff & ~MB_FLAGS_KNOWN_REQUIRED) {
		fail(c, "Multiboot header requires unsupported features (flags 0x%x)", h->flags);
		goto out;
	}
	if (h->flags & MB_FLAG_AOUT_KLUDGE)
		ret = load_kludge(c, fb, h, hoff, img);
	else if (is_elf && cls == ELFCLASS32)
		ret = load_elf_segments(c, fb, elf, img);
	else if (is_elf)
		ret = fail(c, "ELF64 Multiboot kernel without the a.out kludge: Multiboot v1 loads ELF32 only");
	else
		ret = fail(c, "not an ELF file and its Multiboot header has no load addresses (a.out kludge)");
	if (ret == 0 && elf)
		ret = read_requirements(c, elf, img);
out:
	if (elf)
		elf_end(elf);
	return ret;
}

/* Boot information lives in one block after the kernel and modules: the
 * entry GDT, the info struct, the memory map, module list, then strings. */
struct info_writer {
	uint8_t *base;		/* host pointer of the block */
	uint32_t gpa;		/* its guest-physical address */
	uint32_t used, cap;
};

static uint32_t info_alloc(struct info_writer *w, const void *src, uint32_t len)
{
	uint32_t at = (w->used + 7) & ~7u;

	if (at + len > w->cap)
		return 0;
	if (src)
		memcpy(w->base + at, src, len);
	w->used = at + len;
	return w->gpa + at;
}

static void put_mmap(uint8_t *p, uint64_t addr, uint64_t len, uint32_t type)
{
	struct mb_mmap_entry e = { sizeof(e) - 4, addr, len, type };
	memcpy(p, &e, sizeof(e));
}

#define INFO_BLOCK_BYTES 8192u

int multiboot_load(const char *path, const struct boot_entry *bp,
		   struct guest_ram *ram, struct guest_image *img,
		   char *err, size_t errlen)
{
	struct load_ctx c = { .path = path, .ram = ram, .err = err, .errlen = errlen };
	struct file_buf fb;
	struct mb_module mods[LOADER_MAX_MODULES];
	uint32_t mod_strings[LOADER_MAX_MODULES];

	memset(img, 0, sizeof(*img));
	if (elf_version(EV_CURRENT) == EV_NONE)
		return fail(&c, "libelf initialisation failed");
	if (ram->size < 2 * HIGH_RAM_START)
		return fail(&c, "guest RAM of %llu KiB is too small (at least 2 MiB)",
			    (unsigned long long)(ram->size >> 10));
	if (bp->nr_modules > LOADER_MAX_MODULES)
		return fail(&c, "more than %d modules", LOADER_MAX_MODULES);
	if (read_file(&c, path, true, &fb) < 0)
		return -1;
	int r = load_kernel(&c, &fb, img);
	free(fb.data);
	if (r < 0)
		return -1;

	for (unsigned i = 0; i < bp->nr_modules; i++) {
		char file[4096];
		const char *spec = bp->modules[i];
		size_t flen = strcspn(spec, " ");
		uint64_t at = loader_align_up(loaded_end(&c), PAGE_SIZE_4K);

		if (flen == 0 || flen >= sizeof(file))
			return fail(&c, "module %u: bad module argument '%s'", i + 1, spec);
		memcpy(file, spec, flen);
		file[flen] = 0;
		c.path = file;
		if (read_file(&c, file, false, &fb) < 0)
			return -1;
		if (at < HIGH_RAM_START)
			at = HIGH_RAM_START;
		r = claim(&c, at, at + fb.size, "module");
		if (r == 0)
			memcpy(ram->base + at, fb.data, fb.size);
		free(fb.data);
		if (r < 0)
			return -1;
		mods[i] = (struct mb_module){ (uint32_t)at, (uint32_t)(at + fb.size), 0, 0 };
	}
	c.path = path;

	uint64_t info_at = loader_align_up(loaded_end(&c), PAGE_SIZE_4K);
	if (info_at < HIGH_RAM_START)
		info_at = HIGH_RAM_START;
	if (claim(&c, info_at, info_at + INFO_BLOCK_BYTES, "boot information") < 0)
		return -1;
	struct info_writer w = { ram->base + info_at, (uint32_t)info_at, 0, INFO_BLOCK_BYTES };
	memset(w.base, 0, INFO_BLOCK_BYTES);

	/* null, null, flat 32-bit code (BOOT_CS), flat data (BOOT_DS) */
	static const uint64_t gdt[] = { 0, 0, 0x00cf9b000000ffffull, 0x00cf93000000ffffull };
	img->gdt = info_alloc(&w, gdt, sizeof(gdt));

	struct mb_info info = { 0 };
	uint32_t info_gpa = info_alloc(&w, NULL, sizeof(info));
	info.flags = MBI_MEMORY | MBI_MMAP | MBI_CMDLINE | MBI_LOADER_NAME;
	info.mem_lower = LOW_RAM_END >> 10;

	/* The BIOS e820 table comes from the memory map (memory_map.h); a
	 * bare RAM buffer (the unit tests) gets the PC layout for its size. */
	struct memory_map pc;
	const struct memory_map *map = ram->map;
	if (!map) {
		if (memory_map_build_pc(&pc, ram->size, err, errlen) < 0)
			return -1;
		map = &pc;
	}
	struct e820_entry e820[MEMMAP_MAX_REGIONS];
	unsigned nr_e820 = memory_map_e820(map, e820, MEMMAP_MAX_REGIONS);
	uint8_t mmap[MEMMAP_MAX_REGIONS * sizeof(struct mb_mmap_entry)];
	for (unsigned i = 0; i < nr_e820; i++)
		put_mmap(mmap + i * sizeof(struct mb_mmap_entry), e820[i].addr, e820[i].size,
			 e820[i].type == E820_USABLE ? MB_MEMORY_AVAILABLE : MB_MEMORY_RESERVED);
	info.mem_upper = (uint32_t)(memory_map_upper_ram(map) >> 10);
	info.mmap_addr = info_alloc(&w, mmap, nr_e820 * sizeof(struct mb_mmap_entry));
	info.mmap_length = nr_e820 * sizeof(struct mb_mmap_entry);

	const char *cmdline = bp->cmdline ? bp->cmdline : "";
	info.cmdline = info_alloc(&w, cmdline, strlen(cmdline) + 1);
	const char *name = bp->loader_name ? bp->loader_name : "hyvm";
	info.boot_loader_name = info_alloc(&w, name, strlen(name) + 1);
	for (unsigned i = 0; i < bp->nr_modules; i++) {
		const char *args = bp->modules[i];
		mod_strings[i] = info_alloc(&w, args, strlen(args) + 1);
		mods[i].string = mod_strings[i];
	}
	if (bp->nr_modules) {
		info.flags |= MBI_MODS;
		info.mods_count = bp->nr_modules;
		info.mods_addr = info_alloc(&w, mods, bp->nr_modules * sizeof(mods[0]));
	}
	if (!info.cmdline || !info.boot_loader_name || !info.mmap_addr ||
	    (bp->nr_modules && !info.mods_addr))
		return fail(&c, "command line and module arguments do not fit in %u bytes",
			    INFO_BLOCK_BYTES);
	memcpy(ram->base + info_gpa, &info, sizeof(info));
	img->boot_info = info_gpa;
	img->image_end = (uint32_t)(info_at + INFO_BLOCK_BYTES);
	return 0;
}

static struct hyvm_segment flat_segment(uint16_t sel, uint32_t type)
{
	return (struct hyvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel,
		.attrib = type | HYVM_SEG_S | HYVM_SEG_P | HYVM_SEG_DB | HYVM_SEG_G,
	};
}

void boot_flat32_entry_state(uint32_t entry, uint32_t gdt, struct hyvm_cpu_state *st)
{
	memset(st, 0, sizeof(*st));
	st->rip = entry;
	st->rflags = 0x2;		/* IF and VM clear, reserved bit 1 set */
	st->seg[HYVM_CS] = flat_segment(BOOT_CS, 0xb);	/* exec/read, accessed */
	for (int s = HYVM_ES; s <= HYVM_GS; s++)
		if (s != HYVM_CS)
			st->seg[s] = flat_segment(BOOT_DS, 0x3);	/* read/write, accessed */
	/* VMX refuses entry without a usable TR; a 32-bit busy TSS at 0 is
	 * what every KVM user space gives a guest that has not loaded one. */
	st->seg[HYVM_TR] = (struct hyvm_segment){ .limit = 0xffff,
		.attrib = 0xb | HYVM_SEG_P };
	st->seg[HYVM_LDTR] = (struct hyvm_segment){ .attrib = HYVM_SEG_UNUSABLE | 0x2 };
	st->gdtr.base = gdt;
	st->gdtr.limit = 4 * 8 - 1;
	st->idtr.limit = 0;
	st->cr0 = 0x11;			/* PE, ET */
	st->pat = 0x0007040600070406ull;
	/* FCW and MXCSR reset values (SDM Vol. 1, 8.1.5 and 10.2.3.1) */
	st->fxsave[0] = 0x7f;
	st->fxsave[1] = 0x03;
	st->fxsave[24] = 0x80;
	st->fxsave[25] = 0x1f;
}

void multiboot_entry_state(const struct guest_image *img, struct hyvm_cpu_state *st)
{
	boot_flat32_entry_state(img->entry, img->gdt, st);
	st->gpr[HYVM_RAX] = MB_BOOT_MAGIC;
	st->gpr[HYVM_RBX] = img->boot_info;
}
