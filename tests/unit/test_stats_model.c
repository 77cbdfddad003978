/* hyvm top's arithmetic on hand-made snapshots: totals, rates, shares,
 * reset, filter and every sort order. */
#include <string.h>
#include "unit.h"
#include "top/top_model.h"

static struct top_view V;
static struct stats_file snap;

#define SEC 1000000000ull

static void set_kind(struct stats_file *f, int k, uint64_t count, uint64_t total_ns,
		     uint64_t max_ns)
{
	f->vcpu[0].kind[k] = (struct stats_counter){ count, total_ns, max_ns };
}

static void base_snapshot(struct stats_file *f)
{
	memset(f, 0, sizeof(*f));
	f->nr_vcpus = 1;
	f->nr_kinds = EXIT_KIND_COUNT;
	f->start_ns = 10 * SEC;
	f->state = STATS_RUNNING;
	for (int k = 0; k < EXIT_KIND_COUNT; k++)
		strcpy(f->kind_names[k], exit_kind_name(k));
	strcpy(f->vcpu[0].engine, "kvm");
	f->vcpu[0].mode = MODE_PROTECTED;
}

/* prev at t=11 s: io 100, mmio 50; cur at t=13 s: io 300, mmio 60, hlt 1. */
static void two_samples(void)
{
	memset(&V, 0, sizeof(V));
	base_snapshot(&snap);
	set_kind(&snap, EXIT_IO, 100, 100000, 5000);
	set_kind(&snap, EXIT_MMIO, 50, 500000, 20000);
	snap.vcpu[0].guest_ns = 0;
	top_view_init(&V, &snap, 11 * SEC);
	set_kind(&snap, EXIT_IO, 300, 300000, 5000);
	set_kind(&snap, EXIT_MMIO, 60, 600000, 30000);
	set_kind(&snap, EXIT_HLT, 1, 1000000, 1000000);
	snap.vcpu[0].guest_ns = 1500000000;
	snap.vcpu[0].vmm_ns = 500000000;
	top_view_sample(&V, &snap, 13 * SEC);
}

static const struct top_row *row(const struct top_rows *r, const char *name)
{
	for (int i = 0; i < r->n; i++)
		if (!strcmp(r->row[i].name, name))
			return &r->row[i];
	return NULL;
}

