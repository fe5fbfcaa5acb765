/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "ward-test.h"
#include "ward/cleanup.h"
#include "ward/file.h"
#include "ward/json.h"

static int parse(const char *s, json_t **ret, struct ward_err *err)
{
	return ward_json_parse(s, strlen(s), WARD_JSON_MAX_SIZE_DEFAULT, ret, err);
}

/* "[[[inner]]]" with depth levels; malloc'ed. */
static char *nested_arrays_with(size_t depth, const char *inner)
{
	size_t n = strlen(inner);
	char *s = malloc(2 * depth + n + 1);

	if (!s)
		abort();
	memset(s, '[', depth);
	memcpy(s + depth, inner, n);
	memset(s + depth + n, ']', depth);
	s[2 * depth + n] = '\0';
	return s;
}

static char *nested_arrays(size_t depth)
{
	return nested_arrays_with(depth, "");
}

WARD_TEST(parse_ok)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOJSON json_t *j = NULL;

	CHECK_OK(parse("{\"a\": [1, 2.5, \"x\", true, null], \"b\": {}}", &j, &err), &err);
	CHECK(json_is_object(j));
	CHECK_INT(json_array_size(json_object_get(j, "a")), ==, 5);
	json_decref(WARD_TAKE_PTR(j));
	/* any single value is a document (RFC 8259) */
	CHECK_OK(parse("\"text\"", &j, &err), &err);
	CHECK_STR(json_string_value(j), "text");
	json_decref(WARD_TAKE_PTR(j));
	CHECK_OK(parse(" \n\t42 \n", &j, &err), &err);
	CHECK_INT(json_integer_value(j), ==, 42);
}

