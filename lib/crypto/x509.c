/* SPDX-License-Identifier: Apache-2.0 */
/* X.509 certificates and CRLs: parsing, accessors, and chain verification
 * with X509_STORE at an injected time. */
#include <errno.h>
#include <limits.h>

#include "crypto-internal.h"

#define X509_INPUT_MAX_SIZE (1024 * 1024)

static const char *time_name_to_str(time_t t, char buf[32])
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, 32, "%lld", (long long)t);
	return buf;
}

/* Does obj re-encode to exactly der? OpenSSL's parser accepts some BER
 * (e.g. non-zero unused bits in BIT STRINGs) and would then hash and
 * export a different encoding than the one received; refuse such input so
 * fingerprints and exports always describe the bytes we were given. */
static bool is_canonical(int (*enc)(const void *, uint8_t **), const void *obj, const uint8_t *der,
			 size_t size)
{
	uint8_t *re = NULL;
	int n = enc(obj, &re);
	bool same = n > 0 && (size_t)n == size && memcmp(re, der, size) == 0;

	OPENSSL_free(re);
	return same;
}

static int enc_cert(const void *x, uint8_t **out)
{
	return i2d_X509(x, out);
}

static int enc_crl(const void *x, uint8_t **out)
{
	return i2d_X509_CRL((X509_CRL *)x, out);
}

/* Parse exactly one DER certificate occupying all of der. */
static X509 *cert_der(const uint8_t *der, size_t size)
{
	const uint8_t *p = der;
	X509 *x;

	if (size == 0 || size > LONG_MAX)
		return NULL;
	x = d2i_X509(NULL, &p, (long)size);
	if (x && (p != der + size || !is_canonical(enc_cert, x, der, size))) {
		X509_free(x);
		return NULL;
	}
	return x;
}

int ward_x509_from_der(const void *der, size_t size, struct ward_x509 **ret, struct ward_err *err)
{
	X509 *x;

	if (size > X509_INPUT_MAX_SIZE)
		return ward_err_set(err, -WARD_E_TOO_BIG, "certificate of %zu bytes (limit %d)",
				    size, X509_INPUT_MAX_SIZE);
	x = cert_der(der, size);
	if (!x)
		return ward_crypto_err(err, -WARD_E_MALFORMED,
				       "certificate is not one canonical DER certificate");
	*ret = (struct ward_x509 *)x;
	return 0;
}

void ward_x509_list_free(struct ward_x509 **list, size_t count)
{
	if (!list)
		return;
	for (size_t i = 0; i < count; i++)
		X509_free(ward_x509_raw(list[i]));
	free(list);
}

/* Read PEM blocks of label want from a memory buffer, each decoded with
 * parse. Every block must carry that label and parse completely. */
static int pem_blocks(const void *pem, size_t size, const char *want, size_t max,
		      void *(*parse)(const uint8_t *, size_t), void (*release)(void *), void ***ret,
		      size_t *ret_count, struct ward_err *err)
{
	WARD_CLEANUP(BIO_freep) BIO *bio = NULL;
	void **list = NULL;
	size_t count = 0;
	int r = 0;

	if (size == 0 || size > X509_INPUT_MAX_SIZE)
		return ward_err_set(err, size ? -WARD_E_TOO_BIG : -WARD_E_MALFORMED,
				    "PEM input of %zu bytes (limit %d)", size, X509_INPUT_MAX_SIZE);
	bio = BIO_new_mem_buf(pem, (int)size);
	list = calloc(max + 1, sizeof(*list));
	if (!bio || !list) {
		free(list);
		return ward_err_set(err, -ENOMEM, "out of memory");
	}
	for (;;) {
		char *name = NULL, *header = NULL;
		uint8_t *data = NULL;
		long data_size = 0;
		void *obj;

		if (PEM_read_bio(bio, &name, &header, &data, &data_size) != 1) {
			unsigned long e = ERR_peek_last_error();

			if (count > 0 && ERR_GET_LIB(e) == ERR_LIB_PEM &&
			    ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
				ERR_clear_error(); /* normal end of the bundle */
				break;
			}
			r = ward_crypto_err(err, -WARD_E_MALFORMED, "PEM block %zu does not parse",
					    count + 1);
			break;
		}
		if (strcmp(name, want) != 0) {
			r = ward_err_set(err, -WARD_E_MALFORMED, "PEM block %zu is '%s', not '%s'",
					 count + 1, name, want);
		} else if (count == max) {
			r = ward_err_set(err, -WARD_E_TOO_BIG, "more than %zu '%s' blocks", max,
					 want);
		} else {
			obj = parse(data, (size_t)data_size);
			if (obj)
				list[count++] = obj;
			else
				r = ward_crypto_err(err, -WARD_E_MALFORMED,
						    "PEM '%s' block %zu: DER does not parse", want,
						    count + 1);
		}
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		if (r < 0)
			break;
	}
	if (r < 0) {
		for (size_t i = 0; i < count; i++)
			release(list[i]);
		free(list);
		return r;
	}
	*ret = list;
	*ret_count = count;
	return 0;
}

