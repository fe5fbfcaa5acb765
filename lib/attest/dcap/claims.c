/* SPDX-License-Identifier: Apache-2.0 */
/* The normalized claims object of a verified quote (layout documented in
 * docs/attestation-dcap.md). Byte strings are lowercase hex. */

#include <errno.h>

#include "dcap-internal.h"
#include "ward/cleanup.h"
#include "ward/encoding.h"
#include "ward/util.h"

/* Each setter returns -1 on ENOMEM; the caller checks the sum once. */
static int set_hex(json_t *o, const char *key, const uint8_t *p, size_t n)
{
	char *s = ward_hex_encode_alloc(p, n);
	int r;

	if (!s)
		return -1;
	r = json_object_set_new(o, key, json_string(s));
	free(s);
	return r;
}

static int set_int(json_t *o, const char *key, long long v)
{
	return json_object_set_new(o, key, json_integer(v));
}

static int set_str(json_t *o, const char *key, const char *v)
{
	return json_object_set_new(o, key, json_string(v));
}

static int set_time(json_t *o, const char *key, time_t t)
{
	char buf[WARD_RFC3339_SIZE];

	ward_time_format_rfc3339(t, buf);
	return set_str(o, key, buf);
}

static int set_svn_array(json_t *o, const char *key, const uint8_t *svn, size_t n)
{
	json_t *a = json_array();
	int r = 0;

	if (!a)
		return -1;
	for (size_t i = 0; i < n; i++)
		r |= json_array_append_new(a, json_integer(svn[i]));
	return r | json_object_set_new(o, key, a);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static int td_claims(json_t *o, const struct ward_dcap_td_report *td)
{
	static const char *const rtmr[] = {"rtmr0", "rtmr1", "rtmr2", "rtmr3"};
	int r = 0;

	r |= set_hex(o, "mrtd", td->mrtd, 48);
	for (int i = 0; i < 4; i++)
		r |= set_hex(o, rtmr[i], td->rtmr[i], 48);
	r |= set_hex(o, "mrconfigid", td->mrconfigid, 48);
	r |= set_hex(o, "mrowner", td->mrowner, 48);
	r |= set_hex(o, "mrownerconfig", td->mrownerconfig, 48);
	r |= set_hex(o, "mrseam", td->mrseam, 48);
	r |= set_hex(o, "mrsignerseam", td->mrsignerseam, 48);
	r |= set_hex(o, "seam_attributes", td->seam_attributes, 8);
	r |= set_hex(o, "td_attributes", td->td_attributes, 8);
	r |= set_hex(o, "xfam", td->xfam, 8);
	r |= set_hex(o, "tee_tcb_svn", td->tee_tcb_svn, 16);
	if (td->tee_tcb_svn2) {
		r |= set_hex(o, "tee_tcb_svn2", td->tee_tcb_svn2, 16);
		r |= set_hex(o, "mrservicetd", td->mrservicetd, 48);
	}
	return r;
}

static int sgx_claims(json_t *o, const struct ward_dcap_sgx_report *e)
{
	int r = 0;

	r |= set_hex(o, "mrenclave", e->mrenclave, 32);
	r |= set_hex(o, "mrsigner", e->mrsigner, 32);
	r |= set_int(o, "isvprodid", e->isvprodid);
	r |= set_int(o, "isvsvn", e->isvsvn);
	r |= set_hex(o, "attributes", e->attributes, 16);
	r |= set_int(o, "miscselect", e->miscselect);
	r |= set_hex(o, "cpusvn", e->cpusvn, 16);
	/* KSS fields only when used (all zero otherwise). */
	r |= set_int(o, "configsvn", e->configsvn);
	if (!all_zero(e->isvextprodid, 16))
		r |= set_hex(o, "isvextprodid", e->isvextprodid, 16);
	if (!all_zero(e->isvfamilyid, 16))
		r |= set_hex(o, "isvfamilyid", e->isvfamilyid, 16);
	if (!all_zero(e->configid, 64))
		r |= set_hex(o, "configid", e->configid, 64);
	return r;
}

int ward_dcap_quote_claims(const struct ward_dcap_quote *q, json_t **ret, struct ward_err *err)
{
	WARD_CLEANUP(json_decrefp) json_t *c = json_object();
	json_t *m = json_object();
	bool tdx = q->tee_type == WARD_DCAP_TEE_TDX;
	int r = 0;

	if (!c || !m) {
		json_decref(m);
		return ward_err_set(err, -ENOMEM, "out of memory");
	}
	r |= json_object_set_new(c, "measurements", m);
	r |= set_str(c, "tee", tdx ? "tdx" : "sgx");
	r |= set_int(c, "quote_version", q->version);
	r |= json_object_set_new(c, "debug", json_boolean(ward_dcap_quote_is_debug(q)));
	r |= set_hex(c, "report_data", tdx ? q->td.report_data : q->enclave.report_data, 64);
	r |= tdx ? td_claims(m, &q->td) : sgx_claims(m, &q->enclave);
	/* The fields every Ward verifier's claims share (policy checks use them):
	 * the launch measurement is MRTD for a TD and MRENCLAVE for an enclave. */
	r |= set_hex(c, "measurement", tdx ? q->td.mrtd : q->enclave.mrenclave, tdx ? 48 : 32);
	r |= json_object_set_new(c, "verified", json_false());
	if (r != 0)
		return ward_err_set(err, -ENOMEM, "out of memory building claims");
	*ret = WARD_TAKE_PTR(c);
	return 0;
}

int ward_dcap_claims_build(const struct ward_dcap_quote *q, const struct ward_dcap_pck_info *pck,
			   const struct ward_dcap_tcb_info *ti,
			   const struct ward_dcap_qe_identity *qi, const struct ward_dcap_eval *e,
			   time_t collateral_expires, json_t **ret, struct ward_err *err)
{
	WARD_CLEANUP(json_decrefp) json_t *c = NULL;
	json_t *tcb = json_object(), *coll = json_object();
	bool tdx = q->tee_type == WARD_DCAP_TEE_TDX;
	int r;

	/* The quote's own fields, then what verification established. */
	r = ward_dcap_quote_claims(q, &c, err);
	if (r < 0 || !tcb || !coll) {
		json_decref(tcb);
		json_decref(coll);
		return r < 0 ? r : ward_err_set(err, -ENOMEM, "out of memory");
	}
	r = json_object_set_new(c, "tcb", tcb);
	r |= json_object_set_new(c, "collateral", coll);
	r |= json_object_set_new(c, "verified", json_true());
	r |= json_object_set_new(c, "insecure", json_false());
	r |= json_object_set_new(c, "warnings", json_array());

	r |= set_str(tcb, "status", ward_dcap_tcb_status_name(e->status));
	r |= json_object_set(tcb, "advisory_ids", e->advisories);
	r |= set_str(tcb, "platform_status", ward_dcap_tcb_status_name(e->platform_status));
	r |= set_time(tcb, "tcb_date", e->platform_level->tcb_date);
	if (e->has_module) {
		r |= set_str(tcb, "tdx_module_status", ward_dcap_tcb_status_name(e->module_status));
		r |= set_int(tcb, "tdx_module_svn", q->td.tee_tcb_svn[0]);
		r |= set_int(tcb, "tdx_module_version", q->td.tee_tcb_svn[1]);
	}
	r |= set_str(tcb, "qe_status", ward_dcap_tcb_status_name(e->qe_status));
	r |= set_int(tcb, "qe_isvsvn", q->qe_report.isvsvn);
	r |= set_hex(tcb, "fmspc", pck->fmspc, 6);
	r |= set_hex(tcb, "pce_id", pck->pceid, 2);
	r |= set_int(tcb, "pce_svn", pck->pcesvn);
	r |= set_hex(tcb, "cpusvn", pck->cpusvn, 16);
	r |= set_svn_array(tcb, "sgx_tcb_components", pck->comp_svn, 16);
	r |= set_int(tcb, "sgx_type", pck->sgx_type);
	if (tdx)
		r |= set_hex(tcb, "tee_tcb_svn", q->td.tee_tcb_svn, 16);
	r |= set_int(tcb, "tcb_evaluation_data_number", ti->eval_number);

	r |= set_time(coll, "expires", collateral_expires);
	r |= set_time(coll, "tcb_info_next_update", ti->next_update);
	r |= set_time(coll, "qe_identity_next_update", qi->next_update);
	if (r != 0)
		return ward_err_set(err, -ENOMEM, "out of memory building claims");
	*ret = WARD_TAKE_PTR(c);
	return 0;
}

