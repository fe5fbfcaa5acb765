/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Crypto wrappers over OpenSSL 3. lib/crypto is the only module that
 * includes OpenSSL headers; everything else uses these types and calls.
 *
 * Conventions: functions return 0 or a negative code with err set;
 * -WARD_E_VERIFY means "signature/MAC/tag did not verify", -WARD_E_CRYPTO
 * an internal library failure, -WARD_E_MALFORMED unparseable key/cert input,
 * -WARD_E_UNSUPPORTED an algorithm/key type not on the allow-list. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ward/compiler.h"
#include "ward/error.h"

/* OpenSSL version text at run time / at build time (static strings). */
WARD_PUBLIC const char *ward_crypto_library_version(void);
WARD_PUBLIC const char *ward_crypto_build_version(void);

/* ---- randomness, comparison, secrets ---------------------------------- */

/* Fill buf with size bytes from the CSPRNG. */
WARD_PUBLIC int ward_random(void *buf, size_t size, struct ward_err *err);
/* Constant-time equality (CRYPTO_memcmp). */
WARD_PUBLIC bool ward_ct_eq(const void *a, const void *b, size_t size);

/* Owned secret bytes, wiped on free. */
struct ward_secret {
	size_t size;
	uint8_t data[]; /* owned, wiped by ward_secret_free */
};
/* Allocate a zeroed secret of size bytes (size may be 0). NULL on ENOMEM. */
WARD_PUBLIC struct ward_secret *ward_secret_new(size_t size);
/* Allocate a copy of data. */
WARD_PUBLIC struct ward_secret *ward_secret_dup(const void *data, size_t size);
/* Wipe and free; accepts NULL; returns NULL. */
WARD_PUBLIC struct ward_secret *ward_secret_free(struct ward_secret *s);
static inline void ward_secret_freep(struct ward_secret **s)
{
	ward_secret_free(*s);
}

/* ---- hashes ----------------------------------------------------------- */

enum ward_hash_alg {
	WARD_HASH_SHA1, /* only where a standard demands it (RSA-OAEP for JWE "RSA-OAEP") */
	WARD_HASH_SHA256,
	WARD_HASH_SHA384,
	WARD_HASH_SHA512,
};
#define WARD_HASH_MAX_SIZE 64

/* Digest size in bytes (20, 32, 48, 64). */
WARD_PUBLIC size_t ward_hash_size(enum ward_hash_alg alg);
/* "sha256" etc. */
WARD_PUBLIC const char *ward_hash_name(enum ward_hash_alg alg);

struct ward_hash; /* opaque streaming context */
WARD_PUBLIC int ward_hash_new(enum ward_hash_alg alg, struct ward_hash **ret, struct ward_err *err);
WARD_PUBLIC int ward_hash_update(struct ward_hash *h, const void *data, size_t size,
				 struct ward_err *err);
/* Write the digest (ward_hash_size bytes) to out. The context may be reused
 * after ward_hash_reset(). */
WARD_PUBLIC int ward_hash_final(struct ward_hash *h, uint8_t *out, struct ward_err *err);
WARD_PUBLIC int ward_hash_reset(struct ward_hash *h, struct ward_err *err);
WARD_PUBLIC struct ward_hash *ward_hash_free(struct ward_hash *h);
static inline void ward_hash_freep(struct ward_hash **h)
{
	ward_hash_free(*h);
}
/* One shot: out receives ward_hash_size(alg) bytes. */
WARD_PUBLIC int ward_hash(enum ward_hash_alg alg, const void *data, size_t size, uint8_t *out,
			  struct ward_err *err);
/* Convenience: SHA-256 of data as 64 lowercase hex chars + NUL. */
WARD_PUBLIC int ward_sha256_hex(const void *data, size_t size, char out[65], struct ward_err *err);

/* ---- MACs and KDFs ---------------------------------------------------- */

