/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Errors: negative codes (-errno or -WARD_E_*) plus a human message that
 * each layer prefixes with what it was doing. The message never holds
 * secret material. */

#include <stdarg.h>
#include <stddef.h>

#include "ward/compiler.h"

enum {
	WARD_E_BASE = 1000,
	WARD_E_MALFORMED = WARD_E_BASE, /* input does not parse */
	WARD_E_VERIFY,                  /* signature, MAC or chain check failed */
	WARD_E_POLICY,                  /* authentic, but not acceptable */
	WARD_E_TOO_BIG,                 /* exceeds a configured limit */
	WARD_E_UNSUPPORTED,             /* valid, but a version/algorithm we do not handle */
	WARD_E_EXPIRED,                 /* a certificate, CRL or collateral is outside its validity */
	WARD_E_NOT_FOUND,               /* a required item is missing */
	WARD_E_CRYPTO,                  /* the crypto library failed internally */
	WARD_E_STATE,                   /* the operation is not valid in the current state */
	WARD_E_USAGE,                   /* the caller passed bad arguments */
	WARD_E_MAX,
};

#define WARD_ERR_MSG_MAX 256

struct ward_err {
	int code;                   /* 0, or negative: -errno or -WARD_E_* */
	char msg[WARD_ERR_MSG_MAX]; /* for humans; never holds secret material */
};

#define WARD_ERR_INIT {.code = 0, .msg = ""}

/* Record an error: set err->code = code (must be negative) and the message
 * from fmt. Returns code, so callers can write `return ward_err_set(...)`.
 * err may be NULL, in which case only code is returned. Allocates nothing. */
WARD_PUBLIC int ward_err_set(struct ward_err *err, int code, const char *fmt, ...)
	WARD_PRINTF(3, 4);

/* As ward_err_set(), with the message " : strerror(-code)" appended for
 * errno codes. */
WARD_PUBLIC int ward_err_errno(struct ward_err *err, int code, const char *fmt, ...)
	WARD_PRINTF(3, 4);

/* Prefix the existing message with "<fmt>: ". Returns err->code (which
 * stays unchanged). Truncates rather than allocates. With err NULL,
 * returns -WARD_E_STATE. */
WARD_PUBLIC int ward_err_prefix(struct ward_err *err, const char *fmt, ...) WARD_PRINTF(2, 3);

/* Reset err to "no error". */
WARD_PUBLIC void ward_err_clear(struct ward_err *err);

/* A short static name for a code: "malformed", "verify", "ENOENT"... */
WARD_PUBLIC const char *ward_err_code_name(int code);
