/*
 * Every device model's reset and versioned save/load: each is driven into
 * a state that is not its power-on one, saved, loaded into a fresh
 * instance on another fake machine, and both must then save the same bytes
 * and answer the same port reads; truncated, garbled, wrong-version and
 * other-model blobs are refused and leave the instance as it was.
 */
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "fake_device_env.h"
#include "devices/device_state.h"
#include "devices/virtio/virtio_dev.h"
#include "devices/virtio/virtio_blk_req.h"
#include "devices/pci/pci.h"
#include "virtio_pci_driver.h"

static struct fake_env A, B;

static struct timespec fixed_wall(void *ctx)
{
	return (struct timespec){ .tv_sec = 1700000000, .tv_nsec = 250000000 };
}

static void drive_pic(struct fake_env *f)
{
	static const uint16_t seq[][2] = {
		{ 0x20, 0x11 }, { 0x21, 0x30 }, { 0x21, 0x04 }, { 0x21, 0x01 },
		{ 0xa0, 0x11 }, { 0xa1, 0x38 }, { 0xa1, 0x02 }, { 0xa1, 0x01 },
		{ 0x21, 0x42 }, { 0xa1, 0xf0 }, { 0x4d1, 0x04 },	/* IRQ10 level */
	};
	for (unsigned i = 0; i < sizeof(seq) / sizeof(seq[0]); i++)
		pio_out8(f, seq[i][0], (uint8_t)seq[i][1]);
	for (unsigned irq = 3; irq <= 9; irq += 2) {	/* edges on 3, 5, 7, 9 */
		fake_set_irq(f, irq, true);
		fake_set_irq(f, irq, false);
	}
	/* IR2 (the slave's IR1) outranks IR3: vector 0x38 + 1. */
	CU_ASSERT_EQUAL(fake_acknowledge(f), 0x39);
	pio_out8(f, 0x20, 0x0b);			/* OCW3: read ISR */
}

static void drive_pit(struct fake_env *f)
{
	pio_out8(f, 0x43, 0x34);			/* ch0 mode 2, 1 ms */
	pio_out8(f, 0x40, 0xa9);
	pio_out8(f, 0x40, 0x04);
	pio_out8(f, 0x61, 0x03);			/* gate 2, speaker */
	pio_out8(f, 0x43, 0xb6);			/* ch2 mode 3 */
	pio_out8(f, 0x42, 0x00);
	pio_out8(f, 0x42, 0x10);
	f->now += 2500000;
	fake_poll_all(f);
	pio_out8(f, 0x43, 0x00);			/* latch ch0 */
}

static void drive_rtc(struct fake_env *f)
{
	pio_out8(f, 0x70, 0x40);
	pio_out8(f, 0x71, 0x5a);			/* a CMOS byte */
	pio_out8(f, 0x70, 0x0b);
	pio_out8(f, 0x71, 0x42);			/* PIE, 24 h */
	f->now += 2000000;
	fake_poll_all(f);				/* PF: IRQ8 up */
	pio_out8(f, 0x70, 0x40);
}

static void drive_uart(struct fake_env *f)
{
	static const uint8_t seq[][2] = {
		{ 0xfb, 0x80 }, { 0xf8, 0x01 }, { 0xf9, 0x00 }, { 0xfb, 0x1b },
		{ 0xfa, 0x01 }, { 0xfc, 0x1b }, { 0xf8, 'A' }, { 0xf8, 'B' },
		{ 0xf9, 0x01 }, { 0xff, 0x77 },
	};
	for (unsigned i = 0; i < sizeof(seq) / sizeof(seq[0]); i++)
		pio_out8(f, (uint16_t)(0x300 | seq[i][0]), seq[i][1]);
}

static void drive_i8042(struct fake_env *f)
{
	pio_out8(f, 0x64, 0x60);
	pio_out8(f, 0x60, 0x47);			/* command byte */
	pio_out8(f, 0x64, 0xd2);
	pio_out8(f, 0x60, 0x33);			/* a fake key byte */
	pio_out8(f, 0x64, 0xd2);
	pio_out8(f, 0x60, 0x34);
	pio_out8(f, 0x64, 0xd1);			/* outport write pending */
}

