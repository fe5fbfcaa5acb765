/* SPDX-License-Identifier: Apache-2.0 */
#include "ward-test.h"

#include <limits.h>
#include <unistd.h>

struct ward_test_case ward_test_cases[WARD_TEST_MAX_CASES];
size_t ward_test_count;

const char *ward_test_vector(const char *rel)
{
	static char buf[PATH_MAX];
	const char *base = getenv("WARD_VECTORS");

	if (!base || !*base)
		base = WARD_DEFAULT_VECTORS;
	snprintf(buf, sizeof(buf), "%s/%s", base, rel);
	if (access(buf, R_OK) != 0)
		return NULL;
	return buf;
}

const char *ward_test_data(const char *rel)
{
	static char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s/tests/data/%s", WARD_SOURCE_DIR, rel);
	return buf;
}

static int unhex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t ward_test_unhex(const char *hex, uint8_t *out, size_t max)
{
	size_t n = 0;

	for (const char *p = hex; *p;) {
		if (*p == ' ' || *p == '\n') {
			p++;
			continue;
		}
		int hi = unhex_digit(p[0]), lo = p[1] ? unhex_digit(p[1]) : -1;
		if (hi < 0 || lo < 0 || n >= max) {
			fprintf(stderr, "ward_test_unhex: bad test literal\n");
			abort();
		}
		out[n++] = (uint8_t)(hi << 4 | lo);
		p += 2;
	}
	return n;
}

int ward_test_run(int argc, char **argv)
{
	size_t failed = 0, ran = 0;

	for (size_t i = 0; i < ward_test_count; i++) {
		bool f = false;

		if (argc > 1 && strcmp(argv[1], ward_test_cases[i].name) != 0)
			continue;
		ward_test_cases[i].fn(&f);
		ran++;
		if (f) {
			failed++;
			fprintf(stderr, "FAIL %s\n", ward_test_cases[i].name);
		}
	}
	if (ran == 0) {
		fprintf(stderr, "no test case named '%s'\n", argc > 1 ? argv[1] : "");
		return 2;
	}
	return failed ? 1 : 0;
}
