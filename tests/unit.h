/**
 * @file unit.h  CUnit suites: one per module, each test registered where
 * it is defined.
 *
 * A suite file ends with UNIT_SUITE(name, init, clean, setup, teardown)
 * and each test is written
 *
 *     UNIT_TEST(test_fn, "what it shows")
 *     {
 *             ...
 *     }
 *
 * so a test cannot be written and forgotten in a registration list:
 * UNIT_TEST adds it to its file's suite before main() runs (a constructor,
 * run in the order of definition), and unit_main.c hands every suite to
 * CUnit in link order. A new suite file is only added to tests/local.mk.
 */
#ifndef SW_UNIT_H
#define SW_UNIT_H

#include <CUnit/CUnit.h>

/* Path of the shared corpus and of tests/data, from the environment that
 * tests/run-tests.sh sets (SW_SHARED, SW_TESTDATA). */
const char *unit_shared_dir(void);
const char *unit_data_dir(void);


struct unit_case {
	const char *name;
	CU_TestFunc fn;
	struct unit_case *next;
};

struct unit_suite {
	const char *name;
	CU_InitializeFunc init;
	CU_CleanupFunc clean;
	CU_SetUpFunc setup;
	CU_TearDownFunc teardown;
	struct unit_case *first, **last; /* in the order of definition */
	struct unit_suite *next;
};

/* Called by UNIT_TEST's constructor: appends c to s (and s, the first
 * time, to the list of suites). */
void unit_add_case(struct unit_suite *s, struct unit_case *c);

/* A tentative definition of the file's suite (C11 6.9.2): UNIT_SUITE at
 * the end of the file completes it. */
#define UNIT_TEST(fn_, name_) \
	static struct unit_suite unit_suite_; \
	static void fn_(void); \
	static struct unit_case fn_##_case_ = {name_, fn_, NULL}; \
	__attribute__((constructor)) static void fn_##_reg_(void) \
	{ \
		unit_add_case(&unit_suite_, &fn_##_case_); \
	} \
	static void fn_(void)

#define UNIT_SUITE(name_, init_, clean_, setup_, teardown_) \
	static struct unit_suite unit_suite_ = { \
		name_, init_, clean_, setup_, teardown_, NULL, NULL, NULL}

#endif