struct ward_hmac; /* opaque streaming context */
WARD_PUBLIC int ward_hmac_new(enum ward_hash_alg alg, const void *key, size_t key_size,
			      struct ward_hmac **ret, struct ward_err *err);
WARD_PUBLIC int ward_hmac_update(struct ward_hmac *m, const void *data, size_t size,
				 struct ward_err *err);
/* Write ward_hash_size(alg) bytes to out. */
WARD_PUBLIC int ward_hmac_final(struct ward_hmac *m, uint8_t *out, struct ward_err *err);
WARD_PUBLIC struct ward_hmac *ward_hmac_free(struct ward_hmac *m);
static inline void ward_hmac_freep(struct ward_hmac **m)
{
	ward_hmac_free(*m);
}
WARD_PUBLIC int ward_hmac(enum ward_hash_alg alg, const void *key, size_t key_size,
			  const void *data, size_t size, uint8_t *out, struct ward_err *err);

/* RFC 5869 HKDF (extract + expand). salt may be NULL/0 (then zeros). */
WARD_PUBLIC int ward_hkdf(enum ward_hash_alg alg, const void *ikm, size_t ikm_size,
			  const void *salt, size_t salt_size, const void *info, size_t info_size,
			  uint8_t *out, size_t out_size, struct ward_err *err);
/* RFC 5869 expand only: prk is a pseudorandom key. */
WARD_PUBLIC int ward_hkdf_expand(enum ward_hash_alg alg, const void *prk, size_t prk_size,
				 const void *info, size_t info_size, uint8_t *out, size_t out_size,
				 struct ward_err *err);

/* ---- symmetric ciphers ------------------------------------------------ */

#define WARD_AES256_KEY_SIZE 32
#define WARD_GCM_IV_SIZE 12
#define WARD_GCM_TAG_SIZE 16
#define WARD_CTR_IV_SIZE 16

/* AES-256-GCM one shot. seal: ct gets pt_size bytes, tag 16 bytes.
 * open: verifies the tag; on failure returns -WARD_E_VERIFY and wipes pt.
 * iv_size is normally 12 (any non-zero size is accepted, as GCM allows).
 * In-place operation (pt == ct) is allowed. */
WARD_PUBLIC int ward_aes256gcm_seal(const uint8_t key[32], const uint8_t *iv, size_t iv_size,
				    const void *aad, size_t aad_size, const void *pt,
				    size_t pt_size, uint8_t *ct, uint8_t tag[16],
				    struct ward_err *err);
WARD_PUBLIC int ward_aes256gcm_open(const uint8_t key[32], const uint8_t *iv, size_t iv_size,
				    const void *aad, size_t aad_size, const void *ct,
				    size_t ct_size, const uint8_t tag[16], uint8_t *pt,
				    struct ward_err *err);

/* Streaming cipher context: AES-256-GCM (encrypt or decrypt) or AES-256-CTR.
 * For GCM decryption the output of update() is NOT authenticated until
 * ward_cipher_final() returns 0: callers must not release it before. */
enum ward_cipher_mode {
	WARD_CIPHER_AES256_GCM_ENCRYPT,
	WARD_CIPHER_AES256_GCM_DECRYPT,
	WARD_CIPHER_AES256_CTR, /* encrypt == decrypt; iv is the 16-byte initial counter block */
};
struct ward_cipher;
WARD_PUBLIC int ward_cipher_new(enum ward_cipher_mode mode, const uint8_t key[32],
				const uint8_t *iv, size_t iv_size, struct ward_cipher **ret,
				struct ward_err *err);
/* GCM only, before any update(). */
WARD_PUBLIC int ward_cipher_aad(struct ward_cipher *c, const void *aad, size_t size,
				struct ward_err *err);
/* out receives exactly size bytes (in == out allowed). */
WARD_PUBLIC int ward_cipher_update(struct ward_cipher *c, const void *in, size_t size,
				   uint8_t *out, struct ward_err *err);
