/* SPDX-License-Identifier: Apache-2.0 */
/* Gramine RA-TLS certificates (see ward/ratls.h). */
#include "ward/ratls.h"

#include <errno.h>
#include <string.h>

#include "cbor.h"
#include "ward/cleanup.h"
#include "ward/encoding.h"
#include "ward/json.h"

#define RATLS_QUOTE_MAX (64u << 10)
#define RATLS_CLAIMS_MAX 1024

static int spki_hash(const struct ward_x509 *cert, enum ward_hash_alg alg, uint8_t *out,
		     struct ward_err *err)
{
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *key = NULL;
	WARD_AUTOFREE uint8_t *der = NULL;
	size_t der_size;
	int r;

	if ((r = ward_x509_pubkey(cert, &key, err)) < 0 ||
	    (r = ward_pkey_public_der(key, &der, &der_size, err)) < 0)
		return r;
	return ward_hash(alg, der, der_size, out, err);
}

/* REPORTDATA of an SGX (v3) or TDX (v4/v5) quote, through the DCAP parser. */
static int quote_report_data(const uint8_t *quote, size_t size, const uint8_t **ret,
			     struct ward_err *err)
{
	struct ward_dcap_quote q;
	int r = ward_dcap_quote_parse(quote, size, &q, err);

	if (r < 0)
		return ward_err_prefix(err, "RA-TLS quote");
	*ret = q.body_type == 1 ? q.enclave.report_data : q.td.report_data;
	return 0;
}

static int extract_legacy(const struct ward_x509 *cert, const uint8_t *val, size_t size,
			  struct ward_ratls_evidence *ev, struct ward_err *err)
{
	uint8_t h[32];
	const uint8_t *rd = NULL;
	static const uint8_t zero[32];
	int r;

	if (size == 0 || size > RATLS_QUOTE_MAX)
		return ward_err_set(err, -WARD_E_MALFORMED, "RA-TLS quote extension of %zu bytes",
				    size);
	if ((r = quote_report_data(val, size, &rd, err)) < 0 ||
	    (r = spki_hash(cert, WARD_HASH_SHA256, h, err)) < 0)
		return r;
	if (!ward_ct_eq(rd, h, 32) || !ward_ct_eq(rd + 32, zero, 32))
		return ward_err_set(err, -WARD_E_VERIFY,
				    "RA-TLS: the quote's report data does not bind the "
				    "certificate's public key");
	ev->format = WARD_RATLS_LEGACY;
	ev->quote = val;
	ev->quote_size = size;
	return 0;
}

/* claims-buffer: {"pubkey-hash": bstr(CBOR [alg, hash]), ? "nonce": bstr}. */
static int check_dice_claims(const struct ward_x509 *cert, const uint8_t *claims, size_t size,
			     struct ward_ratls_evidence *ev, struct ward_err *err)
{
	struct ward_cur c = ward_cur_make(claims, size);
	uint64_t n, alg, entry_len;
	bool have_pk = false;
	int r;

	if (ward_cbor_expect(&c, WARD_CBOR_MAP, &n) < 0 || n < 1 || n > 2)
		return ward_err_set(err, -WARD_E_MALFORMED, "RA-TLS claims: not a map of 1-2 claims");
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *key, *val;
		size_t key_size, val_size;

		if (ward_cbor_string(&c, WARD_CBOR_TEXT, 32, &key, &key_size) < 0 ||
		    ward_cbor_string(&c, WARD_CBOR_BYTES, RATLS_CLAIMS_MAX, &val, &val_size) < 0)
			return ward_err_set(err, -WARD_E_MALFORMED, "RA-TLS claims: malformed claim");
		if (key_size == 11 && memcmp(key, "pubkey-hash", 11) == 0 && !have_pk) {
			struct ward_cur h = ward_cur_make(val, val_size);
			const uint8_t *hv;
			size_t hv_size, want;
			enum ward_hash_alg ha;
			uint8_t mine[WARD_HASH_MAX_SIZE];

			if (ward_cbor_expect(&h, WARD_CBOR_ARRAY, &entry_len) < 0 || entry_len != 2 ||
			    ward_cbor_expect(&h, WARD_CBOR_UINT, &alg) < 0 ||
			    ward_cbor_string(&h, WARD_CBOR_BYTES, 64, &hv, &hv_size) < 0 ||
			    !ward_cur_empty(&h))
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "RA-TLS claims: malformed pubkey-hash");
			switch (alg) { /* IANA named-information hash algorithm ids */
			case 1:
				ha = WARD_HASH_SHA256;
				break;
			case 7:
				ha = WARD_HASH_SHA384;
				break;
			case 8:
				ha = WARD_HASH_SHA512;
				break;
			default:
				return ward_err_set(err, -WARD_E_UNSUPPORTED,
						    "RA-TLS claims: hash algorithm %llu",
						    (unsigned long long)alg);
			}
			want = ward_hash_size(ha);
			if (hv_size != want)
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "RA-TLS claims: pubkey-hash of %zu bytes", hv_size);
			if ((r = spki_hash(cert, ha, mine, err)) < 0)
				return r;
			if (!ward_ct_eq(mine, hv, want))
				return ward_err_set(err, -WARD_E_VERIFY,
						    "RA-TLS: pubkey-hash does not match the "
						    "certificate's public key");
			have_pk = true;
		} else if (key_size == 5 && memcmp(key, "nonce", 5) == 0 && !ev->nonce) {
			ev->nonce = val;
			ev->nonce_size = val_size;
		} else {
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "RA-TLS claims: unexpected or repeated claim '%.*s'",
					    (int)key_size, key);
		}
	}
	if (!have_pk || !ward_cur_empty(&c))
		return ward_err_set(err, -WARD_E_MALFORMED, "RA-TLS claims: pubkey-hash missing");
	return 0;
}

