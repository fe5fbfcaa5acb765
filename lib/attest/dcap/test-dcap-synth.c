/* SPDX-License-Identifier: Apache-2.0 */
/* DCAP verification against a synthetic PKI built here (root, PCK CA, PCK
 * with the SGX extension, TCB signing key, CRLs, TCB info, QE identity and a
 * TDX v4 quote, all signed with fresh keys), to reach what real vectors
 * cannot: revoked certificates, Revoked TCB levels, the Processor CA path,
 * expired certificates and cache windows. */
#include "test-dcap-util.h"
#include "ward/crypto.h"
#include "ward/util.h"

#define T0 ((time_t)1893456000) /* 2030-01-01T00:00:00Z: "now" for the synthetic PKI */
#define DAY ((time_t)86400)

/* ---- a tiny DER writer -------------------------------------------------- */

struct dbuf {
	uint8_t p[8192];
	size_t n;
};

static void put(struct dbuf *b, const void *d, size_t n)
{
	if (b->n + n > sizeof(b->p))
		abort();
	memcpy(b->p + b->n, d, n);
	b->n += n;
}

static void tlv(struct dbuf *b, uint8_t tag, const void *d, size_t n)
{
	uint8_t h[4] = {tag};
	size_t hn;

	if (n < 0x80) {
		h[1] = (uint8_t)n;
		hn = 2;
	} else if (n < 0x100) {
		h[1] = 0x81;
		h[2] = (uint8_t)n;
		hn = 3;
	} else {
		h[1] = 0x82;
		h[2] = (uint8_t)(n >> 8);
		h[3] = (uint8_t)n;
		hn = 4;
	}
	put(b, h, hn);
	put(b, d, n);
}

static void tlv_buf(struct dbuf *b, uint8_t tag, const struct dbuf *in)
{
	tlv(b, tag, in->p, in->n);
}

static void der_int(struct dbuf *b, unsigned v)
{
	uint8_t x[3] = {0, (uint8_t)(v >> 8), (uint8_t)v};

	if (v < 0x80)
		tlv(b, 0x02, x + 2, 1);
	else if (v < 0x8000)
		tlv(b, 0x02, x + 1, 2);
	else
		tlv(b, 0x02, x, 3);
}

static void sgx_oid(struct dbuf *b, int a, int c)
{
	uint8_t o[11] = {0x2a, 0x86, 0x48, 0x86,       0xf8,	  0x4d,
			 0x01, 0x0d, 0x01, (uint8_t)a, (uint8_t)c};

	tlv(b, 0x06, o, c >= 0 ? 11 : 10);
}

