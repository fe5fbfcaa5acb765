/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "jose-internal.h"
#include "jose-test-keys.h"
#include "ward-test.h"
#include "ward/cleanup.h"
#include "ward/crypto.h"
#include "ward/encoding.h"
#include "ward/jose.h"
#include "ward/json.h"

/* ---- RFC test data ------------------------------------------------------ */

/* RFC 7515 Appendix A.3 (ES256). */
static const char a3_jwk[] = "{\"kty\":\"EC\",\"crv\":\"P-256\","
			     "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
			     "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\","
			     "\"d\":\"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI\"}";
static const char a3_jws[] =
    "eyJhbGciOiJFUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0"
    "cnVlfQ"
    ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

/* RFC 7515 Appendix A.2 (RS256): public n, e and the compact JWS. */
static const char a2_jwk[] =
    "{\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\""
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4"
    "d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5re"
    "xMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxX"
    "FvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ\"}";
static const char a2_jws[] =
    "eyJhbGciOiJSUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0"
    "cnVlfQ"
    ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2F"
    "p5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBM"
    "Hlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w"
    "9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";

/* The payload both examples sign (RFC 7515 §3.3: note the CR LF). */
static const char a_payload[] =
    "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";

/* RFC 7638 §3.1. */
static const char rfc7638_jwk[] =
    "{\"kty\":\"RSA\",\"n\":\"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK"
    "7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4Q"
    "yQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrd"
    "kt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw\","
    "\"e\":\"AQAB\",\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}";

/* RFC 7518 Appendix C: Alice's ephemeral key (public part) and Z. */
static const char c_alice_pub[] = "{\"kty\":\"EC\",\"crv\":\"P-256\","
				  "\"x\":\"gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0\","
				  "\"y\":\"SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps\"}";
static const uint8_t c_z[32] = {158, 86,  217, 29,  129, 113, 53,  211, 114, 131, 66,
				131, 191, 132, 38,  156, 251, 49,  110, 163, 218, 128,
				106, 72,  246, 218, 167, 121, 140, 254, 144, 196};

/* ---- helpers ------------------------------------------------------------ */

static json_t *parse_json(const char *s)
{
	json_t *j = NULL;

	if (ward_json_parse(s, strlen(s), WARD_JSON_MAX_SIZE_DEFAULT, &j, NULL) < 0)
		return NULL;
	return j;
}

/* Import a JWK given as JSON text; NULL on failure (err says why). */
static struct ward_pkey *jwk_key(const char *text, struct ward_err *err)
{
	WARD_AUTOJSON json_t *j = parse_json(text);
	struct ward_pkey *k = NULL;

	if (!j || ward_jwk_import(j, &k, err) < 0)
		return NULL;
	return k;
}

static struct ward_pkey *pem_key(const char *pem, struct ward_err *err)
{
	struct ward_pkey *k = NULL;

	if (ward_pkey_from_pem(pem, strlen(pem), &k, err) < 0)
		return NULL;
	return k;
}

static int jwk_import_text(const char *text, struct ward_pkey **ret, struct ward_err *err)
{
	WARD_AUTOJSON json_t *j = parse_json(text);

	if (!j)
		return -999;
	return ward_jwk_import(j, ret, err);
}

static char *b64u(const void *p, size_t n)
{
	char *s = ward_base64url_encode_alloc(p, n);

	if (!s)
		abort();
	return s;
}

static char *b64u_str(const char *s)
{
	return b64u(s, strlen(s));
}

/* A compact JWS over an arbitrary header text; key NULL gives an empty
 * signature. */
static char *make_jws(const struct ward_pkey *key, enum ward_sig_alg alg,
		      enum ward_sig_encoding enc, const char *header, const char *payload)
{
	WARD_AUTOFREE char *h = b64u_str(header);
	WARD_AUTOFREE char *p = b64u_str(payload);
	WARD_AUTOFREE char *input = NULL;
	WARD_AUTOFREE uint8_t *sig = NULL;
	WARD_AUTOFREE char *s = NULL;
	size_t sig_size = 0;
	char *out;

	if (asprintf(&input, "%s.%s", h, p) < 0)
		abort();
	if (key && ward_sign(key, alg, enc, input, strlen(input), &sig, &sig_size, NULL) < 0)
		abort();
	s = b64u(sig, sig_size);
	if (asprintf(&out, "%s.%s", input, s) < 0)
		abort();
	return out;
}

static int verify(const struct ward_pkey *key, const char *jws, struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *payload = NULL;
	size_t n;

	return ward_jws_verify_compact(key, jws, strlen(jws), &payload, &n, NULL, err);
}

/* Decode the base64url member m of j; abort on failure. */
static uint8_t *member_bytes(const json_t *j, const char *m, size_t *n)
{
	const char *s = json_string_value(json_object_get(j, m));
	uint8_t *out = NULL;

	if (!s || ward_base64url_decode(s, strlen(s), &out, n, NULL) < 0)
		abort();
	return out;
}

/* Copy of jwe with bit 0 of byte i of member m flipped. */
static json_t *jwe_flip(const json_t *jwe, const char *m, size_t i)
{
	json_t *c = json_deep_copy(jwe);
	size_t n;
	WARD_AUTOFREE uint8_t *b = member_bytes(jwe, m, &n);
	WARD_AUTOFREE char *s = NULL;

	if (!c || n == 0)
		abort();
	b[i % n] ^= 1;
	s = b64u(b, n);
	json_object_set_new(c, m, json_string(s));
	return c;
}

/* Copy of jwe whose protected header has key set to value (stolen), or
 * removed when value is NULL. */
static json_t *jwe_header(const json_t *jwe, const char *key, json_t *value)
{
	json_t *c = json_deep_copy(jwe);
	size_t n;
	WARD_AUTOFREE uint8_t *raw = member_bytes(jwe, "protected", &n);
	WARD_AUTOJSON json_t *hdr = NULL;
	WARD_AUTOFREE char *text = NULL;
	WARD_AUTOFREE char *b = NULL;

	if (!c || ward_json_parse(raw, n, 1 << 20, &hdr, NULL) < 0)
		abort();
	if (value)
		json_object_set_new(hdr, key, value);
	else
		json_object_del(hdr, key);
	if (ward_json_dump(hdr, &text, NULL) < 0)
		abort();
	b = b64u_str(text);
	json_object_set_new(c, "protected", json_string(b));
	return c;
}

static json_t *protected_header(const json_t *jwe)
{
	size_t n;
	WARD_AUTOFREE uint8_t *raw = member_bytes(jwe, "protected", &n);
	json_t *hdr = NULL;

	if (ward_json_parse(raw, n, 1 << 20, &hdr, NULL) < 0)
		abort();
	return hdr;
}

/* ---- JWK ---------------------------------------------------------------- */

WARD_TEST(jwk_import_ec_private_and_public)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *priv = jwk_key(a3_jwk, &err);
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *pub = NULL;
	WARD_AUTOJSON json_t *exp = NULL;
	WARD_AUTOJSON json_t *want = parse_json(a3_jwk);

	CHECK(priv);
	CHECK_INT(ward_pkey_type(priv), ==, WARD_KEY_EC_P256);
	CHECK(ward_pkey_is_private(priv));
	/* export gives exactly the public members, equal to the RFC's */
	CHECK_OK(ward_jwk_export_public(priv, &exp, &err), &err);
	CHECK_INT(json_object_size(exp), ==, 4);
	CHECK(json_equal(json_object_get(exp, "x"), json_object_get(want, "x")));
	CHECK(json_equal(json_object_get(exp, "y"), json_object_get(want, "y")));
	CHECK_STR(json_string_value(json_object_get(exp, "kty")), "EC");
	CHECK_STR(json_string_value(json_object_get(exp, "crv")), "P-256");
	CHECK_OK(ward_jwk_import(exp, &pub, &err), &err);
	CHECK(!ward_pkey_is_private(pub));
	CHECK(ward_pkey_public_eq(pub, priv));
}