static void *parse_cert(const uint8_t *der, size_t size)
{
	return cert_der(der, size);
}

static void release_cert(void *p)
{
	X509_free(p);
}

int ward_x509_list_from_pem(const void *pem, size_t size, size_t max, struct ward_x509 ***ret,
			    size_t *ret_count, struct ward_err *err)
{
	void **list = NULL;
	size_t count = 0;
	int r;

	if (max == 0)
		return ward_err_set(err, -WARD_E_USAGE, "certificate list maximum of 0");
	r = pem_blocks(pem, size, "CERTIFICATE", max, parse_cert, release_cert, &list, &count, err);
	if (r < 0)
		return r;
	*ret = (struct ward_x509 **)list;
	*ret_count = count;
	return 0;
}

int ward_x509_from_pem(const void *pem, size_t size, struct ward_x509 **ret, struct ward_err *err)
{
	void **list = NULL;
	size_t count = 0;
	int r;

	r = pem_blocks(pem, size, "CERTIFICATE", 1, parse_cert, release_cert, &list, &count, err);
	if (r < 0) {
		if (r == -WARD_E_TOO_BIG && size <= X509_INPUT_MAX_SIZE)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "expected exactly one certificate, found more");
		return r;
	}
	*ret = list[0];
	free(list);
	return 0;
}

struct ward_x509 *ward_x509_free(struct ward_x509 *c)
{
	X509_free(ward_x509_raw(c));
	return NULL;
}

struct ward_x509 *ward_x509_ref(struct ward_x509 *c)
{
	if (!c || X509_up_ref(ward_x509_raw(c)) != 1)
		return NULL;
	return c;
}

int ward_x509_der(const struct ward_x509 *c, uint8_t **ret, size_t *ret_size, struct ward_err *err)
{
	uint8_t *der = NULL, *copy;
	int n = i2d_X509(ward_x509_raw(c), &der);

	if (n <= 0)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "certificate DER encoding");
	copy = malloc((size_t)n);
	if (!copy) {
		OPENSSL_free(der);
		return ward_err_set(err, -ENOMEM, "out of memory");
	}
	memcpy(copy, der, (size_t)n);
	OPENSSL_free(der);
	*ret = copy;
	*ret_size = (size_t)n;
	return 0;
}

static int bio_to_string(BIO *bio, char **ret, struct ward_err *err)
{
	char *data = NULL, *s;
	long n = BIO_get_mem_data(bio, &data);

	if (n < 0)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "memory BIO");
	s = malloc((size_t)n + 1);
	if (!s)
		return ward_err_set(err, -ENOMEM, "out of memory");
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	*ret = s;
	return 0;
}

int ward_x509_pem(const struct ward_x509 *c, char **ret, struct ward_err *err)
{
	WARD_CLEANUP(BIO_freep) BIO *bio = BIO_new(BIO_s_mem());

	if (!bio || PEM_write_bio_X509(bio, ward_x509_raw(c)) != 1)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "certificate PEM encoding");
	return bio_to_string(bio, ret, err);
}

static int name_string(const X509_NAME *name, char **ret, struct ward_err *err)
{
	WARD_CLEANUP(BIO_freep) BIO *bio = BIO_new(BIO_s_mem());

	/* RFC 2253 with UTF-8 kept as is (no \\UXXXX escapes), one line. */
	if (!bio || !name ||
	    X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0)
		return ward_crypto_err(err, -WARD_E_MALFORMED, "distinguished name");
	return bio_to_string(bio, ret, err);
}

