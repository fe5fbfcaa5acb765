/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Compiler helpers shared by every module. */

#define WARD_PUBLIC __attribute__((visibility("default")))
#define WARD_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define WARD_NODISCARD __attribute__((warn_unused_result))
#define WARD_UNUSED __attribute__((unused))

#define WARD_ARRAY_SIZE(a)                                                                         \
	(sizeof(a) / sizeof((a)[0]) +                                                              \
	 0 * sizeof(char[1 - 2 * __builtin_types_compatible_p(__typeof__(a), __typeof__(&(a)[0]))]))

#define WARD_MIN(a, b) ((a) < (b) ? (a) : (b))
#define WARD_MAX(a, b) ((a) > (b) ? (a) : (b))