static void utctime(struct dbuf *b, time_t t)
{
	struct tm tm;
	char s[16];

	gmtime_r(&t, &tm);
	snprintf(s, sizeof(s), "%02d%02d%02d%02d%02d%02dZ", tm.tm_year % 100, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	tlv(b, 0x17, s, 13);
}

/* The SGX extension value of a PCK certificate. */
static void sgx_extension(struct dbuf *out, const uint8_t comp[16], unsigned pcesvn,
			  const uint8_t fmspc[6])
{
	struct dbuf seq = {0}, tcb = {0}, item = {0}, tmp = {0};
	static const uint8_t ppid[16], cpusvn[16], pceid[2];
	uint8_t en = 0;

	sgx_oid(&item, 1, -1);
	tlv(&item, 0x04, ppid, 16);
	tlv_buf(&seq, 0x30, &item);
	for (int i = 1; i <= 18; i++) {
		tmp.n = 0;
		sgx_oid(&tmp, 2, i);
		if (i <= 16)
			der_int(&tmp, comp[i - 1]);
		else if (i == 17)
			der_int(&tmp, pcesvn);
		else
			tlv(&tmp, 0x04, cpusvn, 16);
		tlv_buf(&tcb, 0x30, &tmp);
	}
	item.n = 0;
	sgx_oid(&item, 2, -1);
	tlv_buf(&item, 0x30, &tcb);
	tlv_buf(&seq, 0x30, &item);
	item.n = 0;
	sgx_oid(&item, 3, -1);
	tlv(&item, 0x04, pceid, 2);
	tlv_buf(&seq, 0x30, &item);
	item.n = 0;
	sgx_oid(&item, 4, -1);
	tlv(&item, 0x04, fmspc, 6);
	tlv_buf(&seq, 0x30, &item);
	item.n = 0;
	sgx_oid(&item, 5, -1);
	tlv(&item, 0x0a, &en, 1);
	tlv_buf(&seq, 0x30, &item);
	out->n = 0;
	tlv_buf(out, 0x30, &seq);
}

/* The subject Name DER of a certificate. */
static bool cert_subject(const struct ward_x509 *c, struct dbuf *out)
{
	uint8_t *der = NULL;
	size_t size;
	struct ward_cur cur, cert, tbs, v;
	uint8_t tag;
	bool ok = false;

	if (ward_x509_der(c, &der, &size, NULL) < 0)
		return false;
	cur = ward_cur_make(der, size);
	if (ward_der_expect(&cur, 0x30, &cert) == 0 && ward_der_expect(&cert, 0x30, &tbs) == 0) {
		struct ward_cur peek = tbs, start;
		bool bad = false;

		/* [0] version, serial, signature, issuer, validity, then subject */
		if (ward_der_next(&peek, &tag, &v) == 0 && tag == 0xa0)
			tbs = peek;
		for (int i = 0; i < 4 && !bad; i++)
			bad = ward_der_next(&tbs, &tag, &v) < 0;
		start = tbs;
		if (!bad && ward_der_expect(&tbs, 0x30, &v) == 0) {
			out->n = 0;
			put(out, start.p, start.left - tbs.left);
			ok = true;
		}
	}
	free(der);
	return ok;
}

/* A CRL issued by (issuer, key) revoking the given serials (1-byte). */
static bool make_crl(const struct ward_x509 *issuer, const struct ward_pkey *key, time_t this_up,
		     time_t next_up, const uint8_t *serials, size_t count, struct dbuf *out)
{
	static const uint8_t ecdsa_sha256[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
					       0xce, 0x3d, 0x04, 0x03, 0x02};
	struct dbuf tbs = {0}, body = {0}, name = {0}, revoked = {0}, entry = {0}, alg = {0},
		    bits = {0}, all = {0};
	uint8_t *sig = NULL;
	size_t sig_size;

	if (!cert_subject(issuer, &name))
		return false;
	tlv(&alg, 0x30, ecdsa_sha256, sizeof(ecdsa_sha256));
	der_int(&body, 1);
	put(&body, alg.p, alg.n);
	put(&body, name.p, name.n);
	utctime(&body, this_up);
	utctime(&body, next_up);
	for (size_t i = 0; i < count; i++) {
		entry.n = 0;
		der_int(&entry, serials[i]);
		utctime(&entry, this_up);
		tlv_buf(&revoked, 0x30, &entry);
	}
	if (count)
		tlv_buf(&body, 0x30, &revoked);
	tlv_buf(&tbs, 0x30, &body);
	if (ward_sign(key, WARD_SIG_ECDSA_SHA256, WARD_SIG_DER, tbs.p, tbs.n, &sig, &sig_size,
		      NULL) < 0)
		return false;
	put(&bits, "", 1);
	put(&bits, sig, sig_size);
	free(sig);
	put(&all, tbs.p, tbs.n);
	put(&all, alg.p, alg.n);
	tlv_buf(&all, 0x03, &bits);
	out->n = 0;
	tlv_buf(out, 0x30, &all);
	return true;
}

/* ---- the synthetic PKI and quote ---------------------------------------- */

struct pki {
	struct ward_pkey *root_key, *ca_key, *pck_key, *tcb_key, *ak;
	struct ward_x509 *root, *ca, *pck, *tcb;
	uint8_t quote[8192];
	size_t quote_size;
	char *tcb_chain_pem;
	char tcbinfo[8192], qeid[4096];
};

static void pki_free(struct pki *p)
{
	ward_pkey_free(p->root_key);
	ward_pkey_free(p->ca_key);
	ward_pkey_free(p->pck_key);
	ward_pkey_free(p->tcb_key);
	ward_pkey_free(p->ak);
	ward_x509_free(p->root);
	ward_x509_free(p->ca);
	ward_x509_free(p->pck);
	ward_x509_free(p->tcb);
	free(p->tcb_chain_pem);
}

struct pki_opts {
	bool processor_ca;
	time_t pck_not_after;
	const char *level_status; /* status of the only platform TCB level */
};

static const uint8_t fmspc[6] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66};
static const uint8_t comps[16] = {3, 3, 2, 2, 4, 1, 0, 5};

