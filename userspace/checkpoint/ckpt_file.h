/*
 * The checkpoint file's container (docs/checkpoint-format.md): a 64-byte
 * header, then sections, each a 24-byte header (type, length, FNV-1a 64
 * of the payload) and its payload. The writer builds PATH.tmp and renames
 * it to PATH only when every section is written and the header (written
 * last, with the file's size and its own checksum) is on disk, so a
 * failed or killed save never leaves a file that looks whole. The reader
 * refuses another magic or version, a header or section checksum that
 * does not match, and a file shorter or longer than its header says.
 */
#ifndef HYVM_CKPT_FILE_H
#define HYVM_CKPT_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CKPT_MAGIC		"HYVMCKPT"
#define CKPT_VERSION		1u
#define CKPT_HEADER_LEN		64u
#define CKPT_SECTION_HDR_LEN	24u
/* A section other than RAM is read whole into memory: at most this. */
#define CKPT_MAX_SMALL_SECTION	(64u << 20)

enum ckpt_section_type {
	CKPT_SEC_META = 1,	/* the run: command line, engine, CPU model name, memory map */
	CKPT_SEC_CPUID = 2,	/* the CPU model's CPUID table */
	CKPT_SEC_CPU = 3,	/* one vCPU's struct hyvm_cpu_state */
	CKPT_SEC_DEVICE = 4,	/* one device instance's saved state (device_state.h) */
	CKPT_SEC_DISK = 5,	/* one disk's identity */
	CKPT_SEC_RAM = 6,	/* guest RAM and ROM (the memfd), zero pages skipped */
	CKPT_SEC_OVERLAY = 7,	/* a snapshot disk's overlay: its written clusters */
};

uint64_t ckpt_fnv1a(uint64_t h, const void *p, size_t n);
#define CKPT_FNV_INIT 0xcbf29ce484222325ull

struct ckpt_writer {
	FILE *f;
	char path[4096], tmp[4112];
	uint32_t nr_sections;
	long section_start;	/* of the open section's header */
	uint64_t section_len, section_sum;
	bool failed;
	char err[256];
};

int ckpt_writer_open(struct ckpt_writer *w, const char *path, char *err, size_t errlen);
/* A section in pieces: begin, data..., end. */
void ckpt_section_begin(struct ckpt_writer *w, uint32_t type);
void ckpt_section_data(struct ckpt_writer *w, const void *p, size_t n);
void ckpt_section_end(struct ckpt_writer *w);
void ckpt_section(struct ckpt_writer *w, uint32_t type, const void *p, size_t n);
/* Writes the header, syncs and renames; or removes the temporary file
 * after a failure. 0, or -1 with the first error in err. */
int ckpt_writer_close(struct ckpt_writer *w, char *err, size_t errlen);
void ckpt_writer_abort(struct ckpt_writer *w);

struct ckpt_reader {
	FILE *f;
	uint64_t file_size;
	uint32_t nr_sections, next;
	long next_offset;	/* of the next section's header */
	char err[300];
};

struct ckpt_section_info {
	uint32_t type;
	uint64_t length;
	uint64_t sum;
	long offset;		/* of the payload */
};

/* Opens and checks the header; 0, or -1 with one line in err. */
int ckpt_reader_open(struct ckpt_reader *r, const char *path, char *err, size_t errlen);
/* The next section's header: 1, 0 at the end, -1 with err. */
int ckpt_reader_next(struct ckpt_reader *r, struct ckpt_section_info *s);
/* A small section's payload, checksum checked (malloc'd): 0 or -1. */
int ckpt_reader_payload(struct ckpt_reader *r, const struct ckpt_section_info *s,
			uint8_t **data);
/* Skips a payload it reads and checks (the verify pass); 0 or -1. */
int ckpt_reader_skip(struct ckpt_reader *r, const struct ckpt_section_info *s);
void ckpt_reader_close(struct ckpt_reader *r);
/* Walks every section and checks every checksum: 0, or -1 with err. */
int ckpt_verify(const char *path, char *err, size_t errlen);

#endif
