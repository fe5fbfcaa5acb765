/* SPDX-License-Identifier: Apache-2.0 */
/* JOSE over ward/crypto.h: JWK, JWS compact and JWE (flattened JSON and
 * compact). Everything algorithmic goes through lib/crypto; this file only
 * handles the encodings and the allow-lists. */
#include "ward/jose.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jose-internal.h"
#include "ward/cleanup.h"
#include "ward/encoding.h"
#include "ward/json.h"

/* Largest RSA modulus (8192 bits) and exponent we import. */
#define JOSE_RSA_N_MAX_SIZE 1024
#define JOSE_RSA_E_MAX_SIZE 8
/* Largest JWE encrypted key: an RSA-8192 OAEP block. */
#define JOSE_ENCRYPTED_KEY_MAX_SIZE 1024
#define JOSE_KW_WRAPPED_SIZE (WARD_AES256_KEY_SIZE + 8)

/* ---- small helpers ---------------------------------------------------- */

/* Decoded bytes that are wiped before they are freed. */
struct bytes {
	uint8_t *p; /* owned */
	size_t size;
};

static void bytes_clear(struct bytes *b)
{
	if (b->p) {
		ward_wipe(b->p, b->size);
		free(b->p);
	}
	b->p = NULL;
	b->size = 0;
}
#define JOSE_AUTOBYTES WARD_CLEANUP(bytes_clear)

/* Copy an untrusted string into buf for an error message: at most size - 1
 * bytes, anything outside printable ASCII replaced by '?'. */
static const char *printable(const char *s, char *buf, size_t size)
{
	size_t i = 0;

	for (; s && s[i] && i + 1 < size; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

static const char *key_type_name(enum ward_key_type t)
{
	switch (t) {
	case WARD_KEY_EC_P256:
		return "P-256";
	case WARD_KEY_EC_P384:
		return "P-384";
	case WARD_KEY_X25519:
		return "X25519";
	case WARD_KEY_RSA:
		return "RSA";
	case WARD_KEY_NONE:
		break;
	}
	return "unknown";
}

static size_t ec_coord_size(enum ward_key_type t)
{
	return t == WARD_KEY_EC_P384 ? 48 : 32;
}

/* base64url of data as a new JSON string; NULL on ENOMEM. */
static json_t *b64url_json(const void *data, size_t size)
{
	WARD_AUTOFREE char *s = ward_base64url_encode_alloc(data, size);

	return s ? json_string(s) : NULL;
}

/* Strictly decode a base64url segment into b, at most max_size bytes. */
static int b64url_part(const char *what, const char *s, size_t len, size_t max_size,
		       struct bytes *b, struct ward_err *err)
{
	int r;

	/* The slack of 2 lets padded input reach the decoder (malformed). */
	if (len > ward_base64url_size(max_size) + 2)
		return ward_err_set(err, -WARD_E_TOO_BIG, "%s: %zu characters exceed the limit",
				    what, len);
	r = ward_base64url_decode(s, len, &b->p, &b->size, err);
	if (r < 0)
		return ward_err_prefix(err, "%s", what);
	if (b->size > max_size)
		return ward_err_set(err, -WARD_E_TOO_BIG, "%s: %zu bytes exceed the limit of %zu",
				    what, b->size, max_size);
	return 0;
}

/* Decode and parse a protected header: a JSON object. */
static int parse_protected(const char *what, const char *s, size_t len, json_t **ret,
			   struct ward_err *err)
{
	JOSE_AUTOBYTES struct bytes raw = {0};
	WARD_AUTOJSON json_t *hdr = NULL;
	int r;

	if (len == 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "%s protected header: empty", what);
	r = b64url_part("protected header", s, len, WARD_JOSE_HEADER_MAX_SIZE, &raw, err);
	if (r < 0)
		return ward_err_prefix(err, "%s", what);
	r = ward_json_parse(raw.p, raw.size, WARD_JOSE_HEADER_MAX_SIZE, &hdr, err);
	if (r < 0)
		return ward_err_prefix(err, "%s protected header", what);
	if (!json_is_object(hdr))
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "%s protected header: expected object, got %s", what,
				    ward_json_type_name(hdr));
	*ret = WARD_TAKE_PTR(hdr);
	return 0;
}

/* RFC 7515 §4.1.11 / RFC 7516 §4.1.13: we implement no extensions, so any
 * "crit" must be rejected. */
static int reject_crit(const char *what, const json_t *hdr, struct ward_err *err)
{
	if (json_object_get(hdr, "crit"))
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "%s: critical header parameters ('crit') are not supported",
				    what);
	return 0;
}

/* ---- JWK -------------------------------------------------------------- */

static int jwk_import_ec(const json_t *jwk, const char *path, bool allow_private,
			 struct ward_pkey **ret, struct ward_err *err)
{
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *pub = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *priv = NULL;
	JOSE_AUTOBYTES struct bytes x = {0}, y = {0}, d = {0};
	enum ward_key_type type;
	const char *crv = NULL;
	char shown[40];
	size_t cs;
	int r;

