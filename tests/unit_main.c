/**
 * @file unit_main.c  Runs every CUnit suite; prints CUnit's Run Summary and
 * exits non-zero on any failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <CUnit/Basic.h>

#include "unit.h"

typedef int(register_fn)(void);

static register_fn *const suites[] = {UNIT_SUITES};


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
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); ++i) {
		if (suites[i]() != 0) {
			fprintf(stderr, "suite registration %zu failed\n", i);
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