static bool issue(struct ward_pkey **key, struct ward_x509 **cert, const char *subject,
		  uint8_t serial, bool ca, time_t not_after, const struct ward_x509 *issuer,
		  const struct ward_pkey *issuer_key, const struct ward_x509_ext *ext)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_x509_template t = {
	    .subject = subject,
	    .serial = &serial,
	    .serial_size = 1,
	    .not_before = T0 - 365 * DAY,
	    .not_after = not_after,
	    .ca = ca,
	    .path_len = -1,
	    .key_usage = ca ? WARD_KU_KEY_CERT_SIGN | WARD_KU_CRL_SIGN : WARD_KU_DIGITAL_SIGNATURE,
	    .exts = ext,
	    .ext_count = ext ? 1 : 0,
	};

	if (ward_pkey_generate(WARD_KEY_EC_P256, 0, key, &err) < 0 ||
	    ward_x509_create(&t, *key, issuer, issuer ? issuer_key : *key, WARD_SIG_ECDSA_SHA256,
			     cert, &err) < 0) {
		fprintf(stderr, "issue %s: %s\n", subject, err.msg);
		return false;
	}
	return true;
}

static void hexs(char *out, const uint8_t *p, size_t n)
{
	ward_hex_encode(p, n, out);
}

/* Sign text with key into a PCS body {"<key>":<text>,"signature":"<hex>"}. */
static bool pcs_body(const struct ward_pkey *key, const char *name, const char *text, char *out,
		     size_t out_size)
{
	uint8_t *sig = NULL;
	size_t sig_size;
	char hex[129];

	if (ward_sign(key, WARD_SIG_ECDSA_SHA256, WARD_SIG_RAW_BE, text, strlen(text), &sig,
		      &sig_size, NULL) < 0 ||
	    sig_size != 64)
		return false;
	hexs(hex, sig, 64);
	free(sig);
	snprintf(out, out_size, "{\"%s\":%s,\"signature\":\"%s\"}", name, text, hex);
	return true;
}