int ward_x509_subject(const struct ward_x509 *c, char **ret, struct ward_err *err)
{
	return name_string(X509_get_subject_name(ward_x509_raw(c)), ret, err);
}

int ward_x509_issuer(const struct ward_x509 *c, char **ret, struct ward_err *err)
{
	return name_string(X509_get_issuer_name(ward_x509_raw(c)), ret, err);
}

int ward_x509_common_name(const struct ward_x509 *c, char **ret, struct ward_err *err)
{
	const X509_NAME *name = X509_get_subject_name(ward_x509_raw(c));
	uint8_t *utf8 = NULL;
	char *s;
	int i, len;

	i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	if (i < 0)
		return ward_err_set(err, -WARD_E_NOT_FOUND, "certificate subject has no CN");
	if (X509_NAME_get_index_by_NID(name, NID_commonName, i) >= 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "certificate subject has several CNs");
	len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
	if (len < 0)
		return ward_crypto_err(err, -WARD_E_MALFORMED, "certificate CN is not text");
	if (memchr(utf8, '\0', (size_t)len)) {
		OPENSSL_free(utf8);
		return ward_err_set(err, -WARD_E_MALFORMED, "certificate CN contains NUL");
	}
	s = malloc((size_t)len + 1);
	if (!s) {
		OPENSSL_free(utf8);
		return ward_err_set(err, -ENOMEM, "out of memory");
	}
	memcpy(s, utf8, (size_t)len);
	s[len] = '\0';
	OPENSSL_free(utf8);
	*ret = s;
	return 0;
}

int ward_x509_serial_hex(const struct ward_x509 *c, char **ret, struct ward_err *err)
{
	WARD_CLEANUP(BN_clear_freep) BIGNUM *bn = NULL;
	char *hex, *s;

	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(ward_x509_raw(c)), NULL);
	if (!bn)
		return ward_crypto_err(err, -WARD_E_MALFORMED, "certificate serial number");
	hex = BN_bn2hex(bn);
	if (!hex)
		return ward_crypto_err(err, -ENOMEM, "serial number");
	s = strdup(hex);
	OPENSSL_free(hex);
	if (!s)
		return ward_err_set(err, -ENOMEM, "out of memory");
	for (char *p = s; *p; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
	*ret = s;
	return 0;
}

int ward_x509_validity(const struct ward_x509 *c, time_t *ret_not_before, time_t *ret_not_after,
		       struct ward_err *err)
{
	time_t nb, na;

	if (ward_crypto_asn1_time(X509_get0_notBefore(ward_x509_raw(c)), &nb) < 0 ||
	    ward_crypto_asn1_time(X509_get0_notAfter(ward_x509_raw(c)), &na) < 0)
		return ward_crypto_err(err, -WARD_E_MALFORMED, "certificate validity dates");
	*ret_not_before = nb;
	*ret_not_after = na;
	return 0;
}

int ward_x509_pubkey(const struct ward_x509 *c, struct ward_pkey **ret, struct ward_err *err)
{
	EVP_PKEY *k = X509_get0_pubkey(ward_x509_raw(c));

	if (!k)
		return ward_crypto_err(err, -WARD_E_MALFORMED, "certificate public key");
	if (EVP_PKEY_up_ref(k) != 1)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "certificate public key");
	return ward_crypto_pkey_take(k, "certificate public key", ret, err);
}

int ward_x509_fingerprint(const struct ward_x509 *c, uint8_t out[32], struct ward_err *err)
{
	unsigned n = 0;

	if (X509_digest(ward_x509_raw(c), EVP_sha256(), out, &n) != 1 || n != 32)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "certificate fingerprint");
	return 0;
}

