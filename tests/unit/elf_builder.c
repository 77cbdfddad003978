/* ELF32 images for loader tests; see elf_builder.h. */
#include <elf.h>
#include <stdio.h>
#include <string.h>
#include "elf_builder.h"
#include "boot/multiboot.h"


size_t elf_builder_write(const char *path, const struct elf_seg *segs, int n, uint32_t entry, bool header,
			  const char *requires, size_t truncate_to)
{
	uint8_t buf[65536] = { 0 };
	Elf32_Ehdr *eh = (Elf32_Ehdr *)buf;
	Elf32_Phdr *ph = (Elf32_Phdr *)(buf + sizeof(*eh));
	size_t off = 0x1000;

	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS32;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_386;
	eh->e_version = EV_CURRENT;
	eh->e_entry = entry;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = n;
	if (header) {
		/* header in the first 8 KiB of the file, inside segment 0 */
		uint32_t *h = (uint32_t *)(buf + off);
		h[0] = MB_HEADER_MAGIC;
		h[1] = MB_FLAG_MEMORY_INFO;
		h[2] = -(h[0] + h[1]);
	}
	for (int i = 0; i < n; i++) {
		ph[i].p_type = PT_LOAD;
		ph[i].p_offset = off;
		ph[i].p_paddr = segs[i].paddr;
		ph[i].p_vaddr = segs[i].vaddr ? segs[i].vaddr : segs[i].paddr;
		ph[i].p_filesz = segs[i].filesz;
		ph[i].p_memsz = segs[i].memsz;
		ph[i].p_flags = PF_R | PF_W | PF_X;
		size_t body = segs[i].filesz < 0x2000 ? segs[i].filesz : 0x2000;
		if (off + 12 + body <= sizeof(buf))
			memset(buf + off + (i == 0 && header ? 12 : 0), segs[i].fill,
			       body > 12 ? body - 12 : 0);
		off += 0x2000;
	}
	if (requires) {
		/* section headers: null, .shstrtab, .hyvm_requires */
		static const char shstr[] = "\0.shstrtab\0.hyvm_requires";
		Elf32_Shdr sh[3] = { 0 };
		size_t str_at = off, req_at = off + sizeof(shstr), sh_at = (req_at + 128 + 3) & ~3u;
		memcpy(buf + str_at, shstr, sizeof(shstr));
		strcpy((char *)buf + req_at, requires);
		sh[1] = (Elf32_Shdr){ .sh_name = 1, .sh_type = SHT_STRTAB, .sh_offset = str_at,
				      .sh_size = sizeof(shstr), .sh_addralign = 1 };
		sh[2] = (Elf32_Shdr){ .sh_name = 11, .sh_type = SHT_PROGBITS, .sh_offset = req_at,
				      .sh_size = strlen(requires) + 1, .sh_addralign = 1 };
		memcpy(buf + sh_at, sh, sizeof(sh));
		eh->e_shoff = sh_at;
		eh->e_shentsize = sizeof(Elf32_Shdr);
		eh->e_shnum = 3;
		eh->e_shstrndx = 1;
		off = sh_at + sizeof(sh);
	}
	size_t size = truncate_to ? truncate_to : off;
	FILE *f = fopen(path, "wb");
	fwrite(buf, 1, size, f);
	fclose(f);
	return size;
}


int elf_builder_write_elf64_header(const char *path)
{
	Elf64_Ehdr eh = { 0 };
	FILE *f = fopen(path, "wb");

	if (!f)
		return -1;
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_ehsize = sizeof(eh);
	int ok = fwrite(&eh, sizeof(eh), 1, f) == 1;
	return fclose(f) == 0 && ok ? 0 : -1;
}