static bool pki_build(struct pki *p, const struct pki_opts *o)
{
	static const uint8_t intel[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
					  0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};
	struct dbuf ext = {0};
	struct ward_x509_ext x = {.oid = WARD_DCAP_SGX_EXT_OID};
	uint8_t *q = p->quote, qe_mrsigner[32], xy[2][48], *sig = NULL;
	size_t coord, sig_size, n = 0, pem_total = 0;
	char *pems[3] = {0}, mrs[65], comps_json[512], *cp = comps_json;
	char text[6144];

	memset(p, 0, sizeof(*p));
	sgx_extension(&ext, comps, 11, fmspc);
	x.der = ext.p;
	x.der_size = ext.n;
	if (!issue(&p->root_key, &p->root, "CN=Intel SGX Root CA,O=Ward Test", 1, true,
		   T0 + 3650 * DAY, NULL, NULL, NULL) ||
	    !issue(&p->ca_key, &p->ca,
		   o->processor_ca ? "CN=Intel SGX PCK Processor CA,O=Ward Test"
				   : "CN=Intel SGX PCK Platform CA,O=Ward Test",
		   2, true, T0 + 3650 * DAY, p->root, p->root_key, NULL) ||
	    !issue(&p->pck_key, &p->pck, "CN=Intel SGX PCK Certificate,O=Ward Test", 3, false,
		   o->pck_not_after ? o->pck_not_after : T0 + 365 * DAY, p->ca, p->ca_key, &x) ||
	    !issue(&p->tcb_key, &p->tcb, "CN=Intel SGX TCB Signing,O=Ward Test", 4, false,
		   T0 + 3650 * DAY, p->root, p->root_key, NULL) ||
	    ward_pkey_generate(WARD_KEY_EC_P256, 0, &p->ak, NULL) < 0 ||
	    ward_pkey_ec_xy(p->ak, xy[0], xy[1], &coord, NULL) < 0)
		return false;

	/* header + TDX 1.0 body */
	q[0] = 4;
	q[2] = 2;
	q[4] = 0x81;
	q[8] = 4;   /* qe_svn */
	q[10] = 11; /* pce_svn */
	memcpy(q + 12, intel, 16);
	n = 48;
	q[n + 0] = 6; /* TEE_TCB_SVN: module svn 6, version 1, late microcode 3 */
	q[n + 1] = 1;
	q[n + 2] = 3;
	memset(q + n + 136, 0xaa, 48); /* MRTD */
	memset(q + n + 520, 0x5c, 64); /* REPORTDATA */
	n += 584;
	if (ward_sign(p->ak, WARD_SIG_ECDSA_SHA256, WARD_SIG_RAW_BE, q, n, &sig, &sig_size, NULL) <
	    0)
		return false;
	/* signature data, filled below once its size is known */
	{
		uint8_t *sd = q + n + 4, *qe, digest[32];
		size_t off = 0;
		uint32_t sd_size, cert6_size;

		memcpy(sd, sig, 64);
		free(sig);
		sig = NULL;
		memcpy(sd + 64, xy[0], 32);
		memcpy(sd + 96, xy[1], 32);
		off = 128 + 6; /* cert data type 6 header written later */
		qe = sd + off;
		memset(qe, 0, 384);
		memset(qe_mrsigner, 0x42, 32);
		qe[48] = 0x11; /* ATTRIBUTES */
		memcpy(qe + 128, qe_mrsigner, 32);
		qe[256] = 2; /* ISVPRODID */
		qe[258] = 4; /* ISVSVN */
		/* auth data: 32 bytes 0..31 */
		{
			uint8_t hbuf[96];

			memcpy(hbuf, sd + 64, 64);
			for (int i = 0; i < 32; i++)
				hbuf[64 + i] = (uint8_t)i;
			if (ward_hash(WARD_HASH_SHA256, hbuf, 96, digest, NULL) < 0)
				return false;
		}
		memcpy(qe + 320, digest, 32);
		if (ward_sign(p->pck_key, WARD_SIG_ECDSA_SHA256, WARD_SIG_RAW_BE, qe, 384, &sig,
			      &sig_size, NULL) < 0)
			return false;
		memcpy(qe + 384, sig, 64);
		free(sig);
		sig = NULL;
		qe[448] = 32;
		qe[449] = 0;
		for (int i = 0; i < 32; i++)
			qe[450 + i] = (uint8_t)i;
		if (ward_x509_pem(p->pck, &pems[0], NULL) < 0 ||
		    ward_x509_pem(p->ca, &pems[1], NULL) < 0 ||
		    ward_x509_pem(p->root, &pems[2], NULL) < 0)
			return false;
		{
			uint8_t *c5 = qe + 482;
			size_t at5 = 6;

			for (int i = 0; i < 3; i++) {
				size_t l = strlen(pems[i]);

				memcpy(c5 + at5, pems[i], l);
				at5 += l;
				pem_total += l;
				free(pems[i]);
			}
			c5[0] = 5;
			c5[1] = 0;
			c5[2] = (uint8_t)pem_total;
			c5[3] = (uint8_t)(pem_total >> 8);
			c5[4] = 0;
			c5[5] = 0;
		}
		cert6_size = (uint32_t)(482 + 6 + pem_total);
		sd[128] = 6;
		sd[129] = 0;
		memcpy(sd + 130, &cert6_size, 4); /* little-endian host */
		sd_size = 128 + 6 + cert6_size;
		memcpy(q + n, &sd_size, 4);
		p->quote_size = n + 4 + sd_size;
	}

	/* collateral: TCB signing chain, TCB info, TD QE identity */
	{
		char *a = NULL, *b = NULL;

		if (ward_x509_pem(p->tcb, &a, NULL) < 0 || ward_x509_pem(p->root, &b, NULL) < 0)
			return false;
		p->tcb_chain_pem = malloc(strlen(a) + strlen(b) + 1);
		strcpy(p->tcb_chain_pem, a);
		strcat(p->tcb_chain_pem, b);
		free(a);
		free(b);
	}
	for (int i = 0; i < 16; i++)
		cp += sprintf(cp, "%s{\"svn\":%d}", i ? "," : "", comps[i]);
	{
		char tdx_comps[256], *tp = tdx_comps, zeros48[97];
		char issue_s[WARD_RFC3339_SIZE], next_s[WARD_RFC3339_SIZE];

		for (int i = 0; i < 16; i++)
			tp += sprintf(tp, "%s{\"svn\":%d}", i ? "," : "", i == 2 ? 3 : 0);
		memset(zeros48, '0', 96);
		zeros48[96] = '\0';
		ward_time_format_rfc3339(T0 - 10 * DAY, issue_s);
		ward_time_format_rfc3339(T0 + 20 * DAY, next_s);
		snprintf(
		    text, sizeof(text),
		    "{\"id\":\"TDX\",\"version\":3,\"issueDate\":\"%s\",\"nextUpdate\":\"%s\","
		    "\"fmspc\":\"112233445566\",\"pceId\":\"0000\",\"tcbType\":0,"
		    "\"tcbEvaluationDataNumber\":17,"
		    "\"tdxModule\":{\"mrsigner\":\"%s\",\"attributes\":\"0000000000000000\","
		    "\"attributesMask\":\"FFFFFFFFFFFFFFFF\"},"
		    "\"tdxModuleIdentities\":[{\"id\":\"TDX_01\",\"mrsigner\":\"%s\","
		    "\"attributes\":\"0000000000000000\","
		    "\"attributesMask\":\"FFFFFFFFFFFFFFFF\",\"tcbLevels\":[{\"tcb\":{\"isvsvn\":6}"
		    ",\"tcbDate\":\"2029-01-01T00:00:00Z\",\"tcbStatus\":\"UpToDate\"}]}],"
		    "\"tcbLevels\":[{\"tcb\":{\"sgxtcbcomponents\":[%s],\"pcesvn\":11,"
		    "\"tdxtcbcomponents\":[%s]},"
		    "\"tcbDate\":\"2029-01-01T00:00:00Z\",\"tcbStatus\":\"%s\",\"advisoryIDs\":["
		    "\"INTEL-SA-TEST\"]}]}",
		    issue_s, next_s, zeros48, zeros48, comps_json, tdx_comps,
		    o->level_status ? o->level_status : "UpToDate");
		if (!pcs_body(p->tcb_key, "tcbInfo", text, p->tcbinfo, sizeof(p->tcbinfo)))
			return false;
		hexs(mrs, qe_mrsigner, 32);
		snprintf(
		    text, sizeof(text),
		    "{\"id\":\"TD_QE\",\"version\":2,\"issueDate\":\"%s\",\"nextUpdate\":\"%s\","
		    "\"tcbEvaluationDataNumber\":17,\"miscselect\":\"00000000\",\"miscselectMask\":"
		    "\"FFFFFFFF\","
		    "\"attributes\":\"11000000000000000000000000000000\",\"attributesMask\":"
		    "\"FBFFFFFFFFFFFFFF0000000000000000\","
		    "\"mrsigner\":\"%s\",\"isvprodid\":2,\"tcbLevels\":[{\"tcb\":{\"isvsvn\":4},"
		    "\"tcbDate\":\"2029-01-01T00:00:00Z\",\"tcbStatus\":\"UpToDate\"}]}",
		    issue_s, next_s, mrs);
		if (!pcs_body(p->tcb_key, "enclaveIdentity", text, p->qeid, sizeof(p->qeid)))
			return false;
	}
	return true;
}

