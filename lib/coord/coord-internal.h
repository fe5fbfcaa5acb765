/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Private to lib/coord. */

#include <stdint.h>

#include "ward/coord.h"

/* AES-256-GCM blob: iv (12) || tag (16) || ciphertext, AAD given. */
#define COORD_BLOB_OVERHEAD (12 + 16)
int coord_blob_seal(const uint8_t key[32], const char *aad, const void *pt, size_t size,
		    uint8_t **ret, size_t *ret_size, struct ward_err *err);
int coord_blob_open(const uint8_t key[32], const char *aad, const uint8_t *blob, size_t size,
		    struct ward_secret **ret, struct ward_err *err);
