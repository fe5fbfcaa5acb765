/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz evidence format detection and container parsing (raw report, HCL,
 * Ward envelope JSON with embedded certificates and certificate table). */
#include "ward/attest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ward_evidence *ev = NULL;
	json_t *claims = NULL;

	if (ward_evidence_parse(data, size, NULL, 0, WARD_TEE_NONE, &ev, NULL) == 0) {
		if (ward_evidence_claims(ev, &claims, NULL) == 0)
			json_decref(claims);
		ev = ward_evidence_free(ev);
	}
	/* configfs-tsm shape: a report followed by an auxblob. */
	if (size > WARD_SNP_REPORT_SIZE &&
	    ward_evidence_parse(data, WARD_SNP_REPORT_SIZE, data + WARD_SNP_REPORT_SIZE,
				size - WARD_SNP_REPORT_SIZE, WARD_TEE_NONE, &ev, NULL) == 0)
		ward_evidence_free(ev);
	return 0;
}
