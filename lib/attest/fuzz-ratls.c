/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz RA-TLS extraction: DER certificate -> quote extension -> CBOR /
 * legacy quote -> key binding. */
#include "ward/ratls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ward_x509 *c = NULL;
	struct ward_ratls_evidence ev;

	if (ward_x509_from_der(data, size, &c, NULL) == 0) {
		(void)ward_ratls_extract(c, &ev, NULL);
		ward_x509_free(c);
	}
	return 0;
}
