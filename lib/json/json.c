/* SPDX-License-Identifier: Apache-2.0 */
#include "ward/json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ward/cleanup.h"
#include "ward/encoding.h"
#include "ward/file.h"

/* Room for a JSON path in messages; longer paths are truncated. */
#define JSON_PATH_MAX 160

/* Append "<key>" / "[i]" to the path kept in buf (length *len) for the
 * depth walk; returns the previous length so the caller can restore it. */
static size_t path_push_key(char *buf, size_t *len, const char *key)
{
	size_t old = *len;
	char tmp[JSON_PATH_MAX];

	buf[old] = '\0';
	(void)ward_json_path_key(tmp, sizeof(tmp), buf, key);
	*len = strlen(tmp);
	memcpy(buf, tmp, *len + 1);
	return old;
}

static size_t path_push_index(char *buf, size_t *len, size_t i)
{
	size_t old = *len;
	char tmp[JSON_PATH_MAX];

	buf[old] = '\0';
	(void)ward_json_path_index(tmp, sizeof(tmp), buf, i);
	*len = strlen(tmp);
	memcpy(buf, tmp, *len + 1);
	return old;
}

/* Containers nest at most WARD_JSON_MAX_DEPTH levels (the root container
 * is level 1; scalars add none). The recursion is bounded by that limit. */
static int check_depth(const json_t *j, unsigned depth, char *path, size_t *path_len,
		       struct ward_err *err)
{
	const char *key;
	json_t *v;
	size_t i;
	int r;

	if (!json_is_object(j) && !json_is_array(j))
		return 0;
	if (depth + 1 > WARD_JSON_MAX_DEPTH)
		return ward_err_set(err, -WARD_E_TOO_BIG, "JSON %s: nesting deeper than %d levels",
				    path, WARD_JSON_MAX_DEPTH);
	if (json_is_object(j)) {
		json_object_foreach((json_t *)j, key, v)
		{
			size_t old = path_push_key(path, path_len, key);

			r = check_depth(v, depth + 1, path, path_len, err);
			if (r < 0)
				return r;
			*path_len = old;
			path[old] = '\0';
		}
	} else {
		json_array_foreach(j, i, v)
		{
			size_t old = path_push_index(path, path_len, i);

			r = check_depth(v, depth + 1, path, path_len, err);
			if (r < 0)
				return r;
			*path_len = old;
			path[old] = '\0';
		}
	}
	return 0;
}

int ward_json_parse(const void *buf, size_t size, size_t max_size, json_t **ret,
		    struct ward_err *err)
{
	WARD_AUTOJSON json_t *j = NULL;
	char path[JSON_PATH_MAX] = "$";
	size_t path_len = 1;
	json_error_t jerr;
	int r;

	if (!buf && size > 0)
		return ward_err_set(err, -WARD_E_USAGE, "JSON: NULL buffer of %zu bytes", size);
	if (size > max_size)
		return ward_err_set(err, -WARD_E_TOO_BIG,
				    "JSON document of %zu bytes exceeds the limit of %zu bytes",
				    size, max_size);
	/* No JSON_DISABLE_EOF_CHECK: trailing data is an error. No JSON_ALLOW_NUL:
	 * "\u0000" is an error. JSON_DECODE_ANY: any single value (RFC 8259). */
	j = json_loadb(buf ? buf : "", size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!j) {
		enum json_error_code code = json_error_code(&jerr);

		if (code == json_error_out_of_memory)
			return ward_err_set(err, -ENOMEM, "JSON: out of memory");
		return ward_err_set(
		    err, code == json_error_stack_overflow ? -WARD_E_TOO_BIG : -WARD_E_MALFORMED,
		    "JSON %d:%d: %s", jerr.line, jerr.column, jerr.text);
	}
	r = check_depth(j, 0, path, &path_len, err);
	if (r < 0)
		return r;
	*ret = WARD_TAKE_PTR(j);
	return 0;
}

int ward_json_load_file(const char *path, size_t max_size, json_t **ret, struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *raw = NULL;
	size_t raw_size;
	int r;

	r = ward_file_read(path, max_size, &raw, &raw_size, err);
	if (r < 0)
		return r; /* ward_file_read names the path */
	r = ward_json_parse(raw, raw_size, max_size, ret, err);
	if (r < 0)
		return ward_err_prefix(err, "%s", path);
	return 0;
}