WARD_TEST(jwk_export_round_trip_all_types)
{
	static const enum ward_key_type types[] = {WARD_KEY_EC_P256, WARD_KEY_EC_P384,
						   WARD_KEY_X25519};
	static const size_t members[] = {4, 4, 3};
	struct ward_err err = WARD_ERR_INIT;

	for (size_t i = 0; i < WARD_ARRAY_SIZE(types); i++) {
		WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *k = NULL;
		WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *back = NULL;
		WARD_AUTOJSON json_t *j = NULL;

		CHECK_OK(ward_pkey_generate(types[i], 0, &k, &err), &err);
		CHECK_OK(ward_jwk_export_public(k, &j, &err), &err);
		CHECK_INT(json_object_size(j), ==, members[i]);
		CHECK(!json_object_get(j, "d"));
		CHECK_OK(ward_jwk_import(j, &back, &err), &err);
		CHECK_INT(ward_pkey_type(back), ==, types[i]);
		CHECK(ward_pkey_public_eq(k, back));
	}
	{
		WARD_CLEANUP(ward_pkey_freep)
		struct ward_pkey *k = pem_key(jose_test_rsa_pem, &err);
		WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *back = NULL;
		WARD_AUTOJSON json_t *j = NULL;

		CHECK(k);
		CHECK_OK(ward_jwk_export_public(k, &j, &err), &err);
		CHECK_INT(json_object_size(j), ==, 3);
		CHECK_STR(json_string_value(json_object_get(j, "e")), "AQAB");
		CHECK_OK(ward_jwk_import(j, &back, &err), &err);
		CHECK_INT(ward_pkey_type(back), ==, WARD_KEY_RSA);
		CHECK(ward_pkey_public_eq(k, back));
	}
	CHECK_ERR(ward_jwk_export_public(NULL, NULL, &err), -WARD_E_USAGE);
}

WARD_TEST(jwk_import_errors)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_pkey *k = NULL;
	WARD_AUTOJSON json_t *arr = parse_json("[]");

	CHECK_ERR(ward_jwk_import(arr, &k, &err), -WARD_E_MALFORMED);
	CHECK_STR(err.msg, "JWK: $: expected object, got array");
	CHECK_ERR(jwk_import_text("{\"crv\":\"P-256\"}", &k, &err), -WARD_E_MALFORMED);
	CHECK_STR(err.msg, "JWK: $.kty: missing");
	CHECK_ERR(jwk_import_text("{\"kty\":\"oct\",\"k\":\"AAAA\"}", &k, &err),
		  -WARD_E_UNSUPPORTED);
	CHECK_STR(err.msg, "JWK: $.kty: key type 'oct' is not supported");
	CHECK_ERR(
	    jwk_import_text("{\"kty\":\"EC\",\"crv\":\"P-521\",\"x\":\"\",\"y\":\"\"}", &k, &err),
	    -WARD_E_UNSUPPORTED);
	CHECK_MSG(&err, "curve 'P-521' is not supported");
	CHECK_ERR(jwk_import_text("{\"kty\":\"EC\",\"x\":\"\",\"y\":\"\"}", &k, &err),
		  -WARD_E_MALFORMED);
	CHECK_MSG(&err, "$.crv: missing");
	/* wrong coordinate sizes */
	CHECK_ERR(jwk_import_text("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAA\","
				  "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}",
				  &k, &err),
		  -WARD_E_MALFORMED);
	CHECK_MSG(&err, "must be 32 bytes, got x 3 and y 32");
	CHECK_ERR(jwk_import_text("{\"kty\":\"EC\",\"crv\":\"P-256\","
				  "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\"}",
				  &k, &err),
		  -WARD_E_MALFORMED);
	CHECK_MSG(&err, "$.y: missing");
	/* not on the curve (y changed) */
	CHECK(jwk_import_text("{\"kty\":\"EC\",\"crv\":\"P-256\","
			      "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
			      "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a1\"}",
			      &k, &err) < 0);
	CHECK(!k);
	/* padded / standard-alphabet base64 is not base64url */
	CHECK_ERR(jwk_import_text("{\"kty\":\"EC\",\"crv\":\"P-256\","
				  "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU=\","
				  "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}",
				  &k, &err),
		  -WARD_E_MALFORMED);
	CHECK_MSG(&err, "$.x");
	/* d that does not belong to x, y (RFC 7518 App. C Bob's d) */
	CHECK_ERR(jwk_import_text("{\"kty\":\"EC\",\"crv\":\"P-256\","
				  "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
				  "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\","
				  "\"d\":\"VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw\"}",
				  &k, &err),
		  -WARD_E_MALFORMED);
	CHECK_MSG(&err, "$.d: private key does not match x and y");
	CHECK_ERR(jwk_import_text("{\"kty\":\"EC\",\"crv\":\"P-256\","
				  "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
				  "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\","
				  "\"d\":\"AAAA\"}",
				  &k, &err),
		  -WARD_E_MALFORMED);
	CHECK_MSG(&err, "$.d: must be 32 bytes, got 3");
	/* RSA */
	CHECK_ERR(jwk_import_text("{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\",\"d\":\"AQAB\"}",
				  &k, &err),
		  -WARD_E_UNSUPPORTED);
	CHECK_MSG(&err, "$.d: RSA private keys are not supported");
	CHECK_ERR(jwk_import_text("{\"kty\":\"RSA\",\"e\":\"AQAB\"}", &k, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "$.n: missing");
	CHECK_ERR(jwk_import_text("{\"kty\":\"RSA\",\"n\":\"\",\"e\":\"AQAB\"}", &k, &err),
		  -WARD_E_MALFORMED);
	CHECK_MSG(&err, "empty RSA modulus");
	CHECK_ERR(
	    jwk_import_text("{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQABAQABAQAB\"}", &k, &err),
	    -WARD_E_TOO_BIG);
	/* a 1024-bit modulus is refused by lib/crypto (minimum 2048) */
	CHECK(
	    jwk_import_text("{\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"6k56sOSRmpQVVEv_WYhOj5PGBMF2f-"
			    "VGjFMmH-oC1R1X38_B2bmmZnkg0J_x"
			    "GUMtvPNG7wrIK5J0MyO0Hj8qm8xMYK9n3oFFCs_Bom5lTnM2MtOL3Wo4qYxTcxJe41tmTn"
			    "7nd92qyA8VyaeRyz6nFiXvzJayPls2MtrRtZ-VJJs\"}",
			    &k, &err) < 0);
	CHECK(!k);
	/* OKP */
	CHECK_ERR(jwk_import_text("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"}", &k, &err),
		  -WARD_E_UNSUPPORTED);
	CHECK_MSG(&err, "OKP curve 'Ed25519' is not supported");
	CHECK_ERR(jwk_import_text("{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AAAA\"}", &k, &err),
		  -WARD_E_MALFORMED);
	CHECK_MSG(&err, "$.x: must be 32 bytes, got 3");
	CHECK_ERR(
	    jwk_import_text("{\"kty\":\"OKP\",\"crv\":\"X25519\","
			    "\"x\":\"3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08\",\"d\":\"\"}",
			    &k, &err),
	    -WARD_E_UNSUPPORTED);
	CHECK_ERR(jwk_import_text("{\"kty\":\"OKP\",\"x\":\"AAAA\"}", &k, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "$.crv: missing");
	/* a control character in a value is not copied into the message */
	CHECK_ERR(jwk_import_text("{\"kty\":\"a\\u001bb\"}", &k, &err), -WARD_E_UNSUPPORTED);
	CHECK_MSG(&err, "'a?b'");
	CHECK(!k);
}

WARD_TEST(jwk_import_x25519_rfc8037)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *k = NULL;
	uint8_t raw[32], want[32];

	/* RFC 8037 Appendix A.6: Bob's X25519 public key */
	CHECK_OK(jwk_import_text("{\"kty\":\"OKP\",\"crv\":\"X25519\",\"kid\":\"Bob\","
				 "\"x\":\"3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08\"}",
				 &k, &err),
		 &err);
	CHECK_INT(ward_pkey_type(k), ==, WARD_KEY_X25519);
	CHECK_OK(ward_pkey_x25519_raw(k, raw, &err), &err);
	ward_test_unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", want,
			32);
	CHECK_MEM(raw, want, 32);
}

