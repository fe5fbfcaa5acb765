/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the SNP certificate table (configfs-tsm auxblob / extended report). */
#include "ward/attest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ward_snp_certtable t;
	volatile uint8_t sink = 0;

	if (ward_snp_certtable_parse(data, size, &t, NULL) < 0)
		return 0;
	/* Touch every byte of every entry: views must lie inside the input. */
	for (size_t i = 0; i < t.count; i++)
		for (size_t k = 0; k < t.entries[i].size; k++)
			sink ^= t.entries[i].data[k];
	(void)sink;
	return 0;
}
