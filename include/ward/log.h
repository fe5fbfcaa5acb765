/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Logging: human lines on a terminal, JSON lines with --log-format json.
 * Library code logs only at debug level; tools log errors once. Secrets
 * never go into a log: log a key ID (ward_log_key_id) instead. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ward/compiler.h"

enum ward_log_level {
	WARD_LOG_DEBUG,
	WARD_LOG_INFO,
	WARD_LOG_WARN,
	WARD_LOG_ERROR,
};

enum ward_log_format {
	WARD_LOG_FORMAT_AUTO, /* human on a TTY, human otherwise too (JSON only on request) */
	WARD_LOG_FORMAT_HUMAN,
	WARD_LOG_FORMAT_JSON,
};

/* Configure the process-wide logger. fd is where lines go (stderr by default). */
WARD_PUBLIC void ward_log_setup(enum ward_log_level min, enum ward_log_format format, int fd);
/* Parse "human"/"json"/"auto"; returns 0 or -WARD_E_USAGE. */
WARD_PUBLIC int ward_log_format_parse(const char *s, enum ward_log_format *ret);
/* Parse "debug"/"info"/"warn"/"error". */
WARD_PUBLIC int ward_log_level_parse(const char *s, enum ward_log_level *ret);
WARD_PUBLIC void ward_log_set_component(const char *component);
WARD_PUBLIC bool ward_log_enabled(enum ward_log_level level);

/* Log one line. In JSON mode the message is escaped into {"ts","level",
 * "component","msg"} plus extra key/value pairs given with ward_logkv(). */
WARD_PUBLIC void ward_log(enum ward_log_level level, const char *fmt, ...) WARD_PRINTF(2, 3);

/* Log one line with structured fields: kv is a NULL-terminated list of
 * "key", "value" string pairs (values are escaped in JSON mode). */
WARD_PUBLIC void ward_logkv(enum ward_log_level level, const char *msg, const char *const *kv);

/* Key ID for logs: the first 8 bytes of SHA-256(key) in hex (17 bytes with NUL).
 * Defined in lib/crypto. */
#define WARD_KEY_ID_STR_SIZE 17
WARD_PUBLIC void ward_log_key_id(const void *key, size_t size, char out[WARD_KEY_ID_STR_SIZE]);

/* WARD_TRACE=1 in the environment: one timestamped line
 * "ward-trace SEC.USEC COMPONENT: ..." on stderr, written at once so that
 * lines of concurrent processes do not mix; nothing otherwise. Timing and
 * paths only, never secrets. */
WARD_PUBLIC void ward_trace(const char *component, const char *fmt, ...) WARD_PRINTF(2, 3);

#define ward_debug(...) ward_log(WARD_LOG_DEBUG, __VA_ARGS__)
#define ward_info(...) ward_log(WARD_LOG_INFO, __VA_ARGS__)
#define ward_warn(...) ward_log(WARD_LOG_WARN, __VA_ARGS__)
#define ward_error(...) ward_log(WARD_LOG_ERROR, __VA_ARGS__)
