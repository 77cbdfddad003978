/* The checkpoint file (userspace/checkpoint/ckpt_file.c, ckpt_ram.c): a
 * file written with the writer reads back; truncated, corrupted, another
 * version, a bad header and bad RAM sections are refused with one line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "unit.h"
#include "checkpoint/ckpt_file.h"
#include "checkpoint/ckpt_ram.h"

#define RAM (64u * CKPT_PAGE)

static char path[64];
static int memfd;
static uint8_t *ram;

static int setup(void)
{
	snprintf(path, sizeof(path), "/tmp/hyvm-ckpt-test-%d", (int)getpid());
	memfd = memfd_create("ram", 0);
	if (memfd < 0 || ftruncate(memfd, RAM) < 0)
		return -1;
	ram = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	return ram == MAP_FAILED ? -1 : 0;
}

static int teardown(void)
{
	unlink(path);
	munmap(ram, RAM);
	close(memfd);
	return 0;
}

/* Writes a file: META, a small section, RAM with pages 3, 4 and 40 set. */
static void write_file(bool compress)
{
	struct ckpt_writer w;
	char err[300];

	unlink(path);
	memset(ram, 0, RAM);
	memset(ram + 3 * CKPT_PAGE, 0xab, 2 * CKPT_PAGE);
	ram[40 * CKPT_PAGE + 17] = 1;
	CU_ASSERT_FATAL(ckpt_writer_open(&w, path, err, sizeof(err)) == 0);
	ckpt_section(&w, CKPT_SEC_META, "meta", 4);
	ckpt_section(&w, CKPT_SEC_CPU, "cpu-state", 9);
	CU_ASSERT(ckpt_ram_save(&w, memfd, ram, RAM, compress, err, sizeof(err)) == 0);
	CU_ASSERT_FATAL(ckpt_writer_close(&w, err, sizeof(err)) == 0);
}

static int read_back(char *err, size_t errlen)
{
	struct ckpt_reader r;
	struct ckpt_section_info s;
	uint8_t *data;
	int k, ret = 0;

	if (ckpt_verify(path, err, errlen) < 0 || ckpt_reader_open(&r, path, err, errlen) < 0)
		return -1;
	memset(ram, 0, RAM);
	while ((k = ckpt_reader_next(&r, &s)) > 0) {
		if (s.type == CKPT_SEC_RAM) {
			if (ckpt_ram_load(&r, &s, ram, RAM, err, errlen) < 0)
				ret = -1;
			continue;
		}
		if (ckpt_reader_payload(&r, &s, &data) < 0) {
			snprintf(err, errlen, "%s", r.err);
			ret = -1;
			break;
		}
		free(data);
	}
	ckpt_reader_close(&r);
	return k < 0 ? -1 : ret;
}

static void test_round_trip(void)
{
	char err[300];

	for (int c = 0; c < 2; c++) {
		write_file(c);
		CU_ASSERT(access(path, F_OK) == 0);
		CU_ASSERT(read_back(err, sizeof(err)) == 0);
		CU_ASSERT(ram[3 * CKPT_PAGE] == 0xab && ram[5 * CKPT_PAGE - 1] == 0xab);
		CU_ASSERT(ram[5 * CKPT_PAGE] == 0 && ram[40 * CKPT_PAGE + 17] == 1);
	}
	/* a zero page costs nothing: the raw file holds 3 pages of RAM */
	FILE *f = fopen(path, "rb");
	fseek(f, 0, SEEK_END);
	CU_ASSERT(ftell(f) < 4 * CKPT_PAGE);
	fclose(f);
}

static void patch(long off, const void *bytes, size_t n)
{
	FILE *f = fopen(path, "r+b");

	fseek(f, off, SEEK_SET);
	fwrite(bytes, 1, n, f);
	fclose(f);
}

static void test_truncated(void)
{
	char err[300];

	write_file(true);
	FILE *f = fopen(path, "rb");
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fclose(f);
	CU_ASSERT(truncate(path, size - 1) == 0);
	CU_ASSERT(read_back(err, sizeof(err)) < 0);
	CU_ASSERT(strstr(err, "truncated") != NULL);
	CU_ASSERT(truncate(path, 10) == 0);
	CU_ASSERT(read_back(err, sizeof(err)) < 0);
	CU_ASSERT(strstr(err, "not a hyvm checkpoint") != NULL);
}

static void test_corrupted_section(void)
{
	char err[300];
	uint8_t x = 'X';

	write_file(true);
	patch(CKPT_HEADER_LEN + CKPT_SECTION_HDR_LEN + 1, &x, 1);	/* in META */
	CU_ASSERT(read_back(err, sizeof(err)) < 0);
	CU_ASSERT(strstr(err, "checksum") != NULL);
	write_file(true);
	FILE *f = fopen(path, "rb");
	fseek(f, -3, SEEK_END);
	uint8_t b = (uint8_t)(fgetc(f) ^ 0x55);
	long at = ftell(f) - 1;
	fclose(f);
	patch(at, &b, 1);				/* in the RAM frame */
	CU_ASSERT(read_back(err, sizeof(err)) < 0);
	CU_ASSERT(strstr(err, "checksum") != NULL || strstr(err, "corrupted") != NULL);
}

static void test_version_and_header(void)
{
	char err[300];
	uint8_t v2[4] = { 2, 0, 0, 0 }, bad = 0xff;

	write_file(false);
	patch(8, v2, 4);
	CU_ASSERT(read_back(err, sizeof(err)) < 0);
	CU_ASSERT(strstr(err, "version 2") != NULL);
	write_file(false);
	patch(24, &bad, 1);				/* the section count */
	CU_ASSERT(read_back(err, sizeof(err)) < 0);
	CU_ASSERT(strstr(err, "header is corrupted") != NULL);
}

static void test_ram_of_another_size(void)
{
	struct ckpt_reader r;
	struct ckpt_section_info s;
	char err[300];

	write_file(true);
	CU_ASSERT_FATAL(ckpt_reader_open(&r, path, err, sizeof(err)) == 0);
	while (ckpt_reader_next(&r, &s) > 0 && s.type != CKPT_SEC_RAM)
		;
	CU_ASSERT(s.type == CKPT_SEC_RAM);
	CU_ASSERT(ckpt_ram_load(&r, &s, ram, RAM / 2, err, sizeof(err)) < 0);
	CU_ASSERT(strstr(err, "does not fit") != NULL);
	ckpt_reader_close(&r);
}

static void test_failed_save_leaves_no_file(void)
{
	struct ckpt_writer w;
	char err[300];

	unlink(path);
	CU_ASSERT_FATAL(ckpt_writer_open(&w, path, err, sizeof(err)) == 0);
	ckpt_section(&w, CKPT_SEC_META, "m", 1);
	ckpt_writer_abort(&w);
	CU_ASSERT(access(path, F_OK) != 0);
	CU_ASSERT(access(w.tmp, F_OK) != 0);
	CU_ASSERT(ckpt_writer_open(&w, "/nonexistent-dir/x", err, sizeof(err)) < 0);
	CU_ASSERT(strstr(err, "cannot create") != NULL);
}

UNIT_SUITE(ckpt_file, setup, teardown,
	   UNIT_TEST(test_round_trip),
	   UNIT_TEST(test_truncated),
	   UNIT_TEST(test_corrupted_section),
	   UNIT_TEST(test_version_and_header),
	   UNIT_TEST(test_ram_of_another_size),
	   UNIT_TEST(test_failed_save_leaves_no_file));