static void drive_port80(struct fake_env *f) { pio_out8(f, 0x80, 0x42); }
static void drive_port92(struct fake_env *f) { pio_out8(f, 0x92, 0x00); }
static void drive_acpi(struct fake_env *f) { pio_out16(f, 0x604, 0x0c00); }
static void drive_nothing(struct fake_env *f) { }
/* fw_cfg: the signature selected and two of its bytes read, so the
 * loaded copy goes on with "MU" */
static void drive_fw_cfg(struct fake_env *f)
{
	pio_out16(f, 0x510, 0);
	pio_in8(f, 0x511);
	pio_in8(f, 0x511);
}

/* The host bridge: CONFIG_ADDRESS left selecting its COMMAND register,
 * bus master and memory decode on, the latency timer written. */
static void drive_i440fx(struct fake_env *f)
{
	pio_out32(f, 0xcf8, 0x8000000c);
	pio_out8(f, 0xcfd, 0x40);			/* latency timer */
	pio_out32(f, 0xcf8, 0x80000004);
	pio_out16(f, 0xcfc, 0x0006);
}

/* The test function's BARs placed and decoded, its scratch registers
 * written, INTA# asserted. */
static void drive_pci_testdev(struct fake_env *f)
{
	CU_ASSERT_PTR_NOT_NULL_FATAL(fake_create(f, "i440fx"));
	pio_out32(f, 0xcf8, 0x80002010);
	pio_out32(f, 0xcfc, 0xc0000000);
	pio_out32(f, 0xcf8, 0x80002014);
	pio_out32(f, 0xcfc, 0xc000);
	pio_out32(f, 0xcf8, 0x80002004);
	pio_out16(f, 0xcfc, 0x0003);
	mmio_write32(f, 0xc0000000, 0x12345678);
	pio_out16(f, 0xc000, 0xbeef);
	pio_out8(f, 0xc004, 1);
	CU_ASSERT_TRUE(f->line[10]);
}

/* The ISA bridge has no ports of its own: a host bridge in the same
 * machine reaches its configuration space. */
static void drive_piix3(struct fake_env *f)
{
	CU_ASSERT_PTR_NOT_NULL_FATAL(fake_create(f, "i440fx"));
	pio_out32(f, 0xcf8, 0x8000083c);
	pio_out8(f, 0xcfc, 0x0b);			/* interrupt line */
	pio_out32(f, 0xcf8, 0x80000804);
	pio_out16(f, 0xcfc, 0x0404);			/* master, INTx disable */
}

#define LAPIC 0xfee00000u
#define IOAPIC 0xfec00000u

/* A periodic timer half-way through a period, a request in the IRR, one
 * in service (level), TPR, LDR/DFR, an error latched. */
static void drive_lapic(struct fake_env *f)
{
	mmio_write32(f, LAPIC + 0x80, 0x20);		/* TPR */
	mmio_write32(f, LAPIC + 0xd0, 0x01000000);	/* LDR */
	mmio_write32(f, LAPIC + 0xe0, 0x0fffffff);	/* DFR: cluster */
	mmio_write32(f, LAPIC + 0x3e0, 0x3);		/* divide by 16 */
	mmio_write32(f, LAPIC + 0x320, 0x20040);	/* periodic, vector 0x40 */
	mmio_write32(f, LAPIC + 0x380, 100000);		/* 1.6 ms */
	struct irq_msg m = { .vector = 0x50, .level = true, .dest = 0 };
	irq_router_send(&f->irq, &m, NULL);
	CU_ASSERT_EQUAL(fake_acknowledge(f), 0x50);
	m.vector = 0x61;
	m.level = false;
	irq_router_send(&f->irq, &m, NULL);
	mmio_write32(f, LAPIC + 0x300, 0x4005);		/* illegal vector IPI */
	f->now += 2400000;
	fake_poll_all(f);
}