/* A collateral set for p with the given revoked serials in each CRL. */
static struct ward_dcap_collateral *pki_collateral(struct pki *p, const uint8_t *root_revoked,
						   size_t root_n, const uint8_t *pck_revoked,
						   size_t pck_n)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_dcap_collateral *c = NULL;
	struct dbuf crl;

	if (ward_dcap_collateral_new_with_root_insecure(p->root, &c, &err) < 0)
		goto fail;
	if (!make_crl(p->root, p->root_key, T0 - DAY, T0 + 30 * DAY, root_revoked, root_n, &crl) ||
	    ward_dcap_collateral_add(c, WARD_DCAP_ROOT_CRL, crl.p, crl.n, &err) < 0)
		goto fail;
	if (!make_crl(p->ca, p->ca_key, T0 - DAY, T0 + 7 * DAY, pck_revoked, pck_n, &crl) ||
	    ward_dcap_collateral_add(c, WARD_DCAP_PCK_CRL, crl.p, crl.n, &err) < 0)
		goto fail;
	if (ward_dcap_collateral_add(c, WARD_DCAP_TCB_ISSUER_CHAIN, p->tcb_chain_pem,
				     strlen(p->tcb_chain_pem), &err) < 0 ||
	    ward_dcap_collateral_add(c, WARD_DCAP_TCB_INFO, p->tcbinfo, strlen(p->tcbinfo), &err) <
		0 ||
	    ward_dcap_collateral_add(c, WARD_DCAP_QE_IDENTITY, p->qeid, strlen(p->qeid), &err) < 0)
		goto fail;
	return c;
