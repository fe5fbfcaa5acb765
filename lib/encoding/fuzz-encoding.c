/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the strict decoders: anything accepted must re-encode to the input. */
#include <stdlib.h>
#include <string.h>

#include "ward/encoding.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *out = NULL;
	size_t n;
	char *enc;

	if (ward_base64_decode((const char *)data, size, &out, &n, NULL) == 0) {
		enc = ward_base64_encode_alloc(out, n);
		if (enc && (strlen(enc) != size || memcmp(enc, data, size) != 0))
			abort(); /* strict decoding means exactly one encoding */
		free(enc);
		free(out);
	}
	if (ward_base64url_decode((const char *)data, size, &out, &n, NULL) == 0) {
		enc = ward_base64url_encode_alloc(out, n);
		if (enc && (strlen(enc) != size || memcmp(enc, data, size) != 0))
			abort();
		free(enc);
		free(out);
	}
	if (ward_hex_decode((const char *)data, size, &out, &n, NULL) == 0)
		free(out);
	return 0;
}
