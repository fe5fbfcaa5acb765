/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the streaming tar header checker (paths, links, sizes, pax, GNU
 * long names), feeding the input in two uneven chunks. */
#include <stddef.h>
#include <stdint.h>

#include "ward/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_tar_check *t = NULL;
	size_t split = size ? data[0] % (size + 1) : 0;

	if (ward_tar_check_new(NULL, &t, &err) < 0)
		return 0;
	if (ward_tar_check_feed(t, data, split, &err) == 0 &&
	    ward_tar_check_feed(t, data + split, size - split, &err) == 0)
		(void)ward_tar_check_finish(t, &err);
	ward_tar_check_free(t);
	if (size < 4096)
		(void)ward_tar_path_check((const char *)data, size, &err);
	return 0;
}