int ward_x509_extension(const struct ward_x509 *c, const char *oid, const uint8_t **ret,
			size_t *ret_size, struct ward_err *err)
{
	WARD_CLEANUP(ASN1_OBJECT_freep) ASN1_OBJECT *obj = NULL;
	const ASN1_OCTET_STRING *v;
	X509 *x = ward_x509_raw(c);
	int i;

	obj = OBJ_txt2obj(oid, 1); /* dotted numbers only */
	if (!obj)
		return ward_crypto_err(err, -WARD_E_USAGE, "'%s' is not a dotted OID", oid);
	i = X509_get_ext_by_OBJ(x, obj, -1);
	if (i < 0)
		return ward_err_set(err, -WARD_E_NOT_FOUND, "certificate has no extension %s", oid);
	if (X509_get_ext_by_OBJ(x, obj, i) >= 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "certificate has extension %s twice",
				    oid);
	v = X509_EXTENSION_get_data(X509_get_ext(x, i));
	if (!v)
		return ward_err_set(err, -WARD_E_MALFORMED, "extension %s has no value", oid);
	*ret = ASN1_STRING_get0_data(v);
	*ret_size = (size_t)ASN1_STRING_length(v);
	return 0;
}

const char *ward_x509_sig_alg_name(const struct ward_x509 *c)
{
	int nid = X509_get_signature_nid(ward_x509_raw(c));
	const char *sn = nid == NID_undef ? NULL : OBJ_nid2sn(nid);

	return sn ? sn : "unknown";
}

int ward_x509_check_issued_by(const struct ward_x509 *c, const struct ward_x509 *issuer,
			      struct ward_err *err)
{
	X509 *x = ward_x509_raw(c), *ix = ward_x509_raw(issuer);
	EVP_PKEY *k;
	int r;

	r = X509_check_issued(ix, x);
	if (r != X509_V_OK)
		return ward_err_set(err, -WARD_E_VERIFY, "not issued by this certificate: %s",
				    X509_verify_cert_error_string(r));
	k = X509_get0_pubkey(ix);
	if (!k || X509_verify(x, k) != 1)
		return ward_crypto_err(
		    err, -WARD_E_VERIFY,
		    "certificate signature does not verify under the issuer key");
	return 0;
}

/* ---- CRLs ---- */

static X509_CRL *crl_der(const uint8_t *der, size_t size)
{
	const uint8_t *p = der;
	X509_CRL *crl;

	if (size == 0 || size > LONG_MAX)
		return NULL;
	crl = d2i_X509_CRL(NULL, &p, (long)size);
	if (crl && (p != der + size || !is_canonical(enc_crl, crl, der, size))) {
		X509_CRL_free(crl);
		return NULL;
	}
	return crl;
}

static int crl_check_shape(X509_CRL *crl, struct ward_crl **ret, struct ward_err *err)
{
	time_t t;

	/* RFC 5280 §5.1.2.5: conforming issuers include nextUpdate; without it
	 * a CRL never goes stale, which we refuse. */
	if (ward_crypto_asn1_time(X509_CRL_get0_lastUpdate(crl), &t) < 0 ||
	    ward_crypto_asn1_time(X509_CRL_get0_nextUpdate(crl), &t) < 0) {
		X509_CRL_free(crl);
		ERR_clear_error();
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "CRL lacks a valid thisUpdate or nextUpdate");
	}
	*ret = (struct ward_crl *)crl;
	return 0;
}

int ward_crl_from_der(const void *der, size_t size, struct ward_crl **ret, struct ward_err *err)
{
	X509_CRL *crl;

	if (size > X509_INPUT_MAX_SIZE * 16)
		return ward_err_set(err, -WARD_E_TOO_BIG, "CRL of %zu bytes", size);
	crl = crl_der(der, size);
	if (!crl)
		return ward_crypto_err(err, -WARD_E_MALFORMED, "CRL is not one canonical DER CRL");
	return crl_check_shape(crl, ret, err);
}

static void *parse_crl(const uint8_t *der, size_t size)
{
	return crl_der(der, size);
}

static void release_crl(void *p)
{
	X509_CRL_free(p);
}

int ward_crl_from_pem(const void *pem, size_t size, struct ward_crl **ret, struct ward_err *err)
{
	void **list = NULL;
	size_t count = 0;
	X509_CRL *crl;
	int r;

	r = pem_blocks(pem, size, "X509 CRL", 1, parse_crl, release_crl, &list, &count, err);
	if (r < 0) {
		if (r == -WARD_E_TOO_BIG && size <= X509_INPUT_MAX_SIZE)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "expected exactly one CRL, found more");
		return r;
	}
	crl = list[0];
	free(list);
	return crl_check_shape(crl, ret, err);
}