	r = ward_json_get_string(jwk, path, "crv", true, &crv, err);
	if (r < 0)
		return r;
	if (strcmp(crv, "P-256") == 0)
		type = WARD_KEY_EC_P256;
	else if (strcmp(crv, "P-384") == 0)
		type = WARD_KEY_EC_P384;
	else
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "%s.crv: curve '%s' is not supported",
				    path, printable(crv, shown, sizeof(shown)));
	cs = ec_coord_size(type);
	r = ward_json_get_b64url(jwk, path, "x", true, cs, &x.p, &x.size, err);
	if (r < 0)
		return r;
	r = ward_json_get_b64url(jwk, path, "y", true, cs, &y.p, &y.size, err);
	if (r < 0)
		return r;
	if (x.size != cs || y.size != cs)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "%s: %s coordinates must be %zu bytes, got x %zu and y %zu",
				    path, crv, cs, x.size, y.size);
	r = ward_pkey_from_ec_xy(type, x.p, x.size, y.p, y.size, &pub, err);
	if (r < 0)
		return ward_err_prefix(err, "%s", path);
	if (!json_object_get(jwk, "d")) {
		*ret = WARD_TAKE_PTR(pub);
		return 0;
	}
	if (!allow_private)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "%s.d: a private key is not allowed here", path);
	r = ward_json_get_b64url(jwk, path, "d", true, cs, &d.p, &d.size, err);
	if (r < 0)
		return r;
	if (d.size != cs)
		return ward_err_set(err, -WARD_E_MALFORMED, "%s.d: must be %zu bytes, got %zu",
				    path, cs, d.size);
	r = ward_pkey_from_ec_private(type, d.p, d.size, &priv, err);
	if (r < 0)
		return ward_err_prefix(err, "%s.d", path);
	if (!ward_pkey_public_eq(priv, pub))
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "%s.d: private key does not match x and y", path);
	*ret = WARD_TAKE_PTR(priv);
	return 0;
}

static int jwk_import_rsa(const json_t *jwk, const char *path, struct ward_pkey **ret,
			  struct ward_err *err)
{
	JOSE_AUTOBYTES struct bytes n = {0}, e = {0};
	int r;

	if (json_object_get(jwk, "d"))
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "%s.d: RSA private keys are not supported as JWK", path);
	r = ward_json_get_b64url(jwk, path, "n", true, JOSE_RSA_N_MAX_SIZE, &n.p, &n.size, err);
	if (r < 0)
		return r;
	r = ward_json_get_b64url(jwk, path, "e", true, JOSE_RSA_E_MAX_SIZE, &e.p, &e.size, err);
	if (r < 0)
		return r;
	if (n.size == 0 || e.size == 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "%s: empty RSA %s", path,
				    n.size == 0 ? "modulus" : "exponent");
	r = ward_pkey_from_rsa_ne(n.p, n.size, e.p, e.size, ret, err);
	if (r < 0)
		return ward_err_prefix(err, "%s", path);
	return 0;
}

static int jwk_import_okp(const json_t *jwk, const char *path, struct ward_pkey **ret,
			  struct ward_err *err)
{
	JOSE_AUTOBYTES struct bytes x = {0};
	const char *crv = NULL;
	char shown[40];
	int r;

	r = ward_json_get_string(jwk, path, "crv", true, &crv, err);
	if (r < 0)
		return r;
	if (strcmp(crv, "X25519") != 0)
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "%s.crv: OKP curve '%s' is not supported", path,
				    printable(crv, shown, sizeof(shown)));
	if (json_object_get(jwk, "d"))
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "%s.d: X25519 private keys are not supported as JWK", path);
	r = ward_json_get_b64url(jwk, path, "x", true, 32, &x.p, &x.size, err);
	if (r < 0)
		return r;
	if (x.size != 32)
		return ward_err_set(err, -WARD_E_MALFORMED, "%s.x: must be 32 bytes, got %zu", path,
				    x.size);
	r = ward_pkey_from_x25519(x.p, ret, err);
	if (r < 0)
		return ward_err_prefix(err, "%s", path);
	return 0;
}

static int jwk_import(const json_t *jwk, const char *path, bool allow_private,
		      struct ward_pkey **ret, struct ward_err *err)
{
	const char *kty = NULL;
	char shown[40];
	int r;

	r = ward_json_get_string(jwk, path, "kty", true, &kty, err);
	if (r < 0)
		return r;
	if (strcmp(kty, "EC") == 0)
		return jwk_import_ec(jwk, path, allow_private, ret, err);
	if (strcmp(kty, "RSA") == 0)
		return jwk_import_rsa(jwk, path, ret, err);
	if (strcmp(kty, "OKP") == 0)
		return jwk_import_okp(jwk, path, ret, err);
	return ward_err_set(err, -WARD_E_UNSUPPORTED, "%s.kty: key type '%s' is not supported",
			    path, printable(kty, shown, sizeof(shown)));
}

int ward_jwk_import(const json_t *jwk, struct ward_pkey **ret, struct ward_err *err)
{
	int r;

	r = jwk_import(jwk, "$", true, ret, err);
	if (r < 0)
		return ward_err_prefix(err, "JWK");
	return 0;
}

/* Longest canonical EC/OKP public JWK text: P-384, two 64-char coordinates. */
#define JOSE_JWK_TEXT_MAX 192

/* The public JWK of an EC or X25519 key as compact text with members in
 * lexicographic order (the JWE epk, the RFC 7638 thumbprint input, and
 * ward_jwk_export_public()'s source for these keys). -WARD_E_UNSUPPORTED for RSA. */
static int public_jwk_text(const struct ward_pkey *key, char buf[JOSE_JWK_TEXT_MAX],
			   struct ward_err *err)
{
	enum ward_key_type type = ward_pkey_type(key);
	char bx[65], by[65]; /* base64url of 48 bytes: 64 chars */
	int r, n;

	switch (type) {
	case WARD_KEY_EC_P256:
	case WARD_KEY_EC_P384: {
		uint8_t x[48], y[48];
		size_t cs;

		r = ward_pkey_ec_xy(key, x, y, &cs, err);
		if (r < 0)
			return r;
		ward_base64url_encode(x, cs, bx);
		ward_base64url_encode(y, cs, by);
		n = snprintf(buf, JOSE_JWK_TEXT_MAX,
			     "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
			     key_type_name(type), bx, by);
		break;
	}
	case WARD_KEY_X25519: {
		uint8_t x[32];

		r = ward_pkey_x25519_raw(key, x, err);
		if (r < 0)
			return r;
		ward_base64url_encode(x, sizeof(x), bx);
		n = snprintf(buf, JOSE_JWK_TEXT_MAX,
			     "{\"crv\":\"X25519\",\"kty\":\"OKP\",\"x\":\"%s\"}", bx);
		break;
	}
	default:
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "no compact JWK text for a %s key",
				    key_type_name(type));
	}
	/* Cannot happen with the sizes above; fail closed rather than truncate. */
	if (n < 0 || n >= JOSE_JWK_TEXT_MAX)
		return ward_err_set(err, -WARD_E_USAGE, "JWK text too long");
	return 0;
}