WARD_TEST(parse_size_edges)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOJSON json_t *j = NULL;
	const char *doc = "{\"k\":\"v\"}";
	size_t n = strlen(doc);

	/* size 0: nothing to parse */
	CHECK_ERR(ward_json_parse("", 0, 10, &j, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "1:0");
	CHECK_MSG(&err, "end of file");
	CHECK_ERR(ward_json_parse(NULL, 0, 10, &j, &err), -WARD_E_MALFORMED);
	CHECK(!j);
	/* size 1 */
	CHECK_OK(ward_json_parse("7", 1, 1, &j, &err), &err);
	CHECK_INT(json_integer_value(j), ==, 7);
	json_decref(WARD_TAKE_PTR(j));
	CHECK_ERR(ward_json_parse("{", 1, 1, &j, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "1:1");
	/* exactly max, and max + 1 */
	CHECK_OK(ward_json_parse(doc, n, n, &j, &err), &err);
	json_decref(WARD_TAKE_PTR(j));
	CHECK_ERR(ward_json_parse(doc, n, n - 1, &j, &err), -WARD_E_TOO_BIG);
	CHECK_MSG(&err, "9 bytes exceeds the limit of 8 bytes");
	CHECK(!j);
	/* the size is respected: no NUL terminator needed, bytes after ignored */
	CHECK_OK(ward_json_parse("[1]garbage", 3, 3, &j, &err), &err);
	CHECK_INT(json_array_size(j), ==, 1);
	json_decref(WARD_TAKE_PTR(j));
	CHECK_ERR(ward_json_parse(NULL, 3, 10, &j, &err), -WARD_E_USAGE);
}

WARD_TEST(parse_rejects_duplicate_keys)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOJSON json_t *j = NULL;

	CHECK_ERR(parse("{\"a\":1,\"a\":2}", &j, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "duplicate object key");
	CHECK_MSG(&err, "1:10");
	CHECK_ERR(parse("{\"o\":{\"x\":1,\n\"x\":1}}", &j, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "2:3");
	CHECK(!j);
	/* same key in different objects is fine */
	CHECK_OK(parse("{\"a\":{\"a\":1},\"b\":{\"a\":2}}", &j, &err), &err);
}

WARD_TEST(parse_rejects_trailing_data)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOJSON json_t *j = NULL;

	CHECK_ERR(parse("{} x", &j, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "end of file expected");
	CHECK_MSG(&err, "1:4");
	CHECK_ERR(parse("{}{}", &j, &err), -WARD_E_MALFORMED);
	CHECK_ERR(parse("1 2", &j, &err), -WARD_E_MALFORMED);
	/* a raw NUL byte after the value is trailing data, too */
	CHECK_ERR(ward_json_parse("{}\0", 3, 3, &j, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "end of file expected");
	CHECK(!j);
}

WARD_TEST(parse_rejects_nul)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOJSON json_t *j = NULL;

	CHECK_ERR(parse("\"a\\u0000b\"", &j, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "\\u0000 is not allowed");
	CHECK_ERR(parse("{\"k\\u0000\":1}", &j, &err), -WARD_E_MALFORMED);
	CHECK_ERR(ward_json_parse("\"a\0b\"", 5, 5, &j, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "control character");
	CHECK(!j);
}

WARD_TEST(parse_rejects_bad_syntax)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOJSON json_t *j = NULL;

	CHECK_ERR(parse("{\n  \"a\": tru}", &j, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "2:10");
	CHECK_MSG(&err, "invalid token");
	CHECK_ERR(parse("\"\xff\"", &j, &err), -WARD_E_MALFORMED); /* invalid UTF-8 */
	CHECK_MSG(&err, "0xff");
	CHECK_ERR(parse("[1,]", &j, &err), -WARD_E_MALFORMED);
	CHECK_ERR(parse("{'a':1}", &j, &err), -WARD_E_MALFORMED);
	CHECK_ERR(parse("99999999999999999999", &j, &err), -WARD_E_MALFORMED);
	CHECK(!j);
}

WARD_TEST(parse_depth_limit)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOJSON json_t *j = NULL;
	WARD_AUTOFREE char *ok = nested_arrays(WARD_JSON_MAX_DEPTH);
	WARD_AUTOFREE char *deep = nested_arrays(WARD_JSON_MAX_DEPTH + 1);
	WARD_AUTOFREE char *very = nested_arrays(3000);
	char obj[16 * (WARD_JSON_MAX_DEPTH + 2)];
	size_t o = 0;

	CHECK_OK(parse(ok, &j, &err), &err);
	json_decref(WARD_TAKE_PTR(j));
	CHECK_ERR(parse(deep, &j, &err), -WARD_E_TOO_BIG);
	CHECK_MSG(&err, "nesting deeper than 64 levels");
	CHECK_MSG(&err, "$[0][0][0]");
	/* beyond jansson's own parser limit */
	CHECK_ERR(parse(very, &j, &err), -WARD_E_TOO_BIG);
	CHECK_MSG(&err, "maximum parsing depth");
	/* objects count too, and the path names where */
	for (int i = 0; i < WARD_JSON_MAX_DEPTH + 1; i++)
		o += (size_t)snprintf(obj + o, sizeof(obj) - o, "{\"k\":");
	o += (size_t)snprintf(obj + o, sizeof(obj) - o, "1");
	for (int i = 0; i < WARD_JSON_MAX_DEPTH + 1; i++)
		obj[o++] = '}';
	obj[o] = '\0';
	CHECK_ERR(parse(obj, &j, &err), -WARD_E_TOO_BIG);
	CHECK_MSG(&err, "$.k.k.k");
	/* scalars add no level; an empty container does */
	free(ok);
	ok = nested_arrays_with(WARD_JSON_MAX_DEPTH, "1,\"s\",null");
	CHECK_OK(parse(ok, &j, &err), &err);
	json_decref(WARD_TAKE_PTR(j));
	free(deep);
	deep = nested_arrays_with(WARD_JSON_MAX_DEPTH, "1,{}");
	CHECK_ERR(parse(deep, &j, &err), -WARD_E_TOO_BIG);
	CHECK_MSG(&err, "nesting deeper than 64 levels");
}

WARD_TEST(load_file)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOJSON json_t *j = NULL;
	char dir[] = "/tmp/ward-test-json-XXXXXX", path[128];

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/a.json", dir);
	CHECK_OK(ward_file_write_atomic(path, "{\"a\":1}", 7, 0600, &err), &err);
	CHECK_OK(ward_json_load_file(path, 7, &j, &err), &err);
	CHECK_INT(json_integer_value(json_object_get(j, "a")), ==, 1);
	json_decref(WARD_TAKE_PTR(j));
	CHECK_ERR(ward_json_load_file(path, 6, &j, &err), -WARD_E_TOO_BIG);
	CHECK_OK(ward_file_write_atomic(path, "{\"a\":1,}", 8, 0600, &err), &err);
	CHECK_ERR(ward_json_load_file(path, 100, &j, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, path);
	CHECK_MSG(&err, "1:8");
	CHECK(unlink(path) == 0);
	CHECK_ERR(ward_json_load_file(path, 100, &j, &err), -ENOENT);
	CHECK_MSG(&err, path);
	CHECK(!j);
	CHECK(rmdir(dir) == 0);
}

WARD_TEST(dump)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOJSON json_t *j = NULL;
	WARD_AUTOFREE char *s = NULL;
	WARD_AUTOFREE char *p = NULL;
	WARD_AUTOJSON json_t *scalar = json_string("a/b");

	CHECK_OK(parse("{\"z\": 1, \"a\": [true, {\"y\": null, \"b\": \"\\u00e9\"}]}", &j, &err),
		 &err);
	CHECK_OK(ward_json_dump(j, &s, &err), &err);
	CHECK_STR(s, "{\"a\":[true,{\"b\":\"\xc3\xa9\",\"y\":null}],\"z\":1}");
	CHECK_OK(ward_json_dump_pretty(j, &p, &err), &err);
	CHECK_STR(p, "{\n  \"a\": [\n    true,\n    {\n      \"b\": \"\xc3\xa9\",\n      \"y\": "
		     "null\n    }\n  ],\n  \"z\": 1\n}\n");
	free(WARD_TAKE_PTR(s));
	CHECK_OK(ward_json_dump(scalar, &s, &err), &err);
	CHECK_STR(s, "\"a/b\"");
	CHECK_ERR(ward_json_dump(NULL, &s, &err), -WARD_E_USAGE);
	CHECK_ERR(ward_json_dump_pretty(NULL, &s, &err), -WARD_E_USAGE);
}

WARD_TEST(type_name)
{
	WARD_AUTOJSON json_t *j = NULL;
	struct ward_err err = WARD_ERR_INIT;
	static const char *const names[] = {"object", "array", "string", "integer",
					    "real",   "true",  "false",	 "null"};

	CHECK_OK(parse("[{}, [], \"s\", 1, 1.5, true, false, null]", &j, &err), &err);
	for (size_t i = 0; i < 8; i++)
		CHECK_STR(ward_json_type_name(json_array_get(j, i)), names[i]);
	CHECK_STR(ward_json_type_name(NULL), "nothing");
}

WARD_TEST(path_helpers)
{
	char buf[32];

	CHECK_STR(ward_json_path_key(buf, sizeof(buf), "$", "name"), "$.name");
	CHECK_STR(ward_json_path_index(buf, sizeof(buf), "$.packages", 2), "$.packages[2]");
	/* keys that are not plain names are quoted and escaped */
	CHECK_STR(ward_json_path_key(buf, sizeof(buf), "$", "a b\n\"c"), "$[\"a b\\x0a\\x22c\"]");
	CHECK_STR(ward_json_path_key(buf, sizeof(buf), "$", ""), "$[\"\"]");
	/* truncation stays NUL-terminated */
	CHECK_STR(ward_json_path_key(buf, 8, "$.abcdef", "g"), "$.abcde");
	CHECK_STR(ward_json_path_index(buf, 5, "$.abc", 7), "$.ab");
	CHECK(strlen(ward_json_path_key(buf, 6, "$", "\x01\x02\x03")) < 6);
}

WARD_TEST(check_keys)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOJSON json_t *j = NULL;
	static const char *const allowed[] = {"a", "b", NULL};
	static const char *const none[] = {NULL};

	CHECK_OK(parse("{\"a\":1,\"b\":{\"c\":2}}", &j, &err), &err);
	CHECK_OK(ward_json_check_keys(j, "$", allowed, &err), &err);
	CHECK_ERR(ward_json_check_keys(json_object_get(j, "b"), "$.b", allowed, &err),
		  -WARD_E_MALFORMED);
	CHECK_STR(err.msg, "$.b.c: unknown key");
	CHECK_ERR(ward_json_check_keys(json_object_get(j, "a"), "$.a", allowed, &err),
		  -WARD_E_MALFORMED);
	CHECK_STR(err.msg, "$.a: expected object, got integer");
	CHECK_ERR(ward_json_check_keys(j, "$", none, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "unknown key");
	json_decref(WARD_TAKE_PTR(j));
	CHECK_OK(parse("{}", &j, &err), &err);
	CHECK_OK(ward_json_check_keys(j, "$", none, &err), &err);
	json_decref(WARD_TAKE_PTR(j));
	CHECK_OK(parse("{\"a\":1,\"evil\\u001b[31m\":1}", &j, &err), &err);
	CHECK_ERR(ward_json_check_keys(j, "$", allowed, &err), -WARD_E_MALFORMED);
	CHECK_STR(err.msg, "$[\"evil\\x1b[31m\"]: unknown key");
}

WARD_TEST(get_string)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOJSON json_t *j = NULL;
	WARD_AUTOJSON json_t *built = json_object();
	const char *s = "unchanged";

	CHECK_OK(parse("{\"packages\":[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":7}]}", &j, &err),
		 &err);
	json_t *pkgs = json_object_get(j, "packages");
	CHECK_OK(
	    ward_json_get_string(json_array_get(pkgs, 1), "$.packages[1]", "name", true, &s, &err),
	    &err);
	CHECK_STR(s, "b");
	CHECK_ERR(
	    ward_json_get_string(json_array_get(pkgs, 2), "$.packages[2]", "name", true, &s, &err),
	    -WARD_E_MALFORMED);
	CHECK_STR(err.msg, "$.packages[2].name: expected string, got integer");
	CHECK_ERR(ward_json_get_string(j, "$", "x", true, &s, &err), -WARD_E_MALFORMED);
	CHECK_STR(err.msg, "$.x: missing");
	CHECK_OK(ward_json_get_string(j, "$", "x", false, &s, &err), &err);
	CHECK_STR(s, "b"); /* absent and optional: unchanged */
	CHECK_ERR(ward_json_get_string(pkgs, "$.packages", "x", false, &s, &err),
		  -WARD_E_MALFORMED);
	CHECK_STR(err.msg, "$.packages: expected object, got array");
	CHECK_ERR(ward_json_get_string(NULL, "$", "x", false, &s, &err), -WARD_E_MALFORMED);
	/* a value built in memory with an embedded NUL is refused */
	CHECK(built && json_object_set_new(built, "k", json_stringn("a\0b", 3)) == 0);
	CHECK_ERR(ward_json_get_string(built, "$", "k", true, &s, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "$.k: string contains a NUL byte");
}

