/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the DER reader: walk, issuer CN of CRLs and certificates, and the
 * PCK SGX extension parser, all over the same input. */

#include <stddef.h>
#include <stdint.h>

#include "dcap/dcap-internal.h" /* the DER reader and the PCK extension parser */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ward_dcap_pck_info pck;
	char cn[64];

	(void)ward_der_walk(data, size);
	(void)ward_der_issuer_cn(data, size, true, cn, sizeof(cn));
	(void)ward_der_issuer_cn(data, size, false, cn, sizeof(cn));
	(void)ward_dcap_pck_ext_parse(data, size, &pck, NULL);
	return 0;
}
