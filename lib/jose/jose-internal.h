/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Private to lib/jose (and its unit tests). */

#include <stddef.h>
#include <stdint.h>

#include "ward/error.h"

/* Longest protected header we decode (base64url text), and the largest
 * apu/apv we accept. Real headers are a few hundred bytes. */
#define WARD_JOSE_HEADER_MAX_SIZE (64u << 10)
#define WARD_JOSE_PARTY_INFO_MAX_SIZE 1024

/* RFC 7518 §4.6.2 Concat KDF (NIST SP 800-56A §5.8.1, single-step, SHA-256):
 * out = first out_size bytes of
 *   SHA-256(be32(1) || Z || OtherInfo) || SHA-256(be32(2) || Z || OtherInfo) ...
 * with OtherInfo = be32(len(alg_id)) alg_id || be32(apu_size) apu ||
 *                  be32(apv_size) apv || be32(8 * out_size)
 * (SuppPrivInfo empty). alg_id is the "enc" value for direct key agreement
 * and the "alg" value ("ECDH-ES+A256KW") with key wrapping. apu/apv may be
 * NULL with size 0. On failure out is wiped. */
int ward_jose_concat_kdf(const uint8_t *z, size_t z_size, const char *alg_id, const uint8_t *apu,
			 size_t apu_size, const uint8_t *apv, size_t apv_size, uint8_t *out,
			 size_t out_size, struct ward_err *err);
