/* SPDX-License-Identifier: Apache-2.0 */
/* X.509 issuance: the coordinator CA and the sim TEE's AMD-shaped chain. */
#include <errno.h>
#include <openssl/rsa.h>
#include <string.h>

#include "crypto-internal.h"

WARD_DEFINE_FREEP(X509_NAME, X509_NAME_free)
WARD_DEFINE_FREEP(X509_EXTENSION, X509_EXTENSION_free)
WARD_DEFINE_FREEP(ASN1_OCTET_STRING, ASN1_OCTET_STRING_free)
WARD_DEFINE_FREEP(ASN1_TIME, ASN1_TIME_free)
WARD_DEFINE_FREEP(GENERAL_NAMES, GENERAL_NAMES_free)
WARD_DEFINE_FREEP(GENERAL_NAME, GENERAL_NAME_free)

/* "CN=a,O=b" -> X509_NAME. Values are taken literally (no escapes), so a
 * name from input cannot smuggle extra attributes beyond ',' splitting. */
static int parse_name(const char *s, X509_NAME **ret, struct ward_err *err)
{
	WARD_CLEANUP(X509_NAME_freep) X509_NAME *name = X509_NAME_new();
	WARD_AUTOFREE char *copy = strdup(s ? s : "");
	char *save = NULL;

	if (!name || !copy)
		return ward_err_set(err, -ENOMEM, "out of memory");
	for (char *part = strtok_r(copy, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(part, '=');

		if (!eq || eq == part || !eq[1])
			return ward_err_set(err, -WARD_E_USAGE, "subject part '%.60s' is not KEY=VALUE",
					    part);
		*eq = '\0';
		if (!X509_NAME_add_entry_by_txt(name, part, MBSTRING_UTF8,
						(const unsigned char *)eq + 1, -1, -1, 0))
			return ward_crypto_err(err, -WARD_E_USAGE, "subject attribute '%.20s'",
					       part);
	}
	if (X509_NAME_entry_count(name) == 0)
		return ward_err_set(err, -WARD_E_USAGE, "empty certificate subject");
	*ret = WARD_TAKE_PTR(name);
	return 0;
}

static int add_conf_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value,
			struct ward_err *err)
{
	WARD_CLEANUP(X509_EXTENSION_freep)
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);

	if (!ext || !X509_add_ext(x, ext, -1))
		return ward_crypto_err(err, -WARD_E_CRYPTO, "certificate extension %s",
				       OBJ_nid2sn(nid));
	return 0;
}

static int add_sans(X509 *x, const struct ward_x509_template *t, struct ward_err *err)
{
	WARD_CLEANUP(GENERAL_NAMES_freep) GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();

	if (!gens)
		return ward_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < t->dns_count; i++) {
		WARD_CLEANUP(GENERAL_NAME_freep) GENERAL_NAME *g = GENERAL_NAME_new();
		ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();

		if (!g || !ia5 || !ASN1_STRING_set(ia5, t->dns_names[i], -1)) {
			ASN1_IA5STRING_free(ia5);
			return ward_err_set(err, -ENOMEM, "out of memory");
		}
		GENERAL_NAME_set0_value(g, GEN_DNS, ia5);
		if (!sk_GENERAL_NAME_push(gens, g))
			return ward_err_set(err, -ENOMEM, "out of memory");
		g = NULL;
	}
	for (size_t i = 0; i < t->ip_count; i++) {
		WARD_CLEANUP(GENERAL_NAME_freep) GENERAL_NAME *g = GENERAL_NAME_new();
		ASN1_OCTET_STRING *ip = a2i_IPADDRESS(t->ip_addresses[i]);

		if (!g || !ip) {
			ASN1_OCTET_STRING_free(ip);
			return ward_crypto_err(err, -WARD_E_USAGE, "IP address '%.64s'",
					       t->ip_addresses[i]);
		}
		GENERAL_NAME_set0_value(g, GEN_IPADD, ip);
		if (!sk_GENERAL_NAME_push(gens, g))
			return ward_err_set(err, -ENOMEM, "out of memory");
		g = NULL;
	}
	if (sk_GENERAL_NAME_num(gens) == 0)
		return 0;
	if (!X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT))
		return ward_crypto_err(err, -WARD_E_CRYPTO, "subjectAltName");
	return 0;
}

