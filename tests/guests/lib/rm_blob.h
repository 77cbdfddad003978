/*
 * The C side of lib/rm_blob.inc, for the guests that go down to real mode
 * (realmode, realmode_wrap, unreal, a20_wrap): their .asm defines the
 * 16-bit blob (rm_blob_start..rm_blob_end) and where it leaves its
 * results (rm_results); real-mode code must live below 1 MiB and the
 * guests load at 1 MiB, so the blob is copied to RM_BASE and run there.
 */
#ifndef GUEST_RM_BLOB_H
#define GUEST_RM_BLOB_H

#include "guest.h"

#define RM_BASE 0x7000	/* rm_blob.inc's RM_BASE */

extern const char rm_blob_start[], rm_blob_end[], rm_results[];

/* Copies the blob to RM_BASE, runs it through RUN (the PM16_CALL the
 * .asm declares) and returns its results, which the blob wrote in its
 * copy. */
static inline const volatile uint8_t *rm_blob_run(void (*run)(void))
{
	memcpy((void *)RM_BASE, rm_blob_start, rm_blob_end - rm_blob_start);
	run();
	return (const volatile uint8_t *)RM_BASE + (rm_results - rm_blob_start);
}

/* Little-endian words of the results R */
#define RM_R16(r, off) ((r)[off] | (r)[(off) + 1] << 8)
#define RM_R32(r, off) (RM_R16(r, off) | (uint32_t)RM_R16(r, (off) + 2) << 16)

#endif
