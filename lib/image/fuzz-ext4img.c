/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the --rootfs ext4 image header parser. The first 8 bytes pick the
 * claimed file size (so both "size matches" and "does not" are reached);
 * the rest is the header. A header that parses must describe only chunks
 * inside the filesystem, in increasing order. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ward/ext4img.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_ext4img_hdr h;
	uint64_t file_size = 0;

	if (size < 8)
		return 0;
	memcpy(&file_size, data, 8);
	data += 8;
	size -= 8;
	(void)ward_ext4img_header_need(data, size);
	if (ward_ext4img_parse(data, size, file_size, &h, &err) == 0) {
		for (uint64_t k = 0; k < h.count; k++)
			if (ward_ext4img_index(&h, k) >= h.fs_size / h.chunk_size ||
			    (k > 0 && ward_ext4img_index(&h, k) <= ward_ext4img_index(&h, k - 1)))
				abort();
		if (h.header_len > size || h.data_off < h.header_len)
			abort();
	}
	return 0;
}