WARD_TEST(get_int)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOJSON json_t *j = NULL;
	int64_t n = -1;

	CHECK_OK(parse("{\"n\":300,\"r\":1.0,\"s\":\"1\",\"min\":-9223372036854775808}", &j, &err),
		 &err);
	CHECK_OK(ward_json_get_int(j, "$", "n", true, 300, 300, &n, &err), &err);
	CHECK_INT(n, ==, 300);
	CHECK_OK(ward_json_get_int(j, "$", "n", true, 0, 300, &n, &err), &err);
	n = -1;
	CHECK_ERR(ward_json_get_int(j, "$", "n", true, 0, 255, &n, &err), -WARD_E_MALFORMED);
	CHECK_STR(err.msg, "$.n: 300 is out of range [0, 255]");
	CHECK_ERR(ward_json_get_int(j, "$", "n", true, 301, 400, &n, &err), -WARD_E_MALFORMED);
	CHECK_INT(n, ==, -1);
	CHECK_ERR(ward_json_get_int(j, "$", "r", true, 0, 9, &n, &err), -WARD_E_MALFORMED);
	CHECK_STR(err.msg, "$.r: expected integer, got real");
	CHECK_ERR(ward_json_get_int(j, "$", "s", true, 0, 9, &n, &err), -WARD_E_MALFORMED);
	CHECK_STR(err.msg, "$.s: expected integer, got string");
	CHECK_ERR(ward_json_get_int(j, "$", "x", true, 0, 9, &n, &err), -WARD_E_MALFORMED);
	CHECK_STR(err.msg, "$.x: missing");
	CHECK_OK(ward_json_get_int(j, "$", "x", false, 0, 9, &n, &err), &err);
	CHECK_INT(n, ==, -1);
	CHECK_OK(ward_json_get_int(j, "$", "min", true, INT64_MIN, 0, &n, &err), &err);
	CHECK(n == INT64_MIN);
	CHECK_ERR(ward_json_get_int(json_object_get(j, "s"), "$.s", "x", true, 0, 9, &n, &err),
		  -WARD_E_MALFORMED);
	CHECK_STR(err.msg, "$.s: expected object, got string");
}

