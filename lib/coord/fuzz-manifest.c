/* SPDX-License-Identifier: Apache-2.0 */
#include <stddef.h>
#include <stdint.h>

#include "ward/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ward_manifest *m = NULL;
	struct ward_err err = WARD_ERR_INIT;

	if (ward_manifest_parse(data, size, &m, &err) == 0) {
		for (size_t i = 0; i < m->workload_count; i++)
			(void)ward_manifest_workload(m, m->workloads[i].name);
		ward_manifest_free(m);
	}
	return 0;
}
