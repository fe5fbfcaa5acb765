/* SPDX-License-Identifier: Apache-2.0 */
/* Policy parsing and evaluation over claims objects. */
#include <errno.h>

#include "ward-test.h"
#include "ward/attest.h"
#include "ward/cleanup.h"

#define M1                                                                                         \
	"a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef827c23500644e0e692e6be917f90" \
	"50d3d38c"
#define M2                                                                                         \
	"b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2" \
	"e4872b01"
#define RD                                                                                         \
	"ec6c52d7533cc2c4f45be7849cf112ab82b2009fe7bd43e71ed08c14400ad7e2"                         \
	"0000000000000000000000000000000000000000000000000000000000000000"

static json_t *claims(void)
{
	return json_pack("{s:s, s:b, s:b, s:s, s:b, s:i, s:i, s:s, s:s, s:s, "
			 "s:{s:i, s:i, s:i, s:i}}",
			 "tee", "snp", "verified", 1, "insecure", 0, "measurement", M1, "debug", 0,
			 "vmpl", 0, "guest_svn", 4, "report_data", RD, "host_data",
			 "0000000000000000000000000000000000000000000000000000000000000000",
			 "signing_key", "vcek", "reported_tcb", "bl", 3, "tee", 0, "snp", 8,
			 "ucode", 115);
}

static int parse(const char *text, struct ward_attest_policy **p, struct ward_err *err)
{
	return ward_attest_policy_parse(text, strlen(text), p, err);
}

WARD_TEST(policy_all_checks_pass)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_attest_policy_freep) struct ward_attest_policy *p = NULL;
	json_auto_t *c = claims();
	json_auto_t *verdict = NULL;

	CHECK_OK(
	    parse("{\"measurements\": [\"" M2 "\", \"" M1 "\"],"
		  " \"min_tcb\": {\"bl\": 3, \"tee\": 0, \"snp\": 8, \"ucode\": 115, \"fmc\": 0},"
		  " \"max_vmpl\": 0, \"min_guest_svn\": 4, \"tees\": [\"snp\"],"
		  " \"signing_keys\": [\"vcek\"],"
		  " \"report_data\": "
		  "\"EC6C52D7533CC2C4F45BE7849CF112AB82B2009FE7BD43E71ED08C14400AD7E2\","
		  " \"host_data\": "
		  "\"0000000000000000000000000000000000000000000000000000000000000000\"}",
		  &p, &err),
	    &err);
	CHECK_OK(ward_attest_policy_check(p, c, &verdict, &err), &err);
	CHECK(json_is_true(json_object_get(verdict, "ok")));
	CHECK_INT(json_array_size(json_object_get(verdict, "failed")), ==, 0);
}

WARD_TEST(policy_empty_forbids_debug_and_unverified)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_attest_policy_freep) struct ward_attest_policy *p = NULL;
	json_auto_t *c = claims();
	json_auto_t *verdict = NULL;

	CHECK_OK(parse("{}", &p, &err), &err);
	CHECK_OK(ward_attest_policy_check(p, c, NULL, &err), &err);
	json_object_set_new(c, "debug", json_true());
	CHECK_ERR(ward_attest_policy_check(p, c, &verdict, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "policy not met: debug");
	CHECK(json_is_false(json_object_get(verdict, "ok")));
	CHECK_STR(json_string_value(json_object_get(
		      json_array_get(json_object_get(verdict, "failed"), 0), "check")),
		  "debug");
	json_object_set_new(c, "debug", json_false());
	json_object_set_new(c, "verified", json_false());
	CHECK_ERR(ward_attest_policy_check(p, c, NULL, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "verified");
	json_object_del(c, "verified");
	CHECK_ERR(ward_attest_policy_check(p, c, NULL, &err), -WARD_E_POLICY);
	json_object_set_new(c, "verified", json_true());
	json_object_set_new(c, "insecure", json_true());
	CHECK_ERR(ward_attest_policy_check(p, c, NULL, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "insecure");
}

WARD_TEST(policy_allow_debug_insecure)
{
	WARD_CLEANUP(ward_attest_policy_freep) struct ward_attest_policy *p = NULL;
	json_auto_t *c = claims();

	CHECK_OK(parse("{\"allow_debug_insecure\": true}", &p, NULL), NULL);
	json_object_set_new(c, "debug", json_true());
	CHECK_OK(ward_attest_policy_check(p, c, NULL, NULL), NULL);
}

WARD_TEST(policy_every_failure_named)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_attest_policy_freep) struct ward_attest_policy *p = NULL;
	json_auto_t *c = claims();
	json_auto_t *verdict = NULL;
	static const char *const want[] = {"tee",	  "measurement", "min_tcb",
					   "debug",	  "vmpl",	 "guest_svn",
					   "report_data", "host_data",	 "signing_key"};

	CHECK_OK(parse("{\"measurements\": [\"" M2 "\"], \"min_tcb\": {\"ucode\": 116, \"snp\": 9},"
		       " \"max_vmpl\": 0, \"min_guest_svn\": 5, \"tees\": [\"snp\"],"
		       " \"signing_keys\": [\"vlek\"], \"report_data\": \"01\","
		       " \"host_data\": "
		       "\"1111111111111111111111111111111111111111111111111111111111111111\"}",
		       &p, &err),
		 &err);
	json_object_set_new(c, "debug", json_true());
	json_object_set_new(c, "vmpl", json_integer(1));
	json_object_set_new(c, "tee", json_string("tdx"));
	CHECK_ERR(ward_attest_policy_check(p, c, &verdict, &err), -WARD_E_POLICY);
	for (size_t i = 0; i < WARD_ARRAY_SIZE(want); i++) {
		bool found = false;
		size_t k;
		json_t *f;

		json_array_foreach(json_object_get(verdict, "failed"), k,
				   f) if (strcmp(json_string_value(json_object_get(f, "check")),
						 want[i]) == 0) found = true;
		if (!found)
			WARD_FAIL_("check %s not reported", want[i]);
		CHECK_MSG(&err, want[i]);
	}
	/* min_tcb failed on two components: both reasons are listed. */
	CHECK_INT(json_array_size(json_object_get(verdict, "failed")), ==, 10);
}