int ward_jwk_export_public(const struct ward_pkey *key, json_t **ret, struct ward_err *err)
{
	WARD_AUTOJSON json_t *j = NULL;
	WARD_AUTOFREE uint8_t *n = NULL;
	WARD_AUTOFREE uint8_t *e = NULL;
	char text[JOSE_JWK_TEXT_MAX];
	size_t n_size, e_size;
	int r;

	if (!key)
		return ward_err_set(err, -WARD_E_USAGE, "JWK export: no key");
	switch (ward_pkey_type(key)) {
	case WARD_KEY_EC_P256:
	case WARD_KEY_EC_P384:
	case WARD_KEY_X25519:
		/* one writer of EC and OKP members: the canonical text */
		r = public_jwk_text(key, text, err);
		if (r < 0)
			return ward_err_prefix(err, "JWK export");
		j = json_loads(text, 0, NULL);
		if (!j)
			return ward_err_set(err, -ENOMEM, "JWK export: out of memory");
		break;
	case WARD_KEY_RSA:
		r = ward_pkey_rsa_ne(key, &n, &n_size, &e, &e_size, err);
		if (r < 0)
			return ward_err_prefix(err, "JWK export");
		j = json_pack("{s:s, s:o*, s:o*}", "kty", "RSA", "n", b64url_json(n, n_size), "e",
			      b64url_json(e, e_size));
		/* "o*" leaves a member out when the value is NULL (ENOMEM) */
		if (!j || json_object_size(j) < 3)
			return ward_err_set(err, -ENOMEM, "JWK export: out of memory");
		break;
	case WARD_KEY_NONE:
	default:
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "JWK export: unsupported key type");
	}
	*ret = WARD_TAKE_PTR(j);
	return 0;
}

int ward_jwk_thumbprint(const struct ward_pkey *key, uint8_t out[32], struct ward_err *err)
{
	WARD_AUTOJSON json_t *jwk = NULL;
	WARD_AUTOFREE char *canon = NULL;
	char text[JOSE_JWK_TEXT_MAX];
	int r;

	if (!key)
		return ward_err_set(err, -WARD_E_USAGE, "JWK thumbprint: no key");
	if (ward_pkey_type(key) != WARD_KEY_RSA) {
		r = public_jwk_text(key, text, err);
		if (r < 0)
			return ward_err_prefix(err, "JWK thumbprint");
		return ward_hash(WARD_HASH_SHA256, text, strlen(text), out, err);
	}

	/* The exported public JWK holds exactly the RFC 7638 §3.2 required
	 * members (EC: crv kty x y; RSA: e kty n; OKP: crv kty x, RFC 8037 §2),
	 * and the compact sorted dump is the §3.3 form: members in
	 * lexicographic order, no whitespace; base64url values need no escaping. */
	r = ward_jwk_export_public(key, &jwk, err);
	if (r < 0)
		return ward_err_prefix(err, "JWK thumbprint");
	r = ward_json_dump(jwk, &canon, err);
	if (r < 0)
		return ward_err_prefix(err, "JWK thumbprint");
	return ward_hash(WARD_HASH_SHA256, canon, strlen(canon), out, err);
}

/* ---- JWS -------------------------------------------------------------- */

struct jws_alg_info {
	enum ward_jws_alg alg;
	const char *name;
	enum ward_key_type key;
	enum ward_sig_alg sig;
	enum ward_sig_encoding enc;
};

static const struct jws_alg_info jws_algs[] = {
    {WARD_JWS_ES256, "ES256", WARD_KEY_EC_P256, WARD_SIG_ECDSA_SHA256, WARD_SIG_RAW_BE},
    {WARD_JWS_ES384, "ES384", WARD_KEY_EC_P384, WARD_SIG_ECDSA_SHA384, WARD_SIG_RAW_BE},
    {WARD_JWS_RS256, "RS256", WARD_KEY_RSA, WARD_SIG_RSA_PKCS1_SHA256, WARD_SIG_DER},
};

static const struct jws_alg_info *jws_alg_by_id(enum ward_jws_alg alg)
{
	for (size_t i = 0; i < WARD_ARRAY_SIZE(jws_algs); i++)
		if (jws_algs[i].alg == alg)
			return &jws_algs[i];
	return NULL;
}

static const struct jws_alg_info *jws_alg_by_name(const char *name)
{
	for (size_t i = 0; i < WARD_ARRAY_SIZE(jws_algs); i++)
		if (strcmp(jws_algs[i].name, name) == 0)
			return &jws_algs[i];
	return NULL;
}

const char *ward_jws_alg_name(enum ward_jws_alg alg)
{
	const struct jws_alg_info *a = jws_alg_by_id(alg);

	return a ? a->name : "unknown";
}

/* Concatenate up to five segments with '.' (a compact serialisation). */
static char *join_dots(const char *const *parts, size_t count)
{
	size_t total = 0, o = 0;
	char *s;

	for (size_t i = 0; i < count; i++)
		total += strlen(parts[i]) + 1;
	s = malloc(total ? total : 1);
	if (!s)
		return NULL;
	for (size_t i = 0; i < count; i++) {
		size_t n = strlen(parts[i]);

		memcpy(s + o, parts[i], n);
		o += n;
		if (i + 1 < count)
			s[o++] = '.';
	}
	s[o] = '\0';
	return s;
}