WARD_TEST(thumbprint_rfc7638)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *k = jwk_key(rfc7638_jwk, &err);
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *ec = jwk_key(a3_jwk, &err);
	uint8_t tp[32], want[32];
	char b64[64];
	static const char ec_canon[] = "{\"crv\":\"P-256\",\"kty\":\"EC\","
				       "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
				       "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}";

	CHECK(k);
	CHECK_OK(ward_jwk_thumbprint(k, tp, &err), &err);
	ward_base64url_encode(tp, 32, b64);
	CHECK_STR(b64, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
	/* EC: required members crv, kty, x, y in that order, no whitespace,
	 * and the private part makes no difference */
	CHECK(ec);
	CHECK_OK(ward_jwk_thumbprint(ec, tp, &err), &err);
	CHECK_OK(ward_hash(WARD_HASH_SHA256, ec_canon, strlen(ec_canon), want, &err), &err);
	CHECK_MEM(tp, want, 32);
	CHECK(ward_jwk_thumbprint(NULL, tp, &err) < 0);
}

WARD_TEST(thumbprint_x25519)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *k = NULL;
	static const char canon[] = "{\"crv\":\"X25519\",\"kty\":\"OKP\","
				    "\"x\":\"3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08\"}";
	uint8_t tp[32], want[32];

	CHECK_OK(jwk_import_text("{\"x\":\"3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08\","
				 "\"kty\":\"OKP\",\"crv\":\"X25519\"}",
				 &k, &err),
		 &err);
	CHECK_OK(ward_jwk_thumbprint(k, tp, &err), &err);
	CHECK_OK(ward_hash(WARD_HASH_SHA256, canon, strlen(canon), want, &err), &err);
	CHECK_MEM(tp, want, 32);
}

/* RFC 7518 Appendix C: Bob's private JWK and Alice's public JWK agree on Z. */
WARD_TEST(ecdh_rfc7518_appendix_c)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *bob = jwk_key(jose_test_p256_jwk, &err);
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *alice = jwk_key(c_alice_pub, &err);
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *z = NULL;
	uint8_t key[16];
	char b64[32];

	CHECK(bob && alice);
	CHECK_OK(ward_ecdh(bob, alice, &z, &err), &err);
	CHECK_INT(z->size, ==, 32);
	CHECK_MEM(z->data, c_z, 32);
	CHECK_OK(ward_jose_concat_kdf(z->data, z->size, "A128GCM", (const uint8_t *)"Alice", 5,
				      (const uint8_t *)"Bob", 3, key, sizeof(key), &err),
		 &err);
	ward_base64url_encode(key, sizeof(key), b64);
	CHECK_STR(b64, "VqqN6vgjbSBcIijNcacQGg");
}

/* ---- JWS ---------------------------------------------------------------- */

WARD_TEST(jws_alg_names)
{
	CHECK_STR(ward_jws_alg_name(WARD_JWS_ES256), "ES256");
	CHECK_STR(ward_jws_alg_name(WARD_JWS_ES384), "ES384");
	CHECK_STR(ward_jws_alg_name(WARD_JWS_RS256), "RS256");
	CHECK_STR(ward_jws_alg_name((enum ward_jws_alg)99), "unknown");
	CHECK_STR(ward_jwe_alg_name(WARD_JWE_ECDH_ES_A256KW), "ECDH-ES+A256KW");
	CHECK_STR(ward_jwe_alg_name(WARD_JWE_ECDH_ES), "ECDH-ES");
	CHECK_STR(ward_jwe_alg_name(WARD_JWE_RSA_OAEP), "RSA-OAEP");
	CHECK_STR(ward_jwe_alg_name(WARD_JWE_RSA_OAEP_256), "RSA-OAEP-256");
	CHECK_STR(ward_jwe_alg_name((enum ward_jwe_alg)99), "unknown");
}

WARD_TEST(jws_rfc7515_a3_es256)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *key = jwk_key(a3_jwk, &err);
	WARD_AUTOFREE uint8_t *payload = NULL;
	WARD_AUTOJSON json_t *hdr = NULL;
	WARD_AUTOFREE char *bad = strdup(a3_jws);
	size_t n, len = strlen(a3_jws);

	CHECK(key && bad);
	CHECK_OK(ward_jws_verify_compact(key, a3_jws, len, &payload, &n, &hdr, &err), &err);
	CHECK_INT(n, ==, strlen(a_payload));
	CHECK_MEM(payload, a_payload, n);
	CHECK_STR(json_string_value(json_object_get(hdr, "alg")), "ES256");
	/* a changed signature character ('D' -> 'E', in r) */
	bad[len - 86] ^= 0x01;
	CHECK_ERR(verify(key, bad, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "JWS ES256 signature");
	/* a flipped payload bit */
	strcpy(bad, a3_jws);
	bad[30] ^= 0x01;
	CHECK_ERR(verify(key, bad, &err), -WARD_E_VERIFY);
	/* truncated at every offset: never accepted */
	for (size_t i = 0; i < len; i++) {
		WARD_AUTOFREE uint8_t *p = NULL;

		CHECK(ward_jws_verify_compact(key, a3_jws, i, &p, &n, NULL, &err) < 0);
		CHECK(!p);
	}
}

