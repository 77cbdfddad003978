/*
 * What hyvm top shows, computed from snapshots of a stats file and nothing
 * else, so that the screen, the batch text and the JSON agree and the
 * arithmetic (deltas, rates, shares, sorting, filters) is unit-tested
 * without a VM or a terminal.
 */
#ifndef HYVM_TOP_MODEL_H
#define HYVM_TOP_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include "stats/stats.h"

enum top_sort { SORT_RATE, SORT_TOTAL, SORT_AVG, SORT_MAX, SORT_NAME, SORT_COUNT };

struct top_row {
	char name[40];
	unsigned kind;		/* exit kind (the category of a raw reason) */
	uint32_t raw;
	uint64_t total;		/* since start or the last reset */
	uint64_t delta;		/* in the last interval */
	double rate;		/* delta per second */
	double pct_total;	/* share of all exits in total */
	double pct_time;	/* share of the VMM's exit-handling time */
	uint64_t total_ns;
	double avg_ns;
	uint64_t max_ns;	/* since the VM started: maxima cannot be reset */
};

struct top_rows {
	int n;
	uint64_t sum_total, sum_delta;
	double sum_rate;
	struct top_row row[STATS_MAX_RAW + STATS_MAX_KINDS];
};

/* Per-vCPU header figures over the last interval. */
struct top_header {
	double uptime_s;
	double exits_per_s;
	uint64_t exits_total;
	double guest_pct, vmm_pct;	/* of the interval's wall time in run loop */
	const char *mode;
	const char *engine;
};

struct top_addr {
	uint64_t rip;
	uint64_t count;
	char reason[40];	/* the engine's raw reason */
	char category[16];	/* its exit kind */
	double pct;		/* of the sampled exits */
};

/* The view: three snapshots (now, the previous sample, the reset base). */
struct top_view {
	struct stats_file cur, prev, base;
	uint64_t cur_ns, prev_ns;	/* when cur and prev were taken */
	int vcpu;
	bool raw;			/* raw reasons instead of categories */
	enum top_sort sort;
	char filter[32];
};

const char *top_sort_name(enum top_sort s);
/* Starts a view on a first snapshot: rates are zero until the next. */
void top_view_init(struct top_view *v, const struct stats_file *first, uint64_t now_ns);
void top_view_sample(struct top_view *v, const struct stats_file *snap, uint64_t now_ns);
/* Totals count from now on (the VM's own counters are untouched). */
void top_view_reset(struct top_view *v);
void top_build_rows(const struct top_view *v, struct top_rows *out);
void top_build_header(const struct top_view *v, struct top_header *h);
/* The top-N exit addresses, most first; returns how many. */
int top_build_addrs(const struct top_view *v, struct top_addr *out, int max);
void top_sort_rows(struct top_rows *rows, enum top_sort sort);

#endif