int ward_jws_sign_compact(const struct ward_pkey *key, enum ward_jws_alg alg, const char *typ,
			  const json_t *extra_header, const void *payload, size_t payload_size,
			  char **ret, struct ward_err *err)
{
	const struct jws_alg_info *a = jws_alg_by_id(alg);
	WARD_AUTOJSON json_t *hdr = NULL;
	WARD_AUTOFREE char *hdr_text = NULL;
	WARD_AUTOFREE char *hdr_b64 = NULL;
	WARD_AUTOFREE char *payload_b64 = NULL;
	WARD_AUTOFREE char *input = NULL;
	WARD_AUTOFREE char *sig_b64 = NULL;
	WARD_AUTOFREE uint8_t *sig = NULL;
	size_t sig_size;
	char *out;
	int r;

	if (!a || !key || (!payload && payload_size))
		return ward_err_set(err, -WARD_E_USAGE, "JWS sign: invalid arguments");
	if (ward_pkey_type(key) != a->key)
		return ward_err_set(err, -WARD_E_USAGE, "JWS sign: %s needs a %s key, got %s",
				    a->name, key_type_name(a->key),
				    key_type_name(ward_pkey_type(key)));
	if (payload_size > WARD_JOSE_MAX_SIZE)
		return ward_err_set(err, -WARD_E_TOO_BIG,
				    "JWS sign: payload of %zu bytes exceeds the limit of %u",
				    payload_size, WARD_JOSE_MAX_SIZE);
	if (extra_header &&
	    (!json_is_object(extra_header) || json_object_get(extra_header, "alg") ||
	     json_object_get(extra_header, "crit")))
		return ward_err_set(err, -WARD_E_USAGE,
				    "JWS sign: extra header must be an object without alg or crit");
	hdr = extra_header ? json_deep_copy(extra_header) : json_object();
	if (!hdr || json_object_set_new(hdr, "alg", json_string(a->name)) < 0 ||
	    (typ && json_object_set_new(hdr, "typ", json_string(typ)) < 0))
		return ward_err_set(err, -ENOMEM, "JWS sign: out of memory");
	r = ward_json_dump(hdr, &hdr_text, err);
	if (r < 0)
		return ward_err_prefix(err, "JWS sign");
	hdr_b64 = ward_base64url_encode_alloc(hdr_text, strlen(hdr_text));
	payload_b64 = ward_base64url_encode_alloc(payload, payload_size);
	if (!hdr_b64 || !payload_b64)
		return ward_err_set(err, -ENOMEM, "JWS sign: out of memory");
	input = join_dots((const char *const[]){hdr_b64, payload_b64}, 2);
	if (!input)
		return ward_err_set(err, -ENOMEM, "JWS sign: out of memory");
	r = ward_sign(key, a->sig, a->enc, input, strlen(input), &sig, &sig_size, err);
	if (r < 0)
		return ward_err_prefix(err, "JWS sign");
	sig_b64 = ward_base64url_encode_alloc(sig, sig_size);
	if (!sig_b64)
		return ward_err_set(err, -ENOMEM, "JWS sign: out of memory");
	out = join_dots((const char *const[]){input, sig_b64}, 2);
	if (!out)
		return ward_err_set(err, -ENOMEM, "JWS sign: out of memory");
	*ret = out;
	return 0;
}

/* Split text into exactly count '.'-separated segments. */
static int split_dots(const char *what, const char *s, size_t size, size_t count,
		      const char **parts, size_t *lens, struct ward_err *err)
{
	size_t start = 0, n = 0;

	for (size_t i = 0; i <= size; i++) {
		if (i < size && s[i] != '.')
			continue;
		if (n == count)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "%s: more than %zu dot-separated parts", what, count);
		parts[n] = s + start;
		lens[n] = i - start;
		n++;
		start = i + 1;
	}
	if (n != count)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "%s: expected %zu dot-separated parts, got %zu", what, count,
				    n);
	return 0;
}

int ward_jws_verify_compact(const struct ward_pkey *key, const char *jws, size_t jws_size,
			    uint8_t **ret_payload, size_t *ret_payload_size, json_t **ret_header,
			    struct ward_err *err)
{
	WARD_AUTOJSON json_t *hdr = NULL;
	JOSE_AUTOBYTES struct bytes payload = {0}, sig = {0};
	const struct jws_alg_info *a;
	const char *parts[3], *alg = NULL;
	size_t lens[3];
	char shown[40];
	int r;

	if (!key || (!jws && jws_size) || !ret_payload || !ret_payload_size)
		return ward_err_set(err, -WARD_E_USAGE, "JWS verify: invalid arguments");
	if (jws_size > WARD_JOSE_MAX_SIZE)
		return ward_err_set(err, -WARD_E_TOO_BIG,
				    "JWS of %zu bytes exceeds the limit of %u bytes", jws_size,
				    WARD_JOSE_MAX_SIZE);
	r = split_dots("JWS", jws ? jws : "", jws_size, 3, parts, lens, err);
	if (r < 0)
		return r;
	r = parse_protected("JWS", parts[0], lens[0], &hdr, err);
	if (r < 0)
		return r;
	r = ward_json_get_string(hdr, "$", "alg", true, &alg, err);
	if (r < 0)
		return ward_err_prefix(err, "JWS protected header");
	a = jws_alg_by_name(alg);
	if (!a)
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "JWS alg '%s' is not allowed",
				    printable(alg, shown, sizeof(shown)));
	r = reject_crit("JWS", hdr, err);
	if (r < 0)
		return r;
	if (ward_pkey_type(key) != a->key)
		return ward_err_set(err, -WARD_E_VERIFY, "JWS alg %s does not match the %s key",
				    a->name, key_type_name(ward_pkey_type(key)));
	r = b64url_part("JWS payload", parts[1], lens[1], WARD_JOSE_MAX_SIZE, &payload, err);
	if (r < 0)
		return r;
	r = b64url_part("JWS signature", parts[2], lens[2], 1024, &sig, err);
	if (r < 0)
		return r;
	/* The signing input is the original ASCII of header "." payload. */
	r = ward_verify(key, a->sig, a->enc, jws, lens[0] + 1 + lens[1], sig.p, sig.size, err);
	if (r < 0)
		return ward_err_prefix(err, "JWS %s signature", a->name);
	if (ret_header)
		*ret_header = WARD_TAKE_PTR(hdr);
	*ret_payload_size = payload.size;
	*ret_payload = WARD_TAKE_PTR(payload.p);
	return 0;
}