WARD_TEST(policy_min_tcb_missing_component)
{
	WARD_CLEANUP(ward_attest_policy_freep) struct ward_attest_policy *p = NULL;
	json_auto_t *c = claims();
	struct ward_err err = WARD_ERR_INIT;

	CHECK_OK(parse("{\"min_tcb\": {\"bl\": 0, \"fmc\": 1}}", &p, NULL), NULL);
	/* fmc only exists on Turin: absent on Milan means "no such component". */
	CHECK_OK(ward_attest_policy_check(p, c, NULL, &err), &err);
	json_object_del(c, "reported_tcb");
	CHECK_ERR(ward_attest_policy_check(p, c, NULL, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "min_tcb");
}

WARD_TEST(policy_parse_errors)
{
	static const char *const bad[] = {
	    "",
	    "[]",
	    "{\"unknown\": 1}",
	    "{\"measurements\": \"" M1 "\"}",
	    "{\"measurements\": [\"00\"]}",
	    "{\"measurements\": [\"zz\"]}",
	    "{\"measurements\": [1]}",
	    "{\"min_tcb\": {\"bogus\": 1}}",
	    "{\"min_tcb\": {\"bl\": 256}}",
	    "{\"min_tcb\": {\"bl\": -1}}",
	    "{\"min_tcb\": []}",
	    "{\"max_vmpl\": 4}",
	    "{\"max_vmpl\": \"0\"}",
	    "{\"allow_debug_insecure\": 1}",
	    "{\"report_data\": \"\"}",
	    "{\"report_data\": \"" RD "00\"}",
	    "{\"host_data\": \"00\"}",
	    "{\"tees\": []}",
	    "{\"tees\": [\"sgx2\"]}",
	    "{\"signing_keys\": [\"ask\"]}",
	    "{\"min_guest_svn\": -1}",
	    "{\"max_vmpl\": 0, \"max_vmpl\": 1}",
	    "{} {}",
	};
	struct ward_err err = WARD_ERR_INIT;
	struct ward_attest_policy *p = NULL;

	for (size_t i = 0; i < WARD_ARRAY_SIZE(bad); i++)
		if (parse(bad[i], &p, &err) != -WARD_E_MALFORMED)
			WARD_FAIL_("policy %zu (%s) not rejected as malformed", i, bad[i]);
	CHECK_ERR(ward_attest_policy_parse("{}", WARD_ATTEST_POLICY_MAX_SIZE + 1, &p, &err),
		  -WARD_E_TOO_BIG);
	CHECK(ward_attest_policy_free(NULL) == NULL);
	CHECK_ERR(ward_attest_policy_load("/nonexistent/policy.json", &p, &err), -ENOENT);
	CHECK_MSG(&err, "/nonexistent/policy.json");
}

WARD_TEST(policy_claims_not_object)
{
	WARD_CLEANUP(ward_attest_policy_freep) struct ward_attest_policy *p = NULL;
	json_auto_t *a = json_array();

	CHECK_OK(parse("{}", &p, NULL), NULL);
	CHECK_ERR(ward_attest_policy_check(p, a, NULL, NULL), -WARD_E_USAGE);
}

WARD_TEST_MAIN()
