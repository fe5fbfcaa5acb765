/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Gramine RA-TLS certificates: an X.509 certificate whose extension
 * carries an SGX (or TDX) quote whose report data binds the certificate's
 * own public key. Two encodings are accepted:
 *   - legacy (Gramine before 1.8): the raw quote under OID
 *     1.2.840.113741.1337.6 — Gramine actually writes the OID's full DER
 *     (06 09 ...) as the OID contents, which decodes as
 *     0.6.9.42.840.113741.1337.6; both spellings are looked up — with
 *     REPORTDATA[0:32] = SHA-256(SubjectPublicKeyInfo DER) and [32:64] zero;
 *   - interoperable RA-TLS (TCG DICE tagged evidence, OID 2.23.133.5.4.9):
 *     CBOR tag 60000 over [quote, claims-buffer], claims-buffer a CBOR map
 *     {"pubkey-hash": bstr(CBOR [hash-alg-id, hash]), ? "nonce": bstr},
 *     REPORTDATA[0:32] = SHA-256(claims-buffer), hash-alg-id 1 (SHA-256),
 *     7 (SHA-384) or 8 (SHA-512) over the SubjectPublicKeyInfo DER.
 * The certificate signature itself proves nothing (self-signed by the
 * enclave); trust comes from the quote and the key binding. */

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ward/compiler.h"
#include "ward/crypto.h"
#include "ward/dcap.h"
#include "ward/error.h"

#define WARD_RATLS_OID_LEGACY "1.2.840.113741.1337.6"
#define WARD_RATLS_OID_LEGACY_GRAMINE "0.6.9.42.840.113741.1337.6"
#define WARD_RATLS_OID_DICE "2.23.133.5.4.9"
#define WARD_RATLS_CBOR_TAG_QUOTE 60000

enum ward_ratls_format {
	WARD_RATLS_LEGACY,
	WARD_RATLS_DICE,
};

struct ward_ratls_evidence {
	enum ward_ratls_format format;
	const uint8_t *quote; /* borrowed from the certificate */
	size_t quote_size;
	const uint8_t *nonce; /* DICE "nonce" claim, or NULL */
	size_t nonce_size;
};

/* Find the quote in cert and check that its report data binds the
 * certificate's public key (per format). No signature is verified here.
 * Views borrow from cert. Returns 0, -WARD_E_NOT_FOUND (no RA-TLS
 * extension), -WARD_E_MALFORMED, or -WARD_E_VERIFY (binding mismatch). */
WARD_PUBLIC int ward_ratls_extract(const struct ward_x509 *cert, struct ward_ratls_evidence *ret,
				   struct ward_err *err);

/* ward_ratls_extract() then ward_dcap_verify() of the quote with coll at
 * time at; claims gain {"ratls": {"format", "pubkey_sha256"}}. */
WARD_PUBLIC int ward_ratls_verify(const struct ward_x509 *cert, struct ward_dcap_collateral *coll,
				  time_t at, json_t **ret_claims, struct ward_err *err);
