/* SPDX-License-Identifier: Apache-2.0 */
/* SNP verification against a synthetic chain (an explicit test anchor,
 * the same path the sim TEE uses): every VCEK extension form and error,
 * both TCB layouts, VCEK and VLEK, and keys of the wrong kind. */
#include <errno.h>
#include <time.h>

#include "ward-test.h"
#include "ward/attest.h"
#include "ward/cleanup.h"
#include "ward/cursor.h"
#include "../der.h" /* to take names out of certificates */

#define OID_BL "1.3.6.1.4.1.3704.1.3.1"
#define OID_TEE "1.3.6.1.4.1.3704.1.3.2"
#define OID_SNP "1.3.6.1.4.1.3704.1.3.3"
#define OID_UCODE "1.3.6.1.4.1.3704.1.3.8"
#define OID_FMC "1.3.6.1.4.1.3704.1.3.9"
#define OID_HWID "1.3.6.1.4.1.3704.1.4"

struct pki {
	struct ward_pkey *ark_key, *ask_key, *leaf_key;
	struct ward_x509 *ark, *ask;
};

static void pki_clear(struct pki *p)
{
	ward_pkey_free(p->ark_key);
	ward_pkey_free(p->ask_key);
	ward_pkey_free(p->leaf_key);
	ward_x509_free(p->ark);
	ward_x509_free(p->ask);
}

static int make_pki(struct pki *p, struct ward_err *err)
{
	time_t now = time(NULL);
	struct ward_x509_template ark_t = {.subject = "CN=ARK-Test,O=Ward tests",
					   .not_before = now - 3600,
					   .not_after = now + 86400,
					   .ca = true,
					   .path_len = -1,
					   .key_usage = WARD_KU_KEY_CERT_SIGN | WARD_KU_CRL_SIGN};
	struct ward_x509_template ask_t = ark_t;
	int r;

	ask_t.subject = "CN=SEV-Test,O=Ward tests";
	if ((r = ward_pkey_generate(WARD_KEY_EC_P384, 0, &p->ark_key, err)) < 0 ||
	    (r = ward_pkey_generate(WARD_KEY_EC_P384, 0, &p->ask_key, err)) < 0 ||
	    (r = ward_pkey_generate(WARD_KEY_EC_P384, 0, &p->leaf_key, err)) < 0 ||
	    (r = ward_x509_create(&ark_t, p->ark_key, NULL, p->ark_key, WARD_SIG_ECDSA_SHA384,
				  &p->ark, err)) < 0 ||
	    (r = ward_x509_create(&ask_t, p->ask_key, p->ark, p->ark_key, WARD_SIG_ECDSA_SHA384,
				  &p->ask, err)) < 0)
		return r;
	return 0;
}

/* A leaf for key, issued by the ASK, with exts. */
static int make_leaf(const struct pki *p, const char *cn, const struct ward_pkey *key,
		     const struct ward_x509_ext *exts, size_t count, struct ward_x509 **ret,
		     struct ward_err *err)
{
	time_t now = time(NULL);
	struct ward_x509_template t = {.subject = cn,
				       .not_before = now - 3600,
				       .not_after = now + 86400,
				       .path_len = -1,
				       .exts = exts,
				       .ext_count = count,
				       .no_key_ids = true};

	return ward_x509_create(&t, key, p->ask, p->ask_key, WARD_SIG_ECDSA_SHA384, ret, err);
}

static const uint8_t chip[64] = {0x3b, 0x42, 0x09, 0x2f, 0x69, 0xc6, 0x56, 0xd3, 0x11, [63] = 0x77};