fail:
	fprintf(stderr, "synthetic collateral: %s\n", err.msg);
	return ward_dcap_collateral_free(c);
}

static int verify(struct pki *p, struct ward_dcap_collateral *c, time_t t, json_t **claims,
		  struct ward_err *err)
{
	json_t *j = NULL;
	int r = ward_dcap_verify(p->quote, p->quote_size, c, t, &j, err);

	if (claims)
		*claims = j;
	else
		json_decref(j);
	return r;
}

WARD_TEST(synthetic_baseline_and_cache_windows)
{
	struct ward_err err = WARD_ERR_INIT;
	struct pki p;
	struct pki_opts o = {0};
	struct ward_dcap_collateral *c;
	json_t *claims = NULL;

	CHECK(pki_build(&p, &o));
	c = pki_collateral(&p, NULL, 0, NULL, 0);
	CHECK(c != NULL);
	CHECK_OK(verify(&p, c, T0, &claims, &err), &err);
	CHECK_STR(json_string_value(json_object_get(json_object_get(claims, "tcb"), "status")),
		  "UpToDate");
	CHECK_STR(json_string_value(json_object_get(json_object_get(claims, "tcb"), "fmspc")),
		  "112233445566");
	json_decref(claims);
	/* Cached results still honour time: past the PCK CRL's nextUpdate. */
	CHECK_OK(verify(&p, c, T0 + 6 * DAY, NULL, &err), &err);
	CHECK_ERR(verify(&p, c, T0 + 8 * DAY, NULL, &err), -WARD_E_EXPIRED);
	CHECK_MSG(&err, "PCK CRL");
	CHECK_OK(verify(&p, c, T0, NULL, &err), &err);
	/* Before the collateral was issued. */
	CHECK_ERR(verify(&p, c, T0 - 2 * DAY, NULL, &err), -WARD_E_EXPIRED);
	/* The real Intel root does not anchor this PKI. */
	CHECK_ERR(ward_dcap_verify_quote_only(p.quote, p.quote_size, T0, &err), -WARD_E_VERIFY);
	ward_dcap_collateral_free(c);
	pki_free(&p);
}

WARD_TEST(synthetic_revoked_pck)
{
	static const uint8_t pck_serial[] = {3};
	struct ward_err err = WARD_ERR_INIT;
	struct pki p;
	struct pki_opts o = {0};
	struct ward_dcap_collateral *c;

	CHECK(pki_build(&p, &o));
	c = pki_collateral(&p, NULL, 0, pck_serial, 1);
	CHECK(c != NULL);
	CHECK_ERR(verify(&p, c, T0, NULL, &err), -WARD_E_VERIFY);
	fprintf(stderr, "revoked PCK: %s\n", err.msg);
	ward_dcap_collateral_free(c);
	pki_free(&p);
}

