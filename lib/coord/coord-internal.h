/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Private to lib/coord. */

#include <stdbool.h>
#include <stdint.h>

#include "ward/coord.h"

/* AES-256-GCM blob: iv (12) || tag (16) || ciphertext, AAD given. */
#define COORD_BLOB_OVERHEAD (12 + 16)
int coord_blob_seal(const uint8_t key[32], const char *aad, const void *pt, size_t size,
		    uint8_t **ret, size_t *ret_size, struct ward_err *err);
int coord_blob_open(const uint8_t key[32], const char *aad, const uint8_t *blob, size_t size,
		    struct ward_secret **ret, struct ward_err *err);

/* ---- protected-volume freshness (volume.c) ----
 * What the coordinator keeps per (workload, volume): the registered
 * volume id, version and root hash, and optionally one pending,
 * user-approved acceptance of an older state. */
struct coord_vol_state {
	uint8_t id[16];
	uint64_t version;
	uint8_t root[32];
	bool has_accept;
	uint64_t accept_version;
	uint8_t accept_root[32];
	char accept_by[65]; /* the user who approved it */
};

/* Parse / serialise the stored state (JSON). */
int coord_vol_state_parse(const void *buf, size_t size, struct coord_vol_state *ret,
			  struct ward_err *err);
int coord_vol_state_json(const struct coord_vol_state *s, json_t **ret, struct ward_err *err);

/* Registration (cur NULL: never registered): 0 and *ret_new on accept;
 * -WARD_E_POLICY naming the reason on refusal (another volume id, an
 * older version, the same version with another root). A pending
 * acceptance is consumed by the first newer registration. */
int coord_vol_register(const struct coord_vol_state *cur, const uint8_t id[16], uint64_t version,
		       const uint8_t root[32], struct coord_vol_state *ret_new,
		       struct ward_err *err);

/* An authorised user accepts the older state (version, root) of the
 * registered volume: -WARD_E_NOT_FOUND if nothing is registered,
 * -WARD_E_POLICY if the state is not older than the registered one (there
 * is nothing to accept). */
int coord_vol_accept(const struct coord_vol_state *cur, uint64_t version, const uint8_t root[32],
		     const char *user, struct coord_vol_state *ret_new, struct ward_err *err);

/* "<workload>/<volume>" with both valid manifest names. */
int coord_vol_split(const char *path, char workload[65], char volume[65], struct ward_err *err);
