/* SPDX-License-Identifier: Apache-2.0 */
/* TCB evaluation (Intel PCS TCB info v3 / QE identity v2 semantics): the
 * first TCB level whose every component is at most the platform's wins;
 * TDX adds the TDX module identity; the QE identity adds the QE's level;
 * statuses converge as Intel's Quote Verification Library does. Pure
 * logic over parsed, signature-checked collateral. */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dcap-internal.h"

void ward_dcap_eval_clear(struct ward_dcap_eval *e)
{
	json_decref(e->advisories);
	*e = (struct ward_dcap_eval){0};
}

enum ward_dcap_tcb_status ward_dcap_status_converge(enum ward_dcap_tcb_status platform,
						    enum ward_dcap_tcb_status other)
{
	if (other == WARD_DCAP_TCB_REVOKED || platform == WARD_DCAP_TCB_REVOKED)
		return WARD_DCAP_TCB_REVOKED;
	if (other == WARD_DCAP_TCB_OUT_OF_DATE ||
	    other == WARD_DCAP_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED) {
		switch (platform) {
		case WARD_DCAP_TCB_UP_TO_DATE:
		case WARD_DCAP_TCB_SW_HARDENING_NEEDED:
			return WARD_DCAP_TCB_OUT_OF_DATE;
		case WARD_DCAP_TCB_CONFIGURATION_NEEDED:
		case WARD_DCAP_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED:
			return WARD_DCAP_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
		default:
			return platform;
		}
	}
	return platform;
}

/* Append the strings of src to dst, skipping ones already present. */
static int advisories_merge(json_t *dst, const json_t *src)
{
	size_t i, j;
	json_t *v, *w;

	json_array_foreach(src, i, v)
	{
		bool dup = false;

		json_array_foreach(dst, j, w)
		{
			if (json_equal(v, w)) {
				dup = true;
				break;
			}
		}
		if (!dup && json_array_append(dst, v) < 0)
			return -ENOMEM;
	}
	return 0;
}

static const struct ward_dcap_isv_level *isv_match(const struct ward_dcap_isv_level *levels,
						   size_t count, uint16_t isvsvn)
{
	for (size_t i = 0; i < count; i++)
		if (levels[i].isvsvn <= isvsvn)
			return &levels[i];
	return NULL;
}

static bool masked_eq(const uint8_t *a, const uint8_t *b, const uint8_t *mask, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((a[i] & mask[i]) != (b[i] & mask[i]))
			return false;
	return true;
}

int ward_dcap_eval_platform(const struct ward_dcap_tcb_info *ti,
			    const struct ward_dcap_pck_info *pck, const uint8_t *tee_tcb_svn,
			    const uint8_t *mrsignerseam, const uint8_t *seam_attributes,
			    struct ward_dcap_eval *ret, struct ward_err *err)
{
	struct ward_dcap_eval e = {0};
	const struct ward_dcap_tcb_level *level = NULL;
	size_t tdx_first = 0;

	if ((tee_tcb_svn != NULL) != (ti->tee == WARD_DCAP_TEE_TDX))
		return ward_err_set(err, -WARD_E_MALFORMED, "TCB info is for %s, quote is %s",
				    ti->tee == WARD_DCAP_TEE_TDX ? "TDX" : "SGX",
				    tee_tcb_svn ? "TDX" : "SGX");
	e.advisories = json_array();
	if (!e.advisories)
		return ward_err_set(err, -ENOMEM, "out of memory");