/* A v3 report from CPU family/model with REPORTED_TCB tcb, signed by key. */
static int make_report(uint8_t rep[WARD_SNP_REPORT_SIZE], uint8_t fam, uint8_t mod, uint64_t tcb,
		       uint32_t key_info, const struct ward_pkey *key, struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *sig = NULL;
	size_t sig_size;
	int r;

	memset(rep, 0, WARD_SNP_REPORT_SIZE);
	rep[0x00] = 3;
	rep[0x0A] = 0x03; /* policy 0x30000 */
	rep[0x34] = 1;
	rep[0x48] = (uint8_t)key_info;
	memset(rep + 0x90, 0x5A, 48); /* measurement */
	for (int i = 0; i < 8; i++) {
		rep[0x38 + i] = (uint8_t)(tcb >> (8 * i));  /* current */
		rep[0x180 + i] = (uint8_t)(tcb >> (8 * i)); /* reported */
	}
	rep[0x188] = fam;
	rep[0x189] = mod;
	rep[0x18A] = 1;
	memcpy(rep + 0x1A0, chip, 64);
	r = ward_sign(key, WARD_SIG_ECDSA_SHA384, WARD_SIG_RAW_LE, rep, WARD_SNP_SIGNED_SIZE, &sig,
		      &sig_size, err);
	if (r < 0)
		return r;
	if (sig_size != 96)
		return ward_err_set(err, -WARD_E_STATE, "unexpected signature size %zu", sig_size);
	memcpy(rep + 0x2A0, sig, 48);
	memcpy(rep + 0x2E8, sig + 48, 48);
	return 0;
}

static int verify(const uint8_t *rep, const struct pki *p, struct ward_x509 *leaf, json_t **ret,
		  struct ward_err *err)
{
	struct ward_snp_report r;
	struct ward_x509 *certs[2] = {leaf, p->ask};
	struct ward_snp_verify_opts opts = {
	    .at = time(NULL), .certs = certs, .cert_count = 2, .insecure_ark = p->ark};
	int rr = ward_snp_report_parse(rep, WARD_SNP_REPORT_SIZE, &r, err);

	if (rr < 0)
		return rr;
	return ward_snp_verify(&r, &opts, ret, err);
}

/* Extension sets: TCB components as DER INTEGERs plus a HWID. */
struct exts {
	uint8_t ints[5][4];
	uint8_t hwid[66];
	struct ward_x509_ext e[6];
	size_t count;
};

static void put_int(struct exts *x, size_t i, const char *oid, unsigned v)
{
	size_t n;

	if (v < 0x80) {
		x->ints[i][0] = 0x02, x->ints[i][1] = 1, x->ints[i][2] = (uint8_t)v;
		n = 3;
	} else if (v < 0x100) {
		x->ints[i][0] = 0x02, x->ints[i][1] = 2, x->ints[i][2] = 0,
		x->ints[i][3] = (uint8_t)v;
		n = 4;
	} else {
		x->ints[i][0] = 0x02, x->ints[i][1] = 2, x->ints[i][2] = (uint8_t)(v >> 8),
		x->ints[i][3] = (uint8_t)v;
		n = 4;
	}
	x->e[x->count++] = (struct ward_x509_ext){oid, x->ints[i], n, false};
}

/* Milan/Genoa TCB 10/0/23/84 and the 64-byte raw HWID. */
static void genoa_exts(struct exts *x)
{
	memset(x, 0, sizeof(*x));
	put_int(x, 0, OID_BL, 10);
	put_int(x, 1, OID_TEE, 0);
	put_int(x, 2, OID_SNP, 23);
	put_int(x, 3, OID_UCODE, 84);
	memcpy(x->hwid, chip, 64);
	x->e[x->count++] = (struct ward_x509_ext){OID_HWID, x->hwid, 64, false};
}
#define GENOA_TCB 0x541700000000000AULL /* bl 10, tee 0, snp 23, ucode 84 */

static int leaf_with(struct pki *p, const struct exts *x, struct ward_x509 **leaf,
		     struct ward_err *err)
{
	return make_leaf(p, "CN=SEV-VCEK,O=Ward tests", p->leaf_key, x->e, x->count, leaf, err);
}

