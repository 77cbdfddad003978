/*
 * A device's saved state: a small versioned, length-checked format for
 * checkpoints. A blob is
 *
 *   "HYDS" | u8 name length | model name | u16 version | u32 payload length
 *   | u32 FNV-1a of the payload | payload
 *
 * and the payload is the model's fields in the order its save writes them,
 * little-endian. A reader never reads past the end: every get checks what
 * is left and, once anything is wrong, the reader is failed and returns
 * zeroes, so a model's load reads into a copy and keeps it only if the
 * reader is still good at the end.
 */
#ifndef HYVM_DEVICE_STATE_H
#define HYVM_DEVICE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct device_model;

struct ds_writer {
	uint8_t *data;
	size_t len, cap;
	bool failed;		/* out of memory */
};

struct ds_reader {
	const uint8_t *data;
	size_t len, pos;
	bool failed;
	char err[128];		/* the first problem */
};

void ds_put_u8(struct ds_writer *w, uint8_t v);
void ds_put_u16(struct ds_writer *w, uint16_t v);
void ds_put_u32(struct ds_writer *w, uint32_t v);
void ds_put_u64(struct ds_writer *w, uint64_t v);
void ds_put_bool(struct ds_writer *w, bool v);
void ds_put_bytes(struct ds_writer *w, const void *p, size_t n);

uint8_t ds_get_u8(struct ds_reader *r);
uint16_t ds_get_u16(struct ds_reader *r);
uint32_t ds_get_u32(struct ds_reader *r);
uint64_t ds_get_u64(struct ds_reader *r);
bool ds_get_bool(struct ds_reader *r);		/* 0 or 1, else garbled */
/* A value below limit (an index, an enum), else garbled. */
unsigned ds_get_below(struct ds_reader *r, unsigned limit, const char *what);
void ds_get_bytes(struct ds_reader *r, void *p, size_t n);
/* True when everything was read and nothing was wrong; else the reader
 * fails. A model's load commits its copy only then. */
bool ds_done(struct ds_reader *r);
/* A model's own check of what it read. */
void ds_fail(struct ds_reader *r, const char *what);

/* Saves dev (an instance of m) into a malloc'd blob; 0 or -1 with err. */
int device_state_save(const struct device_model *m, void *dev,
		      uint8_t **blob, size_t *blob_len, char *err, size_t errlen);
/* Loads a blob saved from model m into dev. A blob for another model, of
 * a version m does not know, truncated, garbled or with bytes left over is
 * refused with err, and dev keeps its state. */
int device_state_load(const struct device_model *m, void *dev,
		      const uint8_t *blob, size_t blob_len, char *err, size_t errlen);

#endif
