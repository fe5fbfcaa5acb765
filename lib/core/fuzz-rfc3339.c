/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the RFC 3339 parser (times come from collateral and CLI input). */
#include <stdlib.h>
#include <string.h>

#include "ward/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	time_t t;
	char out[WARD_RFC3339_SIZE];

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (ward_time_parse_rfc3339(s, &t, NULL) == 0)
		ward_time_format_rfc3339(t, out);
	free(s);
	return 0;
}
