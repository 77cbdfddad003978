/* hyvm bench's output: the table of cycles per operation, the 2006
 * reference table, a CSV and an SVG bar chart (written by hand: a chart
 * is rectangles and text, no library needed). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "nanobench/bench.h"

static const char *cell_text(const struct bench_cell *c, char *buf, size_t len)
{
	switch (c->state) {
	case CELL_OK:
		snprintf(buf, len, c->cycles < 100 ? "%.1f" : "%.0f", c->cycles);
		return buf;
	case CELL_NA: return "n/a";
	case CELL_SKIP: return "skip";
	case CELL_FAIL: return "fail";
	case CELL_ABSENT: return "absent";
	default: return "-";
	}
}

void bench_print_table(FILE *f, const struct bench_table *t)
{
	char buf[32];

	fprintf(f, "cycles per operation (TSC ticks), %u iterations each\n\n", t->iterations);
	fprintf(f, "%-17s", "benchmark");
	for (unsigned c = 0; c < t->nr_cols; c++)
		fprintf(f, " %12s", t->col[c].name);
	fprintf(f, "\n");
	for (int i = 0; i < NANO_COUNT; i++) {
		fprintf(f, "%-17s", nano_info[i].name);
		for (unsigned c = 0; c < t->nr_cols; c++)
			fprintf(f, " %12s", cell_text(&t->col[c].cell[i], buf, sizeof(buf)));
		fprintf(f, "\n");
	}
	fprintf(f, "\ncolumns:\n");
	for (unsigned c = 0; c < t->nr_cols; c++)
		fprintf(f, "  %-10s %s\n", t->col[c].name, t->col[c].note);
	fprintf(f, "  n/a: cannot be measured there; skip: the engine cannot run what it needs;"
		   " fail: no figure came back\n");
	fprintf(f, "benchmarks:\n");
	for (int i = 0; i < NANO_COUNT; i++)
		fprintf(f, "  %-17s %s%s%s\n", nano_info[i].name, nano_info[i].what,
			nano_info[i].need >= 0 ? "; needs " : "",
			nano_info[i].need >= 0 ? guest_need_name(nano_info[i].need) : "");
	fprintf(f, "  Each figure includes its loop's own few instructions. The guest's handlers return\n"
		   "  with POPF+RETF (kvm_pvm cannot emulate IRET at CPL0).\n");
}

void bench_print_paper(FILE *f)
{
	fprintf(f, "\nfor reference, Adams & Agesen 2006 (ASPLOS), cycles, Pentium 4 (VT-x first generation):\n");
	fprintf(f, "%-17s %s\n", "benchmark", "native / BT / hardware");
	for (int i = 0; i < NANO_COUNT; i++)
		if (nano_info[i].paper)
			fprintf(f, "%-17s %s\n", nano_info[i].name, nano_info[i].paper);
}

int bench_write_csv(const char *path, const struct bench_table *t)
{
	char buf[32];
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "hyvm bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	/* Cells: cycles per operation, or n/a, skip, fail, absent. */
	fprintf(f, "benchmark");
	for (unsigned c = 0; c < t->nr_cols; c++)
		fprintf(f, ",%s", t->col[c].name);
	fprintf(f, "\n");
	for (int i = 0; i < NANO_COUNT; i++) {
		fprintf(f, "%s", nano_info[i].name);
		for (unsigned c = 0; c < t->nr_cols; c++) {
			const struct bench_cell *cell = &t->col[c].cell[i];
			if (cell->state == CELL_OK)
				fprintf(f, ",%.2f", cell->cycles);
			else
				fprintf(f, ",%s", cell_text(cell, buf, sizeof(buf)));
		}
		fprintf(f, "\n");
	}
	if (fclose(f) != 0) {
		fprintf(stderr, "hyvm bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Horizontal bars, one group per benchmark, one bar per column, on a log
 * scale: the figures span five orders of magnitude. */
int bench_write_svg(const char *path, const struct bench_table *t)
{
	static const char *colors[] = { "#4c72b0", "#dd8452", "#55a868", "#c44e52",
					"#8172b3", "#937860", "#da8bc3", "#8c8c8c" };
	const int left = 140, width = 560, bar = 9, top = 40;
	double lo = 1e300, hi = 0;

	for (unsigned c = 0; c < t->nr_cols; c++)
		for (int i = 0; i < NANO_COUNT; i++)
			if (t->col[c].cell[i].state == CELL_OK && t->col[c].cell[i].cycles > 0) {
				lo = fmin(lo, t->col[c].cell[i].cycles);
				hi = fmax(hi, t->col[c].cell[i].cycles);
			}
	if (hi == 0)
		lo = 1, hi = 10;
	int dlo = (int)floor(log10(lo)), dhi = (int)ceil(log10(hi));
	if (dlo > 0)
		dlo = 0;
	if (dhi <= dlo)
		dhi = dlo + 1;
	int group = (int)t->nr_cols * bar + 10;
	int height = top + NANO_COUNT * group + 40 + 16 * (int)t->nr_cols;

	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "hyvm bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		   "font-family=\"sans-serif\" font-size=\"11\">\n", left + width + 100, height);
	fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
	fprintf(f, "<text x=\"10\" y=\"18\" font-size=\"14\">hyvm bench: cycles per operation "
		   "(log scale, %u iterations)</text>\n", t->iterations);
	for (int d = dlo; d <= dhi; d++) {
		double x = left + (double)(d - dlo) / (dhi - dlo) * width;
		fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>\n", x, top - 6, x,
			top + NANO_COUNT * group);
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">1e%d</text>\n", x, top - 10, d);
	}
	for (int i = 0; i < NANO_COUNT; i++) {
		int y = top + i * group;
		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", left - 6,
			y + group / 2 + 2, nano_info[i].name);
		for (unsigned c = 0; c < t->nr_cols; c++) {
			const struct bench_cell *cell = &t->col[c].cell[i];
			int by = y + (int)c * bar;
			if (cell->state != CELL_OK || cell->cycles <= 0)
				continue;
			double w = (log10(cell->cycles) - dlo) / (dhi - dlo) * width;
			if (w < 1)
				w = 1;
			fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\">"
				   "<title>%s %s: %.1f</title></rect>\n",
				left, by, w, bar - 1, colors[c % 8], nano_info[i].name, t->col[c].name,
				cell->cycles);
			fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"8\">%.0f</text>\n", left + w + 3,
				by + bar - 2, cell->cycles);
		}
	}
	for (unsigned c = 0; c < t->nr_cols; c++) {
		int y = top + NANO_COUNT * group + 20 + 16 * (int)c;
		fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"10\" fill=\"%s\"/>\n", left, y - 9,
			colors[c % 8]);
		fprintf(f, "<text x=\"%d\" y=\"%d\">%s</text>\n", left + 18, y, t->col[c].name);
	}
	fprintf(f, "</svg>\n");
	if (fclose(f) != 0) {
		fprintf(stderr, "hyvm bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}
