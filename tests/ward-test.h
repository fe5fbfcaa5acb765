/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A tiny unit-test harness. Each test file defines cases with WARD_TEST(name)
 * and ends with WARD_TEST_MAIN(). The binary runs every case, or only the
 * one named in argv[1]; CMake registers one CTest test per case (it scans the
 * source for WARD_TEST(...)). Assertions print file:line and fail the case. */

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ward/error.h"

static inline const char *ward_test_errmsg(const struct ward_err *e)
{
	return e ? e->msg : "";
}

typedef void (*ward_test_fn)(bool *failed);
struct ward_test_case {
	const char *name;
	ward_test_fn fn;
};

#define WARD_TEST_MAX_CASES 512
extern struct ward_test_case ward_test_cases[WARD_TEST_MAX_CASES];
extern size_t ward_test_count;

#define WARD_TEST(name)                                                                            \
	static void test_##name(bool *ward_test_failed_);                                          \
	__attribute__((constructor)) static void register_##name(void)                             \
	{                                                                                          \
		if (ward_test_count < WARD_TEST_MAX_CASES)                                         \
			ward_test_cases[ward_test_count++] =                                       \
				(struct ward_test_case){#name, test_##name};                       \
	}                                                                                          \
	static void test_##name(bool *ward_test_failed_)

#define WARD_FAIL_(...)                                                                            \
	do {                                                                                       \
		fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                    \
		fprintf(stderr, __VA_ARGS__);                                                      \
		fputc('\n', stderr);                                                               \
		*ward_test_failed_ = true;                                                         \
		return;                                                                            \
	} while (0)

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			WARD_FAIL_("CHECK(%s) failed", #cond);                                     \
	} while (0)

#define CHECK_INT(a, op, b)                                                                        \
	do {                                                                                       \
		long long _a = (long long)(a), _b = (long long)(b);                                \
		if (!(_a op _b))                                                                   \
			WARD_FAIL_("CHECK_INT(%s %s %s) failed: %lld vs %lld", #a, #op, #b, _a,    \
				   _b);                                                            \
	} while (0)

/* r must be 0; prints the error message otherwise. */
#define CHECK_OK(r, errp)                                                                          \
	do {                                                                                       \
		int _r = (r);                                                                      \
		if (_r != 0)                                                                       \
			WARD_FAIL_("%s returned %d (%s)", #r, _r, ward_test_errmsg(errp));      \
	} while (0)

/* r must equal the negative code want. */
#define CHECK_ERR(r, want)                                                                         \
	do {                                                                                       \
		int _r = (r), _w = (want);                                                         \
		if (_r != _w)                                                                      \
			WARD_FAIL_("%s returned %d, expected %d (%s)", #r, _r, _w, #want);         \
	} while (0)

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *_a = (a), *_b = (b);                                                   \
		if (!_a || !_b || strcmp(_a, _b) != 0)                                             \
			WARD_FAIL_("CHECK_STR(%s, %s): \"%s\" != \"%s\"", #a, #b,                  \
				   _a ? _a : "(null)", _b ? _b : "(null)");                        \
	} while (0)

#define CHECK_MEM(a, b, n)                                                                         \
	do {                                                                                       \
		if (memcmp((a), (b), (n)) != 0)                                                    \
			WARD_FAIL_("CHECK_MEM(%s, %s, %s) differs", #a, #b, #n);                   \
	} while (0)

/* The error message must contain the substring. */
#define CHECK_MSG(errp, sub)                                                                       \
	do {                                                                                       \
		if (!strstr((errp)->msg, (sub)))                                                   \
			WARD_FAIL_("error message \"%s\" lacks \"%s\"", (errp)->msg, (sub));       \
	} while (0)

/* Path to a file under ../shared/vectors (or $WARD_VECTORS). Returns a
 * static buffer; NULL if the vectors are not available. */
const char *ward_test_vector(const char *rel);
/* Path to a file under tests/data of the source tree. */
const char *ward_test_data(const char *rel);
/* Decode a hex literal (test helper; aborts on bad input). Returns size. */
size_t ward_test_unhex(const char *hex, uint8_t *out, size_t max);

#define WARD_TEST_MAIN()                                                                           \
	int main(int argc, char **argv)                                                            \
	{                                                                                          \
		return ward_test_run(argc, argv);                                                  \
	}
int ward_test_run(int argc, char **argv);
