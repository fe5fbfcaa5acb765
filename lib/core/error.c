/* SPDX-License-Identifier: Apache-2.0 */
#include "ward/error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

WARD_PRINTF(3, 0) static void vset(struct ward_err *err, int code, const char *fmt, va_list ap)
{
	err->code = code;
	(void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

int ward_err_set(struct ward_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	va_start(ap, fmt);
	vset(err, code, fmt, ap);
	va_end(ap);
	return code;
}

int ward_err_errno(struct ward_err *err, int code, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	if (!err)
		return code;
	va_start(ap, fmt);
	vset(err, code, fmt, ap);
	va_end(ap);
	len = strlen(err->msg);
	if (code < 0 && -code < WARD_E_BASE && len < sizeof(err->msg))
		(void)snprintf(err->msg + len, sizeof(err->msg) - len, ": %s", strerror(-code));
	return code;
}

int ward_err_prefix(struct ward_err *err, const char *fmt, ...)
{
	char prefix[WARD_ERR_MSG_MAX], old[WARD_ERR_MSG_MAX];
	va_list ap;

	if (!err)
		return -WARD_E_STATE;
	va_start(ap, fmt);
	(void)vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	old[sizeof(old) - 1] = '\0';
	if (old[0])
		(void)snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
	else
		(void)snprintf(err->msg, sizeof(err->msg), "%s", prefix);
	return err->code;
}

void ward_err_clear(struct ward_err *err)
{
	if (!err)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}

const char *ward_err_code_name(int code)
{
	static const char *const names[] = {
		[WARD_E_MALFORMED - WARD_E_BASE] = "malformed",
		[WARD_E_VERIFY - WARD_E_BASE] = "verify",
		[WARD_E_POLICY - WARD_E_BASE] = "policy",
		[WARD_E_TOO_BIG - WARD_E_BASE] = "too-big",
		[WARD_E_UNSUPPORTED - WARD_E_BASE] = "unsupported",
		[WARD_E_EXPIRED - WARD_E_BASE] = "expired",
		[WARD_E_NOT_FOUND - WARD_E_BASE] = "not-found",
		[WARD_E_CRYPTO - WARD_E_BASE] = "crypto",
		[WARD_E_STATE - WARD_E_BASE] = "state",
		[WARD_E_USAGE - WARD_E_BASE] = "usage",
	};
	int c = -code;

	if (code == 0)
		return "ok";
	if (c >= WARD_E_BASE && c < WARD_E_MAX)
		return names[c - WARD_E_BASE];
	if (c > 0 && c < WARD_E_BASE) {
		const char *n = strerrorname_np(c);
		return n ? n : "errno";
	}
	return "unknown";
}