/* GCM encrypt: writes the 16-byte tag to tag. GCM decrypt: checks tag,
 * -WARD_E_VERIFY on mismatch. CTR: tag is ignored (may be NULL). */
WARD_PUBLIC int ward_cipher_final(struct ward_cipher *c, uint8_t tag[16], struct ward_err *err);
WARD_PUBLIC struct ward_cipher *ward_cipher_free(struct ward_cipher *c);
static inline void ward_cipher_freep(struct ward_cipher **c)
{
	ward_cipher_free(*c);
}

/* Keyed AES-256-GCM context for many records under one key: the key
 * schedule is computed once by ward_aead_ctx_new(), each seal/open only
 * sets the 12-byte IV (the caller's nonce discipline is unchanged: never
 * reuse an IV under one key). One thread at a time per context (keep one
 * per thread). seal/open behave like ward_aes256gcm_seal/open with a
 * 12-byte IV: open returns -WARD_E_VERIFY on a tag mismatch and wipes pt;
 * pt == ct is allowed. ward_aead_ctx_free() wipes the key schedule,
 * accepts NULL and returns NULL. */
struct ward_aead_ctx;
WARD_PUBLIC int ward_aead_ctx_new(const uint8_t key[32], struct ward_aead_ctx **ret,
				  struct ward_err *err);
WARD_PUBLIC int ward_aead_ctx_seal_iv(struct ward_aead_ctx *c, const uint8_t iv[12],
				      const void *aad, size_t aad_size, const void *pt,
				      size_t pt_size, uint8_t *ct, uint8_t tag[16],
				      struct ward_err *err);
WARD_PUBLIC int ward_aead_ctx_open_iv(struct ward_aead_ctx *c, const uint8_t iv[12],
				      const void *aad, size_t aad_size, const void *ct,
				      size_t ct_size, const uint8_t tag[16], uint8_t *pt,
				      struct ward_err *err);
WARD_PUBLIC struct ward_aead_ctx *ward_aead_ctx_free(struct ward_aead_ctx *c);
static inline void ward_aead_ctx_freep(struct ward_aead_ctx **c)
{
	ward_aead_ctx_free(*c);
}

/* RFC 3394 AES key wrap with a 256-bit KEK. wrap: out gets in_size + 8
 * bytes (in_size a multiple of 8, >= 16). unwrap: out gets in_size - 8
 * bytes; -WARD_E_VERIFY if the integrity check fails. */
WARD_PUBLIC int ward_aes256kw_wrap(const uint8_t kek[32], const void *in, size_t in_size,
				   uint8_t *out, struct ward_err *err);
WARD_PUBLIC int ward_aes256kw_unwrap(const uint8_t kek[32], const void *in, size_t in_size,
				     uint8_t *out, struct ward_err *err);

/* ---- asymmetric keys -------------------------------------------------- */

enum ward_key_type {
	WARD_KEY_NONE = 0,
	WARD_KEY_EC_P256,
	WARD_KEY_EC_P384,
	WARD_KEY_X25519,
	WARD_KEY_RSA, /* any size >= 2048 bits */
};

struct ward_pkey; /* opaque: a public key, or a private key with its public part */

/* Generate a key. bits is used for RSA only (2048..8192), ignored otherwise. */
WARD_PUBLIC int ward_pkey_generate(enum ward_key_type type, unsigned bits, struct ward_pkey **ret,
				   struct ward_err *err);
/* Parse a PEM (PKCS#8/SEC1/PKCS#1 private key, or SPKI public key, or a
 * certificate's public key is NOT accepted here) or DER (PKCS#8 private or
 * SPKI public). Unencrypted only. */
WARD_PUBLIC int ward_pkey_from_pem(const void *pem, size_t size, struct ward_pkey **ret,
				   struct ward_err *err);
WARD_PUBLIC int ward_pkey_from_der(const void *der, size_t size, struct ward_pkey **ret,
				   struct ward_err *err);
