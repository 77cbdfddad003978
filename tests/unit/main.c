/* Runs every registered CUnit suite and ends with CUnit's summary. */
#include <stdio.h>
#include <string.h>
#include <CUnit/Basic.h>
#include "unit.h"

static struct unit_suite *suites;

void unit_suite_register(struct unit_suite *s)
{
	s->next = suites;
	suites = s;
}

int main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : NULL;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	for (struct unit_suite *s = suites; s; s = s->next) {
		if (only && strcmp(only, s->name))
			continue;
		CU_pSuite cs = CU_add_suite(s->name, s->setup, s->teardown);
		for (const struct unit_test *t = s->tests; t->name; t++)
			CU_add_test(cs, t->name, t->fn);
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() +
			  CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
