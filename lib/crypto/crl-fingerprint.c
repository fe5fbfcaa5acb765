/* SPDX-License-Identifier: Apache-2.0 */
/* CRL fingerprints (for caches keyed by the exact CRL). */
#include "crypto-internal.h"

int ward_crl_fingerprint(const struct ward_crl *crl, uint8_t out[32], struct ward_err *err)
{
	unsigned n = 0;

	if (X509_CRL_digest(ward_crl_raw(crl), EVP_sha256(), out, &n) != 1 || n != 32)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "CRL fingerprint");
	return 0;
}
