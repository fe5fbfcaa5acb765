/* SPDX-License-Identifier: Apache-2.0 */
#include <time.h>

#include "cbor.h"
#include "ward-test.h"
#include "ward/cleanup.h"
#include "ward/file.h"
#include "ward/ratls.h"
#include "ward/util.h"

static struct ward_x509 *load_gramine_cert(void)
{
	const char *path = ward_test_vector("ratls/gramine-legacy-oid-konvera/cert.der");
	WARD_AUTOFREE uint8_t *der = NULL;
	size_t size;
	struct ward_x509 *c = NULL;

	if (!path) {
		fprintf(stderr, "SKIP: RA-TLS vector not available\n");
		return NULL;
	}
	if (ward_file_read(path, 1 << 20, &der, &size, NULL) < 0 ||
	    ward_x509_from_der(der, size, &c, NULL) < 0)
		abort();
	return c;
}

static time_t at(const char *s)
{
	time_t t;

	if (ward_time_parse_rfc3339(s, &t, NULL) < 0)
		abort();
	return t;
}

WARD_TEST(gramine_legacy_real_certificate)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *cert = load_gramine_cert();
	struct ward_ratls_evidence ev;
	struct ward_dcap_quote q;
	uint8_t mrenclave[32];
	json_t *claims = NULL;

	if (!cert)
		return;
	CHECK_OK(ward_ratls_extract(cert, &ev, &err), &err);
	CHECK_INT(ev.format, ==, WARD_RATLS_LEGACY);
	CHECK_INT(ev.quote_size, ==, 4730);
	CHECK_OK(ward_dcap_quote_parse(ev.quote, ev.quote_size, &q, &err), &err);
	ward_test_unhex("f94ccbe6a504676b2edbefdcb8781a512913f7d8864c6f88592a843d0f9d4a66", mrenclave,
			32);
	CHECK_MEM(q.enclave.mrenclave, mrenclave, 32);
	/* The quote itself is genuine (signatures, QE binding, PCK chain). */
	CHECK_OK(ward_dcap_verify_quote_only(ev.quote, ev.quote_size, at("2024-06-01T00:00:00Z"), &err),
		 &err);
	/* Full verification needs collateral: fail closed, naming what is missing. */
	CHECK_ERR(ward_ratls_verify(cert, NULL, at("2024-06-01T00:00:00Z"), &claims, &err),
		  -WARD_E_NOT_FOUND);
	CHECK_MSG(&err, "collateral");
	CHECK(claims == NULL);
}

/* A certificate for another key carrying the same genuine quote: the
 * binding check must refuse it (this is the whole point of RA-TLS). */
WARD_TEST(quote_moved_to_another_key_is_refused)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *cert = load_gramine_cert();
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *forged = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *key = NULL;
	struct ward_ratls_evidence ev;
	const uint8_t *val;
	size_t size;

	if (!cert)
		return;
	CHECK_OK(ward_x509_extension(cert, WARD_RATLS_OID_LEGACY_GRAMINE, &val, &size, &err), &err);
	struct ward_x509_ext ext = {WARD_RATLS_OID_LEGACY, val, size, false};
	struct ward_x509_template t = {.subject = "CN=RATLS", .not_before = 0,
				       .not_after = 2000000000, .exts = &ext, .ext_count = 1};
	CHECK_OK(ward_pkey_generate(WARD_KEY_EC_P384, 0, &key, &err), &err);
	CHECK_OK(ward_x509_create(&t, key, NULL, key, WARD_SIG_ECDSA_SHA256, &forged, &err), &err);
	CHECK_ERR(ward_ratls_extract(forged, &ev, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "does not bind");
}

/* Build tag60000([quote, claims]) with claims {"pubkey-hash": bstr([alg, h])}. */
static size_t put_head(uint8_t *p, unsigned major, uint64_t arg)
{
	if (arg < 24) {
		p[0] = (uint8_t)(major << 5 | arg);
		return 1;
	}
	if (arg < 256) {
		p[0] = (uint8_t)(major << 5 | 24), p[1] = (uint8_t)arg;
		return 2;
	}
	if (arg < 65536) {
		p[0] = (uint8_t)(major << 5 | 25), p[1] = (uint8_t)(arg >> 8), p[2] = (uint8_t)arg;
		return 3;
	}
	p[0] = (uint8_t)(major << 5 | 26);
	for (int i = 0; i < 4; i++)
		p[1 + i] = (uint8_t)(arg >> (24 - 8 * i));
	return 5;
}

