/*
 * hyvm top's arithmetic. Counters in the stats file only grow, so every
 * figure is a difference of two snapshots: totals against the reset base,
 * rates against the previous sample.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "top/top_model.h"

const char *top_sort_name(enum top_sort s)
{
	static const char *const names[SORT_COUNT] = { "rate", "total", "avg", "max", "name" };
	return s < SORT_COUNT ? names[s] : "?";
}

void top_view_init(struct top_view *v, const struct stats_file *first, uint64_t now_ns)
{
	v->cur = *first;
	v->prev = *first;
	memset(&v->base, 0, sizeof(v->base));
	v->cur_ns = v->prev_ns = now_ns;
}

void top_view_sample(struct top_view *v, const struct stats_file *snap, uint64_t now_ns)
{
	v->prev = v->cur;
	v->prev_ns = v->cur_ns;
	v->cur = *snap;
	v->cur_ns = now_ns;
}

void top_view_reset(struct top_view *v)
{
	v->base = v->cur;
}

static uint64_t sub(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static double seconds(const struct top_view *v)
{
	return (double)sub(v->cur_ns, v->prev_ns) / 1e9;
}

/* The base's slot for a raw reason: slots are only appended, so the same
 * index holds the same reason in every snapshot of one VM. */
static const struct stats_raw_slot *raw_in(const struct stats_vcpu *s, uint32_t i,
					   const struct stats_raw_slot *want)
{
	if (i < s->nr_raw && s->raw[i].raw == want->raw && s->raw[i].kind == want->kind)
		return &s->raw[i];
	return NULL;
}

static void fill_row(struct top_row *r, const struct stats_counter *cur,
		     const struct stats_counter *prev, const struct stats_counter *base,
		     double dt)
{
	static const struct stats_counter zero;

	if (!prev)
		prev = &zero;
	if (!base)
		base = &zero;
	r->total = sub(cur->count, base->count);
	r->delta = sub(cur->count, prev->count);
	r->rate = dt > 0 ? r->delta / dt : 0;
	r->total_ns = sub(cur->total_ns, base->total_ns);
	r->avg_ns = r->total ? (double)r->total_ns / r->total : 0;
	r->max_ns = cur->max_ns;
}

static bool matches(const char *name, const char *filter)
{
	return !filter[0] || strcasestr(name, filter);
}

void top_build_rows(const struct top_view *v, struct top_rows *out)
{
	const struct stats_vcpu *c = &v->cur.vcpu[v->vcpu], *p = &v->prev.vcpu[v->vcpu],
				*b = &v->base.vcpu[v->vcpu];
	double dt = seconds(v);
	uint64_t sum_ns = 0;

	memset(out, 0, sizeof(*out));
	if (v->raw) {
		for (uint32_t i = 0; i < c->nr_raw && i < STATS_MAX_RAW; i++) {
			const struct stats_raw_slot *s = &c->raw[i], *ps = raw_in(p, i, s),
						    *bs = raw_in(b, i, s);
			struct top_row *r = &out->row[out->n];
			snprintf(r->name, sizeof(r->name), "%s", s->name);
			r->kind = s->kind;
			r->raw = s->raw;
			fill_row(r, &s->c, ps ? &ps->c : NULL, bs ? &bs->c : NULL, dt);
			out->n++;
		}
	} else {
		for (uint32_t k = 0; k < v->cur.nr_kinds && k < STATS_MAX_KINDS; k++) {
			if (!c->kind[k].count)
				continue;	/* kinds that never happened say nothing */
			struct top_row *r = &out->row[out->n];
			snprintf(r->name, sizeof(r->name), "%s", v->cur.kind_names[k]);
			r->kind = k;
			r->raw = k;
			fill_row(r, &c->kind[k], &p->kind[k], &b->kind[k], dt);
			out->n++;
		}
	}
	for (int i = 0; i < out->n; i++) {
		out->sum_total += out->row[i].total;
		out->sum_delta += out->row[i].delta;
		out->sum_rate += out->row[i].rate;
		sum_ns += out->row[i].total_ns;
	}
	for (int i = 0; i < out->n; i++) {
		struct top_row *r = &out->row[i];
		r->pct_total = out->sum_total ? 100.0 * r->total / out->sum_total : 0;
		r->pct_time = sum_ns ? 100.0 * r->total_ns / sum_ns : 0;
	}
	/* Shares are of all exits; the filter only hides rows. */
	int n = 0;
	for (int i = 0; i < out->n; i++)
		if (matches(out->row[i].name, v->filter))
			out->row[n++] = out->row[i];
	out->n = n;
	top_sort_rows(out, v->sort);
}