WARD_TEST(jws_rfc7515_a2_rs256)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *key = jwk_key(a2_jwk, &err);
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *ec = jwk_key(a3_jwk, &err);
	WARD_AUTOFREE uint8_t *payload = NULL;
	WARD_AUTOFREE char *bad = strdup(a2_jws);
	size_t n, len = strlen(a2_jws);

	CHECK(key && ec && bad);
	CHECK_OK(ward_jws_verify_compact(key, a2_jws, len, &payload, &n, NULL, &err), &err);
	CHECK_INT(n, ==, strlen(a_payload));
	CHECK_MEM(payload, a_payload, n);
	bad[len - 10] ^= 0x01;
	CHECK_ERR(verify(key, bad, &err), -WARD_E_VERIFY);
	/* an RS256 JWS never verifies with an EC key, nor ES256 with RSA */
	CHECK_ERR(verify(ec, a2_jws, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "JWS alg RS256 does not match the P-256 key");
	CHECK_ERR(verify(key, a3_jws, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "JWS alg ES256 does not match the RSA key");
}

WARD_TEST(jws_sign_verify_round_trip)
{
	static const enum ward_jws_alg algs[] = {WARD_JWS_ES256, WARD_JWS_ES384, WARD_JWS_RS256};
	struct ward_err err = WARD_ERR_INIT;
	struct ward_pkey *keys[3] = {NULL, NULL, NULL};
	WARD_AUTOJSON json_t *extra = parse_json("{\"kid\":\"k1\",\"nonce\":\"abc\"}");

	CHECK_OK(ward_pkey_generate(WARD_KEY_EC_P256, 0, &keys[0], &err), &err);
	CHECK_OK(ward_pkey_generate(WARD_KEY_EC_P384, 0, &keys[1], &err), &err);
	keys[2] = pem_key(jose_test_rsa_pem, &err);
	CHECK(keys[2]);
	for (size_t i = 0; i < 3; i++) {
		for (size_t size = 0; size <= 2; size++) {
			WARD_AUTOFREE char *jws = NULL;
			WARD_AUTOFREE uint8_t *payload = NULL;
			WARD_AUTOJSON json_t *hdr = NULL;
			size_t n;

			CHECK_OK(ward_jws_sign_compact(keys[i], algs[i], size ? "JWT" : NULL,
						       size == 2 ? extra : NULL, "hello", size * 2,
						       &jws, &err),
				 &err);
			CHECK_OK(ward_jws_verify_compact(keys[i], jws, strlen(jws), &payload, &n,
							 &hdr, &err),
				 &err);
			CHECK_INT(n, ==, size * 2);
			CHECK_MEM(payload, "hello", n);
			CHECK_STR(json_string_value(json_object_get(hdr, "alg")),
				  ward_jws_alg_name(algs[i]));
			if (size)
				CHECK_STR(json_string_value(json_object_get(hdr, "typ")), "JWT");
			else
				CHECK(!json_object_get(hdr, "typ"));
			if (size == 2)
				CHECK_STR(json_string_value(json_object_get(hdr, "kid")), "k1");
			/* another key of the same type does not verify it */
			if (i == 0)
				CHECK_ERR(verify(keys[1], jws, &err), -WARD_E_VERIFY);
		}
	}
	{
		WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *other = NULL;
		WARD_AUTOFREE char *jws = NULL;

		CHECK_OK(ward_pkey_generate(WARD_KEY_EC_P256, 0, &other, &err), &err);
		CHECK_OK(
		    ward_jws_sign_compact(keys[0], WARD_JWS_ES256, NULL, NULL, "x", 1, &jws, &err),
		    &err);
		CHECK_ERR(verify(other, jws, &err), -WARD_E_VERIFY);
	}
	for (size_t i = 0; i < 3; i++)
		ward_pkey_free(keys[i]);
}

WARD_TEST(jws_sign_errors)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *key = jwk_key(a3_jwk, &err);
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *pub = jwk_key(c_alice_pub, &err);
	WARD_AUTOJSON json_t *with_alg = parse_json("{\"alg\":\"none\"}");
	WARD_AUTOJSON json_t *with_crit = parse_json("{\"crit\":[\"b64\"]}");
	WARD_AUTOJSON json_t *arr = parse_json("[]");
	char *jws = NULL;

	CHECK(key && pub);
	CHECK_ERR(ward_jws_sign_compact(key, WARD_JWS_RS256, NULL, NULL, "x", 1, &jws, &err),
		  -WARD_E_USAGE);
	CHECK_MSG(&err, "RS256 needs a RSA key, got P-256");
	CHECK_ERR(ward_jws_sign_compact(key, WARD_JWS_ES384, NULL, NULL, "x", 1, &jws, &err),
		  -WARD_E_USAGE);
	CHECK_ERR(ward_jws_sign_compact(key, WARD_JWS_ES256, NULL, with_alg, "x", 1, &jws, &err),
		  -WARD_E_USAGE);
	CHECK_ERR(ward_jws_sign_compact(key, WARD_JWS_ES256, NULL, with_crit, "x", 1, &jws, &err),
		  -WARD_E_USAGE);
	CHECK_ERR(ward_jws_sign_compact(key, WARD_JWS_ES256, NULL, arr, "x", 1, &jws, &err),
		  -WARD_E_USAGE);
	CHECK_ERR(ward_jws_sign_compact(key, (enum ward_jws_alg)7, NULL, NULL, "x", 1, &jws, &err),
		  -WARD_E_USAGE);
	CHECK_ERR(ward_jws_sign_compact(key, WARD_JWS_ES256, NULL, NULL, NULL, 1, &jws, &err),
		  -WARD_E_USAGE);
	CHECK_ERR(ward_jws_sign_compact(key, WARD_JWS_ES256, NULL, NULL, "x",
					(size_t)WARD_JOSE_MAX_SIZE + 1, &jws, &err),
		  -WARD_E_TOO_BIG);
	/* a public key cannot sign */
	CHECK(ward_jws_sign_compact(pub, WARD_JWS_ES256, NULL, NULL, "x", 1, &jws, &err) < 0);
	CHECK(!jws);
}