/* Public key from raw components. EC: x and y big-endian, each exactly the
 * coordinate size (32 or 48); the point must lie on the curve. */
WARD_PUBLIC int ward_pkey_from_ec_xy(enum ward_key_type type, const uint8_t *x, size_t x_size,
				     const uint8_t *y, size_t y_size, struct ward_pkey **ret,
				     struct ward_err *err);
/* EC private key from the scalar d plus public x, y (JWK import). */
WARD_PUBLIC int ward_pkey_from_ec_private(enum ward_key_type type, const uint8_t *d,
					  size_t d_size, struct ward_pkey **ret,
					  struct ward_err *err);
/* RSA public key from big-endian modulus n and exponent e. */
WARD_PUBLIC int ward_pkey_from_rsa_ne(const uint8_t *n, size_t n_size, const uint8_t *e,
				      size_t e_size, struct ward_pkey **ret, struct ward_err *err);
/* X25519 public key from 32 raw bytes. */
WARD_PUBLIC int ward_pkey_from_x25519(const uint8_t pub[32], struct ward_pkey **ret,
				      struct ward_err *err);

WARD_PUBLIC enum ward_key_type ward_pkey_type(const struct ward_pkey *k);
WARD_PUBLIC bool ward_pkey_is_private(const struct ward_pkey *k);
/* Size in bits (256/384 for EC, modulus bits for RSA, 253 for X25519). */
WARD_PUBLIC unsigned ward_pkey_bits(const struct ward_pkey *k);
/* Public parts equal? */
WARD_PUBLIC bool ward_pkey_public_eq(const struct ward_pkey *a, const struct ward_pkey *b);
/* Another reference to the same key (refcounted); never fails except ENOMEM (NULL). */
WARD_PUBLIC struct ward_pkey *ward_pkey_ref(struct ward_pkey *k);

/* Export EC public coordinates: x, y each ward_pkey_bits/8 bytes. buffers of 48 suffice. */
WARD_PUBLIC int ward_pkey_ec_xy(const struct ward_pkey *k, uint8_t x[48], uint8_t y[48],
				size_t *ret_coord_size, struct ward_err *err);
/* Export the EC private scalar (coordinate size). */
WARD_PUBLIC int ward_pkey_ec_private(const struct ward_pkey *k, struct ward_secret **ret_d,
				     struct ward_err *err);
/* Export RSA n and e (malloc'ed, caller frees). */
WARD_PUBLIC int ward_pkey_rsa_ne(const struct ward_pkey *k, uint8_t **ret_n, size_t *ret_n_size,
				 uint8_t **ret_e, size_t *ret_e_size, struct ward_err *err);
/* Export X25519 raw public key. */
WARD_PUBLIC int ward_pkey_x25519_raw(const struct ward_pkey *k, uint8_t out[32],
				     struct ward_err *err);

/* SubjectPublicKeyInfo DER of the public key (malloc'ed). */
WARD_PUBLIC int ward_pkey_public_der(const struct ward_pkey *k, uint8_t **ret, size_t *ret_size,
				     struct ward_err *err);
/* PEM of the public key (NUL-terminated, malloc'ed). */
WARD_PUBLIC int ward_pkey_public_pem(const struct ward_pkey *k, char **ret, struct ward_err *err);
/* PKCS#8 PEM of the private key, in a secret (NUL-terminated, size excludes NUL). */
WARD_PUBLIC int ward_pkey_private_pem(const struct ward_pkey *k, struct ward_secret **ret,
				      struct ward_err *err);

WARD_PUBLIC struct ward_pkey *ward_pkey_free(struct ward_pkey *k);
static inline void ward_pkey_freep(struct ward_pkey **k)
{
	ward_pkey_free(*k);
}

/* ---- signatures ------------------------------------------------------- */

