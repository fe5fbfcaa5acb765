/* SPDX-License-Identifier: Apache-2.0 */
/* DCAP quote parsing (Intel SGX ECDSA Quote Library API, TDX DCAP Quoting
 * Library API): quote v3 (SGX), v4 (TDX or SGX body) and v5 (body
 * descriptor, TDX 1.0 / 1.5 / SGX body), ECDSA-256 attestation keys and
 * QE report certification data. UNTRUSTED input: read through a cursor. */

#include <string.h>

#include "dcap-internal.h"

#define ATT_KEY_ECDSA_P256 2
#define CERT_TYPE_PCK_CHAIN 5
#define CERT_TYPE_QE_REPORT 6
#define BODY_SGX 1
#define BODY_TD10 2
#define BODY_TD15 3

/* Take n bytes named what, or fail with the field name and offset. */
#define TAKE(c, n, out, what)                                                                      \
	do {                                                                                       \
		if (ward_cur_take((c), (n), (out)) < 0)                                            \
			return ward_err_set(err, -WARD_E_MALFORMED,                                \
					    "quote truncated in %s at offset %zu", (what),         \
					    (size_t)((c)->p - base.p));                            \
	} while (0)

static void sgx_report_views(const uint8_t *p, struct ward_dcap_sgx_report *r)
{
	r->raw = p;
	r->cpusvn = p;
	r->miscselect =
	    (uint32_t)p[16] | (uint32_t)p[17] << 8 | (uint32_t)p[18] << 16 | (uint32_t)p[19] << 24;
	/* 20..31 reserved */
	r->isvextprodid = p + 32;
	r->attributes = p + 48;
	r->mrenclave = p + 64;
	/* 96..127 reserved */
	r->mrsigner = p + 128;
	/* 160..191 reserved */
	r->configid = p + 192;
	r->isvprodid = (uint16_t)(p[256] | p[257] << 8);
	r->isvsvn = (uint16_t)(p[258] | p[259] << 8);
	r->configsvn = (uint16_t)(p[260] | p[261] << 8);
	/* 262..303 reserved */
	r->isvfamilyid = p + 304;
	r->report_data = p + 320;
}

static void td_report_views(const uint8_t *p, bool v15, struct ward_dcap_td_report *r)
{
	r->tee_tcb_svn = p;
	r->mrseam = p + 16;
	r->mrsignerseam = p + 64;
	r->seam_attributes = p + 112;
	r->td_attributes = p + 120;
	r->xfam = p + 128;
	r->mrtd = p + 136;
	r->mrconfigid = p + 184;
	r->mrowner = p + 232;
	r->mrownerconfig = p + 280;
	for (int i = 0; i < 4; i++)
		r->rtmr[i] = p + 328 + 48 * i;
	r->report_data = p + 520;
	r->tee_tcb_svn2 = v15 ? p + 584 : NULL;
	r->mrservicetd = v15 ? p + 600 : NULL;
}

/* QE report, its signature, QE auth data and the nested PCK chain
 * (certification data type 5), from c which must be consumed exactly. */
static int parse_qe_part(struct ward_cur *c, const struct ward_cur base, bool nested,
			 struct ward_dcap_quote *q, struct ward_err *err)
{
	const uint8_t *p;
	uint16_t auth_size, cert_type;
	uint32_t cert_size;

	TAKE(c, WARD_DCAP_SGX_REPORT_SIZE, &p, "QE report");
	sgx_report_views(p, &q->qe_report);
	TAKE(c, 64, &q->qe_report_signature, "QE report signature");
	if (ward_cur_u16le(c, &auth_size) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "quote truncated in QE auth data size");
	if (auth_size > WARD_DCAP_QE_AUTH_MAX_SIZE)
		return ward_err_set(err, -WARD_E_TOO_BIG, "QE auth data of %u bytes exceeds %u",
				    auth_size, WARD_DCAP_QE_AUTH_MAX_SIZE);
	TAKE(c, auth_size, &q->qe_auth_data, "QE auth data");
	q->qe_auth_size = auth_size;
	if (ward_cur_u16le(c, &cert_type) < 0 || ward_cur_u32le(c, &cert_size) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "quote truncated in %s header",
				    nested ? "nested certification data" : "certification data");
	if (cert_type != CERT_TYPE_PCK_CHAIN)
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "certification data type %u unsupported (want 5, PCK chain)",
				    cert_type);
	if (cert_size > WARD_DCAP_CERT_DATA_MAX_SIZE)
		return ward_err_set(err, -WARD_E_TOO_BIG, "PCK chain of %u bytes exceeds %u",
				    cert_size, WARD_DCAP_CERT_DATA_MAX_SIZE);
	TAKE(c, cert_size, &p, "PCK certificate chain");
	if (cert_size == 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "empty PCK certificate chain");
	q->pck_chain_pem = (const char *)p;
	q->pck_chain_size = cert_size;
	if (!ward_cur_empty(c))
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "%zu unexpected bytes after the PCK chain in %s", c->left,
				    nested ? "QE report certification data" : "signature data");
	return 0;
}

int ward_dcap_quote_parse(const void *buf, size_t size, struct ward_dcap_quote *ret,
			  struct ward_err *err)
{
	const struct ward_cur base = ward_cur_make(buf, size);
	struct ward_cur c = base, sig;
	struct ward_dcap_quote q = {0};
	const uint8_t *hdr, *body;
	uint32_t sig_size, body_size;
	int r;

