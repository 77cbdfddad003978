/*
 * vm_reset, what a guest's reboot starts from: RAM reads as zeros again,
 * every device is back at power-on (the UART's scratch register), the
 * RTC's CMOS RAM is kept as on a PC (reboot.asm counts its boots there),
 * and a pending stop is cleared so the next vm_run starts afresh.
 */
#include "unit.h"
#include "vmm/vm.h"

static uint8_t pio(struct vm *vm, uint16_t port, int value)
{
	uint8_t b = (uint8_t)value;

	bus_access(&vm->pio, port, &b, 1, value >= 0);
	return b;
}

static void test_reset_clears_ram_keeps_cmos(void)
{
	struct memory_map map;
	struct vm vm;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(memory_map_build_pc(&map, 16 << 20, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(vm_init(&vm, &map, NULL, 0, -1, -1, err, sizeof(err)), 0);
	vm.backing[0x100000] = 0xaa;
	vm.backing[(16 << 20) - 1] = 0x55;
	pio(&vm, 0x70, 0x7e);
	pio(&vm, 0x71, 0xb1);
	pio(&vm, 0x3ff, 0x5a);			/* COM1 SCR */
	CU_ASSERT_EQUAL(pio(&vm, 0x3ff, -1), 0x5a);
	vm.stop_requested = 1;
	vm.stop_reason = STOP_RESET;

	vm_reset(&vm);
	CU_ASSERT_EQUAL(vm.backing[0x100000], 0);
	CU_ASSERT_EQUAL(vm.backing[(16 << 20) - 1], 0);
	CU_ASSERT_EQUAL(pio(&vm, 0x3ff, -1), 0);
	pio(&vm, 0x70, 0x7e);
	CU_ASSERT_EQUAL(pio(&vm, 0x71, -1), 0xb1);
	CU_ASSERT_EQUAL(vm.stop_requested, 0);
	/* RAM is usable after the punch: a loader writes it again */
	vm.backing[0x100000] = 0x11;
	CU_ASSERT_EQUAL(vm.backing[0x100000], 0x11);
	vm_destroy(&vm);
}

UNIT_SUITE(vm_reset, NULL, NULL,
	   UNIT_TEST(test_reset_clears_ram_keeps_cmos));