static int add_custom_ext(X509 *x, const struct ward_x509_ext *e, struct ward_err *err)
{
	WARD_CLEANUP(ASN1_OBJECT_freep) ASN1_OBJECT *obj = OBJ_txt2obj(e->oid, 1);
	WARD_CLEANUP(ASN1_OCTET_STRING_freep) ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	WARD_CLEANUP(X509_EXTENSION_freep) X509_EXTENSION *ext = NULL;

	if (!obj)
		return ward_err_set(err, -WARD_E_USAGE, "bad extension OID '%.64s'", e->oid);
	if (!os || e->der_size > INT32_MAX || !ASN1_OCTET_STRING_set(os, e->der, (int)e->der_size))
		return ward_err_set(err, -ENOMEM, "out of memory");
	ext = X509_EXTENSION_create_by_OBJ(NULL, obj, e->critical ? 1 : 0, os);
	if (!ext || !X509_add_ext(x, ext, -1))
		return ward_crypto_err(err, -WARD_E_CRYPTO, "extension %s", e->oid);
	return 0;
}

static int set_time(X509 *x, bool before, time_t t, struct ward_err *err)
{
	WARD_CLEANUP(ASN1_TIME_freep) ASN1_TIME *at = ASN1_TIME_set(NULL, t);

	if (!at || !(before ? X509_set1_notBefore(x, at) : X509_set1_notAfter(x, at)))
		return ward_crypto_err(err, -WARD_E_CRYPTO, "certificate validity");
	return 0;
}

static int sign_cert(X509 *x, const struct ward_pkey *issuer_key, enum ward_sig_alg alg,
		     struct ward_err *err)
{
	WARD_CLEANUP(EVP_MD_CTX_freep) EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	EVP_PKEY *key = ward_pkey_evp(issuer_key);
	enum ward_key_type type = ward_pkey_type(issuer_key);
	EVP_PKEY_CTX *pctx = NULL;
	const EVP_MD *md;
	bool pss = false;

	switch (alg) {
	case WARD_SIG_ECDSA_SHA256:
	case WARD_SIG_RSA_PKCS1_SHA256:
		md = EVP_sha256();
		break;
	case WARD_SIG_ECDSA_SHA384:
		md = EVP_sha384();
		break;
	case WARD_SIG_ECDSA_SHA512:
		md = EVP_sha512();
		break;
	case WARD_SIG_RSA_PSS_SHA256:
		md = EVP_sha256();
		pss = true;
		break;
	case WARD_SIG_RSA_PSS_SHA384:
		md = EVP_sha384();
		pss = true;
		break;
	default:
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "signature algorithm %d", (int)alg);
	}
	bool is_rsa_alg = alg == WARD_SIG_RSA_PKCS1_SHA256 || pss;
	if ((type == WARD_KEY_RSA) != is_rsa_alg ||
	    !(type == WARD_KEY_RSA || type == WARD_KEY_EC_P256 || type == WARD_KEY_EC_P384))
		return ward_err_set(err, -WARD_E_USAGE,
				    "issuer key type does not match the signature algorithm");
	if (!mctx || EVP_DigestSignInit(mctx, &pctx, md, NULL, key) != 1)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "certificate signing");
	if (pss && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
		    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1))
		return ward_crypto_err(err, -WARD_E_CRYPTO, "RSA-PSS parameters");
	if (X509_sign_ctx(x, mctx) <= 0)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "certificate signing");
	return 0;
}

int ward_x509_create(const struct ward_x509_template *t, const struct ward_pkey *subject_key,
		     const struct ward_x509 *issuer, const struct ward_pkey *issuer_key,
		     enum ward_sig_alg alg, struct ward_x509 **ret, struct ward_err *err)
{
	WARD_CLEANUP(X509_freep) X509 *x = X509_new();
	WARD_CLEANUP(X509_NAME_freep) X509_NAME *subject = NULL;
	WARD_CLEANUP(ASN1_INTEGER_freep) ASN1_INTEGER *serial = NULL;
	WARD_CLEANUP(BN_clear_freep) BIGNUM *bn = NULL;
	uint8_t rnd[16];
	X509V3_CTX ctx;
	char buf[128];
	int r;