/* Pins programmed, one level pin asserted and awaiting its EOI. */
static void drive_ioapic(struct fake_env *f)
{
	mmio_write32(f, IOAPIC, 0);
	mmio_write32(f, IOAPIC + 0x10, 0x05000000);	/* ID 5 */
	mmio_write32(f, IOAPIC, 0x10 + 2 * 9);
	mmio_write32(f, IOAPIC + 0x10, 0x8039);		/* pin 9: level, 0x39 */
	mmio_write32(f, IOAPIC, 0x11 + 2 * 9);
	mmio_write32(f, IOAPIC + 0x10, 0x03000000);
	mmio_write32(f, IOAPIC, 0x10 + 2 * 2);
	mmio_write32(f, IOAPIC + 0x10, 0x0830);		/* pin 2: logical, 0x30 */
	fake_set_irq(f, 9, true);
	fake_set_irq(f, 9, false);
	mmio_write32(f, IOAPIC, 0x10 + 2 * 9);
}

/* virtio-blk as a driver leaves it (3.1.1): BAR 4 placed and decoded,
 * VERSION_1 and EVENT_IDX negotiated, queue 0 (64 entries) enabled,
 * DRIVER_OK, one GET_ID request answered (used index 1, ISR bit 0,
 * INTA# up), the feature selectors left on their upper halves. */
#define VBLK_BAR VDRV_BAR_ADDR
static void drive_virtio_blk(struct fake_env *f)
{
	struct vdrv d;

	CU_ASSERT_EQUAL_FATAL(vdrv_find(&d, f, 0x1042), 0);
	vdrv_map_bar(&d, VBLK_BAR);
	CU_ASSERT_EQUAL_FATAL(vdrv_read_caps(&d), 4);
	CU_ASSERT_EQUAL(vdrv_negotiate(&d, (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_EVENT_IDX)) &
			VIRTIO_CONFIG_S_FEATURES_OK, VIRTIO_CONFIG_S_FEATURES_OK);
	vdrv_write(&d, 1, VIRTIO_COMMON_DFSELECT, 4, 1);
	vdrv_setup_queue(&d, 64, 0x10000);
	vdrv_driver_ok(&d);
	struct { uint32_t type, reserved; uint64_t sector; } hdr = { VIRTIO_BLK_T_GET_ID, 0, 0 };
	memcpy(fake_guest_ram_host(&f->ram, 0x20000), &hdr, sizeof(hdr));
	const uint64_t gpa[3] = { 0x20000, 0x21000, 0x22000 };
	const uint32_t len[3] = { 16, VIRTIO_BLK_ID_BYTES, 1 };
	const bool wr[3] = { false, true, true };
	vdrv_post(&d, gpa, len, wr, 3);
	vdrv_kick(&d, 0);
	CU_ASSERT_EQUAL(vdrv_used_idx(&d), 1);
	CU_ASSERT_TRUE(f->line[pci_intx_line(d.slot, 1)]);
}

