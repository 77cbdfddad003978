/*
 * Guest RAM (the whole memfd: RAM and ROM) in a checkpoint's RAM section:
 *   u32 page size (4096) | u32 compression (0 none, 1 zstd) | u64 memfd size
 *   | u64 number of runs | runs: (u64 first page, u64 pages) ascending,
 *   not overlapping | the runs' pages, one after another, as one zstd
 *   frame with its content checksum (or raw)
 * Pages that read as zeros are not in a run: holes of the memfd are found
 * with SEEK_DATA/SEEK_HOLE (a large guest's untouched RAM costs nothing)
 * and the remaining pages are compared with zero.
 */
#ifndef HYVM_CKPT_RAM_H
#define HYVM_CKPT_RAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "checkpoint/ckpt_file.h"

#define CKPT_PAGE	4096u
#define CKPT_RAM_RAW	0u
#define CKPT_RAM_ZSTD	1u

/* Writes the RAM section of memfd (mapped at base, size bytes). */
int ckpt_ram_save(struct ckpt_writer *w, int memfd, const uint8_t *base, uint64_t size,
		  bool compress, char *err, size_t errlen);
/* Reads a RAM section into base (size bytes, all zero beforehand): 0, or
 * -1 with one line (another size, bad runs, a bad frame or checksum). */
int ckpt_ram_load(struct ckpt_reader *r, const struct ckpt_section_info *s, uint8_t *base,
		  uint64_t size, char *err, size_t errlen);

#endif