	if (tee_tcb_svn && tee_tcb_svn[1] > 0) {
		/* TDX module version > 0: its identity "TDX_<version>" rates its SVN. */
		const struct ward_dcap_module_identity *mi = NULL;
		char id[16];

		snprintf(id, sizeof(id), "TDX_%02X", tee_tcb_svn[1]);
		for (size_t i = 0; i < ti->module_count; i++)
			if (strcmp(ti->modules[i].id, id) == 0)
				mi = &ti->modules[i];
		if (!mi) {
			ward_dcap_eval_clear(&e);
			return ward_err_set(err, -WARD_E_POLICY,
					    "TCB info has no TDX module identity %s", id);
		}
		if (memcmp(mi->mrsigner, mrsignerseam, 48) != 0 ||
		    !masked_eq(mi->attributes, seam_attributes, mi->attributes_mask, 8)) {
			ward_dcap_eval_clear(&e);
			return ward_err_set(
			    err, -WARD_E_VERIFY,
			    "TDX module MRSIGNERSEAM/SEAMATTRIBUTES do not match %s", id);
		}
		e.module_level = isv_match(mi->levels, mi->level_count, tee_tcb_svn[0]);
		if (!e.module_level) {
			ward_dcap_eval_clear(&e);
			return ward_err_set(err, -WARD_E_POLICY,
					    "no TCB level of TDX module %s matches SVN %u", id,
					    tee_tcb_svn[0]);
		}
		e.has_module = true;
		e.module_status = e.module_level->status;
		tdx_first = 2;
	} else if (tee_tcb_svn) {
		if (!ti->has_tdx_module || memcmp(ti->module_mrsigner, mrsignerseam, 48) != 0 ||
		    !masked_eq(ti->module_attributes, seam_attributes, ti->module_attributes_mask,
			       8)) {
			ward_dcap_eval_clear(&e);
			return ward_err_set(
			    err, -WARD_E_VERIFY,
			    "TDX module MRSIGNERSEAM/SEAMATTRIBUTES do not match the TCB info");
		}
	}

	for (size_t i = 0; i < ti->level_count && !level; i++) {
		const struct ward_dcap_tcb_level *l = &ti->levels[i];
		bool ok = l->pcesvn <= pck->pcesvn;

		for (size_t j = 0; ok && j < 16; j++)
			ok = l->sgx_svn[j] <= pck->comp_svn[j];
		for (size_t j = tdx_first; ok && tee_tcb_svn && j < 16; j++)
			ok = l->tdx_svn[j] <= tee_tcb_svn[j];
		if (ok)
			level = l;
	}
	if (!level) {
		ward_dcap_eval_clear(&e);
		return ward_err_set(err, -WARD_E_POLICY,
				    "no TCB level of the TCB info matches the platform (PCESVN %u)",
				    pck->pcesvn);
	}
	e.platform_level = level;
	e.platform_status = level->status;
	e.status = e.has_module ? ward_dcap_status_converge(level->status, e.module_status)
				: level->status;
	if (advisories_merge(e.advisories, level->advisories) < 0 ||
	    (e.has_module && advisories_merge(e.advisories, e.module_level->advisories) < 0)) {
		ward_dcap_eval_clear(&e);
		return ward_err_set(err, -ENOMEM, "out of memory");
	}
	*ret = e;
	return 0;
}

int ward_dcap_eval_qe(const struct ward_dcap_qe_identity *qi, enum ward_dcap_qe_id want,
		      const struct ward_dcap_sgx_report *qe, struct ward_dcap_eval *e,
		      struct ward_err *err)
{
	static const char *const names[] = {"QE", "TD_QE", "QVE"};

	if (qi->id != want)
		return ward_err_set(err, -WARD_E_VERIFY,
				    "QE identity is \"%s\", quote needs \"%s\"", names[qi->id],
				    names[want]);
	if (memcmp(qi->mrsigner, qe->mrsigner, 32) != 0)
		return ward_err_set(err, -WARD_E_VERIFY,
				    "QE report MRSIGNER does not match the QE identity");
	if (qi->isvprodid != qe->isvprodid)
		return ward_err_set(err, -WARD_E_VERIFY,
				    "QE report ISVPRODID %u does not match the QE identity's %u",
				    qe->isvprodid, qi->isvprodid);
	if ((qi->miscselect & qi->miscselect_mask) != (qe->miscselect & qi->miscselect_mask))
		return ward_err_set(err, -WARD_E_VERIFY,
				    "QE report MISCSELECT does not match the QE identity");
	if (!masked_eq(qi->attributes, qe->attributes, qi->attributes_mask, 16))
		return ward_err_set(err, -WARD_E_VERIFY,
				    "QE report ATTRIBUTES do not match the QE identity");
	e->qe_level = isv_match(qi->levels, qi->level_count, qe->isvsvn);
	if (!e->qe_level)
		return ward_err_set(err, -WARD_E_POLICY,
				    "no QE identity TCB level matches QE ISVSVN %u", qe->isvsvn);
	e->qe_status = e->qe_level->status;
	e->status = ward_dcap_status_converge(e->status, e->qe_status);
	if (advisories_merge(e->advisories, e->qe_level->advisories) < 0)
		return ward_err_set(err, -ENOMEM, "out of memory");
	return 0;
}

