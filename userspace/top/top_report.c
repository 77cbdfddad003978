/*
 * hyvm top's batch output, text (kvm_stat -1 style) or JSON (top_json.c), and the final
 * profile that hyvm run --stats-out writes: the same model as the screen,
 * for every vCPU, both categories and raw reasons.
 */
#include <stdio.h>
#include <string.h>
#include "top/symbols.h"
#include "top/top_json.h"
#include "top/top_model.h"
#include "top/top_report.h"

#define REPORT_ADDRS 10

static const char *state_name(uint32_t s)
{
	return s == STATS_ENDED ? "ended" : s == STATS_RUNNING ? "running" : "starting";
}

/* JSON through json-c: top_json.c */
void top_report_json(FILE *f, struct top_view *v, const struct symtab *syms)
{
	top_json_print(f, v, syms);
}

static void text_vcpu(FILE *f, struct top_view *v, const struct symtab *syms)
{
	const struct stats_vcpu *s = &v->cur.vcpu[v->vcpu];
	struct top_header h;
	struct top_rows rows;
	struct top_addr addrs[REPORT_ADDRS];
	char sym[128];

	top_build_header(v, &h);
	fprintf(f, "vcpu %d  engine %s  mode %s  exits %llu  %.0f/s  guest %.1f%%  vmm %.1f%%\n",
		v->vcpu, h.engine, h.mode, (unsigned long long)h.exits_total, h.exits_per_s,
		h.guest_pct, h.vmm_pct);
	for (int raw = 0; raw < 2; raw++) {
		v->raw = raw;
		top_build_rows(v, &rows);
		fprintf(f, " %-26s %12s %7s %10s %10s %10s\n", raw ? "Raw reason" : "Category",
			"Total", "%Total", "CurAvg/s", "Avg(us)", "Max(us)");
		for (int i = 0; i < rows.n; i++) {
			const struct top_row *r = &rows.row[i];
			fprintf(f, " %-26s %12llu %7.2f %10.0f %10.2f %10.2f\n", r->name,
				(unsigned long long)r->total, r->pct_total, r->rate, r->avg_ns / 1e3,
				r->max_ns / 1e3);
		}
	}
	if (s->nr_counters) {
		fprintf(f, " Engine counters\n");
		for (uint32_t i = 0; i < s->nr_counters; i++)
			fprintf(f, "  %-36s %14llu\n", s->counters[i].name,
				(unsigned long long)s->counters[i].value);
	}
	fprintf(f, " Mode switches: %llu\n", (unsigned long long)s->nr_switches);
	uint64_t first = s->nr_switches > STATS_SWITCH_RING ? s->nr_switches - STATS_SWITCH_RING : 0;
	for (uint64_t i = first; i < s->nr_switches; i++) {
		const struct stats_mode_switch *m = &s->switches[i % STATS_SWITCH_RING];
		fprintf(f, "  %9.3fs %s -> %s (%s)\n", (double)(m->t_ns - v->cur.start_ns) / 1e9,
			guest_mode_name(m->from), guest_mode_name(m->to), m->why);
	}
	int n = top_build_addrs(v, addrs, REPORT_ADDRS);
	fprintf(f, " Top exit addresses (%llu sampled)\n", (unsigned long long)s->rip_samples);
	for (int i = 0; i < n; i++) {
		symtab_name(syms, addrs[i].rip, sym, sizeof(sym));
		fprintf(f, "  0x%08llx %-32s %10llu %6.2f%% %s\n", (unsigned long long)addrs[i].rip,
			sym[0] ? sym : "?", (unsigned long long)addrs[i].count, addrs[i].pct,
			addrs[i].reason);
	}
}

void top_report_text(FILE *f, struct top_view *v, const struct symtab *syms)
{
	int saved_vcpu = v->vcpu;
	bool saved_raw = v->raw;

	char guest[sizeof(v->cur.guest)];

	fprintf(f, "hyvm pid %d  guest %s  %s", v->cur.pid,
		stats_shown(v->cur.guest, guest, sizeof(guest)), state_name(v->cur.state));
	if (v->cur.state == STATS_ENDED)
		fprintf(f, " (status %d)", v->cur.exit_status);
	fprintf(f, "  uptime %.1fs\n",
		(double)((v->cur.state == STATS_ENDED ? v->cur.end_ns : v->cur_ns) -
			 v->cur.start_ns) / 1e9);
	for (uint32_t i = 0; i < v->cur.nr_vcpus; i++) {
		v->vcpu = i;
		text_vcpu(f, v, syms);
	}
	if (v->cur.nr_device_counters) {
		fprintf(f, "Device counters\n");
		for (uint32_t i = 0; i < v->cur.nr_device_counters; i++)
			fprintf(f, "  %-14s %-22s %14llu\n", v->cur.device_counters[i].device,
				v->cur.device_counters[i].name,
				(unsigned long long)v->cur.device_counters[i].value);
	}
	v->vcpu = saved_vcpu;
	v->raw = saved_raw;
}

int top_write_profile(const char *path, const struct stats_file *final, char *err, size_t errlen)
{
	static struct top_view v;	/* large: not on the stack */
	struct symtab *syms;
	char serr[256];
	FILE *f = fopen(path, "w");

	if (!f) {
		snprintf(err, errlen, "cannot write %s: %m", path);
		return -1;
	}
	memset(&v, 0, sizeof(v));
	top_view_init(&v, final, final->end_ns ? final->end_ns : final->heartbeat_ns);
	/* The interval is the whole run, so rates are averages over it. */
	memset(&v.prev, 0, sizeof(v.prev));
	v.prev_ns = final->start_ns;
	syms = symtab_load(final->guest, serr, sizeof(serr));
	top_report_json(f, &v, syms);
	symtab_free(syms);
	if (fclose(f) != 0) {
		snprintf(err, errlen, "cannot write %s: %m", path);
		return -1;
	}
	return 0;
}
