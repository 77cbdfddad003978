/* Writes small ELF32 i386 images for loader tests: valid Multiboot kernels
 * and every way of getting one wrong. */
#ifndef HYVM_ELF_BUILDER_H
#define HYVM_ELF_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct elf_seg { uint32_t paddr, vaddr, filesz, memsz; uint8_t fill; };

/* Segments start at file offset 0x1000, 0x2000 apart; the Multiboot
 * header (if any) opens segment 0. requires: a .hyvm_requires section.
 * truncate_to: cut the file there (0: whole). Returns the file size. */
size_t elf_builder_write(const char *path, const struct elf_seg *segs, int n,
			 uint32_t entry, bool header, const char *requires,
			 size_t truncate_to);

/* An x86-64 ELF header and nothing else: no Multiboot header. 0 or -1. */
int elf_builder_write_elf64_header(const char *path);

#endif