WARD_TEST(get_bool)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOJSON json_t *j = NULL;
	bool b = true;

	CHECK_OK(parse("{\"f\":false,\"t\":true,\"n\":null,\"i\":0}", &j, &err), &err);
	CHECK_OK(ward_json_get_bool(j, "$", "f", true, &b, &err), &err);
	CHECK(!b);
	CHECK_OK(ward_json_get_bool(j, "$", "t", true, &b, &err), &err);
	CHECK(b);
	CHECK_ERR(ward_json_get_bool(j, "$", "n", true, &b, &err), -WARD_E_MALFORMED);
	CHECK_STR(err.msg, "$.n: expected boolean, got null");
	CHECK_ERR(ward_json_get_bool(j, "$", "i", false, &b, &err), -WARD_E_MALFORMED);
	CHECK_STR(err.msg, "$.i: expected boolean, got integer");
	CHECK_ERR(ward_json_get_bool(j, "$", "x", true, &b, &err), -WARD_E_MALFORMED);
	CHECK_STR(err.msg, "$.x: missing");
	CHECK_OK(ward_json_get_bool(j, "$", "x", false, &b, &err), &err);
	CHECK(b);
	CHECK_ERR(ward_json_get_bool(json_object_get(j, "i"), "$.i", "x", false, &b, &err),
		  -WARD_E_MALFORMED);
}

