/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>

#include "ward-test.h"
#include "ward/error.h"

WARD_TEST(set_returns_code)
{
	struct ward_err err = WARD_ERR_INIT;

	CHECK_INT(ward_err_set(&err, -WARD_E_MALFORMED, "bad %d", 7), ==, -WARD_E_MALFORMED);
	CHECK_INT(err.code, ==, -WARD_E_MALFORMED);
	CHECK_STR(err.msg, "bad 7");
}

WARD_TEST(set_null_err)
{
	CHECK_INT(ward_err_set(NULL, -EINVAL, "x"), ==, -EINVAL);
	CHECK_INT(ward_err_prefix(NULL, "x"), ==, -WARD_E_STATE);
}

WARD_TEST(prefix_chains)
{
	struct ward_err err = WARD_ERR_INIT;

	ward_err_set(&err, -WARD_E_VERIFY, "signature invalid");
	CHECK_INT(ward_err_prefix(&err, "report '%s'", "a.bin"), ==, -WARD_E_VERIFY);
	CHECK_INT(ward_err_prefix(&err, "evidence"), ==, -WARD_E_VERIFY);
	CHECK_STR(err.msg, "evidence: report 'a.bin': signature invalid");
}

WARD_TEST(prefix_truncates)
{
	struct ward_err err = WARD_ERR_INIT;
	char big[600];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ward_err_set(&err, -WARD_E_TOO_BIG, "%s", big);
	CHECK_INT(strlen(err.msg), ==, WARD_ERR_MSG_MAX - 1);
	ward_err_prefix(&err, "%s", big);
	CHECK_INT(strlen(err.msg), ==, WARD_ERR_MSG_MAX - 1);
	CHECK_INT(err.code, ==, -WARD_E_TOO_BIG);
}

WARD_TEST(prefix_empty_message)
{
	struct ward_err err = WARD_ERR_INIT;

	err.code = -EIO;
	ward_err_prefix(&err, "reading");
	CHECK_STR(err.msg, "reading");
}

WARD_TEST(errno_appends_strerror)
{
	struct ward_err err = WARD_ERR_INIT;

	CHECK_INT(ward_err_errno(&err, -ENOENT, "open '%s'", "x"), ==, -ENOENT);
	CHECK_STR(err.msg, "open 'x': No such file or directory");
	ward_err_errno(&err, -WARD_E_VERIFY, "no strerror for ward codes");
	CHECK_STR(err.msg, "no strerror for ward codes");
}

WARD_TEST(code_names)
{
	CHECK_STR(ward_err_code_name(0), "ok");
	CHECK_STR(ward_err_code_name(-WARD_E_MALFORMED), "malformed");
	CHECK_STR(ward_err_code_name(-WARD_E_USAGE), "usage");
	CHECK_STR(ward_err_code_name(-ENOENT), "ENOENT");
	CHECK_STR(ward_err_code_name(-WARD_E_MAX), "unknown");
	CHECK_STR(ward_err_code_name(5), "unknown");
}

WARD_TEST(clear)
{
	struct ward_err err = WARD_ERR_INIT;

	ward_err_set(&err, -EIO, "x");
	ward_err_clear(&err);
	CHECK_INT(err.code, ==, 0);
	CHECK_STR(err.msg, "");
	ward_err_clear(NULL);
}

WARD_TEST_MAIN()
