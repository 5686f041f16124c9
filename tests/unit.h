/**
 * @file unit.h  CUnit suites: one per module, registered from unit_main.c.
 *
 * To add a suite: write tests/test_<mod>.c exporting
 * int test_<mod>_register(void), declare it here, list it in UNIT_SUITES,
 * add the file to tests/local.mk.
 */
#ifndef SW_UNIT_H
#define SW_UNIT_H

#include <CUnit/CUnit.h>

/* Path of the shared corpus and of tests/data, from the environment that
 * tests/run-tests.sh sets (SW_SHARED, SW_TESTDATA). */
const char *unit_shared_dir(void);
const char *unit_data_dir(void);

int test_conf_register(void);
int test_turn_msg_register(void);
int test_stun_decode_register(void);
int test_turn_alloc_register(void);
int test_relay_register(void);
int test_sdp_register(void);
int test_rules_register(void);
int test_calllog_register(void);
int test_sip_register(void);
int test_sipcap_register(void);
int test_resolve_register(void);
int test_appshare_register(void);
int test_observe_register(void);

#define UNIT_SUITES test_conf_register, test_turn_msg_register, \
	test_stun_decode_register, \
	test_turn_alloc_register, test_relay_register, \
	test_sdp_register, test_rules_register, test_calllog_register, \
	test_sip_register, test_sipcap_register, test_resolve_register, \
	test_appshare_register, \
	test_observe_register,

#endif