	if (size > WARD_DCAP_QUOTE_MAX_SIZE)
		return ward_err_set(err, -WARD_E_TOO_BIG, "quote of %zu bytes exceeds %u", size,
				    WARD_DCAP_QUOTE_MAX_SIZE);
	if (size < WARD_DCAP_HEADER_SIZE)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "quote of %zu bytes is shorter than its header", size);
	hdr = base.p;
	if (ward_cur_u16le(&c, &q.version) < 0 || ward_cur_u16le(&c, &q.att_key_type) < 0 ||
	    ward_cur_u32le(&c, &q.tee_type) < 0 || ward_cur_u16le(&c, &q.qe_svn) < 0 ||
	    ward_cur_u16le(&c, &q.pce_svn) < 0 || ward_cur_take(&c, 16, &q.qe_vendor_id) < 0 ||
	    ward_cur_take(&c, 20, &q.user_data) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "quote header truncated");
	if (q.version < 3 || q.version > 5)
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "quote version %u unsupported (3, 4, 5)", q.version);
	if (q.att_key_type != ATT_KEY_ECDSA_P256)
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "attestation key type %u unsupported (2, ECDSA-256)",
				    q.att_key_type);
	if (q.tee_type != WARD_DCAP_TEE_SGX && q.tee_type != WARD_DCAP_TEE_TDX)
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "TEE type 0x%x unsupported",
				    q.tee_type);
	if (q.version == 3 && q.tee_type != WARD_DCAP_TEE_SGX)
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "quote v3 with TEE type 0x%x",
				    q.tee_type);

	if (q.version == 5) {
		uint16_t type;

		if (ward_cur_u16le(&c, &type) < 0 || ward_cur_u32le(&c, &body_size) < 0)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "quote truncated in body descriptor");
		q.body_type = type;
		if (!(type == BODY_SGX && q.tee_type == WARD_DCAP_TEE_SGX &&
		      body_size == WARD_DCAP_SGX_REPORT_SIZE) &&
		    !(type == BODY_TD10 && q.tee_type == WARD_DCAP_TEE_TDX &&
		      body_size == WARD_DCAP_TD10_BODY_SIZE) &&
		    !(type == BODY_TD15 && q.tee_type == WARD_DCAP_TEE_TDX &&
		      body_size == WARD_DCAP_TD15_BODY_SIZE))
			return ward_err_set(
			    err, -WARD_E_UNSUPPORTED,
			    "quote v5 body type %u of %u bytes unsupported for TEE 0x%x", type,
			    body_size, q.tee_type);
	} else {
		q.body_type = q.tee_type == WARD_DCAP_TEE_TDX ? BODY_TD10 : BODY_SGX;
		body_size = q.tee_type == WARD_DCAP_TEE_TDX ? WARD_DCAP_TD10_BODY_SIZE
							    : WARD_DCAP_SGX_REPORT_SIZE;
	}
	TAKE(&c, body_size, &body, "report body");
	if (q.body_type == BODY_SGX)
		sgx_report_views(body, &q.enclave);
	else
		td_report_views(body, q.body_type == BODY_TD15, &q.td);
	q.signed_data = hdr;
	q.signed_size = ward_cur_offset(&c, &base);

	if (ward_cur_u32le(&c, &sig_size) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "quote truncated in signature data length");
	if (sig_size > WARD_DCAP_CERT_DATA_MAX_SIZE + 1024)
		return ward_err_set(err, -WARD_E_TOO_BIG, "signature data of %u bytes too big",
				    sig_size);
	if (ward_cur_sub(&c, sig_size, &sig) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "signature data length %u exceeds the %zu bytes left", sig_size,
				    c.left);
	q.quote_size = ward_cur_offset(&c, &base);

	TAKE(&sig, 64, &q.signature, "quote signature");
	TAKE(&sig, 64, &q.attest_key, "attestation key");
	if (q.version == 3) {
		r = parse_qe_part(&sig, base, false, &q, err);
	} else {
		uint16_t cert_type;
		uint32_t cert_size;
		struct ward_cur nested;

		if (ward_cur_u16le(&sig, &cert_type) < 0 || ward_cur_u32le(&sig, &cert_size) < 0)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "quote truncated in certification data header");
		if (cert_type != CERT_TYPE_QE_REPORT)
			return ward_err_set(
			    err, -WARD_E_UNSUPPORTED,
			    "certification data type %u unsupported (want 6, QE report)",
			    cert_type);
		if (ward_cur_sub(&sig, cert_size, &nested) < 0)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "certification data size %u exceeds the signature data",
					    cert_size);
		if (!ward_cur_empty(&sig))
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "%zu unexpected bytes after the certification data",
					    sig.left);
		r = parse_qe_part(&nested, base, true, &q, err);
	}
	if (r < 0)
		return r;
	*ret = q;
	return 0;
}

bool ward_dcap_quote_is_debug(const struct ward_dcap_quote *q)
{
	if (q->tee_type == WARD_DCAP_TEE_TDX)
		return q->td.td_attributes && (q->td.td_attributes[0] & 0x01);
	return q->enclave.attributes && (q->enclave.attributes[0] & 0x02);
}