static const struct {
	const char *model;
	void (*drive)(struct fake_env *f);
	uint16_t probe[8];	/* ports both must read the same; 0 ends */
	bool stateless;
	uint32_t mmio_probe[6];	/* MMIO dwords both must read the same; 0 ends */
	const char *config;	/* NULL: the defaults */
} cases[] = {
	{ "lapic", drive_lapic, { 0 }, false,
	  { LAPIC + 0x80, LAPIC + 0x280, LAPIC + 0x390, LAPIC + 0x210, LAPIC + 0x130, LAPIC + 0xe0 }, NULL },
	{ "ioapic", drive_ioapic, { 0 }, false,
	  { IOAPIC, IOAPIC + 0x10, IOAPIC + 0x10 }, NULL },
	{ "pic8259", drive_pic, { 0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1 } , false, { 0 }, NULL },
	{ "pit8254", drive_pit, { 0x40, 0x40, 0x42, 0x61 } , false, { 0 }, NULL },
	{ "rtc_cmos", drive_rtc, { 0x71 } , false, { 0 }, NULL },
	{ "uart16550", drive_uart, { 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3ff, 0x3f8, 0x3f8 } , false, { 0 }, NULL },
	{ "i8042", drive_i8042, { 0x64, 0x60, 0x64, 0x60 } , false, { 0 }, NULL },
	{ "port80", drive_port80, { 0x80 } , false, { 0 }, NULL },
	{ "port92", drive_port92, { 0x92 } , false, { 0 }, NULL },
	{ "acpi_pm", drive_acpi, { 0x604, 0x605 } , false, { 0 }, NULL },
	{ "debug_exit", drive_nothing, { 0xf4 }, true, { 0 }, NULL },
	{ "fw_cfg", drive_fw_cfg, { 0x511, 0x511, 0x511 }, false, { 0 }, NULL },
	{ "i440fx", drive_i440fx, { 0xcfc, 0xcfd, 0xcf8, 0xcfb }, false, { 0 }, NULL },
	{ "piix3", drive_piix3, { 0 }, false, { 0 }, NULL },
	/* B has no host bridge: what it reads through the BARs is what the
	 * loaded configuration mapped */
	{ "pci_testdev", drive_pci_testdev, { 0xc000, 0xc001, 0xc004 }, false,
	  { 0xc0000000u }, "slot=4" },
	{ "virtio-blk", drive_virtio_blk, { 0 }, false,
	  { VBLK_BAR + 0x04, VBLK_BAR + 0x0c, VBLK_BAR + 0x14, VBLK_BAR + 0x28,
	    VBLK_BAR + 0x1000, VBLK_BAR + 0x2000 }, NULL },
};
#define NR_CASES (sizeof(cases) / sizeof(cases[0]))

static size_t save(const struct device_model *m, void *dev, uint8_t **blob)
{
	size_t len = 0;
	char err[256];

	CU_ASSERT_EQUAL(device_state_save(m, dev, blob, &len, err, sizeof(err)), 0);
	return len;
}

static bool same_blob(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen == blen && !memcmp(a, b, alen);
}

static void two_machines(void)
{
	CU_ASSERT_EQUAL_FATAL(fake_env_init(&A, 64 << 20), 0);
	CU_ASSERT_EQUAL_FATAL(fake_env_init(&B, 64 << 20), 0);
	A.env.wall_time = B.env.wall_time = fixed_wall;
}

