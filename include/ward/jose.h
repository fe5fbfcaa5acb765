/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* JOSE: JWK (RFC 7517/7518), JWS compact (RFC 7515: ES256, ES384, RS256)
 * and JWE (RFC 7516: alg ECDH-ES+A256KW, ECDH-ES, RSA-OAEP, RSA-OAEP-256;
 * enc A256GCM), in the forms the KBS protocol and ocicrypt use. Algorithms
 * are an allow-list: "none", HMAC and anything else are rejected. */

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "ward/compiler.h"
#include "ward/crypto.h"
#include "ward/error.h"

#define WARD_JOSE_MAX_SIZE (16u << 20)

/* JWK -> key. Supports kty EC (P-256, P-384; with "d" a private key),
 * RSA (n, e; public only) and OKP X25519 (x; public only). Unknown members
 * are ignored, as RFC 7517 requires. */
/* An EC "d" must belong to x and y (-WARD_E_MALFORMED otherwise); RSA or
 * OKP JWKs with "d" are -WARD_E_UNSUPPORTED, as are other kty/crv values
 * (named in the message). Coordinates must have the exact curve size. */
WARD_PUBLIC int ward_jwk_import(const json_t *jwk, struct ward_pkey **ret, struct ward_err *err);
/* key -> public JWK object (new reference): {"kty","crv","x","y"} / {"kty","n","e"}. */
WARD_PUBLIC int ward_jwk_export_public(const struct ward_pkey *key, json_t **ret,
				       struct ward_err *err);
/* RFC 7638 JWK thumbprint (SHA-256) of the public key. */
WARD_PUBLIC int ward_jwk_thumbprint(const struct ward_pkey *key, uint8_t out[32],
				    struct ward_err *err);

enum ward_jws_alg {
	WARD_JWS_ES256,
	WARD_JWS_ES384,
	WARD_JWS_RS256,
};
WARD_PUBLIC const char *ward_jws_alg_name(enum ward_jws_alg alg);

/* Sign payload as a compact JWS with protected header {"alg":..., "typ":typ
 * (if non-NULL), extra members of extra_header (may be NULL)}. *ret malloc'ed. */
WARD_PUBLIC int ward_jws_sign_compact(const struct ward_pkey *key, enum ward_jws_alg alg,
				      const char *typ, const json_t *extra_header,
				      const void *payload, size_t payload_size, char **ret,
				      struct ward_err *err);
/* Verify a compact JWS with key; the header alg must be allowed for the key
 * type (ES256 for P-256, ES384 for P-384, RS256 for RSA). On success
 * *ret_payload (malloc'ed) and optionally *ret_header (new ref) are set. */
/* Errors: -WARD_E_UNSUPPORTED for any other alg ("none", HS*, PS*...) and
 * for a "crit" header; -WARD_E_VERIFY for a bad signature or an alg that
 * does not fit the key; -WARD_E_MALFORMED for bad structure or non-strict
 * base64url; -WARD_E_TOO_BIG beyond WARD_JOSE_MAX_SIZE. ECDSA signatures
 * are raw r || s (RFC 7518 §3.4). */
WARD_PUBLIC int ward_jws_verify_compact(const struct ward_pkey *key, const char *jws,
					size_t jws_size, uint8_t **ret_payload,
					size_t *ret_payload_size, json_t **ret_header,
					struct ward_err *err);

enum ward_jwe_alg {
	WARD_JWE_ECDH_ES_A256KW,
	WARD_JWE_ECDH_ES, /* direct key agreement */
	WARD_JWE_RSA_OAEP,
	WARD_JWE_RSA_OAEP_256,
};
WARD_PUBLIC const char *ward_jwe_alg_name(enum ward_jwe_alg alg);

/* Encrypt plaintext to recipient (public key) with enc A256GCM. Returns a
 * flattened JSON serialisation object {"protected","encrypted_key","iv",
 * "ciphertext","tag"} (new reference). ECDH-ES variants need an EC or
 * X25519 key, RSA-OAEP variants an RSA key. */
WARD_PUBLIC int ward_jwe_encrypt(const struct ward_pkey *recipient, enum ward_jwe_alg alg,
				 const void *plaintext, size_t size, json_t **ret,
				 struct ward_err *err);
/* Same, but *ret (malloc'ed) is the object's compact JSON text with
 * members in lexicographic order, i.e. what ward_json_dump() would make of
 * ward_jwe_encrypt()'s result, without building a JSON object. */
WARD_PUBLIC int ward_jwe_encrypt_text(const struct ward_pkey *recipient, enum ward_jwe_alg alg,
				      const void *plaintext, size_t size, char **ret,
				      struct ward_err *err);
/* Decrypt a flattened JSON JWE with the private key. Only the algorithms
 * above with enc A256GCM are accepted; "zip" is rejected. -WARD_E_VERIFY if
 * the key unwrap or the tag fails. */
/* Details: -WARD_E_UNSUPPORTED (naming the value) for another alg or enc,
 * "zip", "crit", the general serialisation ("recipients") and unprotected
 * headers ("header", "unprotected"); unknown members are -WARD_E_MALFORMED.
 * An "aad" member is honoured (AAD = protected "." aad). -WARD_E_VERIFY also
 * when the alg does not fit the key type or the epk is on another curve
 * than the key (the JWE is not for this key). A failed RSA-OAEP decryption
 * is not reported separately (RFC 7516 §11.5): a random CEK is used and the
 * tag check fails. ECDH-ES output has no "encrypted_key" (RFC 7516 §7.2.1);
 * the AlgorithmID of the Concat KDF is "A256GCM" for ECDH-ES and
 * "ECDH-ES+A256KW" for key wrapping (RFC 7518 §4.6.2, as ocicrypt does). */
WARD_PUBLIC int ward_jwe_decrypt(const struct ward_pkey *priv, const json_t *jwe,
				 struct ward_secret **ret, struct ward_err *err);
/* Compact serialisation (five dot-separated parts) equivalents. */
WARD_PUBLIC int ward_jwe_encrypt_compact(const struct ward_pkey *recipient, enum ward_jwe_alg alg,
					 const void *plaintext, size_t size, char **ret,
					 struct ward_err *err);
WARD_PUBLIC int ward_jwe_decrypt_compact(const struct ward_pkey *priv, const char *jwe, size_t size,
					 struct ward_secret **ret, struct ward_err *err);