static bool is_out_of_date(enum ward_dcap_tcb_status s)
{
	return s == WARD_DCAP_TCB_OUT_OF_DATE ||
	       s == WARD_DCAP_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
}

int ward_dcap_evaluate(const struct ward_dcap_quote *q, const struct ward_dcap_pck_info *pck,
		       const struct ward_dcap_tcb_info *ti, const struct ward_dcap_qe_identity *qi,
		       struct ward_dcap_eval *ret, struct ward_err *err)
{
	bool tdx = q->tee_type == WARD_DCAP_TEE_TDX;
	struct ward_dcap_eval e = {0};
	int r;

	if (ti->tee != q->tee_type)
		return ward_err_set(err, -WARD_E_VERIFY, "TCB info id %s does not fit a %s quote",
				    ti->tee == WARD_DCAP_TEE_TDX ? "TDX" : "SGX",
				    tdx ? "TDX" : "SGX");
	if (memcmp(ti->fmspc, pck->fmspc, 6) != 0)
		return ward_err_set(err, -WARD_E_VERIFY,
				    "TCB info FMSPC %02x%02x%02x%02x%02x%02x is not the PCK's "
				    "%02x%02x%02x%02x%02x%02x",
				    ti->fmspc[0], ti->fmspc[1], ti->fmspc[2], ti->fmspc[3],
				    ti->fmspc[4], ti->fmspc[5], pck->fmspc[0], pck->fmspc[1],
				    pck->fmspc[2], pck->fmspc[3], pck->fmspc[4], pck->fmspc[5]);
	if (memcmp(ti->pceid, pck->pceid, 2) != 0)
		return ward_err_set(err, -WARD_E_VERIFY,
				    "TCB info PCE-ID does not match the PCK's");

	r = ward_dcap_eval_platform(ti, pck, tdx ? q->td.tee_tcb_svn : NULL,
				    tdx ? q->td.mrsignerseam : NULL,
				    tdx ? q->td.seam_attributes : NULL, &e, err);
	if (r < 0)
		return r;
	r = ward_dcap_eval_qe(qi, tdx ? WARD_DCAP_QE_TD : WARD_DCAP_QE_SGX, &q->qe_report, &e, err);
	if (r < 0) {
		ward_dcap_eval_clear(&e);
		return r;
	}

	/* TDX 1.5: after a TD-preserving module update TEE_TCB_SVN2 holds the
	 * SVNs of the module now running on the platform while TEE_TCB_SVN
	 * keeps those the TD launched with. If the TD's own TCB is out of date
	 * but the same evaluation with TEE_TCB_SVN2 is not, a relaunch fixes
	 * it (Intel's TD_RELAUNCH_ADVISED). The advisories stay those of the
	 * running TD. */
	if (tdx && q->td.tee_tcb_svn2 && memcmp(q->td.tee_tcb_svn, q->td.tee_tcb_svn2, 16) != 0 &&
	    is_out_of_date(e.status)) {
		struct ward_dcap_eval e2 = {0};

		if (ward_dcap_eval_platform(ti, pck, q->td.tee_tcb_svn2, q->td.mrsignerseam,
					    q->td.seam_attributes, &e2, NULL) == 0) {
			enum ward_dcap_tcb_status s2 =
			    ward_dcap_status_converge(e2.status, e.qe_status);

			if (s2 == WARD_DCAP_TCB_UP_TO_DATE ||
			    s2 == WARD_DCAP_TCB_SW_HARDENING_NEEDED)
				e.status = WARD_DCAP_TCB_TD_RELAUNCH_ADVISED;
			else if (s2 == WARD_DCAP_TCB_CONFIGURATION_NEEDED ||
				 s2 == WARD_DCAP_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED)
				e.status = WARD_DCAP_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED;
			ward_dcap_eval_clear(&e2);
		}
	}
	*ret = e;
	return 0;
}