/* ---- JWE -------------------------------------------------------------- */

#define JWE_ENC "A256GCM"

struct jwe_alg_info {
	enum ward_jwe_alg alg;
	const char *name;
	bool ecdh;
	enum ward_hash_alg oaep_hash; /* RSA-OAEP variants */
};

static const struct jwe_alg_info jwe_algs[] = {
    {WARD_JWE_ECDH_ES_A256KW, "ECDH-ES+A256KW", true, WARD_HASH_SHA256},
    {WARD_JWE_ECDH_ES, "ECDH-ES", true, WARD_HASH_SHA256},
    {WARD_JWE_RSA_OAEP, "RSA-OAEP", false, WARD_HASH_SHA1},
    {WARD_JWE_RSA_OAEP_256, "RSA-OAEP-256", false, WARD_HASH_SHA256},
};

static const struct jwe_alg_info *jwe_alg_by_id(enum ward_jwe_alg alg)
{
	for (size_t i = 0; i < WARD_ARRAY_SIZE(jwe_algs); i++)
		if (jwe_algs[i].alg == alg)
			return &jwe_algs[i];
	return NULL;
}

static const struct jwe_alg_info *jwe_alg_by_name(const char *name)
{
	for (size_t i = 0; i < WARD_ARRAY_SIZE(jwe_algs); i++)
		if (strcmp(jwe_algs[i].name, name) == 0)
			return &jwe_algs[i];
	return NULL;
}

const char *ward_jwe_alg_name(enum ward_jwe_alg alg)
{
	const struct jwe_alg_info *a = jwe_alg_by_id(alg);

	return a ? a->name : "unknown";
}

static bool key_fits_jwe_alg(const struct jwe_alg_info *a, enum ward_key_type t)
{
	if (a->ecdh)
		return t == WARD_KEY_EC_P256 || t == WARD_KEY_EC_P384 || t == WARD_KEY_X25519;
	return t == WARD_KEY_RSA;
}

/* The five (six with aad) text segments of a JWE, borrowed. */
struct jwe_text {
	const char *protected_b64, *encrypted_key, *iv, *ciphertext, *tag, *aad;
	size_t protected_len, encrypted_key_len, iv_len, ciphertext_len, tag_len, aad_len;
	bool has_aad;
};

/* Derive the CEK for ECDH-ES / ECDH-ES+A256KW (RFC 7518 §4.6). */
static int jwe_ecdh_cek(const struct ward_pkey *priv, const struct jwe_alg_info *a,
			const json_t *hdr, const struct bytes *ek, uint8_t cek[32],
			struct ward_err *err)
{
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *epk = NULL;
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *z = NULL;
	JOSE_AUTOBYTES struct bytes apu = {0}, apv = {0};
	json_t *epk_json = NULL;
	uint8_t kek[32];
	WARD_CLEANUP_ERASE(kek);
	int r;

	r = ward_json_get_object(hdr, "$", "epk", true, &epk_json, err);
	if (r < 0)
		return r;
	r = jwk_import(epk_json, "$.epk", false, &epk, err);
	if (r < 0)
		return r;
	if (ward_pkey_type(epk) != ward_pkey_type(priv))
		return ward_err_set(
		    err, -WARD_E_VERIFY, "$.epk: %s key does not match the recipient's %s key",
		    key_type_name(ward_pkey_type(epk)), key_type_name(ward_pkey_type(priv)));
	r = ward_json_get_b64url(hdr, "$", "apu", false, WARD_JOSE_PARTY_INFO_MAX_SIZE, &apu.p,
				 &apu.size, err);
	if (r < 0)
		return r;
	r = ward_json_get_b64url(hdr, "$", "apv", false, WARD_JOSE_PARTY_INFO_MAX_SIZE, &apv.p,
				 &apv.size, err);
	if (r < 0)
		return r;
	r = ward_ecdh(priv, epk, &z, err);
	if (r < 0)
		return ward_err_prefix(err, "ECDH");
	if (a->alg == WARD_JWE_ECDH_ES) {
		if (ek->size != 0)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "encrypted_key must be empty for ECDH-ES");
		/* Direct key agreement: AlgorithmID is the "enc" value. */
		return ward_jose_concat_kdf(z->data, z->size, JWE_ENC, apu.p, apu.size, apv.p,
					    apv.size, cek, 32, err);
	}
	if (ek->size != JOSE_KW_WRAPPED_SIZE)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "encrypted_key must be %d bytes for %s, got %zu",
				    JOSE_KW_WRAPPED_SIZE, a->name, ek->size);
	/* Key agreement with key wrapping: AlgorithmID is the "alg" value. */
	r = ward_jose_concat_kdf(z->data, z->size, a->name, apu.p, apu.size, apv.p, apv.size, kek,
				 sizeof(kek), err);
	if (r < 0)
		return r;
	r = ward_aes256kw_unwrap(kek, ek->p, ek->size, cek, err);
	if (r < 0)
		return ward_err_prefix(err, "%s key unwrap", a->name);
	return 0;
}

/* RSA-OAEP: per RFC 7516 §11.5, a failed or wrongly sized decryption is
 * replaced by a random CEK so that the only observable failure is the tag
 * check, which then fails with -WARD_E_VERIFY. */
