/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 7518 §4.6.2 Concat KDF, kept apart from jose.c so that it can be
 * tested on its own. */
#include <string.h>

#include "jose-internal.h"
#include "ward/cleanup.h"
#include "ward/compiler.h"
#include "ward/crypto.h"

static void be32(uint8_t out[4], uint32_t v)
{
	out[0] = (uint8_t)(v >> 24);
	out[1] = (uint8_t)(v >> 16);
	out[2] = (uint8_t)(v >> 8);
	out[3] = (uint8_t)v;
}

static int hash_be32(struct ward_hash *h, uint32_t v, struct ward_err *err)
{
	uint8_t b[4];

	be32(b, v);
	return ward_hash_update(h, b, sizeof(b), err);
}

static int kdf_round(struct ward_hash *h, uint32_t counter, const uint8_t *z, size_t z_size,
		     const char *alg_id, const uint8_t *apu, size_t apu_size, const uint8_t *apv,
		     size_t apv_size, size_t out_size, uint8_t block[32], struct ward_err *err)
{
	size_t alg_size = strlen(alg_id);
	int r;

	if ((r = ward_hash_reset(h, err)) < 0 || (r = hash_be32(h, counter, err)) < 0 ||
	    (r = ward_hash_update(h, z, z_size, err)) < 0 ||
	    (r = hash_be32(h, (uint32_t)alg_size, err)) < 0 ||
	    (r = ward_hash_update(h, alg_id, alg_size, err)) < 0 ||
	    (r = hash_be32(h, (uint32_t)apu_size, err)) < 0 ||
	    (r = ward_hash_update(h, apu, apu_size, err)) < 0 ||
	    (r = hash_be32(h, (uint32_t)apv_size, err)) < 0 ||
	    (r = ward_hash_update(h, apv, apv_size, err)) < 0 ||
	    (r = hash_be32(h, (uint32_t)(out_size * 8), err)) < 0)
		return r;
	return ward_hash_final(h, block, err);
}

int ward_jose_concat_kdf(const uint8_t *z, size_t z_size, const char *alg_id, const uint8_t *apu,
			 size_t apu_size, const uint8_t *apv, size_t apv_size, uint8_t *out,
			 size_t out_size, struct ward_err *err)
{
	WARD_CLEANUP(ward_hash_freep) struct ward_hash *h = NULL;
	static const uint8_t empty[1];
	uint8_t block[32];
	WARD_CLEANUP_ERASE(block);
	size_t done = 0;
	uint32_t counter = 1;
	int r;

	if (!alg_id || !out || (!z && z_size) || (!apu && apu_size) || (!apv && apv_size) ||
	    out_size == 0 || out_size > UINT32_MAX / 8 || strlen(alg_id) > UINT32_MAX ||
	    apu_size > UINT32_MAX || apv_size > UINT32_MAX)
		return ward_err_set(err, -WARD_E_USAGE, "Concat KDF: invalid arguments");
	r = ward_hash_new(WARD_HASH_SHA256, &h, err);
	if (r < 0)
		return r;
	while (done < out_size) {
		size_t n = WARD_MIN(out_size - done, sizeof(block));

		r = kdf_round(h, counter++, z ? z : empty, z_size, alg_id, apu ? apu : empty,
			      apu_size, apv ? apv : empty, apv_size, out_size, block, err);
		if (r < 0) {
			ward_wipe(out, out_size);
			return ward_err_prefix(err, "Concat KDF");
		}
		memcpy(out + done, block, n);
		done += n;
	}
	return 0;
}
