/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the image JSON readers: manifest, index selection, config and
 * docker-save manifest.json, with the first byte choosing the reader. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ward/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_oci_manifest *m = NULL;
	struct ward_oci_desc d;
	json_t *j = NULL;
	const json_t *entry;
	size_t n;

	if (size < 1)
		return 0;
	switch (data[0] % 5) {
	case 0:
		if (ward_oci_manifest_parse(data + 1, size - 1, &m, &err) == 0)
			ward_oci_manifest_free(m);
		break;
	case 1:
		if (ward_oci_index_select(data + 1, size - 1, NULL, NULL, &j, &d, &err) == 0)
			json_decref(j);
		break;
	case 2:
		if (ward_oci_index_select(data + 1, size - 1, "latest", "linux/arm64/v8", &j, &d,
					  &err) == 0)
			json_decref(j);
		break;
	case 3:
		if (ward_oci_config_parse(data + 1, size - 1, &j, &n, &err) == 0)
			json_decref(j);
		break;
	case 4:
		if (ward_docker_manifest_parse(data + 1, size - 1, NULL, &j, &entry, &err) == 0)
			json_decref(j);
		break;
	}
	return 0;
}