static int jwe_rsa_cek(const struct ward_pkey *priv, const struct jwe_alg_info *a,
		       const struct bytes *ek, uint8_t cek[32], struct ward_err *err)
{
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *dec = NULL;
	int r;

	if (ek->size == 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "encrypted_key is empty for %s",
				    a->name);
	r = ward_rsa_oaep_decrypt(priv, a->oaep_hash, ek->p, ek->size, &dec, err);
	if (r == 0 && dec->size == 32) {
		memcpy(cek, dec->data, 32);
		return 0;
	}
	if (r < 0 && r != -WARD_E_VERIFY)
		return ward_err_prefix(err, "%s", a->name);
	return ward_random(cek, 32, err);
}

static int jwe_decrypt_text(const struct ward_pkey *priv, const struct jwe_text *t,
			    struct ward_secret **ret, struct ward_err *err)
{
	WARD_AUTOJSON json_t *hdr = NULL;
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *pt = NULL;
	JOSE_AUTOBYTES struct bytes ek = {0}, iv = {0}, ct = {0}, tag = {0}, aad_check = {0};
	WARD_AUTOFREE char *aad = NULL;
	const struct jwe_alg_info *a;
	const char *alg = NULL, *enc = NULL;
	uint8_t cek[32];
	WARD_CLEANUP_ERASE(cek);
	size_t aad_size;
	char shown[40];
	int r;

	if (!priv || !ward_pkey_is_private(priv))
		return ward_err_set(err, -WARD_E_USAGE, "decryption needs a private key");
	r = parse_protected("JWE", t->protected_b64, t->protected_len, &hdr, err);
	if (r < 0)
		return r;
	r = ward_json_get_string(hdr, "$", "enc", true, &enc, err);
	if (r < 0)
		return ward_err_prefix(err, "protected header");
	if (strcmp(enc, JWE_ENC) != 0)
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "enc '%s' is not supported (only " JWE_ENC ")",
				    printable(enc, shown, sizeof(shown)));
	r = ward_json_get_string(hdr, "$", "alg", true, &alg, err);
	if (r < 0)
		return ward_err_prefix(err, "protected header");
	a = jwe_alg_by_name(alg);
	if (!a)
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "alg '%s' is not supported",
				    printable(alg, shown, sizeof(shown)));
	if (json_object_get(hdr, "zip"))
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "compression ('zip') is not supported");
	r = reject_crit("protected header", hdr, err);
	if (r < 0)
		return r;
	if (!key_fits_jwe_alg(a, ward_pkey_type(priv)))
		return ward_err_set(err, -WARD_E_VERIFY, "alg %s cannot be decrypted with a %s key",
				    a->name, key_type_name(ward_pkey_type(priv)));

	if ((r = b64url_part("encrypted_key", t->encrypted_key, t->encrypted_key_len,
			     JOSE_ENCRYPTED_KEY_MAX_SIZE, &ek, err)) < 0 ||
	    (r = b64url_part("iv", t->iv, t->iv_len, WARD_GCM_IV_SIZE, &iv, err)) < 0 ||
	    (r = b64url_part("tag", t->tag, t->tag_len, WARD_GCM_TAG_SIZE, &tag, err)) < 0 ||
	    (r = b64url_part("ciphertext", t->ciphertext, t->ciphertext_len, WARD_JOSE_MAX_SIZE,
			     &ct, err)) < 0)
		return r;
	if (iv.size != WARD_GCM_IV_SIZE || tag.size != WARD_GCM_TAG_SIZE)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "A256GCM needs a %d-byte iv and a %d-byte tag, got %zu and %zu",
				    WARD_GCM_IV_SIZE, WARD_GCM_TAG_SIZE, iv.size, tag.size);
	if (t->has_aad) {
		/* aad is used as text, but must still be valid base64url. */
		r = b64url_part("aad", t->aad, t->aad_len, WARD_JOSE_MAX_SIZE, &aad_check, err);
		if (r < 0)
			return r;
	}

	if (a->ecdh)
		r = jwe_ecdh_cek(priv, a, hdr, &ek, cek, err);
	else
		r = jwe_rsa_cek(priv, a, &ek, cek, err);
	if (r < 0)
		return r;

	/* AAD = ASCII(protected) [ "." ASCII(aad) ] (RFC 7516 §5.1 step 14). */
	aad_size = t->protected_len + (t->has_aad ? 1 + t->aad_len : 0);
	aad = malloc(aad_size + 1);
	if (!aad)
		return ward_err_set(err, -ENOMEM, "out of memory");
	memcpy(aad, t->protected_b64, t->protected_len);
	if (t->has_aad) {
		aad[t->protected_len] = '.';
		memcpy(aad + t->protected_len + 1, t->aad, t->aad_len);
	}
	pt = ward_secret_new(ct.size);
	if (!pt)
		return ward_err_set(err, -ENOMEM, "out of memory");
	r = ward_aes256gcm_open(cek, iv.p, iv.size, aad, aad_size, ct.p, ct.size, tag.p, pt->data,
				err);
	if (r < 0)
		return ward_err_prefix(err, "A256GCM");
	*ret = WARD_TAKE_PTR(pt);
	return 0;
}

int ward_jwe_decrypt(const struct ward_pkey *priv, const json_t *jwe, struct ward_secret **ret,
		     struct ward_err *err)
{
	static const char *const allowed[] = {"protected", "encrypted_key", "iv", "ciphertext",
					      "tag",	   "aad",	    NULL};
	struct jwe_text t = {0};
	const char *ek = "", *aad = NULL;
	int r;