enum ward_sig_alg {
	WARD_SIG_ECDSA_SHA256,
	WARD_SIG_ECDSA_SHA384,
	WARD_SIG_ECDSA_SHA512,
	WARD_SIG_RSA_PKCS1_SHA256,
	WARD_SIG_RSA_PSS_SHA256, /* salt length = digest length */
	WARD_SIG_RSA_PSS_SHA384, /* salt length = digest length (AMD uses 48) */
};

enum ward_sig_encoding {
	WARD_SIG_DER,    /* ECDSA: DER SEQUENCE{r,s}; RSA: the plain signature */
	WARD_SIG_RAW_BE, /* ECDSA only: r || s, big-endian, each the coordinate size (JWS) */
	WARD_SIG_RAW_LE, /* ECDSA only: r || s, little-endian, each the coordinate size (SNP) */
};

/* Sign msg (hashing it with the algorithm's digest). *ret is malloc'ed. */
WARD_PUBLIC int ward_sign(const struct ward_pkey *key, enum ward_sig_alg alg,
			  enum ward_sig_encoding enc, const void *msg, size_t msg_size,
			  uint8_t **ret, size_t *ret_size, struct ward_err *err);
/* Verify; 0 only if the signature is valid for msg under key and alg matches
 * the key type. Raw encodings must be exactly 2 * coordinate size. */
WARD_PUBLIC int ward_verify(const struct ward_pkey *key, enum ward_sig_alg alg,
			    enum ward_sig_encoding enc, const void *msg, size_t msg_size,
			    const void *sig, size_t sig_size, struct ward_err *err);

/* ---- asymmetric encryption and key agreement -------------------------- */

/* RSA-OAEP with the given hash for both OAEP and MGF1 (SHA1 for JWE
 * "RSA-OAEP", SHA256 for "RSA-OAEP-256"). encrypt: *ret malloc'ed. */
WARD_PUBLIC int ward_rsa_oaep_encrypt(const struct ward_pkey *pub, enum ward_hash_alg hash,
				      const void *in, size_t in_size, uint8_t **ret,
				      size_t *ret_size, struct ward_err *err);
/* decrypt: plaintext in a secret. -WARD_E_VERIFY when decryption fails. */
WARD_PUBLIC int ward_rsa_oaep_decrypt(const struct ward_pkey *priv, enum ward_hash_alg hash,
				      const void *in, size_t in_size, struct ward_secret **ret,
				      struct ward_err *err);

/* ECDH (P-256/P-384) or X25519 shared secret; both keys of the same type. */
WARD_PUBLIC int ward_ecdh(const struct ward_pkey *priv, const struct ward_pkey *peer_pub,
			  struct ward_secret **ret, struct ward_err *err);

/* ---- X.509 ------------------------------------------------------------ */

struct ward_x509; /* opaque certificate (refcounted) */
struct ward_crl;  /* opaque CRL */

WARD_PUBLIC int ward_x509_from_der(const void *der, size_t size, struct ward_x509 **ret,
				   struct ward_err *err);
/* Exactly one certificate in PEM. */
WARD_PUBLIC int ward_x509_from_pem(const void *pem, size_t size, struct ward_x509 **ret,
				   struct ward_err *err);
/* All certificates in a PEM bundle, in order (at least one, at most max). */
WARD_PUBLIC int ward_x509_list_from_pem(const void *pem, size_t size, size_t max,
					struct ward_x509 ***ret, size_t *ret_count,
					struct ward_err *err);
WARD_PUBLIC void ward_x509_list_free(struct ward_x509 **list, size_t count);
WARD_PUBLIC struct ward_x509 *ward_x509_free(struct ward_x509 *c);
static inline void ward_x509_freep(struct ward_x509 **c)
{
	ward_x509_free(*c);
}
WARD_PUBLIC struct ward_x509 *ward_x509_ref(struct ward_x509 *c);

/* Encodings (malloc'ed). */
WARD_PUBLIC int ward_x509_der(const struct ward_x509 *c, uint8_t **ret, size_t *ret_size,
			      struct ward_err *err);
