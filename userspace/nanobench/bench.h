/* hyvm bench: the nanobenchmarks (bench/nano/nano.c), the table of
 * figures it fills (one column per place they ran), and the helpers that
 * run, measure and report them (bench_run.c, bench_native.c,
 * bench_report.c). */
#ifndef HYVM_BENCH_H
#define HYVM_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "engines/engine.h"

/* The benchmarks, in the guest's order; names are the guest's. */
enum nano_id {
	NANO_SYSCALL_INT80,
	NANO_SYSCALL_SYSENTER,
	NANO_IN,
	NANO_OUT,
	NANO_CPUID,
	NANO_DIVZERO,
	NANO_CALLRET,
	NANO_PGFAULT,
	NANO_PTEMOD,
	NANO_CR3,
	NANO_COUNT
};

struct nano_info {
	const char *name;
	const char *what;	/* one line for the footnotes */
	int need;		/* enum guest_need, or -1 */
	const char *paper;	/* Adams & Agesen 2006: native / BT / hardware, or NULL */
};
extern const struct nano_info nano_info[NANO_COUNT];
int nano_find(const char *name);	/* -1 if unknown */

/* A cell: a figure, or why there is none. */
enum cell_state {
	CELL_NONE,	/* not run (should not stay so) */
	CELL_OK,
	CELL_NA,	/* cannot be measured here at all (privileged, natively) */
	CELL_SKIP,	/* the engine cannot run what it needs */
	CELL_FAIL,	/* selected but no figure came back */
	CELL_ABSENT,	/* the engine or emulator is not on this machine */
};

struct bench_cell {
	enum cell_state state;
	double cycles;	/* per operation, when CELL_OK */
};

#define BENCH_MAX_COLS 8
struct bench_column {
	char name[24];
	char note[200];	/* footnote: what this column is here, or why it failed */
	struct bench_cell cell[NANO_COUNT];
};

struct bench_table {
	unsigned iterations;
	unsigned nr_cols;
	struct bench_column col[BENCH_MAX_COLS];
};

/* bench_run.c: runs argv (stdout and stderr captured) for at most
 * timeout_s seconds and fills col from its NANO lines; selected[i] says
 * which benchmarks were asked for. Returns 0 if the program ended as a
 * passing guest does (status 1), else -1 with col->note saying why. */
int bench_run_guest(char *const argv[], unsigned timeout_s, const bool selected[NANO_COUNT],
		    struct bench_column *col);
/* Parses one "NANO name ops cycles" line into col; false if it is not one. */
bool bench_parse_line(const char *line, struct bench_column *col);

/* bench_native.c: what can be measured in this process; extra lines for
 * the footnotes (figures that are not the same work as the guest's). */
void bench_native(unsigned iterations, struct bench_column *col, char *extra, size_t extralen);

/* bench_report.c */
void bench_print_table(FILE *f, const struct bench_table *t);
void bench_print_paper(FILE *f);
int bench_write_csv(const char *path, const struct bench_table *t);
int bench_write_svg(const char *path, const struct bench_table *t);

#endif
