/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz TCB info / QE identity parsing, PCS body splitting and TCB level
 * evaluation against fixed platform values. */

#include <string.h>

#include "dcap-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t tee_tcb_svn[2][16] = {{6, 1, 3}, {3, 0, 4}};
	static const uint8_t zeros48[48];
	struct ward_dcap_pck_info pck = {.comp_svn = {3, 3, 2, 2, 4, 1, 0, 5}, .pcesvn = 11};
	const char *text = (const char *)data;
	struct ward_dcap_tcb_info *ti = NULL;
	struct ward_dcap_qe_identity *qi = NULL;
	uint8_t sig[64], report[WARD_DCAP_SGX_REPORT_SIZE] = {0};
	size_t off, len;

	if (ward_dcap_pcs_body_split(text, size, "tcbInfo", &off, &len, sig, NULL) == 0)
		(void)ward_dcap_tcb_info_parse(text + off, len, &ti, NULL);
	else
		(void)ward_dcap_tcb_info_parse(text, size, &ti, NULL);
	if (ti) {
		for (int i = 0; i < 2; i++) {
			struct ward_dcap_eval e;
			bool tdx = ti->tee == WARD_DCAP_TEE_TDX;

			if (ward_dcap_eval_platform(ti, &pck, tdx ? tee_tcb_svn[i] : NULL,
						    tdx ? zeros48 : NULL, tdx ? zeros48 : NULL, &e,
						    NULL) == 0)
				ward_dcap_eval_clear(&e);
		}
		ti = ward_dcap_tcb_info_free(ti);
	}

	if (ward_dcap_pcs_body_split(text, size, "enclaveIdentity", &off, &len, sig, NULL) == 0)
		(void)ward_dcap_qe_identity_parse(text + off, len, &qi, NULL);
	else
		(void)ward_dcap_qe_identity_parse(text, size, &qi, NULL);
	if (qi) {
		struct ward_dcap_sgx_report qe;
		struct ward_dcap_eval e = {.advisories = json_array()};

		memset(&qe, 0, sizeof(qe));
		qe.raw = report;
		qe.mrsigner = qi->mrsigner; /* reach the level matching */
		qe.attributes = report;
		qe.isvprodid = qi->isvprodid;
		qe.isvsvn = 8;
		(void)ward_dcap_eval_qe(qi, qi->id, &qe, &e, NULL);
		ward_dcap_eval_clear(&e);
		qi = ward_dcap_qe_identity_free(qi);
	}
	return 0;
}