static int extract_dice(const struct ward_x509 *cert, const uint8_t *val, size_t size,
			struct ward_ratls_evidence *ev, struct ward_err *err)
{
	struct ward_cur c = ward_cur_make(val, size);
	const uint8_t *quote, *claims, *rd = NULL;
	size_t quote_size, claims_size;
	uint64_t tag, n;
	uint8_t h[32];
	int r;

	/* The extension value is an OCTET STRING (DER) holding the CBOR. */
	{
		uint8_t t, l;
		struct ward_cur save = c;
		if (ward_cur_u8(&c, &t) == 0 && t == 0x04 && ward_cur_u8(&c, &l) == 0) {
			uint64_t len = l;
			if (l & 0x80) {
				unsigned nb = l & 0x7f;
				len = 0;
				for (unsigned i = 0; i < nb && i < 4; i++) {
					uint8_t b;
					if (ward_cur_u8(&c, &b) < 0)
						return ward_err_set(err, -WARD_E_MALFORMED,
								    "RA-TLS: truncated extension");
					len = len << 8 | b;
				}
				if (nb == 0 || nb > 4)
					return ward_err_set(err, -WARD_E_MALFORMED,
							    "RA-TLS: bad extension length");
			}
			if (len != c.left)
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "RA-TLS: extension length mismatch");
		} else {
			c = save; /* the CBOR directly */
		}
	}
	if (ward_cbor_expect(&c, WARD_CBOR_TAG, &tag) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "RA-TLS: evidence is not tagged CBOR");
	if (tag != WARD_RATLS_CBOR_TAG_QUOTE)
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "RA-TLS: evidence CBOR tag %llu",
				    (unsigned long long)tag);
	if (ward_cbor_expect(&c, WARD_CBOR_ARRAY, &n) < 0 || n != 2 ||
	    ward_cbor_string(&c, WARD_CBOR_BYTES, RATLS_QUOTE_MAX, &quote, &quote_size) < 0 ||
	    ward_cbor_string(&c, WARD_CBOR_BYTES, RATLS_CLAIMS_MAX, &claims, &claims_size) < 0 ||
	    !ward_cur_empty(&c))
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "RA-TLS: evidence is not [quote, claims-buffer]");
	if ((r = quote_report_data(quote, quote_size, &rd, err)) < 0 ||
	    (r = ward_hash(WARD_HASH_SHA256, claims, claims_size, h, err)) < 0)
		return r;
	if (!ward_ct_eq(rd, h, 32))
		return ward_err_set(err, -WARD_E_VERIFY,
				    "RA-TLS: the quote's report data does not bind the claims");
	if ((r = check_dice_claims(cert, claims, claims_size, ev, err)) < 0)
		return r;
	ev->format = WARD_RATLS_DICE;
	ev->quote = quote;
	ev->quote_size = quote_size;
	return 0;
}

int ward_ratls_extract(const struct ward_x509 *cert, struct ward_ratls_evidence *ret,
		       struct ward_err *err)
{
	struct ward_ratls_evidence ev = {0};
	const uint8_t *val;
	size_t size;
	int r;

	r = ward_x509_extension(cert, WARD_RATLS_OID_DICE, &val, &size, err);
	if (r == 0)
		r = extract_dice(cert, val, size, &ev, err);
	else if (r == -WARD_E_NOT_FOUND) {
		r = ward_x509_extension(cert, WARD_RATLS_OID_LEGACY_GRAMINE, &val, &size, err);
		if (r == -WARD_E_NOT_FOUND)
			r = ward_x509_extension(cert, WARD_RATLS_OID_LEGACY, &val, &size, err);
		if (r == -WARD_E_NOT_FOUND)
			return ward_err_set(err, -WARD_E_NOT_FOUND,
					    "not an RA-TLS certificate (no quote extension)");
		if (r == 0)
			r = extract_legacy(cert, val, size, &ev, err);
	}
	if (r < 0)
		return r;
	*ret = ev;
	return 0;
}

int ward_ratls_verify(const struct ward_x509 *cert, struct ward_dcap_collateral *coll, time_t at,
		      json_t **ret_claims, struct ward_err *err)
{
	struct ward_ratls_evidence ev;
	WARD_AUTOJSON json_t *claims = NULL;
	uint8_t h[32];
	char hex[65];
	int r;

	if ((r = ward_ratls_extract(cert, &ev, err)) < 0)
		return r;
	if (!coll)
		return ward_err_set(err, -WARD_E_NOT_FOUND,
				    "RA-TLS: no DCAP collateral to verify the quote with");
	if ((r = ward_dcap_verify(ev.quote, ev.quote_size, coll, at, &claims, err)) < 0)
		return ward_err_prefix(err, "RA-TLS quote");
	if ((r = spki_hash(cert, WARD_HASH_SHA256, h, err)) < 0)
		return r;
	ward_hex_encode(h, 32, hex);
	if (json_object_set_new(claims, "ratls",
				json_pack("{s:s,s:s}", "format",
					  ev.format == WARD_RATLS_DICE ? "tcg-dice" : "gramine-legacy",
					  "pubkey_sha256", hex)) < 0)
		return ward_err_set(err, -ENOMEM, "out of memory");
	*ret_claims = WARD_TAKE_PTR(claims);
	return 0;
}