int ward_crl_validity(const struct ward_crl *crl, time_t *ret_this_update, time_t *ret_next_update,
		      struct ward_err *err)
{
	time_t tu, nu;

	if (ward_crypto_asn1_time(X509_CRL_get0_lastUpdate(ward_crl_raw(crl)), &tu) < 0 ||
	    ward_crypto_asn1_time(X509_CRL_get0_nextUpdate(ward_crl_raw(crl)), &nu) < 0)
		return ward_crypto_err(err, -WARD_E_MALFORMED, "CRL validity dates");
	*ret_this_update = tu;
	*ret_next_update = nu;
	return 0;
}

struct ward_crl *ward_crl_free(struct ward_crl *crl)
{
	X509_CRL_free(ward_crl_raw(crl));
	return NULL;
}

/* ---- chain verification ---- */

struct verify_state {
	bool crl_required;
};

static int app_data_index(void)
{
	/* X509_STORE_CTX app data (index 0) is reserved for applications. */
	return 0;
}

static int verify_cb(int ok, X509_STORE_CTX *ctx)
{
	const struct verify_state *st = X509_STORE_CTX_get_ex_data(ctx, app_data_index());

	/* With CRLs given but not required, a certificate whose issuer has no
	 * CRL among them is accepted unchecked; every other failure stands. */
	if (!ok && st && !st->crl_required &&
	    X509_STORE_CTX_get_error(ctx) == X509_V_ERR_UNABLE_TO_GET_CRL)
		return 1;
	return ok;
}

static int map_verify_error(int e)
{
	switch (e) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_CRL_NOT_YET_VALID:
		return -WARD_E_EXPIRED;
	default:
		return -WARD_E_VERIFY;
	}
}

/* OpenSSL checks each certificate against one CRL per issuer (the best
 * scored). When several supplied CRLs from the same issuer disagree, a
 * revocation in any of them must win: look through all of them. */
static int check_all_crls(STACK_OF(X509) * chain, const struct ward_x509_verify_opts *opts,
			  struct ward_err *err)
{
	int n = sk_X509_num(chain);

	for (int i = 0; i < n; i++) {
		X509 *cert = sk_X509_value(chain, i);
		X509 *issuer = sk_X509_value(chain, i + 1 < n ? i + 1 : i);
		EVP_PKEY *ik = X509_get0_pubkey(issuer);

		for (size_t j = 0; j < opts->crl_count; j++) {
			X509_CRL *crl = ward_crl_raw(opts->crls[j]);
			X509_REVOKED *rev = NULL;
			char subject[128] = "?";

			if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_issuer_name(cert)) !=
				0 ||
			    !ik || X509_CRL_verify(crl, ik) != 1) {
				ERR_clear_error();
				continue; /* not from this certificate's issuer */
			}
			if (X509_CRL_get0_by_cert(crl, &rev, cert) == 1) {
				X509_NAME_oneline(X509_get_subject_name(cert), subject,
						  sizeof(subject));
				return ward_err_set(err, -WARD_E_VERIFY,
						    "certificate '%s' (depth %d): revoked by "
						    "supplied CRL %zu",
						    subject, i, j);
			}
		}
	}
	ERR_clear_error();
	return 0;
}

int ward_x509_verify_chain(const struct ward_x509 *leaf, struct ward_x509 *const *untrusted,
			   size_t untrusted_count, struct ward_x509 *const *roots,
			   size_t root_count, const struct ward_x509_verify_opts *opts,
			   struct ward_x509 ***ret_chain, size_t *ret_chain_count,
			   struct ward_err *err)
{
	WARD_CLEANUP(X509_STORE_freep) X509_STORE *store = NULL;
	WARD_CLEANUP(X509_STORE_CTX_freep) X509_STORE_CTX *ctx = NULL;
	WARD_CLEANUP(ward_x509_stack_shallow_freep) STACK_OF(X509) *inter = NULL;
	WARD_CLEANUP(ward_x509_stack_freep) STACK_OF(X509) *chain = NULL;
	struct verify_state st = {.crl_required = false};
	X509_VERIFY_PARAM *param;
	unsigned long flags = 0;
	char when[32];
	int r;