static enum top_sort sort_key;

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? 1 : a > b ? -1 : 0;	/* descending */
}

static int cmp_double(double a, double b)
{
	return a < b ? 1 : a > b ? -1 : 0;
}

static int cmp_rows(const void *pa, const void *pb)
{
	const struct top_row *a = pa, *b = pb;
	int c = 0;

	switch (sort_key) {
	case SORT_RATE:
		c = cmp_double(a->rate, b->rate);
		break;
	case SORT_TOTAL:
		break;
	case SORT_AVG:
		c = cmp_double(a->avg_ns, b->avg_ns);
		break;
	case SORT_MAX:
		c = cmp_u64(a->max_ns, b->max_ns);
		break;
	case SORT_NAME:
		return strcmp(a->name, b->name);
	default:
		break;
	}
	if (!c)
		c = cmp_u64(a->total, b->total);
	return c ? c : strcmp(a->name, b->name);
}

void top_sort_rows(struct top_rows *rows, enum top_sort sort)
{
	sort_key = sort;
	qsort(rows->row, rows->n, sizeof(rows->row[0]), cmp_rows);
}

void top_build_header(const struct top_view *v, struct top_header *h)
{
	const struct stats_vcpu *c = &v->cur.vcpu[v->vcpu], *p = &v->prev.vcpu[v->vcpu],
				*b = &v->base.vcpu[v->vcpu];
	double dt = seconds(v);
	uint64_t end = v->cur.state == STATS_ENDED ? v->cur.end_ns : v->cur_ns;
	uint64_t exits = 0, dexits = 0;

	memset(h, 0, sizeof(*h));
	for (uint32_t k = 0; k < STATS_MAX_KINDS; k++) {
		exits += sub(c->kind[k].count, b->kind[k].count);
		dexits += sub(c->kind[k].count, p->kind[k].count);
	}
	h->uptime_s = (double)sub(end, v->cur.start_ns) / 1e9;
	h->exits_total = exits;
	h->exits_per_s = dt > 0 ? dexits / dt : 0;
	uint64_t g = sub(c->guest_ns, p->guest_ns), m = sub(c->vmm_ns, p->vmm_ns);
	if (g + m == 0) {	/* no interval yet: since start */
		g = c->guest_ns;
		m = c->vmm_ns;
	}
	h->guest_pct = g + m ? 100.0 * g / (g + m) : 0;
	h->vmm_pct = g + m ? 100.0 * m / (g + m) : 0;
	h->mode = guest_mode_name(c->mode);
	h->engine = c->engine;
}

static int cmp_addr(const void *pa, const void *pb)
{
	const struct top_addr *a = pa, *b = pb;
	int c = cmp_u64(a->count, b->count);
	return c ? c : (a->rip > b->rip) - (a->rip < b->rip);
}

int top_build_addrs(const struct top_view *v, struct top_addr *out, int max)
{
	const struct stats_vcpu *c = &v->cur.vcpu[v->vcpu];
	struct top_addr all[STATS_TOP_RIPS];
	int n = 0;

	for (int i = 0; i < STATS_TOP_RIPS; i++) {
		const struct stats_rip_slot *r = &c->rips[i];
		if (!r->count)
			continue;
		all[n].rip = r->rip;
		all[n].count = r->count;
		all[n].pct = c->rip_samples ? 100.0 * r->count / c->rip_samples : 0;
		const char *name = "?";
		for (uint32_t j = 0; j < c->nr_raw && j < STATS_MAX_RAW; j++)
			if (c->raw[j].raw == r->raw && c->raw[j].kind == r->kind)
				name = c->raw[j].name;
		snprintf(all[n].reason, sizeof(all[n].reason), "%s", name);
		snprintf(all[n].category, sizeof(all[n].category), "%s",
			 r->kind < STATS_MAX_KINDS ? v->cur.kind_names[r->kind] : "?");
		n++;
	}
	qsort(all, n, sizeof(all[0]), cmp_addr);
	if (n > max)
		n = max;
	memcpy(out, all, n * sizeof(all[0]));
	return n;
}