	if (!json_is_object(jwe))
		return ward_err_set(err, -WARD_E_MALFORMED, "JWE: expected object, got %s",
				    ward_json_type_name(jwe));
	if (json_object_get(jwe, "recipients"))
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "JWE: general JSON serialisation ('recipients') is not "
				    "supported");
	if (json_object_get(jwe, "header") || json_object_get(jwe, "unprotected"))
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "JWE: unprotected header members are not supported");
	r = ward_json_check_keys(jwe, "$", allowed, err);
	if (r < 0)
		return ward_err_prefix(err, "JWE");
	if ((r = ward_json_get_string(jwe, "$", "protected", true, &t.protected_b64, err)) < 0 ||
	    (r = ward_json_get_string(jwe, "$", "encrypted_key", false, &ek, err)) < 0 ||
	    (r = ward_json_get_string(jwe, "$", "iv", true, &t.iv, err)) < 0 ||
	    (r = ward_json_get_string(jwe, "$", "ciphertext", true, &t.ciphertext, err)) < 0 ||
	    (r = ward_json_get_string(jwe, "$", "tag", true, &t.tag, err)) < 0 ||
	    (r = ward_json_get_string(jwe, "$", "aad", false, &aad, err)) < 0)
		return ward_err_prefix(err, "JWE");
	t.encrypted_key = ek;
	t.protected_len = strlen(t.protected_b64);
	t.encrypted_key_len = strlen(ek);
	t.iv_len = strlen(t.iv);
	t.ciphertext_len = strlen(t.ciphertext);
	t.tag_len = strlen(t.tag);
	if (aad) {
		t.has_aad = true;
		t.aad = aad;
		t.aad_len = strlen(aad);
	}
	r = jwe_decrypt_text(priv, &t, ret, err);
	if (r < 0)
		return ward_err_prefix(err, "JWE");
	return 0;
}

int ward_jwe_decrypt_compact(const struct ward_pkey *priv, const char *jwe, size_t size,
			     struct ward_secret **ret, struct ward_err *err)
{
	const char *parts[5];
	size_t lens[5];
	struct jwe_text t;
	int r;

	if (!jwe && size)
		return ward_err_set(err, -WARD_E_USAGE, "JWE: NULL input");
	if (size > 2 * (size_t)WARD_JOSE_MAX_SIZE)
		return ward_err_set(err, -WARD_E_TOO_BIG, "JWE of %zu bytes exceeds the limit",
				    size);
	r = split_dots("JWE", jwe ? jwe : "", size, 5, parts, lens, err);
	if (r < 0)
		return r;
	t = (struct jwe_text){
	    .protected_b64 = parts[0],
	    .protected_len = lens[0],
	    .encrypted_key = parts[1],
	    .encrypted_key_len = lens[1],
	    .iv = parts[2],
	    .iv_len = lens[2],
	    .ciphertext = parts[3],
	    .ciphertext_len = lens[3],
	    .tag = parts[4],
	    .tag_len = lens[4],
	};
	r = jwe_decrypt_text(priv, &t, ret, err);
	if (r < 0)
		return ward_err_prefix(err, "JWE");
	return 0;
}

/* Encryption result: base64url segments, malloc'ed; encrypted_key is ""
 * for direct key agreement. */
struct jwe_out {
	char *protected_b64, *encrypted_key, *iv, *ciphertext, *tag;
};

static void jwe_out_clear(struct jwe_out *o)
{
	free(o->protected_b64);
	free(o->encrypted_key);
	free(o->iv);
	free(o->ciphertext);
	free(o->tag);
	*o = (struct jwe_out){0};
}

static int jwe_encrypt_out(const struct ward_pkey *recipient, enum ward_jwe_alg alg,
			   const void *plaintext, size_t size, struct jwe_out *out,
			   struct ward_err *err)
{
	const struct jwe_alg_info *a = jwe_alg_by_id(alg);
	/* {"alg":"ECDH-ES+A256KW","enc":"A256GCM","epk":<JWK text>} at most */
	char hdr_text[64 + JOSE_JWK_TEXT_MAX];
	WARD_AUTOFREE uint8_t *ek = NULL;
	WARD_AUTOFREE uint8_t *ct = NULL;
	size_t ek_size = 0;
	uint8_t cek[32], iv[WARD_GCM_IV_SIZE], tag[WARD_GCM_TAG_SIZE];
	WARD_CLEANUP_ERASE(cek);
	int r, n;

	if (!a || !recipient || (!plaintext && size))
		return ward_err_set(err, -WARD_E_USAGE, "invalid arguments");
	if (!key_fits_jwe_alg(a, ward_pkey_type(recipient)))
		return ward_err_set(err, -WARD_E_USAGE, "alg %s cannot encrypt to a %s key",
				    a->name, key_type_name(ward_pkey_type(recipient)));
	if (size > WARD_JOSE_MAX_SIZE)
		return ward_err_set(err, -WARD_E_TOO_BIG,
				    "plaintext of %zu bytes exceeds the limit of %u", size,
				    WARD_JOSE_MAX_SIZE);
	if (a->ecdh) {
		WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *eph = NULL;
		WARD_CLEANUP(ward_secret_freep) struct ward_secret *z = NULL;
		char epk[JOSE_JWK_TEXT_MAX];
		uint8_t kek[32];
		WARD_CLEANUP_ERASE(kek);

		r = ward_pkey_generate(ward_pkey_type(recipient), 0, &eph, err);
		if (r < 0)
			return ward_err_prefix(err, "ephemeral key");
		/* The epk member is written from the key's coordinates directly:
		 * no JWK object, no JSON dump. */
		r = public_jwk_text(eph, epk, err);
		if (r < 0)
			return ward_err_prefix(err, "ephemeral key");
		n = snprintf(hdr_text, sizeof(hdr_text),
			     "{\"alg\":\"%s\",\"enc\":\"" JWE_ENC "\",\"epk\":%s}", a->name, epk);
		r = ward_ecdh(eph, recipient, &z, err);
		if (r < 0)
			return ward_err_prefix(err, "ECDH");
		if (a->alg == WARD_JWE_ECDH_ES) {
			r = ward_jose_concat_kdf(z->data, z->size, JWE_ENC, NULL, 0, NULL, 0, cek,
						 sizeof(cek), err);
			if (r < 0)
				return r;
		} else {
			r = ward_jose_concat_kdf(z->data, z->size, a->name, NULL, 0, NULL, 0, kek,
						 sizeof(kek), err);
			if (r < 0)
				return r;
			r = ward_random(cek, sizeof(cek), err);
			if (r < 0)
				return r;
			ek = malloc(JOSE_KW_WRAPPED_SIZE);
			if (!ek)
				return ward_err_set(err, -ENOMEM, "out of memory");
			r = ward_aes256kw_wrap(kek, cek, sizeof(cek), ek, err);
			if (r < 0)
				return ward_err_prefix(err, "%s key wrap", a->name);
			ek_size = JOSE_KW_WRAPPED_SIZE;
		}
	} else {
		n = snprintf(hdr_text, sizeof(hdr_text), "{\"alg\":\"%s\",\"enc\":\"" JWE_ENC "\"}",
			     a->name);
		r = ward_random(cek, sizeof(cek), err);
		if (r < 0)
			return r;
		r = ward_rsa_oaep_encrypt(recipient, a->oaep_hash, cek, sizeof(cek), &ek, &ek_size,
					  err);
		if (r < 0)
			return ward_err_prefix(err, "%s", a->name);
	}
	if (n < 0 || (size_t)n >= sizeof(hdr_text))
		return ward_err_set(err, -WARD_E_USAGE, "protected header too long");

