/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* JSON over jansson: size-capped loading that rejects duplicate keys,
 * typed getters whose errors name the JSON path ("$.packages[2].name:
 * expected string, got integer"), and strict key sets. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ward/cleanup.h"
#include "ward/compiler.h"
#include "ward/error.h"

/* jansson >= 2.14 itself defines json_decrefp(), the cleanup function for
 * json_t pointers, so it is not defined again here. */
#define WARD_AUTOJSON WARD_CLEANUP(json_decrefp)

#define WARD_JSON_MAX_SIZE_DEFAULT (4u << 20)
#define WARD_JSON_MAX_DEPTH 64

/* Parse exactly one JSON value from buf (size bytes, not necessarily
 * NUL-terminated): at most max_size bytes, duplicate keys rejected, no
 * trailing data, nesting at most WARD_JSON_MAX_DEPTH, NUL bytes in strings
 * rejected. The error names line and column. *ret is a new reference.
 * Returns -WARD_E_TOO_BIG for size > max_size or too deep nesting,
 * -WARD_E_MALFORMED for everything else wrong with the text. */
WARD_PUBLIC int ward_json_parse(const void *buf, size_t size, size_t max_size, json_t **ret,
				struct ward_err *err);
/* Read and parse a file (ward_file_read + ward_json_parse). */
WARD_PUBLIC int ward_json_load_file(const char *path, size_t max_size, json_t **ret,
				    struct ward_err *err);
/* Serialise compactly with sorted keys (deterministic); malloc'ed. */
WARD_PUBLIC int ward_json_dump(const json_t *j, char **ret, struct ward_err *err);
/* Serialise indented (human output), sorted keys, trailing newline. */
WARD_PUBLIC int ward_json_dump_pretty(const json_t *j, char **ret, struct ward_err *err);

/* "object", "array", "string", "integer", "real", "true", "false", "null". */
WARD_PUBLIC const char *ward_json_type_name(const json_t *j);

/* Fail unless obj (at path) is an object whose keys are all in the
 * NULL-terminated list allowed. */
WARD_PUBLIC int ward_json_check_keys(const json_t *obj, const char *path,
				     const char *const *allowed, struct ward_err *err);

/* Typed getters. obj must be an object, path is its JSON path for messages
 * ("$" for the root). If the key is absent: with required, -WARD_E_MALFORMED
 * "<path>.<key>: missing"; otherwise return 0 and leave *ret unchanged.
 * A present key of the wrong type is always an error. Returned pointers
 * are borrowed from obj. */
WARD_PUBLIC int ward_json_get_string(const json_t *obj, const char *path, const char *key,
				     bool required, const char **ret, struct ward_err *err);
/* Integer in [min, max]. */
WARD_PUBLIC int ward_json_get_int(const json_t *obj, const char *path, const char *key,
				  bool required, int64_t min, int64_t max, int64_t *ret,
				  struct ward_err *err);
WARD_PUBLIC int ward_json_get_bool(const json_t *obj, const char *path, const char *key,
				   bool required, bool *ret, struct ward_err *err);
WARD_PUBLIC int ward_json_get_object(const json_t *obj, const char *path, const char *key,
				     bool required, json_t **ret, struct ward_err *err);
/* Array with at most max_len elements (-WARD_E_TOO_BIG beyond). */
WARD_PUBLIC int ward_json_get_array(const json_t *obj, const char *path, const char *key,
				    bool required, size_t max_len, json_t **ret,
				    struct ward_err *err);
/* Hex string decoding to exactly size bytes. */
WARD_PUBLIC int ward_json_get_hex_fixed(const json_t *obj, const char *path, const char *key,
					bool required, uint8_t *out, size_t size,
					struct ward_err *err);
/* base64url (unpadded) string; *ret malloc'ed, at most max_size decoded bytes
 * (-WARD_E_TOO_BIG beyond; padding or other alphabets are -WARD_E_MALFORMED).
 * When the key is absent and optional, *ret and *ret_size are unchanged. */
WARD_PUBLIC int ward_json_get_b64url(const json_t *obj, const char *path, const char *key,
				     bool required, size_t max_size, uint8_t **ret,
				     size_t *ret_size, struct ward_err *err);

/* Build "<path>.<key>" / "<path>[i]" into buf (truncating). Returns buf. */
WARD_PUBLIC const char *ward_json_path_key(char *buf, size_t size, const char *path,
					   const char *key);
WARD_PUBLIC const char *ward_json_path_index(char *buf, size_t size, const char *path, size_t i);