WARD_TEST(jws_rejects_disallowed_algs_and_crit)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *key = jwk_key(a3_jwk, &err);
	WARD_AUTOFREE char *none = make_jws(NULL, 0, 0, "{\"alg\":\"none\"}", "{}");
	WARD_AUTOFREE char *hs =
	    make_jws(NULL, 0, 0, "{\"alg\":\"HS256\"}", "{}"); /* any MAC is refused */
	WARD_AUTOFREE char *ps = make_jws(NULL, 0, 0, "{\"alg\":\"PS256\"}", "{}");
	WARD_AUTOFREE char *es512 = make_jws(NULL, 0, 0, "{\"alg\":\"ES512\"}", "{}");
	WARD_AUTOFREE char *crit =
	    make_jws(key, WARD_SIG_ECDSA_SHA256, WARD_SIG_RAW_BE,
		     "{\"alg\":\"ES256\",\"crit\":[\"exp\"],\"exp\":1}", "{}");
	WARD_AUTOFREE char *ok =
	    make_jws(key, WARD_SIG_ECDSA_SHA256, WARD_SIG_RAW_BE, "{\"alg\":\"ES256\"}", "{}");
	WARD_AUTOFREE char *der =
	    make_jws(key, WARD_SIG_ECDSA_SHA256, WARD_SIG_DER, "{\"alg\":\"ES256\"}", "{}");
	WARD_AUTOFREE char *noalg =
	    make_jws(key, WARD_SIG_ECDSA_SHA256, WARD_SIG_RAW_BE, "{\"typ\":\"JWT\"}", "{}");
	WARD_AUTOFREE char *numalg =
	    make_jws(key, WARD_SIG_ECDSA_SHA256, WARD_SIG_RAW_BE, "{\"alg\":256}", "{}");
	WARD_AUTOFREE char *arrhdr =
	    make_jws(key, WARD_SIG_ECDSA_SHA256, WARD_SIG_RAW_BE, "[\"ES256\"]", "{}");
	WARD_AUTOFREE char *duphdr = make_jws(key, WARD_SIG_ECDSA_SHA256, WARD_SIG_RAW_BE,
					      "{\"alg\":\"ES256\",\"alg\":\"none\"}", "{}");

	CHECK(key);
	CHECK_OK(verify(key, ok, &err), &err);
	CHECK_ERR(verify(key, none, &err), -WARD_E_UNSUPPORTED);
	CHECK_STR(err.msg, "JWS alg 'none' is not allowed");
	CHECK_ERR(verify(key, hs, &err), -WARD_E_UNSUPPORTED);
	CHECK_MSG(&err, "'HS256'");
	CHECK_ERR(verify(key, ps, &err), -WARD_E_UNSUPPORTED);
	CHECK_ERR(verify(key, es512, &err), -WARD_E_UNSUPPORTED);
	CHECK_ERR(verify(key, crit, &err), -WARD_E_UNSUPPORTED);
	CHECK_MSG(&err, "'crit'");
	/* JWS ECDSA signatures are raw r||s, not DER */
	CHECK_ERR(verify(key, der, &err), -WARD_E_VERIFY);
	CHECK_ERR(verify(key, noalg, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "$.alg: missing");
	CHECK_ERR(verify(key, numalg, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "$.alg: expected string, got integer");
	CHECK_ERR(verify(key, arrhdr, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "expected object, got array");
	CHECK_ERR(verify(key, duphdr, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "duplicate");
}

WARD_TEST(jws_rejects_bad_syntax)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *key = jwk_key(a3_jwk, &err);
	WARD_AUTOFREE char *s = NULL;
	WARD_AUTOFREE uint8_t *p = NULL;
	size_t n;

	CHECK(key);
	CHECK_ERR(verify(key, "", &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "expected 3 dot-separated parts, got 1");
	CHECK_ERR(verify(key, "a.b", &err), -WARD_E_MALFORMED);
	CHECK_ERR(verify(key, "a.b.c.d", &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "more than 3");
	CHECK_ERR(verify(key, "..", &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "protected header: empty");
	/* padding, the standard alphabet, whitespace: not base64url */
	CHECK(asprintf(&s, "%s=", a3_jws) > 0);
	CHECK_ERR(verify(key, s, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "JWS signature");
	free(WARD_TAKE_PTR(s));
	CHECK(asprintf(&s, "eyJhbGciOiJFUzI1NiJ9=%s", strchr(a3_jws, '.')) > 0);
	CHECK_ERR(verify(key, s, &err), -WARD_E_MALFORMED);
	free(WARD_TAKE_PTR(s));
	s = strdup(a3_jws);
	CHECK(s);
	*strchr(s, '-') = '+';
	CHECK_ERR(verify(key, s, &err), -WARD_E_MALFORMED);
	free(WARD_TAKE_PTR(s));
	CHECK(asprintf(&s, " %s", a3_jws) > 0);
	CHECK_ERR(verify(key, s, &err), -WARD_E_MALFORMED);
	/* a NUL inside the given size */
	s[0] = '\0';
	CHECK_ERR(ward_jws_verify_compact(key, s, strlen(a3_jws) + 1, &p, &n, NULL, &err),
		  -WARD_E_MALFORMED);
	/* header that is not JSON */
	free(WARD_TAKE_PTR(s));
	CHECK(asprintf(&s, "bm90IGpzb24%s", strchr(a3_jws, '.')) > 0);
	CHECK_ERR(verify(key, s, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "JWS protected header: JSON 1:");
	/* size limit */
	CHECK_ERR(ward_jws_verify_compact(key, a3_jws, (size_t)WARD_JOSE_MAX_SIZE + 1, &p, &n, NULL,
					  &err),
		  -WARD_E_TOO_BIG);
	CHECK_ERR(ward_jws_verify_compact(NULL, a3_jws, strlen(a3_jws), &p, &n, NULL, &err),
		  -WARD_E_USAGE);
	CHECK(!p);
}

/* ---- JWE ---------------------------------------------------------------- */

struct jwe_case {
	enum ward_jwe_alg alg;
	struct ward_pkey *key; /* private */
};

/* Keys for every JWE algorithm: fixed RSA and X25519 test keys, RFC 7518
 * Bob's P-256 key, a fresh P-384 key. */
static size_t jwe_cases(struct jwe_case *c, struct ward_err *err)
{
	struct ward_pkey *p256 = jwk_key(jose_test_p256_jwk, err), *p384 = NULL;
	struct ward_pkey *x25519 = pem_key(jose_test_x25519_pem, err);
	struct ward_pkey *rsa = pem_key(jose_test_rsa_pem, err);
	size_t n = 0;

	if (!p256 || !x25519 || !rsa || ward_pkey_generate(WARD_KEY_EC_P384, 0, &p384, err) < 0)
		abort();
	c[n++] = (struct jwe_case){WARD_JWE_ECDH_ES_A256KW, p256};
	c[n++] = (struct jwe_case){WARD_JWE_ECDH_ES_A256KW, p384};
	c[n++] = (struct jwe_case){WARD_JWE_ECDH_ES_A256KW, x25519};
	c[n++] = (struct jwe_case){WARD_JWE_ECDH_ES, ward_pkey_ref(p256)};
	c[n++] = (struct jwe_case){WARD_JWE_ECDH_ES, ward_pkey_ref(p384)};
	c[n++] = (struct jwe_case){WARD_JWE_ECDH_ES, ward_pkey_ref(x25519)};
	c[n++] = (struct jwe_case){WARD_JWE_RSA_OAEP, rsa};
	c[n++] = (struct jwe_case){WARD_JWE_RSA_OAEP_256, ward_pkey_ref(rsa)};
	return n;
}

static void jwe_cases_free(struct jwe_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ward_pkey_free(c[i].key);
}

/* Public-only copy of a key via its JWK. */
static struct ward_pkey *public_of(const struct ward_pkey *k)
{
	WARD_AUTOJSON json_t *j = NULL;
	struct ward_pkey *pub = NULL;

	if (ward_jwk_export_public(k, &j, NULL) < 0 || ward_jwk_import(j, &pub, NULL) < 0)
		abort();
	return pub;
}

WARD_TEST(jwe_round_trip_every_alg)
{
	struct ward_err err = WARD_ERR_INIT;
	struct jwe_case cases[8];
	size_t count = jwe_cases(cases, &err);
	static const char msg[] = "the quick brown fox jumps over the lazy dog";

	for (size_t i = 0; i < count; i++) {
		WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *pub = public_of(cases[i].key);

		for (size_t size = 0; size < sizeof(msg); size += 21) {
			WARD_AUTOJSON json_t *jwe = NULL;
			WARD_AUTOJSON json_t *hdr = NULL;
			WARD_CLEANUP(ward_secret_freep) struct ward_secret *pt = NULL;
			WARD_AUTOFREE char *compact = NULL;
			WARD_CLEANUP(ward_secret_freep) struct ward_secret *pt2 = NULL;

			CHECK_OK(ward_jwe_encrypt(pub, cases[i].alg, msg, size, &jwe, &err), &err);
			hdr = protected_header(jwe);
			CHECK_STR(json_string_value(json_object_get(hdr, "alg")),
				  ward_jwe_alg_name(cases[i].alg));
			CHECK_STR(json_string_value(json_object_get(hdr, "enc")), "A256GCM");
			CHECK(!json_object_get(hdr, "epk") ==
			      (cases[i].alg == WARD_JWE_RSA_OAEP ||
			       cases[i].alg == WARD_JWE_RSA_OAEP_256));
			/* direct key agreement has no encrypted_key (RFC 7516 §7.2.1) */
			CHECK(!json_object_get(jwe, "encrypted_key") ==
			      (cases[i].alg == WARD_JWE_ECDH_ES));
			CHECK_OK(ward_jwe_decrypt(cases[i].key, jwe, &pt, &err), &err);
			CHECK_INT(pt->size, ==, size);
			CHECK_MEM(pt->data, msg, size);

			CHECK_OK(
			    ward_jwe_encrypt_compact(pub, cases[i].alg, msg, size, &compact, &err),
			    &err);
			CHECK_OK(ward_jwe_decrypt_compact(cases[i].key, compact, strlen(compact),
							  &pt2, &err),
				 &err);
			CHECK_INT(pt2->size, ==, size);
			CHECK_MEM(pt2->data, msg, size);
		}
	}
	jwe_cases_free(cases, count);
}

/* ward_jwe_encrypt_text() gives canonical JSON (parsing and dumping it
 * again is the identity) that decrypts, for every algorithm; its protected
 * header is canonical too, with an epk that is a public JWK on the
 * recipient's curve. */
WARD_TEST(jwe_encrypt_text_every_alg)
{
	struct ward_err err = WARD_ERR_INIT;
	struct jwe_case cases[8];
	size_t count = jwe_cases(cases, &err);
	static const char msg[] = "text form";

	for (size_t i = 0; i < count; i++) {
		WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *pub = public_of(cases[i].key);
		WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *epk = NULL;
		WARD_CLEANUP(ward_secret_freep) struct ward_secret *pt = NULL;
		WARD_AUTOFREE char *text = NULL;
		WARD_AUTOFREE char *again = NULL;
		WARD_AUTOFREE char *hdr_again = NULL;
		WARD_AUTOFREE uint8_t *raw = NULL;
		WARD_AUTOJSON json_t *jwe = NULL;
		WARD_AUTOJSON json_t *hdr = NULL;
		json_t *epk_json;
		size_t n;

		CHECK_OK(ward_jwe_encrypt_text(pub, cases[i].alg, msg, sizeof(msg), &text, &err),
			 &err);
		CHECK_OK(ward_json_parse(text, strlen(text), 1 << 20, &jwe, &err), &err);
		CHECK_OK(ward_json_dump(jwe, &again, &err), &err);
		CHECK_STR(again, text);
		CHECK(!json_object_get(jwe, "encrypted_key") == (cases[i].alg == WARD_JWE_ECDH_ES));
		CHECK_OK(ward_jwe_decrypt(cases[i].key, jwe, &pt, &err), &err);
		CHECK_INT(pt->size, ==, sizeof(msg));
		CHECK_MEM(pt->data, msg, sizeof(msg));

		raw = member_bytes(jwe, "protected", &n);
		CHECK_OK(ward_json_parse(raw, n, 1 << 20, &hdr, &err), &err);
		CHECK_OK(ward_json_dump(hdr, &hdr_again, &err), &err);
		CHECK_INT(strlen(hdr_again), ==, n);
		CHECK_MEM(hdr_again, raw, n);
		epk_json = json_object_get(hdr, "epk");
		if (cases[i].alg == WARD_JWE_RSA_OAEP || cases[i].alg == WARD_JWE_RSA_OAEP_256) {
			CHECK(!epk_json);
			continue;
		}
		CHECK_OK(ward_jwk_import(epk_json, &epk, &err), &err);
		CHECK_INT(ward_pkey_type(epk), ==, ward_pkey_type(pub));
	}
	CHECK_ERR(ward_jwe_encrypt_text(NULL, WARD_JWE_ECDH_ES, msg, 1, &(char *){NULL}, &err),
		  -WARD_E_USAGE);
	CHECK_MSG(&err, "JWE encrypt: invalid arguments");
	CHECK_ERR(
	    ward_jwe_encrypt_text(cases[6].key, WARD_JWE_ECDH_ES, msg, 1, &(char *){NULL}, &err),
	    -WARD_E_USAGE);
	CHECK_MSG(&err, "cannot encrypt to a RSA key");
	jwe_cases_free(cases, count);
}

WARD_TEST(jwe_tampering_fails_verify)
{
	struct ward_err err = WARD_ERR_INIT;
	struct jwe_case cases[8];
	size_t count = jwe_cases(cases, &err);

	for (size_t i = 0; i < count; i++) {
		WARD_AUTOJSON json_t *jwe = NULL;
		struct ward_secret *pt = NULL;
		json_t *bad[7] = {NULL};
		size_t nbad = 0;

		CHECK_OK(ward_jwe_encrypt(cases[i].key, cases[i].alg, "secret", 6, &jwe, &err),
			 &err);
		/* header changed (still valid and parseable): the AAD no longer matches */
		bad[nbad++] = jwe_header(jwe, "kid", json_string("x"));
		bad[nbad++] = jwe_flip(jwe, "ciphertext", 0);
		bad[nbad++] = jwe_flip(jwe, "ciphertext", 5);
		bad[nbad++] = jwe_flip(jwe, "tag", 15);
		bad[nbad++] = jwe_flip(jwe, "iv", 3);
		if (cases[i].alg != WARD_JWE_ECDH_ES)
			bad[nbad++] = jwe_flip(jwe, "encrypted_key", 7);
		bad[nbad] = json_deep_copy(jwe);
		json_object_set_new(bad[nbad++], "aad", json_string("eHl6"));
		for (size_t b = 0; b < nbad; b++) {
			CHECK_ERR(ward_jwe_decrypt(cases[i].key, bad[b], &pt, &err),
				  -WARD_E_VERIFY);
			CHECK(!pt);
			json_decref(bad[b]);
		}
		CHECK_OK(ward_jwe_decrypt(cases[i].key, jwe, &pt, &err), &err);
		pt = ward_secret_free(pt);
	}
	jwe_cases_free(cases, count);
}

WARD_TEST(jwe_epk_changed_fails)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *key = jwk_key(jose_test_p256_jwk, &err);
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *other = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *p384 = NULL;
	WARD_AUTOJSON json_t *jwe = NULL;
	WARD_AUTOJSON json_t *epk = NULL;
	WARD_AUTOJSON json_t *epk384 = NULL;
	struct ward_secret *pt = NULL;

	CHECK(key);
	CHECK_OK(ward_pkey_generate(WARD_KEY_EC_P256, 0, &other, &err), &err);
	CHECK_OK(ward_pkey_generate(WARD_KEY_EC_P384, 0, &p384, &err), &err);
	CHECK_OK(ward_jwk_export_public(other, &epk, &err), &err);
	CHECK_OK(ward_jwk_export_public(p384, &epk384, &err), &err);
	for (int alg = WARD_JWE_ECDH_ES_A256KW; alg <= WARD_JWE_ECDH_ES; alg++) {
		WARD_AUTOJSON json_t *b1 = NULL;
		WARD_AUTOJSON json_t *b2 = NULL;
		WARD_AUTOJSON json_t *b3 = NULL;
		WARD_AUTOJSON json_t *b4 = NULL;
		WARD_AUTOJSON json_t *withd = NULL;

		json_decref(WARD_TAKE_PTR(jwe));
		CHECK_OK(ward_jwe_encrypt(key, (enum ward_jwe_alg)alg, "s", 1, &jwe, &err), &err);
		/* another valid point: a different Z, so unwrap or the tag fails */
		b1 = jwe_header(jwe, "epk", json_incref(epk));
		CHECK_ERR(ward_jwe_decrypt(key, b1, &pt, &err), -WARD_E_VERIFY);
		/* a point on another curve than the recipient's */
		b2 = jwe_header(jwe, "epk", json_incref(epk384));
		CHECK_ERR(ward_jwe_decrypt(key, b2, &pt, &err), -WARD_E_VERIFY);
		CHECK_MSG(&err, "$.epk: P-384 key does not match the recipient's P-256 key");
		/* an epk carrying a private key, no epk, a non-object epk */
		withd = parse_json(jose_test_p256_jwk);
		b3 = jwe_header(jwe, "epk", WARD_TAKE_PTR(withd));
		CHECK_ERR(ward_jwe_decrypt(key, b3, &pt, &err), -WARD_E_MALFORMED);
		CHECK_MSG(&err, "$.epk.d: a private key is not allowed here");
		b4 = jwe_header(jwe, "epk", NULL);
		CHECK_ERR(ward_jwe_decrypt(key, b4, &pt, &err), -WARD_E_MALFORMED);
		CHECK_MSG(&err, "$.epk: missing");
		json_decref(b4);
		b4 = jwe_header(jwe, "epk", json_string("x"));
		CHECK_ERR(ward_jwe_decrypt(key, b4, &pt, &err), -WARD_E_MALFORMED);
		CHECK_MSG(&err, "$.epk: expected object, got string");
		json_decref(b4);
		/* apu / apv are bound into the key derivation */
		b4 = jwe_header(jwe, "apu", json_string("QWxpY2U"));
		CHECK_ERR(ward_jwe_decrypt(key, b4, &pt, &err), -WARD_E_VERIFY);
		json_decref(b4);
		b4 = jwe_header(jwe, "apv", json_string("Qm9i="));
		CHECK_ERR(ward_jwe_decrypt(key, b4, &pt, &err), -WARD_E_MALFORMED);
		CHECK_MSG(&err, "$.apv");
		json_decref(b4);
		b4 = NULL;
		CHECK(!pt);
	}
}

WARD_TEST(jwe_rejects_unsupported)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *rsa = pem_key(jose_test_rsa_pem, &err);
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *ec = jwk_key(jose_test_p256_jwk, &err);
	WARD_AUTOJSON json_t *jwe = NULL;
	struct ward_secret *pt = NULL;
	static const char *const bad_algs[] = {"dir",  "A256KW",      "RSA1_5", "ECDH-ES+A128KW",
					       "none", "RSA-OAEP-384"};
	static const char *const bad_encs[] = {"A128GCM", "A256CBC-HS512", "A192GCM", ""};

	CHECK(rsa && ec);
	CHECK_OK(ward_jwe_encrypt(rsa, WARD_JWE_RSA_OAEP_256, "s", 1, &jwe, &err), &err);
	for (size_t i = 0; i < WARD_ARRAY_SIZE(bad_algs); i++) {
		WARD_AUTOJSON json_t *b = jwe_header(jwe, "alg", json_string(bad_algs[i]));
		char want[64];

		CHECK_ERR(ward_jwe_decrypt(rsa, b, &pt, &err), -WARD_E_UNSUPPORTED);
		snprintf(want, sizeof(want), "alg '%s' is not supported", bad_algs[i]);
		CHECK_MSG(&err, want);
	}
	for (size_t i = 0; i < WARD_ARRAY_SIZE(bad_encs); i++) {
		WARD_AUTOJSON json_t *b = jwe_header(jwe, "enc", json_string(bad_encs[i]));
		char want[64];

		CHECK_ERR(ward_jwe_decrypt(rsa, b, &pt, &err), -WARD_E_UNSUPPORTED);
		snprintf(want, sizeof(want), "enc '%s' is not supported", bad_encs[i]);
		CHECK_MSG(&err, want);
	}
	{
		WARD_AUTOJSON json_t *zip = jwe_header(jwe, "zip", json_string("DEF"));
		WARD_AUTOJSON json_t *crit = jwe_header(jwe, "crit", json_pack("[s]", "x"));
		WARD_AUTOJSON json_t *noalg = jwe_header(jwe, "alg", NULL);
		WARD_AUTOJSON json_t *noenc = jwe_header(jwe, "enc", NULL);
		WARD_AUTOJSON json_t *numalg = jwe_header(jwe, "alg", json_integer(1));

		CHECK_ERR(ward_jwe_decrypt(rsa, zip, &pt, &err), -WARD_E_UNSUPPORTED);
		CHECK_MSG(&err, "'zip'");
		CHECK_ERR(ward_jwe_decrypt(rsa, crit, &pt, &err), -WARD_E_UNSUPPORTED);
		CHECK_MSG(&err, "'crit'");
		CHECK_ERR(ward_jwe_decrypt(rsa, noalg, &pt, &err), -WARD_E_MALFORMED);
		CHECK_MSG(&err, "$.alg: missing");
		CHECK_ERR(ward_jwe_decrypt(rsa, noenc, &pt, &err), -WARD_E_MALFORMED);
		CHECK_MSG(&err, "$.enc: missing");
		CHECK_ERR(ward_jwe_decrypt(rsa, numalg, &pt, &err), -WARD_E_MALFORMED);
		CHECK_MSG(&err, "$.alg: expected string, got integer");
	}
	/* the wrong kind of key, and a public key */
	CHECK_ERR(ward_jwe_decrypt(ec, jwe, &pt, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "alg RSA-OAEP-256 cannot be decrypted with a P-256 key");
	{
		WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *pub = public_of(rsa);
		WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *other = NULL;
		WARD_AUTOJSON json_t *ecjwe = NULL;

		CHECK_ERR(ward_jwe_decrypt(pub, jwe, &pt, &err), -WARD_E_USAGE);
		CHECK_MSG(&err, "private key");
		CHECK_OK(ward_jwe_encrypt(ec, WARD_JWE_ECDH_ES_A256KW, "s", 1, &ecjwe, &err), &err);
		CHECK_ERR(ward_jwe_decrypt(rsa, ecjwe, &pt, &err), -WARD_E_VERIFY);
		CHECK_MSG(&err, "cannot be decrypted with a RSA key");
		/* another key of the right type */
		CHECK_OK(ward_pkey_generate(WARD_KEY_EC_P256, 0, &other, &err), &err);
		CHECK_ERR(ward_jwe_decrypt(other, ecjwe, &pt, &err), -WARD_E_VERIFY);
	}
	/* encrypting to the wrong key type */
	{
		WARD_AUTOJSON json_t *out = NULL;
		char *c = NULL;

		CHECK_ERR(ward_jwe_encrypt(ec, WARD_JWE_RSA_OAEP, "s", 1, &out, &err),
			  -WARD_E_USAGE);
		CHECK_MSG(&err, "alg RSA-OAEP cannot encrypt to a P-256 key");
		CHECK_ERR(ward_jwe_encrypt(rsa, WARD_JWE_ECDH_ES, "s", 1, &out, &err),
			  -WARD_E_USAGE);
		CHECK_ERR(ward_jwe_encrypt_compact(rsa, WARD_JWE_ECDH_ES_A256KW, "s", 1, &c, &err),
			  -WARD_E_USAGE);
		CHECK_ERR(ward_jwe_encrypt(rsa, (enum ward_jwe_alg)9, "s", 1, &out, &err),
			  -WARD_E_USAGE);
		CHECK_ERR(ward_jwe_encrypt(rsa, WARD_JWE_RSA_OAEP, NULL, 1, &out, &err),
			  -WARD_E_USAGE);
		CHECK_ERR(ward_jwe_encrypt(rsa, WARD_JWE_RSA_OAEP, "s",
					   (size_t)WARD_JOSE_MAX_SIZE + 1, &out, &err),
			  -WARD_E_TOO_BIG);
		CHECK(!out && !c);
	}
	CHECK(!pt);
}

WARD_TEST(jwe_rejects_bad_structure)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *rsa = pem_key(jose_test_rsa_pem, &err);
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *ec = jwk_key(jose_test_p256_jwk, &err);
	WARD_AUTOJSON json_t *jwe = NULL;
	WARD_AUTOJSON json_t *direct = NULL;
	WARD_AUTOJSON json_t *arr = parse_json("[]");
	struct ward_secret *pt = NULL;

	CHECK(rsa && ec);
	CHECK_OK(ward_jwe_encrypt(rsa, WARD_JWE_RSA_OAEP, "abc", 3, &jwe, &err), &err);
	CHECK_OK(ward_jwe_encrypt(ec, WARD_JWE_ECDH_ES, "abc", 3, &direct, &err), &err);
	CHECK_ERR(ward_jwe_decrypt(rsa, arr, &pt, &err), -WARD_E_MALFORMED);
	CHECK_STR(err.msg, "JWE: expected object, got array");
	{
		WARD_AUTOJSON json_t *b = json_deep_copy(jwe);

		json_object_set_new(b, "recipients", json_array());
		CHECK_ERR(ward_jwe_decrypt(rsa, b, &pt, &err), -WARD_E_UNSUPPORTED);
		CHECK_MSG(&err, "recipients");
		json_object_del(b, "recipients");
		json_object_set_new(b, "header", json_object());
		CHECK_ERR(ward_jwe_decrypt(rsa, b, &pt, &err), -WARD_E_UNSUPPORTED);
		json_object_del(b, "header");
		json_object_set_new(b, "unprotected", json_object());
		CHECK_ERR(ward_jwe_decrypt(rsa, b, &pt, &err), -WARD_E_UNSUPPORTED);
		json_object_del(b, "unprotected");
		json_object_set_new(b, "extra", json_true());
		CHECK_ERR(ward_jwe_decrypt(rsa, b, &pt, &err), -WARD_E_MALFORMED);
		CHECK_STR(err.msg, "JWE: $.extra: unknown key");
	}
	static const char *const required[] = {"protected", "iv", "ciphertext", "tag"};
	for (size_t i = 0; i < WARD_ARRAY_SIZE(required); i++) {
		WARD_AUTOJSON json_t *b = json_deep_copy(jwe);
		char want[64];

		json_object_del(b, required[i]);
		CHECK_ERR(ward_jwe_decrypt(rsa, b, &pt, &err), -WARD_E_MALFORMED);
		snprintf(want, sizeof(want), "$.%s: missing", required[i]);
		CHECK_MSG(&err, want);
		json_object_set_new(b, required[i], json_integer(1));
		CHECK_ERR(ward_jwe_decrypt(rsa, b, &pt, &err), -WARD_E_MALFORMED);
		CHECK_MSG(&err, "expected string, got integer");
	}
	{
		WARD_AUTOJSON json_t *b = json_deep_copy(jwe);

		/* RSA needs an encrypted key */
		json_object_del(b, "encrypted_key");
		CHECK_ERR(ward_jwe_decrypt(rsa, b, &pt, &err), -WARD_E_MALFORMED);
		CHECK_MSG(&err, "encrypted_key is empty for RSA-OAEP");
		/* iv and tag sizes */
		json_decref(b);
		b = json_deep_copy(jwe);
		json_object_set_new(b, "iv", json_string("AAAAAAAAAAAAAAAA")); /* 12 -> ok */
		CHECK_ERR(ward_jwe_decrypt(rsa, b, &pt, &err), -WARD_E_VERIFY);
		json_object_set_new(b, "iv", json_string("AAAAAAAAAAAAAAA")); /* 11 bytes */
		CHECK_ERR(ward_jwe_decrypt(rsa, b, &pt, &err), -WARD_E_MALFORMED);
		CHECK_MSG(&err, "12-byte iv");
		json_object_set_new(b, "iv", json_string("AAAAAAAAAAAAAAAAAAA")); /* 14 */
		CHECK_ERR(ward_jwe_decrypt(rsa, b, &pt, &err), -WARD_E_TOO_BIG);
		json_decref(b);
		b = json_deep_copy(jwe);
		json_object_set_new(b, "tag", json_string("AAAAAAAAAAAAAAAAAAAA")); /* 15 */
		CHECK_ERR(ward_jwe_decrypt(rsa, b, &pt, &err), -WARD_E_MALFORMED);
		CHECK_MSG(&err, "16-byte tag");
		json_object_set_new(b, "tag", json_string("AAAAAAAAAAAAAAAAAAAAA="));
		CHECK_ERR(ward_jwe_decrypt(rsa, b, &pt, &err), -WARD_E_MALFORMED);
		json_decref(b);
		b = json_deep_copy(jwe);
		json_object_set_new(b, "ciphertext", json_string("a+b"));
		CHECK_ERR(ward_jwe_decrypt(rsa, b, &pt, &err), -WARD_E_MALFORMED);
		CHECK_MSG(&err, "ciphertext");
		json_decref(b);
		b = json_deep_copy(jwe);
		json_object_set_new(b, "aad", json_string("not base64url!"));
		CHECK_ERR(ward_jwe_decrypt(rsa, b, &pt, &err), -WARD_E_MALFORMED);
		CHECK_MSG(&err, "aad");
		json_decref(b);
		b = json_deep_copy(jwe);
		json_object_set_new(b, "protected", json_string("W10")); /* "[]" */
		CHECK_ERR(ward_jwe_decrypt(rsa, b, &pt, &err), -WARD_E_MALFORMED);
		CHECK_MSG(&err, "expected object, got array");
		json_object_set_new(b, "protected", json_string(""));
		CHECK_ERR(ward_jwe_decrypt(rsa, b, &pt, &err), -WARD_E_MALFORMED);
		CHECK_MSG(&err, "empty");
		/* ECDH-ES with a (non-empty) encrypted key */
		json_decref(b);
		b = json_deep_copy(direct);
		json_object_set_new(b, "encrypted_key", json_string("AAAA"));
		CHECK_ERR(ward_jwe_decrypt(ec, b, &pt, &err), -WARD_E_MALFORMED);
		CHECK_MSG(&err, "encrypted_key must be empty for ECDH-ES");
		/* an empty encrypted_key member is the same as none */
		json_object_set_new(b, "encrypted_key", json_string(""));
		CHECK_OK(ward_jwe_decrypt(ec, b, &pt, &err), &err);
		pt = ward_secret_free(pt);
	}
	CHECK(!pt);
}

WARD_TEST(jwe_compact_errors)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *ec = jwk_key(jose_test_p256_jwk, &err);
	WARD_AUTOFREE char *c = NULL;
	WARD_AUTOFREE char *s = NULL;
	struct ward_secret *pt = NULL;
	size_t len;

	CHECK(ec);
	CHECK_OK(ward_jwe_encrypt_compact(ec, WARD_JWE_ECDH_ES_A256KW, "hello", 5, &c, &err), &err);
	len = strlen(c);
	CHECK_ERR(ward_jwe_decrypt_compact(ec, "a.b.c.d", 7, &pt, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "expected 5 dot-separated parts, got 4");
	CHECK(asprintf(&s, "%s.", c) > 0);
	CHECK_ERR(ward_jwe_decrypt_compact(ec, s, strlen(s), &pt, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "more than 5");
	CHECK_ERR(ward_jwe_decrypt_compact(ec, NULL, 3, &pt, &err), -WARD_E_USAGE);
	CHECK_ERR(ward_jwe_decrypt_compact(ec, c, 2 * (size_t)WARD_JOSE_MAX_SIZE + 1, &pt, &err),
		  -WARD_E_TOO_BIG);
	/* truncated at every offset: never accepted */
	for (size_t i = 0; i < len; i++)
		CHECK(ward_jwe_decrypt_compact(ec, c, i, &pt, &err) < 0);
	CHECK(!pt);
	CHECK_OK(ward_jwe_decrypt_compact(ec, c, len, &pt, &err), &err);
	CHECK_MEM(pt->data, "hello", 5);
	ward_secret_free(pt);
}

/* A flattened JWE built here step by step (RFC 7516 §5.1) with an "aad"
 * member: the decryptor must use AAD = protected "." aad. */
WARD_TEST(jwe_flattened_aad_member)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *rsa = pem_key(jose_test_rsa_pem, &err);
	WARD_AUTOFREE uint8_t *ek = NULL;
	WARD_AUTOFREE char *prot = b64u_str("{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\"}");
	WARD_AUTOFREE char *aad_b64 = b64u_str("context");
	WARD_AUTOFREE char *full_aad = NULL;
	WARD_AUTOFREE char *ek_b64 = NULL;
	WARD_AUTOFREE char *iv_b64 = NULL;
	WARD_AUTOFREE char *ct_b64 = NULL;
	WARD_AUTOFREE char *tag_b64 = NULL;
	WARD_AUTOJSON json_t *jwe = NULL;
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *pt = NULL;
	struct ward_secret *none = NULL;
	uint8_t cek[32], iv[12], ct[9], tag[16];
	size_t ek_size;

	CHECK(rsa);
	CHECK_OK(ward_random(cek, sizeof(cek), &err), &err);
	CHECK_OK(ward_random(iv, sizeof(iv), &err), &err);
	CHECK_OK(ward_rsa_oaep_encrypt(rsa, WARD_HASH_SHA256, cek, 32, &ek, &ek_size, &err), &err);
	CHECK(asprintf(&full_aad, "%s.%s", prot, aad_b64) > 0);
	CHECK_OK(ward_aes256gcm_seal(cek, iv, 12, full_aad, strlen(full_aad), "plaintext", 9, ct,
				     tag, &err),
		 &err);
	ek_b64 = b64u(ek, ek_size);
	iv_b64 = b64u(iv, 12);
	ct_b64 = b64u(ct, 9);
	tag_b64 = b64u(tag, 16);
	jwe = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "protected", prot, "encrypted_key",
			ek_b64, "iv", iv_b64, "ciphertext", ct_b64, "tag", tag_b64, "aad", aad_b64);
	CHECK(jwe);
	CHECK_OK(ward_jwe_decrypt(rsa, jwe, &pt, &err), &err);
	CHECK_INT(pt->size, ==, 9);
	CHECK_MEM(pt->data, "plaintext", 9);
	/* without the aad member, or with another one, the tag fails */
	json_object_set_new(jwe, "aad", json_string("Y29udGV4dQ"));
	CHECK_ERR(ward_jwe_decrypt(rsa, jwe, &none, &err), -WARD_E_VERIFY);
	json_object_del(jwe, "aad");
	CHECK_ERR(ward_jwe_decrypt(rsa, jwe, &none, &err), -WARD_E_VERIFY);
	CHECK(!none);
}

WARD_TEST_MAIN()