static size_t make_claims(uint8_t *out, unsigned alg, const uint8_t *h, size_t hs)
{
	uint8_t entry[80];
	size_t e = 0, o = 0;

	e += put_head(entry + e, 4, 2);
	e += put_head(entry + e, 0, alg);
	e += put_head(entry + e, 2, hs);
	memcpy(entry + e, h, hs);
	e += hs;
	o += put_head(out + o, 5, 1);
	o += put_head(out + o, 3, 11);
	memcpy(out + o, "pubkey-hash", 11);
	o += 11;
	o += put_head(out + o, 2, e);
	memcpy(out + o, entry, e);
	return o + e;
}

struct dice {
	uint8_t buf[8192];
	size_t size;
};

/* Patch the genuine quote's report data to bind claims (breaks its
 * signature, which extraction does not check) and wrap it. */
static int make_dice(const uint8_t *quote, size_t qsize, const uint8_t *claims, size_t csize,
		     uint64_t tag, struct dice *d)
{
	uint8_t q[5000], h[32];
	struct ward_dcap_quote pq;
	size_t o = 0;

	memcpy(q, quote, qsize);
	if (ward_dcap_quote_parse(q, qsize, &pq, NULL) < 0 ||
	    ward_hash(WARD_HASH_SHA256, claims, csize, h, NULL) < 0)
		return -1;
	memcpy((uint8_t *)pq.enclave.report_data, h, 32);
	o += put_head(d->buf + o, 6, tag);
	o += put_head(d->buf + o, 4, 2);
	o += put_head(d->buf + o, 2, qsize);
	memcpy(d->buf + o, q, qsize);
	o += qsize;
	o += put_head(d->buf + o, 2, csize);
	memcpy(d->buf + o, claims, csize);
	d->size = o + csize;
	return 0;
}

static int dice_cert(const struct dice *d, struct ward_pkey *key, struct ward_x509 **ret)
{
	struct ward_x509_ext ext = {WARD_RATLS_OID_DICE, d->buf, d->size, false};
	struct ward_x509_template t = {.subject = "CN=RATLS", .not_before = 0,
				       .not_after = 2000000000, .exts = &ext, .ext_count = 1};

	return ward_x509_create(&t, key, NULL, key, WARD_SIG_ECDSA_SHA256, ret, NULL);
}

WARD_TEST(dice_tagged_evidence)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *cert = load_gramine_cert();
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *key = NULL;
	WARD_AUTOFREE uint8_t *spki = NULL;
	struct ward_ratls_evidence ev, legacy;
	struct ward_x509 *c = NULL;
	uint8_t claims[200], h[64];
	size_t spki_size, cs;
	struct dice d;

	if (!cert)
		return;
	CHECK_OK(ward_ratls_extract(cert, &legacy, &err), &err);
	CHECK_OK(ward_pkey_generate(WARD_KEY_EC_P256, 0, &key, &err), &err);
	CHECK_OK(ward_pkey_public_der(key, &spki, &spki_size, &err), &err);

	/* SHA-384 pubkey-hash (IANA id 7): accepted */
	CHECK_OK(ward_hash(WARD_HASH_SHA384, spki, spki_size, h, &err), &err);
	cs = make_claims(claims, 7, h, 48);
	CHECK(make_dice(legacy.quote, legacy.quote_size, claims, cs, 60000, &d) == 0);
	CHECK(dice_cert(&d, key, &c) == 0);
	CHECK_OK(ward_ratls_extract(c, &ev, &err), &err);
	CHECK_INT(ev.format, ==, WARD_RATLS_DICE);
	CHECK_INT(ev.quote_size, ==, legacy.quote_size);
	/* ... but the patched quote's signature no longer holds */
	CHECK(ward_dcap_verify_quote_only(ev.quote, ev.quote_size, at("2024-06-01T00:00:00Z"), &err) <
	      0);
	ward_x509_free(c), c = NULL;

	/* a pubkey-hash of some other key */
	h[0] ^= 1;
	cs = make_claims(claims, 7, h, 48);
	CHECK(make_dice(legacy.quote, legacy.quote_size, claims, cs, 60000, &d) == 0);
	CHECK(dice_cert(&d, key, &c) == 0);
	CHECK_ERR(ward_ratls_extract(c, &ev, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "pubkey-hash");
	ward_x509_free(c), c = NULL;

	/* unknown hash algorithm id */
	cs = make_claims(claims, 99, h, 32);
	CHECK(make_dice(legacy.quote, legacy.quote_size, claims, cs, 60000, &d) == 0);
	CHECK(dice_cert(&d, key, &c) == 0);
	CHECK_ERR(ward_ratls_extract(c, &ev, &err), -WARD_E_UNSUPPORTED);
	ward_x509_free(c), c = NULL;

	/* another CBOR tag (60001 is a TEE report, not a quote) */
	CHECK_OK(ward_hash(WARD_HASH_SHA256, spki, spki_size, h, &err), &err);
	cs = make_claims(claims, 1, h, 32);
	CHECK(make_dice(legacy.quote, legacy.quote_size, claims, cs, 60001, &d) == 0);
	CHECK(dice_cert(&d, key, &c) == 0);
	CHECK_ERR(ward_ratls_extract(c, &ev, &err), -WARD_E_UNSUPPORTED);
	ward_x509_free(c), c = NULL;

	/* claims changed after the quote was made: report data no longer binds them */
	CHECK(make_dice(legacy.quote, legacy.quote_size, claims, cs, 60000, &d) == 0);
	d.buf[d.size - 1] ^= 1;
	CHECK(dice_cert(&d, key, &c) == 0);
	CHECK_ERR(ward_ratls_extract(c, &ev, &err), -WARD_E_VERIFY);
	ward_x509_free(c), c = NULL;

	/* truncated evidence at every length fails cleanly */
	CHECK(make_dice(legacy.quote, legacy.quote_size, claims, cs, 60000, &d) == 0);
	size_t full = d.size;
	for (size_t n = 1; n < full; n += 97) {
		d.size = n;
		CHECK(dice_cert(&d, key, &c) == 0);
		CHECK(ward_ratls_extract(c, &ev, &err) < 0);
		ward_x509_free(c), c = NULL;
	}
}

