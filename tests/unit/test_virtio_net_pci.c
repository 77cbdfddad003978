/*
 * The virtio-net card as a driver meets it (devices/virtio/virtio_net_pci.c
 * on the virtio-pci transport), on the fake machine with the real slirp
 * backend: its PCI identity (1af4:1041, class 02/00), feature negotiation
 * through the common configuration (FEATURES_OK refused for a bit not
 * offered), the MAC and link status in the device configuration, and the
 * refusals of its configuration (no backend, a second card on one).
 */
#include <string.h>
#include "unit.h"
#include "fake_device_env.h"
#include "devices/virtio/virtio_dev.h"
#include "devices/virtio/virtio_net.h"
#include "devices/virtio/virtio_spec.h"
#include "net/net_backend.h"

#define CFG_ADDR(slot, off) (0x80000000u | (slot) << 11 | ((off) & 0xfc))
#define SLOT 2			/* after the host and ISA bridges */
#define BAR 0xe0000000ull	/* where this test puts BAR 4 */
#define BIT(n) (1ull << (n))

static struct fake_env F;
static struct net_backend *be;

static uint32_t cfg_read(unsigned off)
{
	uint8_t d[4] = { 0 };

	pio_out32(&F, 0xcf8, CFG_ADDR(SLOT, off));
	bus_access(&F.pio, 0xcfc, d, 4, false);
	return d[0] | d[1] << 8 | d[2] << 16 | (uint32_t)d[3] << 24;
}

static void cfg_write(unsigned off, uint32_t v)
{
	uint8_t d[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	pio_out32(&F, 0xcf8, CFG_ADDR(SLOT, off));
	bus_access(&F.pio, 0xcfc, d, 4, true);
}

static int setup(void)
{
	struct net_config cfg;
	char err[256];

	if (fake_env_init(&F, 64 << 20) < 0 || !fake_create(&F, "i440fx") ||
	    !fake_create(&F, "piix3") || net_config_parse("user,restrict=on", &cfg, err, sizeof(err)) < 0)
		return -1;
	be = net_backend_create(&cfg, err, sizeof(err));
	return be ? 0 : -1;
}

static int teardown(void)
{
	fake_env_fini(&F);		/* the card first: it points at the backend */
	net_backend_destroy(be);
	return 0;
}

/* Features as 3.1.1 has the driver write them; the status it reads back. */
static uint8_t negotiate(uint64_t features)
{
	mmio_write(&F, BAR + VIRTIO_COMMON_STATUS, 0, 1);	/* reset */
	mmio_write(&F, BAR + VIRTIO_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
		   VIRTIO_CONFIG_S_DRIVER, 1);
	for (unsigned sel = 0; sel < 2; sel++) {
		mmio_write(&F, BAR + VIRTIO_COMMON_GFSELECT, sel, 4);
		mmio_write(&F, BAR + VIRTIO_COMMON_GF, (uint32_t)(features >> (32 * sel)), 4);
	}
	mmio_write(&F, BAR + VIRTIO_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
		   VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK, 1);
	return (uint8_t)mmio_read(&F, BAR + VIRTIO_COMMON_STATUS, 1);
}

static void test_card(void)
{
	CU_ASSERT_PTR_NULL(fake_create_config(&F, "virtio-net", "netdev=nosuch"));
	CU_ASSERT_PTR_NOT_NULL(strstr(F.err, "no network backend with id 'nosuch'"));
	CU_ASSERT_PTR_NULL(fake_create_config(&F, "virtio-net", "mac=zz:54:00:12:34:56"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(fake_create_config(&F, "virtio-net", NULL));
	CU_ASSERT_PTR_NULL(fake_create_config(&F, "virtio-net", "netdev=net0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(F.err, "has a network card already"));

	CU_ASSERT_EQUAL(cfg_read(0x00), 0x10411af4u);		/* 4.1.2.1 */
	CU_ASSERT_EQUAL(cfg_read(0x08) >> 8, 0x020000u);	/* network, Ethernet */
	/* BAR 4 (64-bit memory) where this test wants it, memory decoding on */
	cfg_write(0x20, (uint32_t)BAR);
	cfg_write(0x24, 0);
	cfg_write(0x04, 0x2);
	CU_ASSERT_EQUAL(mmio_read(&F, BAR + VIRTIO_COMMON_NUMQ, 2), VIRTIO_NET_NR_QUEUES);
	mmio_write(&F, BAR + VIRTIO_COMMON_DFSELECT, 0, 4);
	uint64_t offered = mmio_read(&F, BAR + VIRTIO_COMMON_DF, 4);
	mmio_write(&F, BAR + VIRTIO_COMMON_DFSELECT, 1, 4);
	offered |= (uint64_t)mmio_read(&F, BAR + VIRTIO_COMMON_DF, 4) << 32;
	CU_ASSERT_TRUE(!!(offered & BIT(VIRTIO_F_VERSION_1)));
	CU_ASSERT_TRUE(!!(offered & BIT(VIRTIO_NET_F_MAC)));
	CU_ASSERT_TRUE(!!(offered & BIT(VIRTIO_NET_F_MRG_RXBUF)));
	CU_ASSERT_FALSE(!!(offered & BIT(VIRTIO_NET_F_CSUM)));	/* no offloads */
	CU_ASSERT_FALSE(!!(offered & BIT(VIRTIO_NET_F_CTRL_VQ)));
	/* a bit not offered: FEATURES_OK stays clear */
	CU_ASSERT_FALSE(negotiate(BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_CSUM)) &
			VIRTIO_CONFIG_S_FEATURES_OK);
	CU_ASSERT_TRUE(negotiate(BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_MAC)) &
		       VIRTIO_CONFIG_S_FEATURES_OK);
	/* 5.1.4: the MAC, then status = link up, at the device configuration */
	uint8_t mac[6];
	for (unsigned i = 0; i < 6; i++)
		mac[i] = (uint8_t)mmio_read(&F, BAR + 0x2000 + i, 1);
	CU_ASSERT_EQUAL(memcmp(mac, "\x52\x54\x00\x12\x34\x56", 6), 0);
	CU_ASSERT_EQUAL(mmio_read(&F, BAR + 0x2000 + 6, 2), VIRTIO_NET_S_LINK_UP);
}

UNIT_SUITE(virtio_net_pci, setup, teardown, UNIT_TEST(test_card))