	if (!leaf || !opts || opts->at <= 0 || root_count == 0 || !roots ||
	    (untrusted_count && !untrusted) || (opts->crl_count && !opts->crls))
		return ward_err_set(err, -WARD_E_USAGE,
				    "chain verification needs a leaf, roots and a time");
	st.crl_required = opts->crl_required;

	store = X509_STORE_new();
	inter = sk_X509_new_null();
	ctx = X509_STORE_CTX_new();
	if (!store || !inter || !ctx)
		return ward_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < root_count; i++)
		if (X509_STORE_add_cert(store, ward_x509_raw(roots[i])) != 1) {
			/* a duplicate root is harmless */
			unsigned long e = ERR_peek_last_error();

			if (ERR_GET_REASON(e) != X509_R_CERT_ALREADY_IN_HASH_TABLE)
				return ward_crypto_err(err, -WARD_E_CRYPTO, "adding root %zu", i);
			ERR_clear_error();
		}
	for (size_t i = 0; i < untrusted_count; i++)
		if (!sk_X509_push(inter, ward_x509_raw(untrusted[i])))
			return ward_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < opts->crl_count; i++)
		if (X509_STORE_add_crl(store, ward_crl_raw(opts->crls[i])) != 1) {
			unsigned long e = ERR_peek_last_error();

			if (ERR_GET_REASON(e) != X509_R_CERT_ALREADY_IN_HASH_TABLE)
				return ward_crypto_err(err, -WARD_E_CRYPTO, "adding CRL %zu", i);
			ERR_clear_error();
		}
	if (X509_STORE_CTX_init(ctx, store, ward_x509_raw(leaf), inter) != 1)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "verification context");
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(param, opts->at); /* sets X509_V_FLAG_USE_CHECK_TIME */
	if (opts->crl_count > 0 || opts->crl_required)
		flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
	/* No X509_STRICT (real AMD/Intel certificates trip it), no partial
	 * chains: the chain must end at one of the given roots. */
	X509_VERIFY_PARAM_clear_flags(param, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_X509_STRICT);
	if (flags)
		X509_VERIFY_PARAM_set_flags(param, flags);
	/* Vendor certificates carry unusual key usages: no purpose check. */
	if (X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_ANY) != 1)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "verification purpose");
	if (X509_STORE_CTX_set_ex_data(ctx, app_data_index(), &st) != 1)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "verification context data");
	X509_STORE_CTX_set_verify_cb(ctx, verify_cb);

	r = X509_verify_cert(ctx);
	if (r != 1) {
		int e = X509_STORE_CTX_get_error(ctx);
		int depth = X509_STORE_CTX_get_error_depth(ctx);
		X509 *bad = X509_STORE_CTX_get_current_cert(ctx);
		char subject[128] = "?";

		if (!bad)
			bad = ward_x509_raw(leaf);
		X509_NAME_oneline(X509_get_subject_name(bad), subject, sizeof(subject));
		ERR_clear_error();
		if (e == X509_V_OK) /* failure without a reason: still a failure */
			e = X509_V_ERR_UNSPECIFIED;
		return ward_err_set(
		    err, map_verify_error(e), "certificate '%s' (depth %d) at %s: %s", subject,
		    depth, time_name_to_str(opts->at, when), X509_verify_cert_error_string(e));
	}
	chain = X509_STORE_CTX_get1_chain(ctx);
	if (!chain || sk_X509_num(chain) <= 0)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "verified chain");
	if (opts->crl_count > 0) {
		r = check_all_crls(chain, opts, err);
		if (r < 0)
			return r;
	}
	if (ret_chain) {
		struct ward_x509 **list;
		int n = sk_X509_num(chain);

		list = calloc((size_t)n, sizeof(*list));
		if (!list)
			return ward_err_set(err, -ENOMEM, "out of memory");
		for (int i = 0; i < n; i++)
			list[i] = (struct ward_x509 *)sk_X509_value(chain, i);
		sk_X509_free(WARD_TAKE_PTR(chain)); /* references moved to list */
		*ret_chain = list;
		if (ret_chain_count)
			*ret_chain_count = (size_t)n;
	}
	return 0;
}
