/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the DCAP quote parser (no crypto). The input is copied to a buffer
 * of exactly its size so over-reads are caught by ASan. */

#include <stdlib.h>
#include <string.h>

#include "dcap-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ward_dcap_quote q;
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy)
		return 0;
	if (size)
		memcpy(copy, data, size);
	if (ward_dcap_quote_parse(copy, size, &q, NULL) == 0) {
		/* Touch every view so ASan checks it lies inside the buffer. */
		volatile uint8_t sink = 0;

		sink ^= q.signature[63] ^ q.attest_key[63] ^ q.qe_report.report_data[63] ^
			q.qe_report_signature[63] ^ (uint8_t)q.pck_chain_pem[q.pck_chain_size - 1];
		if (q.qe_auth_size)
			sink ^= q.qe_auth_data[q.qe_auth_size - 1];
		if (q.tee_type == WARD_DCAP_TEE_TDX) {
			sink ^= q.td.report_data[63];
			if (q.td.mrservicetd)
				sink ^= q.td.mrservicetd[47];
		} else {
			sink ^= q.enclave.report_data[63];
		}
		(void)ward_dcap_quote_is_debug(&q);
		(void)sink;
	}
	free(copy);
	return 0;
}