WARD_TEST(get_object_and_array)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOJSON json_t *j = NULL;
	json_t *o = NULL, *a = NULL;

	CHECK_OK(parse("{\"o\":{\"k\":1},\"a\":[1,2,3],\"e\":[]}", &j, &err), &err);
	CHECK_OK(ward_json_get_object(j, "$", "o", true, &o, &err), &err);
	CHECK(o == json_object_get(j, "o"));
	CHECK_ERR(ward_json_get_object(j, "$", "a", true, &o, &err), -WARD_E_MALFORMED);
	CHECK_STR(err.msg, "$.a: expected object, got array");
	CHECK_ERR(ward_json_get_object(j, "$", "x", true, &o, &err), -WARD_E_MALFORMED);
	CHECK_STR(err.msg, "$.x: missing");
	CHECK_OK(ward_json_get_object(j, "$", "x", false, &o, &err), &err);
	CHECK(o == json_object_get(j, "o"));
	CHECK_ERR(ward_json_get_object(json_object_get(j, "a"), "$.a", "x", false, &o, &err),
		  -WARD_E_MALFORMED);

	CHECK_OK(ward_json_get_array(j, "$", "a", true, 3, &a, &err), &err);
	CHECK_INT(json_array_size(a), ==, 3);
	a = NULL;
	CHECK_ERR(ward_json_get_array(j, "$", "a", true, 2, &a, &err), -WARD_E_TOO_BIG);
	CHECK_STR(err.msg, "$.a: 3 elements exceed the limit of 2");
	CHECK(!a);
	CHECK_OK(ward_json_get_array(j, "$", "e", true, 0, &a, &err), &err);
	CHECK_INT(json_array_size(a), ==, 0);
	CHECK_ERR(ward_json_get_array(j, "$", "o", true, 9, &a, &err), -WARD_E_MALFORMED);
	CHECK_STR(err.msg, "$.o: expected array, got object");
	CHECK_ERR(ward_json_get_array(j, "$", "x", true, 9, &a, &err), -WARD_E_MALFORMED);
	CHECK_STR(err.msg, "$.x: missing");
	CHECK_OK(ward_json_get_array(j, "$", "x", false, 9, &a, &err), &err);
	CHECK_ERR(ward_json_get_array(a, "$.e", "x", false, 9, &a, &err), -WARD_E_MALFORMED);
}

