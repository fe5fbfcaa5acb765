/* SPDX-License-Identifier: Apache-2.0 */
/* The coordinator's volume freshness state machine (volume.c). */
#include <string.h>

#include "coord-internal.h"
#include "ward-test.h"
#include "ward/cleanup.h"
#include "ward/json.h"

static const uint8_t ID1[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t ID2[16] = {2};
static const uint8_t ROOT_A[32] = {0xaa};
static const uint8_t ROOT_B[32] = {0xbb};
static const uint8_t ROOT_C[32] = {0xcc};

WARD_TEST(register_first_newer_same)
{
	struct ward_err err = WARD_ERR_INIT;
	struct coord_vol_state s1, s2, s3;

	CHECK_OK(coord_vol_register(NULL, ID1, 1, ROOT_A, &s1, &err), &err);
	CHECK_INT(s1.version, ==, 1);
	CHECK_MEM(s1.id, ID1, 16);
	CHECK_MEM(s1.root, ROOT_A, 32);
	CHECK(!s1.has_accept);
	/* newer: accepted (also skipping versions: commits in the window) */
	CHECK_OK(coord_vol_register(&s1, ID1, 5, ROOT_B, &s2, &err), &err);
	CHECK_INT(s2.version, ==, 5);
	CHECK_MEM(s2.root, ROOT_B, 32);
	/* the same state again: idempotent */
	CHECK_OK(coord_vol_register(&s2, ID1, 5, ROOT_B, &s3, &err), &err);
	CHECK_INT(s3.version, ==, 5);
}

WARD_TEST(register_refusals)
{
	struct ward_err err = WARD_ERR_INIT;
	struct coord_vol_state s, out;

	CHECK_OK(coord_vol_register(NULL, ID1, 7, ROOT_A, &s, &err), &err);
	CHECK_ERR(coord_vol_register(&s, ID1, 6, ROOT_B, &out, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "version 6 is older than the registered version 7");
	ward_err_clear(&err);
	CHECK_ERR(coord_vol_register(&s, ID1, 7, ROOT_B, &out, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "root hash differs");
	ward_err_clear(&err);
	CHECK_ERR(coord_vol_register(&s, ID2, 8, ROOT_B, &out, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "another volume");
	ward_err_clear(&err);
	CHECK_ERR(coord_vol_register(&s, ID1, 0, ROOT_B, &out, &err), -WARD_E_MALFORMED);
	ward_err_clear(&err);
	CHECK_ERR(coord_vol_register(NULL, ID1, (uint64_t)INT64_MAX + 1, ROOT_B, &out, &err),
		  -WARD_E_MALFORMED);
	/* the refused registrations left s unchanged (the caller stores out
	 * only on success) */
	CHECK_INT(s.version, ==, 7);
}

WARD_TEST(accept_rollback_flow)
{
	struct ward_err err = WARD_ERR_INIT;
	struct coord_vol_state s, acc, same, next;

	CHECK_OK(coord_vol_register(NULL, ID1, 9, ROOT_A, &s, &err), &err);
	/* nothing to accept: not older */
	CHECK_ERR(coord_vol_accept(&s, 9, ROOT_A, "alice", &acc, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "nothing to accept");
	ward_err_clear(&err);
	CHECK_ERR(coord_vol_accept(&s, 10, ROOT_B, "alice", &acc, &err), -WARD_E_POLICY);
	ward_err_clear(&err);
	CHECK_ERR(coord_vol_accept(NULL, 3, ROOT_B, "alice", &acc, &err), -WARD_E_NOT_FOUND);
	ward_err_clear(&err);
	/* older, or the same version with another root */
	CHECK_OK(coord_vol_accept(&s, 9, ROOT_C, "alice", &acc, &err), &err);
	CHECK_OK(coord_vol_accept(&s, 3, ROOT_B, "alice", &acc, &err), &err);
	CHECK(acc.has_accept);
	CHECK_INT(acc.accept_version, ==, 3);
	CHECK_STR(acc.accept_by, "alice");
	CHECK_INT(acc.version, ==, 9);
	/* the acceptance does not lower the registered state: an older put is
	 * still refused (the agent opens the accepted state and continues
	 * above the registered version) */
	CHECK_ERR(coord_vol_register(&acc, ID1, 3, ROOT_B, &next, &err), -WARD_E_POLICY);
	ward_err_clear(&err);
	/* re-registering the same state keeps it pending */
	CHECK_OK(coord_vol_register(&acc, ID1, 9, ROOT_A, &same, &err), &err);
	CHECK(same.has_accept);
	/* the continuation consumes it */
	CHECK_OK(coord_vol_register(&same, ID1, 10, ROOT_C, &next, &err), &err);
	CHECK(!next.has_accept);
	CHECK_INT(next.version, ==, 10);
}

WARD_TEST(state_json_roundtrip_and_errors)
{
	struct ward_err err = WARD_ERR_INIT;
	struct coord_vol_state s, acc, back;
	WARD_AUTOJSON json_t *j = NULL;
	WARD_AUTOFREE char *text = NULL;

	CHECK_OK(coord_vol_register(NULL, ID1, 4, ROOT_A, &s, &err), &err);
	CHECK_OK(coord_vol_accept(&s, 2, ROOT_B, "bob", &acc, &err), &err);
	CHECK_OK(coord_vol_state_json(&acc, &j, &err), &err);
	CHECK_OK(ward_json_dump(j, &text, &err), &err);
	CHECK_OK(coord_vol_state_parse(text, strlen(text), &back, &err), &err);
	CHECK_MEM(back.id, ID1, 16);
	CHECK_INT(back.version, ==, 4);
	CHECK(back.has_accept);
	CHECK_INT(back.accept_version, ==, 2);
	CHECK_MEM(back.accept_root, ROOT_B, 32);
	CHECK_STR(back.accept_by, "bob");

	CHECK_ERR(coord_vol_state_parse("{}", 2, &back, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "stored volume state");
	ward_err_clear(&err);
	CHECK_ERR(coord_vol_state_parse("{\"id\":\"00\",\"version\":1,\"root\":\"00\"}", 35, &back,
					&err),
		  -WARD_E_MALFORMED);
	ward_err_clear(&err);
	{
		static const char extra[] = "{\"id\":\"0102030405060708090a0b0c0d0e0f10\","
					    "\"version\":1,\"root\":\"" /* 64 hex */
					    "00000000000000000000000000000000"
					    "00000000000000000000000000000000\",\"x\":1}";

		CHECK_ERR(coord_vol_state_parse(extra, strlen(extra), &back, &err),
			  -WARD_E_MALFORMED);
		ward_err_clear(&err);
	}
	CHECK_ERR(coord_vol_state_parse("not json", 8, &back, &err), -WARD_E_MALFORMED);
}

WARD_TEST(split_paths)
{
	struct ward_err err = WARD_ERR_INIT;
	char w[65], v[65];

	CHECK_OK(coord_vol_split("redis/data", w, v, &err), &err);
	CHECK_STR(w, "redis");
	CHECK_STR(v, "data");
	CHECK_ERR(coord_vol_split("redis", w, v, &err), -WARD_E_MALFORMED);
	ward_err_clear(&err);
	CHECK_ERR(coord_vol_split("redis/da/ta", w, v, &err), -WARD_E_MALFORMED);
	ward_err_clear(&err);
	CHECK_ERR(coord_vol_split("/data", w, v, &err), -WARD_E_MALFORMED);
	ward_err_clear(&err);
	CHECK_ERR(coord_vol_split("redis/", w, v, &err), -WARD_E_MALFORMED);
	ward_err_clear(&err);
	CHECK_ERR(coord_vol_split("re.dis/data", w, v, &err), -WARD_E_MALFORMED);
}

WARD_TEST_MAIN()
