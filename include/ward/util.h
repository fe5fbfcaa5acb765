/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Small text helpers for untrusted text: strict number parsing, times. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ward/compiler.h"
#include "ward/error.h"

/* Decimal unsigned integers: digits only (no sign, space, or trailing
 * characters), no leading zeros except "0", no overflow. */
WARD_PUBLIC int ward_parse_u64(const char *s, uint64_t *ret);
WARD_PUBLIC int ward_parse_u32(const char *s, uint32_t *ret);

/* Parse "YYYY-MM-DDTHH:MM:SS[.frac](Z|+00:00)" (RFC 3339 in UTC) into a
 * time_t. Other offsets are converted. -WARD_E_MALFORMED otherwise. */
WARD_PUBLIC int ward_time_parse_rfc3339(const char *s, time_t *ret, struct ward_err *err);
/* Format t as "YYYY-MM-DDTHH:MM:SSZ" (20 chars + NUL). */
#define WARD_RFC3339_SIZE 21
WARD_PUBLIC void ward_time_format_rfc3339(time_t t, char out[WARD_RFC3339_SIZE]);

/* Does s start with / end with the given text? */
WARD_PUBLIC bool ward_startswith(const char *s, const char *prefix);
WARD_PUBLIC bool ward_endswith(const char *s, const char *suffix);
