/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the JSON loader: whatever parses must dump (compact and pretty) to
 * text that parses again to an equal value. */
#include <stdlib.h>
#include <string.h>

#include "ward/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	WARD_AUTOJSON json_t *j = NULL;
	WARD_AUTOJSON json_t *again = NULL;
	WARD_AUTOJSON json_t *again_pretty = NULL;
	WARD_AUTOFREE char *s = NULL;
	WARD_AUTOFREE char *p = NULL;
	WARD_AUTOFREE char *s2 = NULL;

	if (ward_json_parse(data, size, WARD_JSON_MAX_SIZE_DEFAULT, &j, NULL) < 0)
		return 0;
	if (ward_json_dump(j, &s, NULL) < 0 || ward_json_dump_pretty(j, &p, NULL) < 0)
		abort(); /* only ENOMEM could fail here */
	if (ward_json_parse(s, strlen(s), SIZE_MAX, &again, NULL) < 0 || !json_equal(j, again))
		abort();
	if (ward_json_parse(p, strlen(p), SIZE_MAX, &again_pretty, NULL) < 0 ||
	    !json_equal(j, again_pretty))
		abort();
	/* sorted compact output is canonical: dumping the copy gives the same text */
	if (ward_json_dump(again, &s2, NULL) < 0 || strcmp(s, s2) != 0)
		abort();
	return 0;
}