static void round_trip(unsigned c)
{
	const struct device_model *m = fake_model(cases[c].model);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	two_machines();
	/* a model that needs a configuration gets the fake machine's */
	void *a = cases[c].config ? fake_create_config(&A, m->name, cases[c].config)
				  : fake_create_default(&A, m->name);
	void *b = cases[c].config ? fake_create_config(&B, m->name, cases[c].config)
				  : fake_create_default(&B, m->name);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);

	uint8_t *fresh, *saved, *loaded;
	size_t fresh_len = save(m, b, &fresh);
	cases[c].drive(&A);
	B.now = A.now;
	size_t saved_len = save(m, a, &saved);
	/* The drive reached a state that is not the power-on one. */
	CU_ASSERT(cases[c].stateless || !same_blob(fresh, fresh_len, saved, saved_len));

	char err[256] = "";
	CU_ASSERT_EQUAL(device_state_load(m, b, saved, saved_len, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(err, "");
	size_t loaded_len = save(m, b, &loaded);
	CU_ASSERT(same_blob(saved, saved_len, loaded, loaded_len));
	for (unsigned l = 0; l < IRQ_ROUTER_LINES; l++)
		CU_ASSERT_EQUAL(A.line[l], B.line[l]);
	for (unsigned i = 0; i < 8 && cases[c].probe[i]; i++)
		CU_ASSERT_EQUAL(pio_in8(&A, cases[c].probe[i]), pio_in8(&B, cases[c].probe[i]));
	for (unsigned i = 0; i < 6 && cases[c].mmio_probe[i]; i++)
		CU_ASSERT_EQUAL(mmio_read32(&A, cases[c].mmio_probe[i]),
				mmio_read32(&B, cases[c].mmio_probe[i]));
	free(loaded);

	/* Every shorter blob is refused and B keeps its state. */
	loaded_len = save(m, b, &loaded);
	for (size_t len = 0; len < saved_len; len++) {
		uint8_t *cut = malloc(len ? len : 1);
		memcpy(cut, saved, len);
		CU_ASSERT_EQUAL(device_state_load(m, b, cut, len, err, sizeof(err)), -1);
		free(cut);
	}
	uint8_t *after;
	size_t after_len = save(m, b, &after);
	CU_ASSERT(same_blob(loaded, loaded_len, after, after_len));
	free(after);

	/* Reset is the power-on state again (the RTC keeps its clock and
	 * CMOS, as the chip does, and is checked on its own). */
	m->reset(b);
	after_len = save(m, b, &after);
	if (strcmp(m->name, "rtc_cmos"))
		CU_ASSERT(same_blob(fresh, fresh_len, after, after_len));
	free(after);
	free(fresh);
	free(saved);
	free(loaded);
	fake_env_fini(&A);
	fake_env_fini(&B);
}

static void test_every_model_has_a_case(void)
{
	for (struct device_model *m = device_models(); m; m = m->next) {
		unsigned c = 0;
		/* virtio-net needs a network backend per machine: its round
		 * trip is in test_virtio_net_pci.c */
		if (!strcmp(m->name, "virtio-net")) {
			CU_ASSERT(m->state_version >= 1 && m->save && m->load);
			continue;
		}
		while (c < NR_CASES && strcmp(cases[c].model, m->name))
			c++;
		CU_ASSERT(c < NR_CASES);
		CU_ASSERT(m->state_version >= 1);
		CU_ASSERT(m->reset && m->save && m->load);
	}
}

static void test_round_trips(void)
{
	for (unsigned c = 0; c < NR_CASES; c++)
		round_trip(c);
}

/* The PIT counts on after a load: the same IRQ0 edges in the next 3 ms. */
static void test_pit_counts_on(void)
{
	const struct device_model *m = fake_model("pit8254");
	two_machines();
	void *a = fake_create(&A, "pit8254"), *b = fake_create(&B, "pit8254");
	drive_pit(&A);
	B.now = A.now;
	uint8_t *blob;
	size_t len = save(m, a, &blob);
	char err[256];
	CU_ASSERT_EQUAL_FATAL(device_state_load(m, b, blob, len, err, sizeof(err)), 0);
	unsigned ea = A.rising[0], eb = B.rising[0];
	A.now += 3000000;
	B.now += 3000000;
	fake_poll_all(&A);
	fake_poll_all(&B);
	CU_ASSERT(A.rising[0] - ea >= 1);
	CU_ASSERT_EQUAL(A.rising[0] - ea, B.rising[0] - eb);
	free(blob);
	fake_env_fini(&A);
	fake_env_fini(&B);
}

/* The RTC's reset clears the interrupt enables and flags, not the CMOS. */
static void test_rtc_reset(void)
{
	two_machines();
	void *a = fake_create(&A, "rtc_cmos");
	drive_rtc(&A);
	CU_ASSERT_TRUE(A.line[8]);
	fake_model("rtc_cmos")->reset(a);
	CU_ASSERT_FALSE(A.line[8]);
	pio_out8(&A, 0x70, 0x0b);
	CU_ASSERT_EQUAL(pio_in8(&A, 0x71) & 0x70, 0);
	pio_out8(&A, 0x70, 0x40);
	CU_ASSERT_EQUAL(pio_in8(&A, 0x71), 0x5a);
	fake_env_fini(&A);
	fake_env_fini(&B);
}

/* The format's header: FNV-1a of the payload at offset 4+1+name+2+4. */
static uint32_t fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void test_refusals(void)
{
	const struct device_model *uart = fake_model("uart16550");
	const struct device_model *port80 = fake_model("port80");
	two_machines();
	void *a = fake_create(&A, "uart16550"), *b = fake_create(&B, "uart16550");
	void *p80 = fake_create(&B, "port80");
	drive_uart(&A);
	uint8_t *blob, *before, *after, *other;
	size_t len = save(uart, a, &blob), before_len = save(uart, b, &before);
	size_t other_len = save(port80, p80, &other);
	uint8_t *bad = malloc(len + 1);
	char err[256];
	const size_t name_len = strlen("uart16550");
	const size_t version_at = 4 + 1 + name_len, sum_at = version_at + 2 + 4;
	const size_t payload_at = sum_at + 4;

	/* Another version than this hyvm knows, and version 0. */
	memcpy(bad, blob, len);
	bad[version_at] = (uint8_t)(uart->state_version + 1);
	CU_ASSERT_EQUAL(device_state_load(uart, b, bad, len, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "version"));
	bad[version_at] = 0;
	CU_ASSERT_EQUAL(device_state_load(uart, b, bad, len, err, sizeof(err)), -1);

	/* A flipped payload byte: the checksum. */
	memcpy(bad, blob, len);
	bad[payload_at + 3] ^= 0x40;
	CU_ASSERT_EQUAL(device_state_load(uart, b, bad, len, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "garbled"));

	/* A consistent blob with a flag that is 2 (thr_ipending, the tenth
	 * payload byte), and one with an RX count beyond the FIFO. */
	memcpy(bad, blob, len);
	bad[payload_at + 9] = 2;
	uint32_t sum = fnv1a(bad + payload_at, len - payload_at);
	memcpy(bad + sum_at, &sum, 4);
	CU_ASSERT_EQUAL(device_state_load(uart, b, bad, len, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "garbled"));
	memcpy(bad, blob, len);
	bad[payload_at + 10 + 16 + 4] = 17;		/* rx_count */
	sum = fnv1a(bad + payload_at, len - payload_at);
	memcpy(bad + sum_at, &sum, 4);
	CU_ASSERT_EQUAL(device_state_load(uart, b, bad, len, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "RX FIFO count"));

	/* A byte past the end; another model's blob; not a blob at all. */
	memcpy(bad, blob, len);
	bad[len] = 0;
	CU_ASSERT_EQUAL(device_state_load(uart, b, bad, len + 1, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(device_state_load(uart, b, other, other_len, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "of device port80"));
	CU_ASSERT_EQUAL(device_state_load(uart, b, (const uint8_t *)"garbage!", 8,
					  err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(device_state_load(uart, b, NULL, 0, err, sizeof(err)), -1);

	size_t after_len = save(uart, b, &after);
	CU_ASSERT(same_blob(before, before_len, after, after_len));
	free(after);
	free(bad);
	free(blob);
	free(before);
	free(other);
	fake_env_fini(&A);
	fake_env_fini(&B);
}

/* The field helpers never read past the end and report the first error. */
static void test_reader_bounds(void)
{
	uint8_t data[3] = { 1, 2, 3 };
	struct ds_reader r = { .data = data, .len = sizeof(data) };

	CU_ASSERT_EQUAL(ds_get_u16(&r), 0x0201);
	CU_ASSERT_EQUAL(ds_get_u32(&r), 0);
	CU_ASSERT_TRUE(r.failed);
	CU_ASSERT_STRING_EQUAL(r.err, "saved state is truncated");
	CU_ASSERT_EQUAL(ds_get_u8(&r), 0);		/* failed stays failed */
	CU_ASSERT_FALSE(ds_done(&r));

	struct ds_writer w = { 0 };
	ds_put_u64(&w, 0x1122334455667788ull);
	ds_put_bool(&w, true);
	r = (struct ds_reader){ .data = w.data, .len = w.len };
	CU_ASSERT_EQUAL(ds_get_u64(&r), 0x1122334455667788ull);
	CU_ASSERT_TRUE(ds_get_bool(&r));
	CU_ASSERT_TRUE(ds_done(&r));
	free(w.data);
}

UNIT_SUITE(device_state, NULL, NULL,
	   UNIT_TEST(test_every_model_has_a_case),
	   UNIT_TEST(test_round_trips),
	   UNIT_TEST(test_pit_counts_on),
	   UNIT_TEST(test_rtc_reset),
	   UNIT_TEST(test_refusals),
	   UNIT_TEST(test_reader_bounds))
