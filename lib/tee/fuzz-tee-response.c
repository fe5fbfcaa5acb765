/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz what the TEE backends read back from the host: the sim socket's
 * response and the SNP_GET_REPORT answer buffer. */
#include <stdlib.h>

#include "tee-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ward_tee_evidence a = {0}, b = {0};

	(void)ward_tee_sim_parse_response(data, size, &a, NULL);
	(void)ward_tee_snp_unpack_report(data, size, &b, NULL);
	free(a.outblob);
	free(a.auxblob);
	free(b.outblob);
	return 0;
}
