/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the Azure HCL report wrapper parser. */
#include "ward/attest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ward_snp_hcl h;
	struct ward_snp_report r;
	volatile uint8_t sink = 0;

	if (ward_snp_hcl_parse(data, size, &h, NULL) < 0)
		return 0;
	for (size_t k = 0; k < h.runtime_data_size; k++)
		sink ^= h.runtime_data[k];
	(void)sink;
	(void)ward_snp_report_parse(h.report, WARD_SNP_REPORT_SIZE, &r, NULL);
	return 0;
}