WARD_TEST(synthetic_revoked_ca_and_tcb_signer)
{
	static const uint8_t ca_serial[] = {2}, tcb_serial[] = {4};
	struct ward_err err = WARD_ERR_INIT;
	struct pki p;
	struct pki_opts o = {0};
	struct ward_dcap_collateral *c;

	CHECK(pki_build(&p, &o));
	c = pki_collateral(&p, ca_serial, 1, NULL, 0);
	CHECK(c != NULL);
	CHECK_ERR(verify(&p, c, T0, NULL, &err), -WARD_E_VERIFY);
	fprintf(stderr, "revoked PCK CA: %s\n", err.msg);
	ward_dcap_collateral_free(c);
	c = pki_collateral(&p, tcb_serial, 1, NULL, 0);
	CHECK(c != NULL);
	CHECK_ERR(verify(&p, c, T0, NULL, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "TCB signing chain");
	ward_dcap_collateral_free(c);
	pki_free(&p);
}

WARD_TEST(synthetic_revoked_tcb_level)
{
	struct ward_err err = WARD_ERR_INIT;
	struct pki p;
	struct pki_opts o = {.level_status = "Revoked"};
	struct ward_dcap_collateral *c;

	CHECK(pki_build(&p, &o));
	c = pki_collateral(&p, NULL, 0, NULL, 0);
	CHECK(c != NULL);
	CHECK_ERR(verify(&p, c, T0, NULL, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "Revoked");
	ward_dcap_collateral_free(c);
	pki_free(&p);

	o.level_status = "ConfigurationNeeded";
	CHECK(pki_build(&p, &o));
	c = pki_collateral(&p, NULL, 0, NULL, 0);
	{
		json_t *claims = NULL;

		CHECK_OK(verify(&p, c, T0, &claims, &err), &err);
		CHECK_STR(
		    json_string_value(json_object_get(json_object_get(claims, "tcb"), "status")),
		    "ConfigurationNeeded");
		CHECK_STR(json_string_value(json_array_get(
			      json_object_get(json_object_get(claims, "tcb"), "advisory_ids"), 0)),
			  "INTEL-SA-TEST");
		json_decref(claims);
	}
	ward_dcap_collateral_free(c);
	pki_free(&p);
}

WARD_TEST(synthetic_processor_ca)
{
	struct ward_err err = WARD_ERR_INIT;
	struct pki p;
	struct pki_opts o = {.processor_ca = true};
	struct ward_dcap_collateral *c = NULL;
	struct dbuf crl;

	CHECK(pki_build(&p, &o));
	c = pki_collateral(&p, NULL, 0, NULL, 0);
	CHECK(c != NULL);
	CHECK_OK(verify(&p, c, T0, NULL, &err), &err);
	ward_dcap_collateral_free(c);

	/* Without the Processor CA's CRL (only a root CRL): missing, named. */
	CHECK_OK(ward_dcap_collateral_new_with_root_insecure(p.root, &c, &err), &err);
	CHECK(make_crl(p.root, p.root_key, T0 - DAY, T0 + 30 * DAY, NULL, 0, &crl));
	CHECK_OK(ward_dcap_collateral_add(c, WARD_DCAP_ROOT_CRL, crl.p, crl.n, &err), &err);
	CHECK_ERR(verify(&p, c, T0, NULL, &err), -WARD_E_NOT_FOUND);
	CHECK_MSG(&err, "Intel SGX PCK Processor CA");
	ward_dcap_collateral_free(c);
	pki_free(&p);
}

WARD_TEST(synthetic_expired_pck)
{
	struct ward_err err = WARD_ERR_INIT;
	struct pki p;
	struct pki_opts o = {.pck_not_after = T0 - 1};
	struct ward_dcap_collateral *c;

	CHECK(pki_build(&p, &o));
	c = pki_collateral(&p, NULL, 0, NULL, 0);
	CHECK(c != NULL);
	CHECK_ERR(verify(&p, c, T0, NULL, &err), -WARD_E_EXPIRED);
	CHECK_OK(verify(&p, c, T0 - DAY / 2, NULL, &err), &err);
	ward_dcap_collateral_free(c);
	pki_free(&p);
}

WARD_TEST_MAIN()
