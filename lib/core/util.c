/* SPDX-License-Identifier: Apache-2.0 */
#include "ward/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int ward_parse_u64(const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -WARD_E_MALFORMED;
	if (s[0] == '0' && s[1] != '\0')
		return -WARD_E_MALFORMED; /* no leading zeros, no octal ambiguity */
	for (const char *p = s; *p; p++) {
		unsigned d;

		if (*p < '0' || *p > '9')
			return -WARD_E_MALFORMED;
		d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -WARD_E_MALFORMED;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

int ward_parse_u32(const char *s, uint32_t *ret)
{
	uint64_t v;
	int r = ward_parse_u64(s, &v);

	if (r < 0)
		return r;
	if (v > UINT32_MAX)
		return -WARD_E_MALFORMED;
	*ret = (uint32_t)v;
	return 0;
}

static int digits(const char *s, int n, int *ret)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return 0;
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days since 1970-01-01 for a proleptic Gregorian date (civil algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

int ward_time_parse_rfc3339(const char *s, time_t *ret, struct ward_err *err)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int Y, M, D, h, m, sec, oh = 0, om = 0, sign = 0;
	const char *p;
	int64_t t;

	if (!s || strlen(s) < 20 || digits(s, 4, &Y) < 0 || s[4] != '-' ||
	    digits(s + 5, 2, &M) < 0 || s[7] != '-' || digits(s + 8, 2, &D) < 0 ||
	    (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) < 0 || s[13] != ':' ||
	    digits(s + 14, 2, &m) < 0 || s[16] != ':' || digits(s + 17, 2, &sec) < 0)
		goto bad;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			goto bad;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		if (digits(p + 1, 2, &oh) < 0 || p[3] != ':' || digits(p + 4, 2, &om) < 0 ||
		    oh > 23 || om > 59)
			goto bad;
		p += 6;
	} else {
		goto bad;
	}
	if (*p != '\0')
		goto bad;
	if (M < 1 || M > 12 || D < 1 || h > 23 || m > 59 || sec > 60)
		goto bad;
	if (D > mdays[M - 1] + (M == 2 && is_leap(Y)))
		goto bad;
	if (sec == 60)
		sec = 59; /* leap second: clamp, time_t has no room for it */
	t = days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 + h * 3600 + m * 60 + sec;
	t -= (int64_t)sign * (oh * 3600 + om * 60);
	*ret = (time_t)t;
	return 0;
bad:
	return ward_err_set(err, -WARD_E_MALFORMED,
			    "'%.40s' is not an RFC 3339 time (YYYY-MM-DDTHH:MM:SSZ)", s ? s : "");
}

void ward_time_format_rfc3339(time_t t, char out[WARD_RFC3339_SIZE])
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
		(void)snprintf(out, WARD_RFC3339_SIZE, "0000-00-00T00:00:00Z");
		return;
	}
	(void)snprintf(out, WARD_RFC3339_SIZE, "%04d-%02d-%02dT%02d:%02d:%02dZ",
		       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		       tm.tm_sec);
}

bool ward_startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool ward_endswith(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}