static int dump(const json_t *j, size_t flags, bool newline, char **ret, struct ward_err *err)
{
	char *s, *t;
	size_t n;

	if (!j)
		return ward_err_set(err, -WARD_E_USAGE, "JSON dump: NULL value");
	s = json_dumps(j, flags | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (!s)
		return ward_err_set(err, -ENOMEM, "JSON dump failed (out of memory)");
	if (newline) {
		n = strlen(s);
		t = realloc(s, n + 2);
		if (!t) {
			free(s);
			return ward_err_set(err, -ENOMEM, "JSON dump failed (out of memory)");
		}
		t[n] = '\n';
		t[n + 1] = '\0';
		s = t;
	}
	*ret = s;
	return 0;
}

int ward_json_dump(const json_t *j, char **ret, struct ward_err *err)
{
	return dump(j, JSON_COMPACT, false, ret, err);
}

int ward_json_dump_pretty(const json_t *j, char **ret, struct ward_err *err)
{
	return dump(j, JSON_INDENT(2), true, ret, err);
}

const char *ward_json_type_name(const json_t *j)
{
	if (!j)
		return "nothing";
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "real";
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_NULL:
		return "null";
	}
	return "unknown";
}

/* A key can be written as ".key" if it is a plain name; anything else is
 * written as ["..."] with bytes outside printable ASCII escaped, so that
 * untrusted keys cannot inject control characters into messages. */
static bool key_is_plain(const char *key)
{
	if (!*key)
		return false;
	for (const char *p = key; *p; p++) {
		char c = *p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '$' || c == '@' || c == ':'))
			return false;
	}
	return true;
}

const char *ward_json_path_key(char *buf, size_t size, const char *path, const char *key)
{
	size_t o;

	if (size == 0)
		return buf;
	if (key_is_plain(key)) {
		(void)snprintf(buf, size, "%s.%s", path, key);
		return buf;
	}
	(void)snprintf(buf, size, "%s[\"", path);
	o = strlen(buf);
	for (const unsigned char *p = (const unsigned char *)key; *p && o + 1 < size; p++) {
		if (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\') {
			buf[o++] = (char)*p;
		} else {
			if (o + 5 >= size)
				break;
			(void)snprintf(buf + o, size - o, "\\x%02x", *p);
			o += 4;
		}
	}
	buf[o] = '\0';
	if (o + 2 < size) {
		buf[o++] = '"';
		buf[o++] = ']';
		buf[o] = '\0';
	}
	return buf;
}

const char *ward_json_path_index(char *buf, size_t size, const char *path, size_t i)
{
	if (size > 0)
		(void)snprintf(buf, size, "%s[%zu]", path, i);
	return buf;
}

int ward_json_check_keys(const json_t *obj, const char *path, const char *const *allowed,
			 struct ward_err *err)
{
	char where[JSON_PATH_MAX];
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return ward_err_set(err, -WARD_E_MALFORMED, "%s: expected object, got %s", path,
				    ward_json_type_name(obj));
	json_object_foreach((json_t *)obj, key, v)
	{
		bool ok = false;

		for (const char *const *a = allowed; a && *a; a++)
			if (strcmp(*a, key) == 0) {
				ok = true;
				break;
			}
		if (!ok)
			return ward_err_set(err, -WARD_E_MALFORMED, "%s: unknown key",
					    ward_json_path_key(where, sizeof(where), path, key));
	}
	return 0;
}

/* Look up key in obj. Returns 1 with *ret set if present, 0 if absent and
 * optional, or a negative code. */
static int lookup(const json_t *obj, const char *path, const char *key, bool required, json_t **ret,
		  struct ward_err *err)
{
	char where[JSON_PATH_MAX];
	json_t *v;

	if (!json_is_object(obj))
		return ward_err_set(err, -WARD_E_MALFORMED, "%s: expected object, got %s", path,
				    ward_json_type_name(obj));
	v = json_object_get(obj, key);
	if (!v) {
		if (required)
			return ward_err_set(err, -WARD_E_MALFORMED, "%s: missing",
					    ward_json_path_key(where, sizeof(where), path, key));
		return 0;
	}
	*ret = v;
	return 1;
}

static int wrong_type(const char *path, const char *key, const char *want, const json_t *got,
		      struct ward_err *err)
{
	char where[JSON_PATH_MAX];

	return ward_err_set(err, -WARD_E_MALFORMED, "%s: expected %s, got %s",
			    ward_json_path_key(where, sizeof(where), path, key), want,
			    ward_json_type_name(got));
}

int ward_json_get_string(const json_t *obj, const char *path, const char *key, bool required,
			 const char **ret, struct ward_err *err)
{
	char where[JSON_PATH_MAX];
	json_t *v = NULL;
	int r;

	r = lookup(obj, path, key, required, &v, err);
	if (r <= 0)
		return r;
	if (!json_is_string(v))
		return wrong_type(path, key, "string", v, err);
	/* Parsed input never holds NUL (see ward_json_parse); built values might. */
	if (strlen(json_string_value(v)) != json_string_length(v))
		return ward_err_set(err, -WARD_E_MALFORMED, "%s: string contains a NUL byte",
				    ward_json_path_key(where, sizeof(where), path, key));
	*ret = json_string_value(v);
	return 0;
}