WARD_TEST(synthetic_vcek_extension_forms)
{
	WARD_CLEANUP(pki_clear) struct pki p = {0};
	struct ward_err err = WARD_ERR_INIT;
	uint8_t rep[WARD_SNP_REPORT_SIZE];
	struct exts x;
	struct ward_x509 *leaf = NULL;
	json_t *claims = NULL;

	CHECK_OK(make_pki(&p, &err), &err);
	CHECK_OK(make_report(rep, 0x19, 0x11, GENOA_TCB, 0, p.leaf_key, &err), &err);

	/* Raw HWID (what KDS issues). */
	genoa_exts(&x);
	CHECK_OK(leaf_with(&p, &x, &leaf, &err), &err);
	CHECK_OK(verify(rep, &p, leaf, &claims, &err), &err);
	CHECK(json_is_true(json_object_get(claims, "insecure")));
	CHECK_STR(json_string_value(json_object_get(claims, "product")), "Genoa");
	claims = (json_decref(claims), NULL);
	leaf = ward_x509_free(leaf);

	/* DER-wrapped HWID. */
	x.hwid[0] = 0x04, x.hwid[1] = 64;
	memcpy(x.hwid + 2, chip, 64);
	x.e[4].der_size = 66;
	CHECK_OK(leaf_with(&p, &x, &leaf, &err), &err);
	CHECK_OK(verify(rep, &p, leaf, &claims, &err), &err);
	claims = (json_decref(claims), NULL);
	leaf = ward_x509_free(leaf);

	/* 63 raw bytes: neither form. */
	genoa_exts(&x);
	x.e[4].der_size = 63;
	CHECK_OK(leaf_with(&p, &x, &leaf, &err), &err);
	CHECK_ERR(verify(rep, &p, leaf, &claims, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "neither");
	leaf = ward_x509_free(leaf);

	/* Another chip. */
	genoa_exts(&x);
	x.hwid[5] ^= 1;
	CHECK_OK(leaf_with(&p, &x, &leaf, &err), &err);
	CHECK_ERR(verify(rep, &p, leaf, &claims, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "another chip");
	leaf = ward_x509_free(leaf);

	/* No HWID at all. */
	genoa_exts(&x);
	x.count = 4;
	CHECK_OK(leaf_with(&p, &x, &leaf, &err), &err);
	CHECK_ERR(verify(rep, &p, leaf, &claims, &err), -WARD_E_NOT_FOUND);
	CHECK_MSG(&err, "hardware ID");
	leaf = ward_x509_free(leaf);
	CHECK(claims == NULL);
}

WARD_TEST(synthetic_vcek_tcb_extensions)
{
	WARD_CLEANUP(pki_clear) struct pki p = {0};
	struct ward_err err = WARD_ERR_INIT;
	uint8_t rep[WARD_SNP_REPORT_SIZE];
	struct exts x;
	struct ward_x509 *leaf = NULL;
	json_t *claims = NULL;

	CHECK_OK(make_pki(&p, &err), &err);
	CHECK_OK(make_report(rep, 0x19, 0x11, GENOA_TCB, 0, p.leaf_key, &err), &err);

	/* A missing component. */
	genoa_exts(&x);
	x.e[2] = x.e[4];
	x.count = 4;
	CHECK_OK(leaf_with(&p, &x, &leaf, &err), &err);
	CHECK_ERR(verify(rep, &p, leaf, &claims, &err), -WARD_E_NOT_FOUND);
	CHECK_MSG(&err, "snp");
	leaf = ward_x509_free(leaf);

	/* Not an INTEGER. */
	genoa_exts(&x);
	x.ints[3][0] = 0x04;
	CHECK_OK(leaf_with(&p, &x, &leaf, &err), &err);
	CHECK_ERR(verify(rep, &p, leaf, &claims, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "not an INTEGER");
	leaf = ward_x509_free(leaf);

	/* Out of range. */
	genoa_exts(&x);
	x.count = 0;
	put_int(&x, 0, OID_BL, 10);
	put_int(&x, 1, OID_TEE, 0);
	put_int(&x, 2, OID_SNP, 23);
	put_int(&x, 3, OID_UCODE, 0x154);
	x.e[x.count++] = (struct ward_x509_ext){OID_HWID, x.hwid, 64, false};
	CHECK_OK(leaf_with(&p, &x, &leaf, &err), &err);
	CHECK_ERR(verify(rep, &p, leaf, &claims, &err), -WARD_E_MALFORMED);
	leaf = ward_x509_free(leaf);

	/* A component that differs from REPORTED_TCB. */
	genoa_exts(&x);
	x.count = 0;
	put_int(&x, 0, OID_BL, 10);
	put_int(&x, 1, OID_TEE, 0);
	put_int(&x, 2, OID_SNP, 23);
	put_int(&x, 3, OID_UCODE, 85);
	x.e[x.count++] = (struct ward_x509_ext){OID_HWID, x.hwid, 64, false};
	CHECK_OK(leaf_with(&p, &x, &leaf, &err), &err);
	CHECK_ERR(verify(rep, &p, leaf, &claims, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "ucode is 85 in the VCEK, 84 in the report");
	leaf = ward_x509_free(leaf);
	CHECK(claims == NULL);
}

WARD_TEST(synthetic_turin_layout)
{
	WARD_CLEANUP(pki_clear) struct pki p = {0};
	struct ward_err err = WARD_ERR_INIT;
	uint8_t rep[WARD_SNP_REPORT_SIZE];
	/* fmc 2, bl 1, tee 0, snp 3, ucode 71 */
	const uint64_t tcb = 0x4700000003000102ULL;
	struct exts x = {0};
	struct ward_x509 *leaf = NULL;
	json_t *claims = NULL;
	json_t *t;

	CHECK_OK(make_pki(&p, &err), &err);
	CHECK_OK(make_report(rep, 0x1A, 0x02, tcb, 0, p.leaf_key, &err), &err);
	put_int(&x, 0, OID_BL, 1);
	put_int(&x, 1, OID_TEE, 0);
	put_int(&x, 2, OID_SNP, 3);
	put_int(&x, 3, OID_UCODE, 71);
	memcpy(x.hwid, chip, 8);
	x.e[x.count++] = (struct ward_x509_ext){OID_HWID, x.hwid, 8, false};
	/* Without fmc: refused on Turin. */
	CHECK_OK(leaf_with(&p, &x, &leaf, &err), &err);
	CHECK_ERR(verify(rep, &p, leaf, &claims, &err), -WARD_E_NOT_FOUND);
	CHECK_MSG(&err, "fmc");
	leaf = ward_x509_free(leaf);
	put_int(&x, 4, OID_FMC, 2);
	CHECK_OK(leaf_with(&p, &x, &leaf, &err), &err);
	CHECK_OK(verify(rep, &p, leaf, &claims, &err), &err);
	t = json_object_get(claims, "reported_tcb");
	CHECK_INT(json_integer_value(json_object_get(t, "fmc")), ==, 2);
	CHECK_INT(json_integer_value(json_object_get(t, "bl")), ==, 1);
	CHECK_INT(json_integer_value(json_object_get(t, "snp")), ==, 3);
	claims = (json_decref(claims), NULL);
	leaf = ward_x509_free(leaf);
	/* A 64-byte HWID is wrong for Turin, raw or wrapped. */
	memcpy(x.hwid, chip, 64);
	x.e[4].der_size = 64;
	CHECK_OK(leaf_with(&p, &x, &leaf, &err), &err);
	CHECK_ERR(verify(rep, &p, leaf, &claims, &err), -WARD_E_MALFORMED);
	leaf = ward_x509_free(leaf);
	x.hwid[0] = 0x04, x.hwid[1] = 64;
	memcpy(x.hwid + 2, chip, 64);
	x.e[4].der_size = 66;
	CHECK_OK(leaf_with(&p, &x, &leaf, &err), &err);
	CHECK_ERR(verify(rep, &p, leaf, &claims, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "expected 8 for Turin");
	leaf = ward_x509_free(leaf);
}

WARD_TEST(synthetic_keys_and_names)
{
	WARD_CLEANUP(pki_clear) struct pki p = {0};
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *p256 = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *other = NULL;
	struct ward_err err = WARD_ERR_INIT;
	uint8_t rep[WARD_SNP_REPORT_SIZE];
	struct exts x;
	struct ward_x509 *leaf = NULL;
	json_t *claims = NULL;

	CHECK_OK(make_pki(&p, &err), &err);
	CHECK_OK(ward_pkey_generate(WARD_KEY_EC_P256, 0, &p256, &err), &err);
	CHECK_OK(ward_pkey_generate(WARD_KEY_EC_P384, 0, &other, &err), &err);
	genoa_exts(&x);

	/* Signed by a key other than the VCEK's. */
	CHECK_OK(make_report(rep, 0x19, 0x11, GENOA_TCB, 0, other, &err), &err);
	CHECK_OK(leaf_with(&p, &x, &leaf, &err), &err);
	CHECK_ERR(verify(rep, &p, leaf, &claims, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "signature");
	leaf = ward_x509_free(leaf);

	/* A VCEK with a P-256 key. */
	CHECK_OK(make_leaf(&p, "CN=SEV-VCEK", p256, x.e, x.count, &leaf, &err), &err);
	CHECK_ERR(verify(rep, &p, leaf, &claims, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "not an ECDSA P-384");
	leaf = ward_x509_free(leaf);

	/* No certificate named SEV-VCEK. */
	CHECK_OK(make_report(rep, 0x19, 0x11, GENOA_TCB, 0, p.leaf_key, &err), &err);
	CHECK_OK(make_leaf(&p, "CN=Something", p.leaf_key, x.e, x.count, &leaf, &err), &err);
	CHECK_ERR(verify(rep, &p, leaf, &claims, &err), -WARD_E_NOT_FOUND);
	CHECK_MSG(&err, "VCEK missing");
	leaf = ward_x509_free(leaf);

	/* VLEK: KEY_INFO.SIGNING_KEY 1, subject SEV-VLEK, no HWID needed. */
	CHECK_OK(make_report(rep, 0x19, 0x11, GENOA_TCB, 0x4, p.leaf_key, &err), &err);
	CHECK_OK(make_leaf(&p, "CN=SEV-VLEK", p.leaf_key, x.e, 4, &leaf, &err), &err);
	CHECK_OK(verify(rep, &p, leaf, &claims, &err), &err);
	CHECK_STR(json_string_value(json_object_get(claims, "signing_key")), "vlek");
	CHECK(json_object_get(json_object_get(claims, "collateral"), "vlek_not_after"));
	claims = (json_decref(claims), NULL);
	leaf = ward_x509_free(leaf);

	/* An unknown CPU in a v3 report. */
	CHECK_OK(make_report(rep, 0x17, 0x31, GENOA_TCB, 0, p.leaf_key, &err), &err);
	CHECK_OK(leaf_with(&p, &x, &leaf, &err), &err);
	CHECK_ERR(verify(rep, &p, leaf, &claims, &err), -WARD_E_UNSUPPORTED);
	CHECK_MSG(&err, "unknown CPU");
	leaf = ward_x509_free(leaf);

	/* Without the test anchor, the same chain is not AMD's. */
	{
		struct ward_snp_report r;
		struct ward_x509 *certs[2] = {NULL, p.ask};
		struct ward_snp_verify_opts opts = {
		    .at = time(NULL), .certs = certs, .cert_count = 2};

		CHECK_OK(make_report(rep, 0x19, 0x11, GENOA_TCB, 0, p.leaf_key, &err), &err);
		CHECK_OK(leaf_with(&p, &x, &leaf, &err), &err);
		certs[0] = leaf;
		CHECK_OK(ward_snp_report_parse(rep, sizeof(rep), &r, &err), &err);
		CHECK_ERR(ward_snp_verify(&r, &opts, &claims, &err), -WARD_E_VERIFY);
		CHECK_MSG(&err, "not an AMD ASK");
		leaf = ward_x509_free(leaf);
	}
	CHECK(claims == NULL);
}

/* ---- a hand-built CRL signed by the test ARK ---------------------------- */

struct buf {
	uint8_t p[4096];
	size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->n + n <= sizeof(b->p)) {
		memcpy(b->p + b->n, p, n);
		b->n += n;
	}
}

/* Append tag || DER length || content. */
static void tlv(struct buf *b, uint8_t tag, const void *content, size_t n)
{
	uint8_t h[4] = {tag};
	size_t hn = 2;

	if (n < 0x80) {
		h[1] = (uint8_t)n;
	} else if (n < 0x100) {
		h[1] = 0x81, h[2] = (uint8_t)n, hn = 3;
	} else {
		h[1] = 0x82, h[2] = (uint8_t)(n >> 8), h[3] = (uint8_t)n, hn = 4;
	}
	put(b, h, hn);
	put(b, content, n);
}

static void utctime(struct buf *b, time_t t)
{
	struct tm tm;
	char s[16];

	gmtime_r(&t, &tm);
	snprintf(s, sizeof(s), "%02d%02d%02d%02d%02d%02dZ", tm.tm_year % 100, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	tlv(b, 0x17, s, 13);
}

/* The raw serial and issuer TLVs of a certificate. */
static int cert_serial_issuer(const struct ward_x509 *cert, uint8_t *der_out, size_t *serial_off,
			      size_t *serial_n, size_t *issuer_off, size_t *issuer_n)
{
	WARD_AUTOFREE uint8_t *der = NULL;
	size_t size;
	struct ward_cur c, certc, tbs, x;
	const uint8_t *start;
	uint8_t tag;

	if (ward_x509_der(cert, &der, &size, NULL) < 0 || size > 2048)
		return -1;
	memcpy(der_out, der, size);
	c = ward_cur_make(der_out, size);
	if (ward_der_expect(&c, WARD_DER_SEQUENCE, &certc) < 0 ||
	    ward_der_expect(&certc, WARD_DER_SEQUENCE, &tbs) < 0 ||
	    ward_der_next(&tbs, &tag, &x) < 0) /* [0] version */
		return -1;
	start = tbs.p;
	if (ward_der_next(&tbs, &tag, &x) < 0)
		return -1;
	*serial_off = (size_t)(start - der_out);
	*serial_n = (size_t)(tbs.p - start);
	if (ward_der_next(&tbs, &tag, &x) < 0) /* signature algorithm */
		return -1;
	start = tbs.p;
	if (ward_der_next(&tbs, &tag, &x) < 0)
		return -1;
	*issuer_off = (size_t)(start - der_out);
	*issuer_n = (size_t)(tbs.p - start);
	return 0;
}

/* A CRL by the ARK, valid [this_update, next_update], revoking revoked
 * (may be NULL). */
static int make_crl(const struct pki *p, const struct ward_x509 *revoked, time_t this_update,
		    time_t next_update, struct ward_crl **ret, struct ward_err *err)
{
	static const uint8_t alg[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
				      0x48, 0xce, 0x3d, 0x04, 0x03, 0x03}; /* ecdsa-with-SHA384 */
	uint8_t der[2048];
	size_t so, sn, io, in;
	struct buf tbs = {0}, body = {0}, entry = {0}, list = {0}, bits = {0}, crl = {0}, all = {0};
	WARD_AUTOFREE uint8_t *sig = NULL;
	size_t sig_size;
	int r;

	/* The issuer name is the ASK's issuer (the ARK's subject). */
	if (cert_serial_issuer(p->ask, der, &so, &sn, &io, &in) < 0)
		return ward_err_set(err, -WARD_E_STATE, "cannot take the ASK apart");
	put(&body, (const uint8_t[]){0x02, 0x01, 0x01}, 3); /* version v2 */
	put(&body, alg, sizeof(alg));
	put(&body, der + io, in);
	utctime(&body, this_update);
	utctime(&body, next_update);
	if (revoked) {
		if (cert_serial_issuer(revoked, der, &so, &sn, &io, &in) < 0)
			return ward_err_set(err, -WARD_E_STATE, "cannot take the cert apart");
		put(&entry, der + so, sn);
		utctime(&entry, this_update);
		tlv(&list, 0x30, entry.p, entry.n);
		tlv(&body, 0x30, list.p, list.n);
	}
	tlv(&tbs, 0x30, body.p, body.n);
	r = ward_sign(p->ark_key, WARD_SIG_ECDSA_SHA384, WARD_SIG_DER, tbs.p, tbs.n, &sig,
		      &sig_size, err);
	if (r < 0)
		return r;
	put(&bits, (const uint8_t[]){0x00}, 1);
	put(&bits, sig, sig_size);
	put(&crl, tbs.p, tbs.n);
	put(&crl, alg, sizeof(alg));
	tlv(&crl, 0x03, bits.p, bits.n);
	tlv(&all, 0x30, crl.p, crl.n);
	return ward_crl_from_der(all.p, all.n, ret, err);
}

static int verify_crl_at(const uint8_t *rep, const struct pki *p, struct ward_x509 *leaf,
			 struct ward_crl *crl, bool require, time_t at, json_t **ret,
			 struct ward_err *err)
{
	struct ward_snp_report r;
	struct ward_x509 *certs[2] = {leaf, p->ask};
	struct ward_crl *crls[1] = {crl};
	struct ward_snp_verify_opts opts = {.at = at,
					    .certs = certs,
					    .cert_count = 2,
					    .crls = crl ? crls : NULL,
					    .crl_count = crl ? 1 : 0,
					    .require_crl = require,
					    .insecure_ark = p->ark};
	int rr = ward_snp_report_parse(rep, WARD_SNP_REPORT_SIZE, &r, err);

	if (rr < 0)
		return rr;
	return ward_snp_verify(&r, &opts, ret, err);
}

static int verify_crl(const uint8_t *rep, const struct pki *p, struct ward_x509 *leaf,
		      struct ward_crl *crl, bool require, json_t **ret, struct ward_err *err)
{
	return verify_crl_at(rep, p, leaf, crl, require, time(NULL), ret, err);
}

WARD_TEST(synthetic_crl_revocation)
{
	WARD_CLEANUP(pki_clear) struct pki p = {0};
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *leaf = NULL;
	WARD_CLEANUP(ward_crl_freep) struct ward_crl *clean = NULL;
	WARD_CLEANUP(ward_crl_freep) struct ward_crl *revoking = NULL;
	WARD_CLEANUP(ward_crl_freep) struct ward_crl *stale = NULL;
	struct ward_err err = WARD_ERR_INIT;
	uint8_t rep[WARD_SNP_REPORT_SIZE];
	time_t now = time(NULL);
	struct exts x;
	json_t *claims = NULL;

	CHECK_OK(make_pki(&p, &err), &err);
	CHECK_OK(make_report(rep, 0x19, 0x11, GENOA_TCB, 0, p.leaf_key, &err), &err);
	genoa_exts(&x);
	CHECK_OK(leaf_with(&p, &x, &leaf, &err), &err);
	CHECK_OK(make_crl(&p, NULL, now - 60, now + 86400, &clean, &err), &err);
	CHECK_OK(make_crl(&p, p.ask, now - 60, now + 86400, &revoking, &err), &err);
	CHECK_OK(make_crl(&p, NULL, now - 7200, now - 3600, &stale, &err), &err);

	/* A CRL that revokes nothing: accepted, and recorded as checked. */
	CHECK_OK(verify_crl(rep, &p, leaf, clean, true, &claims, &err), &err);
	CHECK(json_is_true(json_object_get(json_object_get(claims, "collateral"), "crl_checked")));
	CHECK(json_object_get(json_object_get(claims, "collateral"), "crl_next_update"));
	claims = (json_decref(claims), NULL);
	/* The ASK revoked. */
	CHECK_ERR(verify_crl(rep, &p, leaf, revoking, false, &claims, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "revoked");
	/* A CRL past its nextUpdate. */
	CHECK_ERR(verify_crl(rep, &p, leaf, stale, false, &claims, &err), -WARD_E_EXPIRED);
	CHECK_MSG(&err, "CRL");
	/* Required but absent. */
	CHECK_ERR(verify_crl(rep, &p, leaf, NULL, true, &claims, &err), -WARD_E_NOT_FOUND);
	CHECK_MSG(&err, "CRL missing");
	CHECK(claims == NULL);
}

/* The verified-chain cache keys on the exact CRLs and holds only inside
 * every CRL's [thisUpdate, nextUpdate): a cached chain never hides a new
 * revocation or a CRL outside its validity. */
WARD_TEST(synthetic_crl_chain_cache)
{
	WARD_CLEANUP(pki_clear) struct pki p = {0};
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *leaf = NULL;
	WARD_CLEANUP(ward_crl_freep) struct ward_crl *clean = NULL;
	WARD_CLEANUP(ward_crl_freep) struct ward_crl *revoking = NULL;
	struct ward_err err = WARD_ERR_INIT;
	uint8_t rep[WARD_SNP_REPORT_SIZE];
	time_t now = time(NULL);
	struct exts x;
	json_t *claims = NULL;

	CHECK_OK(make_pki(&p, &err), &err);
	CHECK_OK(make_report(rep, 0x19, 0x11, GENOA_TCB, 0, p.leaf_key, &err), &err);
	genoa_exts(&x);
	CHECK_OK(leaf_with(&p, &x, &leaf, &err), &err);
	CHECK_OK(make_crl(&p, NULL, now - 60, now + 600, &clean, &err), &err);
	CHECK_OK(make_crl(&p, p.ask, now - 60, now + 600, &revoking, &err), &err);

	/* Verified (and remembered) twice with the clean CRL. */
	for (int i = 0; i < 2; i++) {
		CHECK_OK(verify_crl_at(rep, &p, leaf, clean, true, now, &claims, &err), &err);
		claims = (json_decref(claims), NULL);
	}
	/* The same chain with a CRL that revokes the ASK. */
	CHECK_ERR(verify_crl_at(rep, &p, leaf, revoking, true, now, &claims, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "revoked");
	/* The clean CRL before its thisUpdate and at its nextUpdate. */
	CHECK_ERR(verify_crl_at(rep, &p, leaf, clean, true, now - 120, &claims, &err),
		  -WARD_E_EXPIRED);
	CHECK_MSG(&err, "CRL");
	CHECK_ERR(verify_crl_at(rep, &p, leaf, clean, true, now + 600, &claims, &err),
		  -WARD_E_EXPIRED);
	CHECK_MSG(&err, "CRL");
	/* And still fine inside the window. */
	CHECK_OK(verify_crl_at(rep, &p, leaf, clean, true, now + 599, &claims, &err), &err);
	claims = (json_decref(claims), NULL);
	CHECK(claims == NULL);
}

WARD_TEST_MAIN()