WARD_TEST(get_hex_fixed)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOJSON json_t *j = NULL;
	uint8_t out[4] = {9, 9, 9, 9};
	static const uint8_t want[4] = {0xde, 0xad, 0xBE, 0xef};
	static const uint8_t nines[4] = {9, 9, 9, 9};

	CHECK_OK(parse("{\"h\":\"deadBEEF\",\"short\":\"dead\",\"bad\":\"deadbeeg\",\"e\":\"\","
		       "\"n\":1}",
		       &j, &err),
		 &err);
	CHECK_ERR(ward_json_get_hex_fixed(j, "$", "short", true, out, 4, &err), -WARD_E_MALFORMED);
	CHECK_STR(err.msg, "$.short: expected 8 hex digits (4 bytes), got 4 characters");
	CHECK_ERR(ward_json_get_hex_fixed(j, "$", "bad", true, out, 4, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "$.bad: ");
	CHECK_MEM(out, nines, 4); /* untouched on failure */
	CHECK_ERR(ward_json_get_hex_fixed(j, "$", "n", true, out, 4, &err), -WARD_E_MALFORMED);
	CHECK_STR(err.msg, "$.n: expected string, got integer");
	CHECK_ERR(ward_json_get_hex_fixed(j, "$", "x", true, out, 4, &err), -WARD_E_MALFORMED);
	CHECK_STR(err.msg, "$.x: missing");
	CHECK_OK(ward_json_get_hex_fixed(j, "$", "x", false, out, 4, &err), &err);
	CHECK_MEM(out, nines, 4);
	CHECK_OK(ward_json_get_hex_fixed(j, "$", "h", true, out, 4, &err), &err);
	CHECK_MEM(out, want, 4);
	CHECK_OK(ward_json_get_hex_fixed(j, "$", "e", true, out, 0, &err), &err);
	CHECK_ERR(ward_json_get_hex_fixed(j, "$", "h", true, out, 3, &err), -WARD_E_MALFORMED);
	CHECK_ERR(ward_json_get_hex_fixed(json_object_get(j, "n"), "$.n", "h", true, out, 4, &err),
		  -WARD_E_MALFORMED);
}

WARD_TEST(get_b64url)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOJSON json_t *j = NULL;
	WARD_AUTOFREE uint8_t *out = NULL;
	size_t n = 99;

	CHECK_OK(parse("{\"v\":\"Zm9vYmE\",\"pad\":\"Zm9vYmE=\",\"std\":\"+/8\",\"e\":\"\","
		       "\"n\":[]}",
		       &j, &err),
		 &err);
	/* exactly the limit, and one byte over */
	CHECK_OK(ward_json_get_b64url(j, "$", "v", true, 5, &out, &n, &err), &err);
	CHECK_INT(n, ==, 5);
	CHECK_MEM(out, "fooba", 5);
	free(WARD_TAKE_PTR(out));
	CHECK_ERR(ward_json_get_b64url(j, "$", "v", true, 4, &out, &n, &err), -WARD_E_TOO_BIG);
	CHECK_STR(err.msg, "$.v: 5 bytes exceed the limit of 4 bytes");
	CHECK(!out);
	CHECK_ERR(ward_json_get_b64url(j, "$", "v", true, 1, &out, &n, &err), -WARD_E_TOO_BIG);
	CHECK_STR(err.msg, "$.v: base64url value of 7 characters exceeds the limit of 1 bytes");
	/* padding is malformed, not too big, even right at the limit */
	CHECK_ERR(ward_json_get_b64url(j, "$", "pad", true, 5, &out, &n, &err), -WARD_E_MALFORMED);
	CHECK_OK(ward_json_get_b64url(j, "$", "e", true, 0, &out, &n, &err), &err);
	CHECK_INT(n, ==, 0);
	free(WARD_TAKE_PTR(out));
	CHECK_ERR(ward_json_get_b64url(j, "$", "pad", true, 100, &out, &n, &err),
		  -WARD_E_MALFORMED);
	CHECK_MSG(&err, "$.pad: ");
	CHECK_ERR(ward_json_get_b64url(j, "$", "std", true, 100, &out, &n, &err),
		  -WARD_E_MALFORMED);
	CHECK_MSG(&err, "$.std: ");
	CHECK_ERR(ward_json_get_b64url(j, "$", "n", true, 100, &out, &n, &err), -WARD_E_MALFORMED);
	CHECK_STR(err.msg, "$.n: expected string, got array");
	CHECK_ERR(ward_json_get_b64url(j, "$", "x", true, 100, &out, &n, &err), -WARD_E_MALFORMED);
	CHECK_STR(err.msg, "$.x: missing");
	n = 99;
	CHECK_OK(ward_json_get_b64url(j, "$", "x", false, 100, &out, &n, &err), &err);
	CHECK(!out);
	CHECK_INT(n, ==, 99);
	CHECK_OK(ward_json_get_b64url(j, "$", "v", true, SIZE_MAX, &out, &n, &err), &err);
	CHECK_ERR(
	    ward_json_get_b64url(json_object_get(j, "n"), "$.n", "v", true, 9, &out, &n, &err),
	    -WARD_E_MALFORMED);
}

WARD_TEST_MAIN()