int ward_json_get_int(const json_t *obj, const char *path, const char *key, bool required,
		      int64_t min, int64_t max, int64_t *ret, struct ward_err *err)
{
	char where[JSON_PATH_MAX];
	json_t *v = NULL;
	int64_t n;
	int r;

	r = lookup(obj, path, key, required, &v, err);
	if (r <= 0)
		return r;
	if (!json_is_integer(v))
		return wrong_type(path, key, "integer", v, err);
	n = (int64_t)json_integer_value(v);
	if (n < min || n > max)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "%s: %" PRId64 " is out of range [%" PRId64 ", %" PRId64 "]",
				    ward_json_path_key(where, sizeof(where), path, key), n, min,
				    max);
	*ret = n;
	return 0;
}

int ward_json_get_bool(const json_t *obj, const char *path, const char *key, bool required,
		       bool *ret, struct ward_err *err)
{
	json_t *v = NULL;
	int r;

	r = lookup(obj, path, key, required, &v, err);
	if (r <= 0)
		return r;
	if (!json_is_boolean(v))
		return wrong_type(path, key, "boolean", v, err);
	*ret = json_is_true(v);
	return 0;
}

int ward_json_get_object(const json_t *obj, const char *path, const char *key, bool required,
			 json_t **ret, struct ward_err *err)
{
	json_t *v = NULL;
	int r;

	r = lookup(obj, path, key, required, &v, err);
	if (r <= 0)
		return r;
	if (!json_is_object(v))
		return wrong_type(path, key, "object", v, err);
	*ret = v;
	return 0;
}

int ward_json_get_array(const json_t *obj, const char *path, const char *key, bool required,
			size_t max_len, json_t **ret, struct ward_err *err)
{
	char where[JSON_PATH_MAX];
	json_t *v = NULL;
	int r;

	r = lookup(obj, path, key, required, &v, err);
	if (r <= 0)
		return r;
	if (!json_is_array(v))
		return wrong_type(path, key, "array", v, err);
	if (json_array_size(v) > max_len)
		return ward_err_set(err, -WARD_E_TOO_BIG,
				    "%s: %zu elements exceed the limit of %zu",
				    ward_json_path_key(where, sizeof(where), path, key),
				    json_array_size(v), max_len);
	*ret = v;
	return 0;
}

int ward_json_get_hex_fixed(const json_t *obj, const char *path, const char *key, bool required,
			    uint8_t *out, size_t size, struct ward_err *err)
{
	char where[JSON_PATH_MAX];
	WARD_AUTOFREE uint8_t *tmp = NULL;
	const char *s = NULL;
	size_t len;
	int r;

	r = ward_json_get_string(obj, path, key, required, &s, err);
	if (r < 0 || !s)
		return r;
	len = strlen(s);
	if (len != 2 * size)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "%s: expected %zu hex digits (%zu bytes), got %zu characters",
				    ward_json_path_key(where, sizeof(where), path, key), 2 * size,
				    size, len);
	/* Decode into a temporary so out is written only on success. */
	tmp = malloc(size ? size : 1);
	if (!tmp)
		return ward_err_set(err, -ENOMEM, "out of memory");
	r = ward_hex_decode_fixed(s, len, tmp, size, err);
	if (r < 0) {
		ward_wipe(tmp, size);
		return ward_err_prefix(err, "%s",
				       ward_json_path_key(where, sizeof(where), path, key));
	}
	memcpy(out, tmp, size);
	ward_wipe(tmp, size);
	return 0;
}

int ward_json_get_b64url(const json_t *obj, const char *path, const char *key, bool required,
			 size_t max_size, uint8_t **ret, size_t *ret_size, struct ward_err *err)
{
	char where[JSON_PATH_MAX];
	const char *s = NULL;
	uint8_t *out = NULL;
	size_t len, out_size;
	int r;

	r = ward_json_get_string(obj, path, key, required, &s, err);
	if (r < 0 || !s)
		return r;
	len = strlen(s);
	/* Never allocate for a value far over the limit; the slack of 2 lets
	 * padded input reach the decoder and be reported as malformed. */
	if (max_size < SIZE_MAX / 2 && len > ward_base64url_size(max_size) + 2)
		return ward_err_set(
		    err, -WARD_E_TOO_BIG,
		    "%s: base64url value of %zu characters exceeds the limit of %zu "
		    "bytes",
		    ward_json_path_key(where, sizeof(where), path, key), len, max_size);
	r = ward_base64url_decode(s, len, &out, &out_size, err);
	if (r < 0)
		return ward_err_prefix(err, "%s",
				       ward_json_path_key(where, sizeof(where), path, key));
	if (out_size > max_size) {
		ward_wipe(out, out_size);
		free(out);
		return ward_err_set(
		    err, -WARD_E_TOO_BIG, "%s: %zu bytes exceed the limit of %zu bytes",
		    ward_json_path_key(where, sizeof(where), path, key), out_size, max_size);
	}
	*ret = out;
	*ret_size = out_size;
	return 0;
}