WARD_PUBLIC int ward_x509_pem(const struct ward_x509 *c, char **ret, struct ward_err *err);
/* One-line RFC 2253 subject / issuer (malloc'ed). */
WARD_PUBLIC int ward_x509_subject(const struct ward_x509 *c, char **ret, struct ward_err *err);
WARD_PUBLIC int ward_x509_issuer(const struct ward_x509 *c, char **ret, struct ward_err *err);
/* The subject's CN, or -WARD_E_NOT_FOUND. */
WARD_PUBLIC int ward_x509_common_name(const struct ward_x509 *c, char **ret,
				      struct ward_err *err);
/* Serial number as lowercase hex (malloc'ed). */
WARD_PUBLIC int ward_x509_serial_hex(const struct ward_x509 *c, char **ret, struct ward_err *err);
WARD_PUBLIC int ward_x509_validity(const struct ward_x509 *c, time_t *ret_not_before,
				   time_t *ret_not_after, struct ward_err *err);
/* The subject public key (new reference). */
WARD_PUBLIC int ward_x509_pubkey(const struct ward_x509 *c, struct ward_pkey **ret,
				 struct ward_err *err);
/* SHA-256 of the DER encoding. */
WARD_PUBLIC int ward_x509_fingerprint(const struct ward_x509 *c, uint8_t out[32],
				      struct ward_err *err);
/* The DER contents of extension oid (dotted text) — i.e. the bytes inside
 * the extnValue OCTET STRING — borrowed from the certificate (valid while c
 * lives). -WARD_E_NOT_FOUND if absent, -WARD_E_MALFORMED if present twice. */
WARD_PUBLIC int ward_x509_extension(const struct ward_x509 *c, const char *oid,
				    const uint8_t **ret, size_t *ret_size, struct ward_err *err);
/* The certificate's signature algorithm as a short name ("RSASSA-PSS",
 * "ecdsa-with-SHA256", ...), static string. */
WARD_PUBLIC const char *ward_x509_sig_alg_name(const struct ward_x509 *c);
/* Does issuer's key verify c's signature? 0 or -WARD_E_VERIFY. Checks names too. */
WARD_PUBLIC int ward_x509_check_issued_by(const struct ward_x509 *c, const struct ward_x509 *issuer,
					  struct ward_err *err);

WARD_PUBLIC int ward_crl_from_der(const void *der, size_t size, struct ward_crl **ret,
				  struct ward_err *err);
WARD_PUBLIC int ward_crl_from_pem(const void *pem, size_t size, struct ward_crl **ret,
				  struct ward_err *err);
WARD_PUBLIC int ward_crl_validity(const struct ward_crl *crl, time_t *ret_this_update,
				  time_t *ret_next_update, struct ward_err *err);
WARD_PUBLIC struct ward_crl *ward_crl_free(struct ward_crl *crl);
static inline void ward_crl_freep(struct ward_crl **crl)
{
	ward_crl_free(*crl);
}

struct ward_x509_verify_opts {
	time_t at;             /* verification time (required: injectable "now") */
	struct ward_crl **crls; /* borrowed; may be NULL */
	size_t crl_count;
	bool crl_required; /* every certificate in the chain must be covered by a CRL */
};

/* Verify leaf up to one of the trusted roots, using untrusted as candidate
 * intermediates, at opts->at, checking CRLs when given (a revoked cert, or
 * with crl_required a missing/expired CRL, fails). Accepts RSA-PSS and ECDSA
 * signatures. On success *ret_chain (optional) receives the verified chain
 * leaf first, root last (new references; free with ward_x509_list_free).
 * Returns 0, -WARD_E_VERIFY (bad signature, untrusted, revoked),
 * -WARD_E_EXPIRED (certificate or CRL outside validity), with err naming
 * the certificate subject and the reason. */
