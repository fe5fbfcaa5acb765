/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coord-internal.h"

int coord_blob_seal(const uint8_t key[32], const char *aad, const void *pt, size_t size,
		    uint8_t **ret, size_t *ret_size, struct ward_err *err)
{
	uint8_t *out = malloc(COORD_BLOB_OVERHEAD + size + 1);
	int r;

	if (!out)
		return ward_err_set(err, -ENOMEM, "seal: out of memory");
	/* A fresh random 96-bit IV per blob: under one data key the number of
	 * blobs stays far below the 2^32 random-IV bound. */
	r = ward_random(out, 12, err);
	if (r >= 0)
		r = ward_aes256gcm_seal(key, out, 12, aad, strlen(aad), pt, size, out + 28,
					out + 12, err);
	if (r < 0) {
		free(out);
		return r;
	}
	*ret = out;
	*ret_size = COORD_BLOB_OVERHEAD + size;
	return 0;
}

int coord_blob_open(const uint8_t key[32], const char *aad, const uint8_t *blob, size_t size,
		    struct ward_secret **ret, struct ward_err *err)
{
	struct ward_secret *s;
	int r;

	if (size < COORD_BLOB_OVERHEAD)
		return ward_err_set(err, -WARD_E_MALFORMED, "sealed blob '%s' truncated", aad);
	s = ward_secret_new(size - COORD_BLOB_OVERHEAD);
	if (!s)
		return ward_err_set(err, -ENOMEM, "unseal: out of memory");
	r = ward_aes256gcm_open(key, blob, 12, aad, strlen(aad), blob + 28,
				size - COORD_BLOB_OVERHEAD, blob + 12, s->data, err);
	if (r < 0) {
		ward_secret_free(s);
		return ward_err_prefix(err, "sealed blob '%s'", aad);
	}
	*ret = s;
	return 0;
}
