/* Exit addresses named by symbols: this very test binary serves as the ELF
 * (its link-time addresses are its run-time ones minus the load bias). */
#include <link.h>
#include <stdio.h>
#include <string.h>
#include "unit.h"
#include "top/symbols.h"

__attribute__((noinline)) void stats_symbols_probe(void)
{
	__asm__ volatile("nop; nop; nop; nop; nop; nop; nop; nop");
}

static int first_object(struct dl_phdr_info *info, size_t size, void *bias)
{
	*(uintptr_t *)bias = info->dlpi_addr;	/* the main program comes first */
	return 1;
}

static uint64_t link_address(void (*fn)(void))
{
	uintptr_t bias = 0;

	dl_iterate_phdr(first_object, &bias);
	return (uintptr_t)fn - bias;
}

static void test_function_plus_offset(void)
{
	char err[256], name[128];
	struct symtab *t = symtab_load("/proc/self/exe", err, sizeof(err));

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT(symtab_count(t) > 10);
	uint64_t a = link_address(stats_symbols_probe);
	symtab_name(t, a, name, sizeof(name));
	CU_ASSERT_STRING_EQUAL(name, "stats_symbols_probe");
	symtab_name(t, a + 3, name, sizeof(name));
	CU_ASSERT_STRING_EQUAL(name, "stats_symbols_probe+0x3");
	symtab_name(t, 0, name, sizeof(name));	/* below every symbol */
	CU_ASSERT_STRING_EQUAL(name, "");
	symtab_free(t);
}

static void test_no_symbols_is_an_error_not_a_crash(void)
{
	char err[256], name[16] = "x";

	CU_ASSERT_PTR_NULL(symtab_load("/nonexistent/guest.elf", err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot open"));
	CU_ASSERT_PTR_NULL(symtab_load("/proc/self/cmdline", err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not an ELF"));
	symtab_name(NULL, 0x1000, name, sizeof(name));	/* no table: no name */
	CU_ASSERT_STRING_EQUAL(name, "");
}

UNIT_SUITE(stats_symbols, NULL, NULL,
	   UNIT_TEST(test_function_plus_offset),
	   UNIT_TEST(test_no_symbols_is_an_error_not_a_crash))
