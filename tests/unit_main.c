/**
 * @file unit_main.c  Runs every CUnit suite; prints CUnit's Run Summary and
 * exits non-zero on any failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <CUnit/Basic.h>

#include "unit.h"

static struct unit_suite *suites, **suites_end = &suites;


void unit_add_case(struct unit_suite *s, struct unit_case *c)
{
	if (!s->last) {
		s->last = &s->first;
		*suites_end = s;
		suites_end = &s->next;
	}
	*s->last = c;
	s->last = &c->next;
}


/* Hands one suite and its tests to CUnit's registry. */
static int register_suite(const struct unit_suite *u)
{
	CU_pSuite s = CU_add_suite_with_setup_and_teardown(
		u->name, u->init, u->clean, u->setup, u->teardown);

	if (!s)
		return -1;
	for (const struct unit_case *c = u->first; c; c = c->next)
		if (!CU_add_test(s, c->name, c->fn))
			return -1;
	return 0;
}


const char *unit_shared_dir(void)
{
	const char *s = getenv("SW_SHARED");

	return s ? s : "../shared";
}


const char *unit_data_dir(void)
{
	const char *s = getenv("SW_TESTDATA");

	return s ? s : "tests/data";
}


int main(int argc, char **argv)
{
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	for (const struct unit_suite *u = suites; u; u = u->next) {
		if (register_suite(u) != 0) {
			fprintf(stderr, "suite registration %s failed\n", u->name);
			CU_cleanup_registry();
			return 1;
		}
	}
	CU_basic_set_mode(CU_BRM_NORMAL);
	if (argc > 1) {
		/* run one suite by name: unit SUITE */
		CU_pSuite s = CU_get_suite(argv[1]);

		if (!s) {
			fprintf(stderr, "no suite '%s'\n", argv[1]);
			CU_cleanup_registry();
			return 2;
		}
		CU_basic_run_suite(s);
	}
	else {
		CU_basic_run_tests();
	}
	failed = CU_get_number_of_failures() +
		 CU_get_number_of_tests_failed();
	if (CU_get_error() != CUE_SUCCESS)
		failed++;
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
