/*
 * hyvm top's JSON document as a json-c object: one sample of every vCPU.
 * `hyvm top --batch --json` and `hyvm run --stats-out` print it, and the
 * control socket's `hyvm-stats` returns it under "top", so every JSON
 * hyvm writes goes through one library (issue 14) and strings from a
 * stats file (a guest path, counter names) are escaped by it.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>
#include "top/symbols.h"
#include "top/top_json.h"
#include "top/top_model.h"

/* A number with the digits the text report shows, not json-c's %.17g. */
static struct json_object *num(double d, const char *fmt)
{
	char buf[64];

	if (!isfinite(d))
		d = 0;
	snprintf(buf, sizeof(buf), fmt, d);
	return json_object_new_double_s(d, buf);
}

static struct json_object *u64(uint64_t v)
{
	return json_object_new_uint64(v);
}

/* Valid JSON whatever bytes a stats file holds: json-c passes bytes
 * above 0x7f through, so they are shown as '?' (control bytes it
 * escapes itself). */
static struct json_object *str(const char *s)
{
	char buf[512];
	size_t i = 0;

	for (; s[i] && i + 1 < sizeof(buf); i++)
		buf[i] = (unsigned char)s[i] >= 0x7f ? '?' : s[i];
	buf[i] = 0;
	return json_object_new_string(buf);
}

static void add(struct json_object *o, const char *key, struct json_object *v)
{
	json_object_object_add(o, key, v);
}

static const char *state_name(uint32_t s)
{
	return s == STATS_ENDED ? "ended" : s == STATS_RUNNING ? "running" : "starting";
}

static struct json_object *rows_json(struct top_view *v, bool raw)
{
	struct top_rows rows;
	struct json_object *a = json_object_new_array();

	v->raw = raw;
	top_build_rows(v, &rows);
	for (int i = 0; i < rows.n; i++) {
		const struct top_row *r = &rows.row[i];
		struct json_object *o = json_object_new_object();
		add(o, "name", str(r->name));
		if (raw) {
			add(o, "raw", u64(r->raw));
			add(o, "category", str(r->kind < STATS_MAX_KINDS ? v->cur.kind_names[r->kind] : "?"));
		}
		add(o, "total", u64(r->total));
		add(o, "delta", u64(r->delta));
		add(o, "rate", num(r->rate, "%.1f"));
		add(o, "pct_total", num(r->pct_total, "%.2f"));
		add(o, "pct_time", num(r->pct_time, "%.2f"));
		add(o, "total_ns", u64(r->total_ns));
		add(o, "avg_ns", num(r->avg_ns, "%.0f"));
		add(o, "max_ns", u64(r->max_ns));
		json_object_array_add(a, o);
	}
	return a;
}

static struct json_object *switches_json(const struct top_view *v, const struct stats_vcpu *s)
{
	struct json_object *a = json_object_new_array();
	uint64_t first = s->nr_switches > STATS_SWITCH_RING ? s->nr_switches - STATS_SWITCH_RING : 0;

	for (uint64_t i = first; i < s->nr_switches; i++) {
		const struct stats_mode_switch *m = &s->switches[i % STATS_SWITCH_RING];
		struct json_object *o = json_object_new_object();
		add(o, "t_s", num((double)(m->t_ns - v->cur.start_ns) / 1e9, "%.3f"));
		add(o, "from", str(guest_mode_name(m->from)));
		add(o, "to", str(guest_mode_name(m->to)));
		add(o, "why", str(m->why));
		json_object_array_add(a, o);
	}
	return a;
}

static struct json_object *addrs_json(const struct top_view *v, const struct symtab *syms)
{
	struct top_addr addrs[STATS_TOP_RIPS];
	struct json_object *a = json_object_new_array();
	char sym[128], rip[24];
	int n = top_build_addrs(v, addrs, STATS_TOP_RIPS);

