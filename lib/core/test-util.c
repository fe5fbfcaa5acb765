/* SPDX-License-Identifier: Apache-2.0 */
#include "ward-test.h"
#include "ward/util.h"

WARD_TEST(parse_u64)
{
	uint64_t v;

	CHECK_OK(ward_parse_u64("0", &v), NULL);
	CHECK(v == 0);
	CHECK_OK(ward_parse_u64("18446744073709551615", &v), NULL);
	CHECK(v == UINT64_MAX);
	CHECK_ERR(ward_parse_u64("18446744073709551616", &v), -WARD_E_MALFORMED);
	CHECK_ERR(ward_parse_u64("", &v), -WARD_E_MALFORMED);
	CHECK_ERR(ward_parse_u64(NULL, &v), -WARD_E_MALFORMED);
	CHECK_ERR(ward_parse_u64("-1", &v), -WARD_E_MALFORMED);
	CHECK_ERR(ward_parse_u64("+1", &v), -WARD_E_MALFORMED);
	CHECK_ERR(ward_parse_u64(" 1", &v), -WARD_E_MALFORMED);
	CHECK_ERR(ward_parse_u64("1 ", &v), -WARD_E_MALFORMED);
	CHECK_ERR(ward_parse_u64("01", &v), -WARD_E_MALFORMED);
	CHECK_ERR(ward_parse_u64("1x", &v), -WARD_E_MALFORMED);
}

WARD_TEST(parse_u32)
{
	uint32_t v;

	CHECK_OK(ward_parse_u32("4294967295", &v), NULL);
	CHECK(v == UINT32_MAX);
	CHECK_ERR(ward_parse_u32("4294967296", &v), -WARD_E_MALFORMED);
	CHECK_ERR(ward_parse_u32("x", &v), -WARD_E_MALFORMED);
}

WARD_TEST(rfc3339_parse)
{
	struct ward_err err = WARD_ERR_INIT;
	time_t t;

	CHECK_OK(ward_time_parse_rfc3339("1970-01-01T00:00:00Z", &t, &err), &err);
	CHECK_INT(t, ==, 0);
	CHECK_OK(ward_time_parse_rfc3339("2025-07-19T10:00:34Z", &t, &err), &err);
	CHECK_INT(t, ==, 1752919234);
	CHECK_OK(ward_time_parse_rfc3339("2025-07-19T10:00:34.123Z", &t, &err), &err);
	CHECK_INT(t, ==, 1752919234);
	CHECK_OK(ward_time_parse_rfc3339("2025-07-19T12:00:34+02:00", &t, &err), &err);
	CHECK_INT(t, ==, 1752919234);
	CHECK_OK(ward_time_parse_rfc3339("2024-02-29T00:00:00Z", &t, &err), &err);
	CHECK_OK(ward_time_parse_rfc3339("2000-02-29T00:00:00Z", &t, &err), &err);
	CHECK_OK(ward_time_parse_rfc3339("1969-12-31T23:59:59Z", &t, &err), &err);
	CHECK_INT(t, ==, -1);
}

WARD_TEST(rfc3339_reject)
{
	static const char *const bad[] = {
		"",
		"2025-07-19",
		"2025-07-19T10:00:34",
		"2025-07-19 10:00:34Z",
		"2025-13-19T10:00:34Z",
		"2025-00-19T10:00:34Z",
		"2025-02-29T10:00:34Z",
		"1900-02-29T10:00:34Z",
		"2025-04-31T10:00:34Z",
		"2025-07-19T24:00:00Z",
		"2025-07-19T10:60:00Z",
		"2025-07-19T10:00:61Z",
		"2025-07-19T10:00:34.Z",
		"2025-07-19T10:00:34Zx",
		"2025-07-19T10:00:34+2:00",
		"2025-07-19T10:00:34+24:00",
		"2O25-07-19T10:00:34Z",
	};
	struct ward_err err = WARD_ERR_INIT;
	time_t t;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ward_time_parse_rfc3339(bad[i], &t, &err) != -WARD_E_MALFORMED)
			WARD_FAIL_("accepted '%s'", bad[i]);
	}
	CHECK_ERR(ward_time_parse_rfc3339(NULL, &t, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "RFC 3339");
}

WARD_TEST(rfc3339_format)
{
	char buf[WARD_RFC3339_SIZE];
	struct ward_err err = WARD_ERR_INIT;
	time_t t;

	ward_time_format_rfc3339(1752919234, buf);
	CHECK_STR(buf, "2025-07-19T10:00:34Z");
	CHECK_OK(ward_time_parse_rfc3339(buf, &t, &err), &err);
	CHECK_INT(t, ==, 1752919234);
	ward_time_format_rfc3339(0, buf);
	CHECK_STR(buf, "1970-01-01T00:00:00Z");
}

WARD_TEST(affixes)
{
	CHECK(ward_startswith("sha256:abc", "sha256:"));
	CHECK(!ward_startswith("sha25", "sha256:"));
	CHECK(ward_endswith("a.tar.gz", ".gz"));
	CHECK(!ward_endswith("gz", ".gz"));
	CHECK(ward_endswith("", ""));
}

WARD_TEST_MAIN()