static void test_totals_rates_shares(void)
{
	struct top_rows r;

	two_samples();
	top_build_rows(&V, &r);
	CU_ASSERT_EQUAL_FATAL(r.n, 3);	/* kinds that never happened are left out */
	const struct top_row *io = row(&r, "io"), *mmio = row(&r, "mmio");
	CU_ASSERT_PTR_NOT_NULL_FATAL(io);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mmio);
	CU_ASSERT_EQUAL(io->total, 300);
	CU_ASSERT_EQUAL(io->delta, 200);
	CU_ASSERT_DOUBLE_EQUAL(io->rate, 100.0, 1e-9);	/* 200 in 2 s */
	CU_ASSERT_DOUBLE_EQUAL(mmio->rate, 5.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(io->pct_total, 100.0 * 300 / 361, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(io->avg_ns, 1000.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(mmio->avg_ns, 10000.0, 1e-9);
	CU_ASSERT_EQUAL(mmio->max_ns, 30000);
	CU_ASSERT_DOUBLE_EQUAL(mmio->pct_time, 100.0 * 600000 / 1900000, 1e-9);
	CU_ASSERT_EQUAL(r.sum_total, 361);
	CU_ASSERT_DOUBLE_EQUAL(r.sum_rate, 105.5, 1e-9);

	struct top_header h;
	top_build_header(&V, &h);
	CU_ASSERT_EQUAL(h.exits_total, 361);
	CU_ASSERT_DOUBLE_EQUAL(h.exits_per_s, 211.0 / 2, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(h.guest_pct, 75.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(h.uptime_s, 3.0, 1e-9);
	CU_ASSERT_STRING_EQUAL(h.mode, "protected");
}

static void test_reset_counts_from_now(void)
{
	struct top_rows r;

	two_samples();
	top_view_reset(&V);
	set_kind(&snap, EXIT_IO, 310, 320000, 5000);
	top_view_sample(&V, &snap, 14 * SEC);
	top_build_rows(&V, &r);
	const struct top_row *io = row(&r, "io");
	CU_ASSERT_PTR_NOT_NULL_FATAL(io);
	CU_ASSERT_EQUAL(io->total, 10);
	CU_ASSERT_DOUBLE_EQUAL(io->avg_ns, 2000.0, 1e-9);
	CU_ASSERT_EQUAL(row(&r, "mmio")->total, 0);
	/* The snapshot keeps the VM's own counters. */
	CU_ASSERT_EQUAL(V.cur.vcpu[0].kind[EXIT_IO].count, 310);
}

static void test_sort_orders(void)
{
	struct top_rows r;

	two_samples();
	top_build_rows(&V, &r);	/* by rate: io 100/s, mmio 5/s, hlt 0.5/s */
	CU_ASSERT_STRING_EQUAL(r.row[0].name, "io");
	CU_ASSERT_STRING_EQUAL(r.row[2].name, "hlt");
	V.sort = SORT_AVG;	/* hlt 1 ms, mmio 10 us, io 1 us */
	top_build_rows(&V, &r);
	CU_ASSERT_STRING_EQUAL(r.row[0].name, "hlt");
	CU_ASSERT_STRING_EQUAL(r.row[1].name, "mmio");
	V.sort = SORT_MAX;
	top_build_rows(&V, &r);
	CU_ASSERT_STRING_EQUAL(r.row[0].name, "hlt");
	CU_ASSERT_STRING_EQUAL(r.row[2].name, "io");
	V.sort = SORT_NAME;
	top_build_rows(&V, &r);
	CU_ASSERT_STRING_EQUAL(r.row[0].name, "hlt");
	CU_ASSERT_STRING_EQUAL(r.row[1].name, "io");
	CU_ASSERT_STRING_EQUAL(r.row[2].name, "mmio");
	V.sort = SORT_TOTAL;
	top_build_rows(&V, &r);
	CU_ASSERT_STRING_EQUAL(r.row[0].name, "io");
	CU_ASSERT_STRING_EQUAL(r.row[1].name, "mmio");
}

static void test_filter_hides_rows_not_shares(void)
{
	struct top_rows r;

	two_samples();
	strcpy(V.filter, "MMI");	/* case-insensitive */
	top_build_rows(&V, &r);
	CU_ASSERT_EQUAL_FATAL(r.n, 1);
	CU_ASSERT_STRING_EQUAL(r.row[0].name, "mmio");
	CU_ASSERT_DOUBLE_EQUAL(r.row[0].pct_total, 100.0 * 60 / 361, 1e-9);
	strcpy(V.filter, "nothing");
	top_build_rows(&V, &r);
	CU_ASSERT_EQUAL(r.n, 0);
}

static void test_raw_reasons_and_addresses(void)
{
	struct top_rows r;
	struct top_addr a[4];

	two_samples();
	struct stats_vcpu *c = &V.cur.vcpu[0];
	c->nr_raw = 2;
	c->raw[0] = (struct stats_raw_slot){ .raw = 2, .kind = EXIT_IO, .name = "KVM_EXIT_IO",
					     .c = { 300, 300000, 5000 } };
	c->raw[1] = (struct stats_raw_slot){ .raw = 6, .kind = EXIT_MMIO, .name = "KVM_EXIT_MMIO",
					     .c = { 60, 600000, 30000 } };
	V.prev.vcpu[0].nr_raw = 1;
	V.prev.vcpu[0].raw[0] = c->raw[0];
	V.prev.vcpu[0].raw[0].c.count = 100;
	V.raw = true;
	top_build_rows(&V, &r);
	CU_ASSERT_EQUAL_FATAL(r.n, 2);
	CU_ASSERT_STRING_EQUAL(r.row[0].name, "KVM_EXIT_IO");
	CU_ASSERT_DOUBLE_EQUAL(r.row[0].rate, 100.0, 1e-9);
	/* New since the last sample: all of it is this interval's. */
	CU_ASSERT_DOUBLE_EQUAL(r.row[1].rate, 30.0, 1e-9);

	c->rip_samples = 400;
	c->rips[0] = (struct stats_rip_slot){ .rip = 0x1000, .count = 100, .kind = EXIT_IO, .raw = 2 };
	c->rips[1] = (struct stats_rip_slot){ .rip = 0x2000, .count = 300, .kind = EXIT_MMIO, .raw = 6 };
	int n = top_build_addrs(&V, a, 4);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_EQUAL(a[0].rip, 0x2000);
	CU_ASSERT_STRING_EQUAL(a[0].reason, "KVM_EXIT_MMIO");
	CU_ASSERT_STRING_EQUAL(a[0].category, "mmio");
	CU_ASSERT_DOUBLE_EQUAL(a[0].pct, 75.0, 1e-9);
	CU_ASSERT_EQUAL(top_build_addrs(&V, a, 1), 1);
}

static void test_first_sample_has_no_rate(void)
{
	struct top_rows r;

	memset(&V, 0, sizeof(V));
	base_snapshot(&snap);
	set_kind(&snap, EXIT_IO, 5, 5000, 1000);
	top_view_init(&V, &snap, 11 * SEC);
	top_build_rows(&V, &r);
	CU_ASSERT_EQUAL_FATAL(r.n, 1);
	CU_ASSERT_EQUAL(r.row[0].total, 5);
	CU_ASSERT_DOUBLE_EQUAL(r.row[0].rate, 0.0, 1e-9);
}

UNIT_SUITE(stats_model, NULL, NULL,
	   UNIT_TEST(test_totals_rates_shares),
	   UNIT_TEST(test_reset_counts_from_now),
	   UNIT_TEST(test_sort_orders),
	   UNIT_TEST(test_filter_hides_rows_not_shares),
	   UNIT_TEST(test_raw_reasons_and_addresses),
	   UNIT_TEST(test_first_sample_has_no_rate))