WARD_TEST(not_ratls)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *key = NULL;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *c = NULL;
	struct ward_x509_template t = {.subject = "CN=plain", .not_before = 0,
				       .not_after = 2000000000};
	struct ward_ratls_evidence ev;

	CHECK_OK(ward_pkey_generate(WARD_KEY_EC_P256, 0, &key, &err), &err);
	CHECK_OK(ward_x509_create(&t, key, NULL, key, WARD_SIG_ECDSA_SHA256, &c, &err), &err);
	CHECK_ERR(ward_ratls_extract(c, &ev, &err), -WARD_E_NOT_FOUND);
	CHECK_MSG(&err, "not an RA-TLS certificate");
}

WARD_TEST(cbor_reader)
{
	static const uint8_t ok[] = {0xd9, 0xea, 0x60, 0x82, 0x41, 0xaa, 0x1b, 0, 0, 0, 0, 0, 0, 0, 9};
	static const uint8_t indefinite[] = {0x5f, 0x41, 0x00, 0xff};
	static const uint8_t reserved[] = {0x1c};
	static const uint8_t huge_array[] = {0x9a, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t short_bytes[] = {0x45, 0x01};
	struct ward_cur c = ward_cur_make(ok, sizeof(ok));
	enum ward_cbor_major m;
	uint64_t arg;
	const uint8_t *p;
	size_t n;

	CHECK_OK(ward_cbor_expect(&c, WARD_CBOR_TAG, &arg), NULL);
	CHECK(arg == 60000);
	CHECK_OK(ward_cbor_expect(&c, WARD_CBOR_ARRAY, &arg), NULL);
	CHECK(arg == 2);
	CHECK_ERR(ward_cbor_string(&c, WARD_CBOR_TEXT, 10, &p, &n), -WARD_E_MALFORMED);
	CHECK_OK(ward_cbor_string(&c, WARD_CBOR_BYTES, 10, &p, &n), NULL);
	CHECK(n == 1 && p[0] == 0xaa);
	CHECK_OK(ward_cbor_head(&c, &m, &arg), NULL);
	CHECK(m == WARD_CBOR_UINT && arg == 9);
	CHECK(ward_cur_empty(&c));
	c = ward_cur_make(ok, sizeof(ok));
	CHECK_OK(ward_cbor_skip(&c, 8), NULL);
	CHECK(ward_cur_empty(&c));
	c = ward_cur_make(ok, sizeof(ok));
	CHECK_ERR(ward_cbor_skip(&c, 1), -WARD_E_MALFORMED); /* nesting limit */
	c = ward_cur_make(indefinite, sizeof(indefinite));
	CHECK_ERR(ward_cbor_skip(&c, 8), -WARD_E_MALFORMED);
	c = ward_cur_make(reserved, sizeof(reserved));
	CHECK_ERR(ward_cbor_head(&c, &m, &arg), -WARD_E_MALFORMED);
	c = ward_cur_make(huge_array, sizeof(huge_array));
	CHECK_ERR(ward_cbor_skip(&c, 8), -WARD_E_MALFORMED);
	c = ward_cur_make(short_bytes, sizeof(short_bytes));
	CHECK_ERR(ward_cbor_string(&c, WARD_CBOR_BYTES, 100, &p, &n), -WARD_E_MALFORMED);
	CHECK_INT(c.left, ==, 2); /* unchanged */
	CHECK_ERR(ward_cbor_string(&c, WARD_CBOR_UINT, 100, &p, &n), -WARD_E_MALFORMED);
}

WARD_TEST_MAIN()