	out->protected_b64 = ward_base64url_encode_alloc(hdr_text, strlen(hdr_text));
	if (!out->protected_b64)
		return ward_err_set(err, -ENOMEM, "out of memory");
	r = ward_random(iv, sizeof(iv), err);
	if (r < 0)
		return r;
	ct = malloc(size ? size : 1);
	if (!ct)
		return ward_err_set(err, -ENOMEM, "out of memory");
	r = ward_aes256gcm_seal(cek, iv, sizeof(iv), out->protected_b64, strlen(out->protected_b64),
				plaintext, size, ct, tag, err);
	if (r < 0)
		return ward_err_prefix(err, "A256GCM");
	out->encrypted_key = ward_base64url_encode_alloc(ek, ek_size);
	out->iv = ward_base64url_encode_alloc(iv, sizeof(iv));
	out->ciphertext = ward_base64url_encode_alloc(ct, size);
	out->tag = ward_base64url_encode_alloc(tag, sizeof(tag));
	if (!out->encrypted_key || !out->iv || !out->ciphertext || !out->tag)
		return ward_err_set(err, -ENOMEM, "out of memory");
	return 0;
}

int ward_jwe_encrypt(const struct ward_pkey *recipient, enum ward_jwe_alg alg,
		     const void *plaintext, size_t size, json_t **ret, struct ward_err *err)
{
	WARD_CLEANUP(jwe_out_clear) struct jwe_out o = {0};
	WARD_AUTOJSON json_t *j = NULL;
	int r;

	r = jwe_encrypt_out(recipient, alg, plaintext, size, &o, err);
	if (r < 0)
		return ward_err_prefix(err, "JWE encrypt");
	j = json_pack("{s:s, s:s, s:s, s:s}", "protected", o.protected_b64, "iv", o.iv,
		      "ciphertext", o.ciphertext, "tag", o.tag);
	/* RFC 7516 §7.2.1: encrypted_key is absent when it is empty (ECDH-ES). */
	if (!j || (o.encrypted_key[0] &&
		   json_object_set_new(j, "encrypted_key", json_string(o.encrypted_key)) < 0))
		return ward_err_set(err, -ENOMEM, "JWE encrypt: out of memory");
	*ret = WARD_TAKE_PTR(j);
	return 0;
}

int ward_jwe_encrypt_text(const struct ward_pkey *recipient, enum ward_jwe_alg alg,
			  const void *plaintext, size_t size, char **ret, struct ward_err *err)
{
	WARD_CLEANUP(jwe_out_clear) struct jwe_out o = {0};
	size_t total;
	char *s;
	int r, n;

	r = jwe_encrypt_out(recipient, alg, plaintext, size, &o, err);
	if (r < 0)
		return ward_err_prefix(err, "JWE encrypt");
	/* Members in lexicographic order, as ward_json_dump() of
	 * ward_jwe_encrypt()'s object; base64url needs no escaping. */
	total = strlen(o.protected_b64) + strlen(o.encrypted_key) + strlen(o.iv) +
		strlen(o.ciphertext) + strlen(o.tag) + 96;
	s = malloc(total);
	if (!s)
		return ward_err_set(err, -ENOMEM, "JWE encrypt: out of memory");
	/* RFC 7516 §7.2.1: encrypted_key is absent when it is empty (ECDH-ES). */
	n = snprintf(
	    s, total,
	    "{\"ciphertext\":\"%s\",%s%s%s\"iv\":\"%s\",\"protected\":\"%s\",\"tag\":\"%s\"}",
	    o.ciphertext, o.encrypted_key[0] ? "\"encrypted_key\":\"" : "", o.encrypted_key,
	    o.encrypted_key[0] ? "\"," : "", o.iv, o.protected_b64, o.tag);
	if (n < 0 || (size_t)n >= total) {
		free(s);
		return ward_err_set(err, -WARD_E_USAGE, "JWE encrypt: output size miscounted");
	}
	*ret = s;
	return 0;
}

int ward_jwe_encrypt_compact(const struct ward_pkey *recipient, enum ward_jwe_alg alg,
			     const void *plaintext, size_t size, char **ret, struct ward_err *err)
{
	WARD_CLEANUP(jwe_out_clear) struct jwe_out o = {0};
	char *s;
	int r;

	r = jwe_encrypt_out(recipient, alg, plaintext, size, &o, err);
	if (r < 0)
		return ward_err_prefix(err, "JWE encrypt");
	s = join_dots(
	    (const char *const[]){o.protected_b64, o.encrypted_key, o.iv, o.ciphertext, o.tag}, 5);
	if (!s)
		return ward_err_set(err, -ENOMEM, "JWE encrypt: out of memory");
	*ret = s;
	return 0;
}
