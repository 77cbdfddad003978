/*
 * CUnit glue: each test file declares its suite with UNIT_SUITE and it is
 * registered before main runs, so test files never touch a shared list.
 */
#ifndef HYVM_UNIT_H
#define HYVM_UNIT_H

#include <CUnit/CUnit.h>

struct unit_test { const char *name; void (*fn)(void); };
struct unit_suite {
	const char *name;
	const struct unit_test *tests;
	int (*setup)(void);
	int (*teardown)(void);
	struct unit_suite *next;
};

void unit_suite_register(struct unit_suite *s);

#define UNIT_SUITE(sname, setup_fn, teardown_fn, ...)				\
	static const struct unit_test sname##_tests[] = { __VA_ARGS__, { 0, 0 } }; \
	static struct unit_suite sname##_suite = { #sname, sname##_tests,	\
		setup_fn, teardown_fn, 0 };					\
	__attribute__((constructor)) static void sname##_register(void)	\
	{ unit_suite_register(&sname##_suite); }

#define UNIT_TEST(fn) { #fn, fn }

#endif