WARD_PUBLIC int ward_x509_verify_chain(const struct ward_x509 *leaf,
				       struct ward_x509 *const *untrusted, size_t untrusted_count,
				       struct ward_x509 *const *roots, size_t root_count,
				       const struct ward_x509_verify_opts *opts,
				       struct ward_x509 ***ret_chain, size_t *ret_chain_count,
				       struct ward_err *err);

/* ---- X.509 issuance ---------------------------------------------------- */

/* A custom extension: extnValue contents (DER) under a dotted OID. */
struct ward_x509_ext {
	const char *oid;
	const uint8_t *der;
	size_t der_size;
	bool critical;
};

enum {
	WARD_KU_DIGITAL_SIGNATURE = 1 << 0,
	WARD_KU_KEY_ENCIPHERMENT = 1 << 1,
	WARD_KU_KEY_AGREEMENT = 1 << 2,
	WARD_KU_KEY_CERT_SIGN = 1 << 3,
	WARD_KU_CRL_SIGN = 1 << 4,
};
enum {
	WARD_EKU_SERVER_AUTH = 1 << 0,
	WARD_EKU_CLIENT_AUTH = 1 << 1,
};

struct ward_x509_template {
	const char *subject;   /* "CN=name,O=org,OU=unit" (',' separated, no escapes) */
	const uint8_t *serial; /* 1..20 bytes big-endian; NULL: 16 random bytes */
	size_t serial_size;
	time_t not_before, not_after;
	bool ca;       /* basicConstraints CA:TRUE (critical) */
	int path_len;  /* with ca: pathLenConstraint, or -1 for none */
	unsigned key_usage;     /* WARD_KU_* (critical when non-zero) */
	unsigned ext_key_usage; /* WARD_EKU_* */
	const char *const *dns_names; /* subjectAltName DNS entries */
	size_t dns_count;
	const char *const *ip_addresses; /* subjectAltName IP entries (text) */
	size_t ip_count;
	const struct ward_x509_ext *exts; /* extra extensions, e.g. AMD's VCEK TCB OIDs */
	size_t ext_count;
	bool no_key_ids; /* omit subject/authority key identifiers (AMD's VCEKs have none) */
};

/* Issue a certificate for subject_key's public key, signed by issuer_key
 * with alg (RSA-PSS uses salt = digest length). issuer NULL means
 * self-signed (issuer name = subject, issuer_key must match subject_key).
 * Returns a new certificate in *ret. */
WARD_PUBLIC int ward_x509_create(const struct ward_x509_template *t,
				 const struct ward_pkey *subject_key, const struct ward_x509 *issuer,
				 const struct ward_pkey *issuer_key, enum ward_sig_alg alg,
				 struct ward_x509 **ret, struct ward_err *err);

/* ---- added for the coordinator: faster ECDSA P-384, CRL fingerprint ---- */

/* ward_sign() and ward_verify() with the same arguments, checks, results
 * and error codes. ECDSA-SHA384 with a P-384 key and a raw (r || s)
 * encoding runs on Nettle's constant-time secp384r1 code (the nonce k
 * comes from OpenSSL's private DRBG), several times faster than OpenSSL
 * 3.0's generic curve code; every other combination is passed to
 * ward_sign()/ward_verify(). For the SEV-SNP report signature (verifier
 * and sim TEE). */
WARD_PUBLIC int ward_sign_fast(const struct ward_pkey *key, enum ward_sig_alg alg,
			       enum ward_sig_encoding enc, const void *msg, size_t msg_size,
			       uint8_t **ret, size_t *ret_size, struct ward_err *err);
WARD_PUBLIC int ward_verify_fast(const struct ward_pkey *key, enum ward_sig_alg alg,
				 enum ward_sig_encoding enc, const void *msg, size_t msg_size,
				 const void *sig, size_t sig_size, struct ward_err *err);
/* SHA-256 of the CRL's DER encoding (like ward_x509_fingerprint()). */
WARD_PUBLIC int ward_crl_fingerprint(const struct ward_crl *crl, uint8_t out[32],
				     struct ward_err *err);
