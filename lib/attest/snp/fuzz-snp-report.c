/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the SNP report parser and the claims built from a parsed report. */
#include "ward/attest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ward_snp_report r;
	json_t *claims = NULL;

	if (ward_snp_report_parse(data, size, &r, NULL) < 0)
		return 0;
	if (ward_snp_report_claims(&r, ward_snp_report_product(&r), &claims, NULL) == 0)
		json_decref(claims);
	return 0;
}
