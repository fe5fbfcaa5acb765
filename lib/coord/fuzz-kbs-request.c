/* SPDX-License-Identifier: Apache-2.0 */
/* KBS request bodies: Request, Attestation (both forms), then what the
 * coordinator does next with them (JWK import, runtime-data binding). */
#include <stddef.h>
#include <stdint.h>

#include "ward/coord.h"
#include "ward/jose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_kbs_attestation a = {0};
	enum ward_tee_type tee;
	uint8_t rd[WARD_REPORT_DATA_SIZE];

	(void)ward_kbs_parse_request(data, size, &tee, &err);
	if (ward_kbs_parse_attestation(data, size, &a, &err) == 0) {
		struct ward_pkey *k = NULL;

		if (ward_jwk_import(a.tee_pubkey, &k, &err) == 0)
			ward_pkey_free(k);
		(void)ward_kbs_report_data(a.nonce ? a.nonce : "n", a.tee_pubkey, rd, &err);
		ward_kbs_attestation_clear(&a);
	}
	return 0;
}
