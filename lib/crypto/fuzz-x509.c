/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz DER certificate parsing and every accessor on what parses, plus
 * DER CRL parsing of the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "ward/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const oids[] = {
	    "1.3.6.1.4.1.3704.1.3.1", /* AMD blSPL */
	    "1.3.6.1.4.1.3704.1.4",   /* AMD HWID */
	    "1.2.840.113741.1.13.1",  /* Intel SGX extensions */
	    "2.5.29.19",	      /* basicConstraints */
	};
	struct ward_x509 *c = NULL;
	struct ward_crl *crl = NULL;
	struct ward_pkey *k = NULL;
	uint8_t *der = NULL, fp[32];
	char *s = NULL;
	const uint8_t *v;
	size_t n;
	time_t a, b;

	if (ward_crl_from_der(data, size, &crl, NULL) == 0) {
		(void)ward_crl_validity(crl, &a, &b, NULL);
		ward_crl_free(crl);
	}
	if (ward_x509_from_der(data, size, &c, NULL) < 0)
		return 0;
	if (ward_x509_der(c, &der, &n, NULL) == 0) {
		/* a parsed certificate re-encodes to exactly its input */
		if (n != size || memcmp(der, data, size) != 0)
			abort();
		free(der);
	}
	if (ward_x509_pem(c, &s, NULL) == 0)
		free(s);
	if (ward_x509_subject(c, &s, NULL) == 0)
		free(s);
	if (ward_x509_issuer(c, &s, NULL) == 0)
		free(s);
	if (ward_x509_common_name(c, &s, NULL) == 0)
		free(s);
	if (ward_x509_serial_hex(c, &s, NULL) == 0)
		free(s);
	(void)ward_x509_validity(c, &a, &b, NULL);
	if (ward_x509_pubkey(c, &k, NULL) == 0)
		ward_pkey_free(k);
	(void)ward_x509_fingerprint(c, fp, NULL);
	for (size_t i = 0; i < sizeof(oids) / sizeof(oids[0]); i++)
		if (ward_x509_extension(c, oids[i], &v, &n, NULL) == 0 && n > 0)
			(void)v[n - 1]; /* the borrowed bytes are readable */
	(void)ward_x509_sig_alg_name(c);
	(void)ward_x509_check_issued_by(c, c, NULL);
	ward_x509_free(c);
	return 0;
}