	for (int i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		symtab_name(syms, addrs[i].rip, sym, sizeof(sym));
		snprintf(rip, sizeof(rip), "0x%llx", (unsigned long long)addrs[i].rip);
		add(o, "rip", str(rip));
		add(o, "symbol", str(sym));
		add(o, "count", u64(addrs[i].count));
		add(o, "pct", num(addrs[i].pct, "%.2f"));
		add(o, "category", str(addrs[i].category));
		add(o, "reason", str(addrs[i].reason));
		json_object_array_add(a, o);
	}
	return a;
}

static struct json_object *vcpu_json(struct top_view *v, const struct symtab *syms)
{
	const struct stats_vcpu *s = &v->cur.vcpu[v->vcpu];
	struct json_object *o = json_object_new_object(), *c = json_object_new_object();
	struct top_header h;

	top_build_header(v, &h);
	add(o, "index", json_object_new_int(v->vcpu));
	add(o, "engine", str(h.engine));
	add(o, "mode", str(h.mode));
	add(o, "runs", u64(s->runs));
	add(o, "exits", u64(h.exits_total));
	add(o, "exits_per_s", num(h.exits_per_s, "%.1f"));
	add(o, "guest_ns", u64(s->guest_ns));
	add(o, "vmm_ns", u64(s->vmm_ns));
	add(o, "guest_pct", num(h.guest_pct, "%.1f"));
	add(o, "vmm_pct", num(h.vmm_pct, "%.1f"));
	add(o, "categories", rows_json(v, false));
	add(o, "reasons", rows_json(v, true));
	for (uint32_t i = 0; i < s->nr_counters; i++)
		add(c, s->counters[i].name, u64(s->counters[i].value));
	add(o, "counters", c);
	add(o, "mode_switches", switches_json(v, s));
	add(o, "mode_switch_count", u64(s->nr_switches));
	add(o, "addr_samples", u64(s->rip_samples));
	add(o, "addr_unknown", u64(s->rip_unknown));
	add(o, "addr_evictions", u64(s->rip_evictions));
	add(o, "top_addresses", addrs_json(v, syms));
	return o;
}

struct json_object *top_json(struct top_view *v, const struct symtab *syms)
{
	int saved_vcpu = v->vcpu;
	bool saved_raw = v->raw;
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();

	add(o, "format", json_object_new_int(STATS_VERSION));
	add(o, "pid", json_object_new_int(v->cur.pid));
	add(o, "guest", str(v->cur.guest));
	add(o, "state", str(state_name(v->cur.state)));
	if (v->cur.state == STATS_ENDED)
		add(o, "exit_status", json_object_new_int(v->cur.exit_status));
	add(o, "uptime_s", num((double)((v->cur.state == STATS_ENDED ? v->cur.end_ns : v->cur_ns) -
					v->cur.start_ns) / 1e9, "%.3f"));
	add(o, "interval_s", num((double)(v->cur_ns - v->prev_ns) / 1e9, "%.3f"));
	for (uint32_t i = 0; i < v->cur.nr_vcpus; i++) {
		v->vcpu = (int)i;
		json_object_array_add(a, vcpu_json(v, syms));
	}
	add(o, "vcpus", a);
	/* the devices' own counters, as "virtio-net0.needs_reset": 3 */
	struct json_object *d = json_object_new_object();
	for (uint32_t i = 0; i < v->cur.nr_device_counters; i++) {
		char key[sizeof(v->cur.device_counters[i].device) + sizeof(v->cur.device_counters[i].name)];

		snprintf(key, sizeof(key), "%s.%s", v->cur.device_counters[i].device,
			 v->cur.device_counters[i].name);
		add(d, key, u64(v->cur.device_counters[i].value));
	}
	add(o, "devices", d);
	v->vcpu = saved_vcpu;
	v->raw = saved_raw;
	return o;
}

void top_json_print(FILE *f, struct top_view *v, const struct symtab *syms)
{
	struct json_object *o = top_json(v, syms);

	fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}