	if (!t || !subject_key || !issuer_key)
		return ward_err_set(err, -WARD_E_USAGE, "certificate template, key or issuer key missing");
	if (!x)
		return ward_err_set(err, -ENOMEM, "out of memory");
	if (!issuer && !ward_pkey_public_eq(subject_key, issuer_key))
		return ward_err_set(err, -WARD_E_USAGE,
				    "self-signed certificate: issuer key is not the subject key");
	if (t->not_after <= t->not_before)
		return ward_err_set(err, -WARD_E_USAGE, "certificate validity ends before it starts");
	if (t->serial && (t->serial_size == 0 || t->serial_size > 20))
		return ward_err_set(err, -WARD_E_USAGE, "serial must be 1..20 bytes");
	if ((r = parse_name(t->subject, &subject, err)) < 0)
		return r;

	if (!t->serial) {
		if ((r = ward_random(rnd, sizeof(rnd), err)) < 0)
			return r;
		rnd[0] &= 0x7f; /* positive */
		rnd[0] |= 0x01; /* and no leading zero byte */
	}
	bn = BN_bin2bn(t->serial ? t->serial : rnd, (int)(t->serial ? t->serial_size : sizeof(rnd)),
		       NULL);
	serial = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	if (!serial || !X509_set_version(x, X509_VERSION_3) || !X509_set_serialNumber(x, serial) ||
	    !X509_set_subject_name(x, subject) ||
	    !X509_set_issuer_name(x, issuer ? X509_get_subject_name(ward_x509_raw(issuer)) : subject) ||
	    !X509_set_pubkey(x, ward_pkey_evp(subject_key)))
		return ward_crypto_err(err, -WARD_E_CRYPTO, "certificate fields");
	if ((r = set_time(x, true, t->not_before, err)) < 0 ||
	    (r = set_time(x, false, t->not_after, err)) < 0)
		return r;

	X509V3_set_ctx(&ctx, issuer ? ward_x509_raw(issuer) : x, x, NULL, NULL, 0);
	if (t->ca) {
		if (t->path_len >= 0)
			snprintf(buf, sizeof(buf), "critical,CA:TRUE,pathlen:%d", t->path_len);
		else
			snprintf(buf, sizeof(buf), "critical,CA:TRUE");
		if ((r = add_conf_ext(x, &ctx, NID_basic_constraints, buf, err)) < 0)
			return r;
	}
	if (t->key_usage) {
		snprintf(buf, sizeof(buf), "critical%s%s%s%s%s",
			 t->key_usage & WARD_KU_DIGITAL_SIGNATURE ? ",digitalSignature" : "",
			 t->key_usage & WARD_KU_KEY_ENCIPHERMENT ? ",keyEncipherment" : "",
			 t->key_usage & WARD_KU_KEY_AGREEMENT ? ",keyAgreement" : "",
			 t->key_usage & WARD_KU_KEY_CERT_SIGN ? ",keyCertSign" : "",
			 t->key_usage & WARD_KU_CRL_SIGN ? ",cRLSign" : "");
		if ((r = add_conf_ext(x, &ctx, NID_key_usage, buf, err)) < 0)
			return r;
	}
	if (t->ext_key_usage) {
		snprintf(buf, sizeof(buf), "%s%s%s",
			 t->ext_key_usage & WARD_EKU_SERVER_AUTH ? "serverAuth" : "",
			 (t->ext_key_usage & WARD_EKU_SERVER_AUTH) &&
					 (t->ext_key_usage & WARD_EKU_CLIENT_AUTH)
				 ? ","
				 : "",
			 t->ext_key_usage & WARD_EKU_CLIENT_AUTH ? "clientAuth" : "");
		if ((r = add_conf_ext(x, &ctx, NID_ext_key_usage, buf, err)) < 0)
			return r;
	}
	if (!t->no_key_ids) {
		if ((r = add_conf_ext(x, &ctx, NID_subject_key_identifier, "hash", err)) < 0)
			return r;
		if ((r = add_conf_ext(x, &ctx, NID_authority_key_identifier, "keyid:always", err)) < 0)
			return r;
	}
	if ((r = add_sans(x, t, err)) < 0)
		return r;
	for (size_t i = 0; i < t->ext_count; i++)
		if ((r = add_custom_ext(x, &t->exts[i], err)) < 0)
			return r;
	if ((r = sign_cert(x, issuer_key, alg, err)) < 0)
		return r;
	*ret = (struct ward_x509 *)WARD_TAKE_PTR(x);
	return 0;
}
