/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Hex, base64 (RFC 4648 §4, padded) and base64url (§5, unpadded) with
 * strict decoding: wrong characters, wrong length, wrong padding and
 * non-zero unused bits are all -WARD_E_MALFORMED. Decoders take an explicit
 * input size (text need not be NUL-terminated) and allocate the output
 * (NUL-terminated for convenience; the terminator is not counted). */

#include <stddef.h>
#include <stdint.h>

#include "ward/compiler.h"
#include "ward/error.h"

/* Encoded sizes, excluding the NUL terminator. */
static inline size_t ward_hex_size(size_t n)
{
	return n * 2;
}
static inline size_t ward_base64_size(size_t n)
{
	return (n + 2) / 3 * 4;
}
static inline size_t ward_base64url_size(size_t n)
{
	return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

/* Encode into out, which must hold encoded size + 1 bytes (NUL added). */
WARD_PUBLIC void ward_hex_encode(const void *in, size_t size, char *out);
WARD_PUBLIC void ward_base64_encode(const void *in, size_t size, char *out);
WARD_PUBLIC void ward_base64url_encode(const void *in, size_t size, char *out);

/* Allocating encoders: NULL on ENOMEM. */
WARD_PUBLIC char *ward_hex_encode_alloc(const void *in, size_t size);
WARD_PUBLIC char *ward_base64_encode_alloc(const void *in, size_t size);
WARD_PUBLIC char *ward_base64url_encode_alloc(const void *in, size_t size);

/* Decode; lower- and upper-case hex digits accepted. *ret malloc'ed. */
WARD_PUBLIC int ward_hex_decode(const char *in, size_t in_size, uint8_t **ret, size_t *ret_size,
				struct ward_err *err);
WARD_PUBLIC int ward_base64_decode(const char *in, size_t in_size, uint8_t **ret,
				   size_t *ret_size, struct ward_err *err);
WARD_PUBLIC int ward_base64url_decode(const char *in, size_t in_size, uint8_t **ret,
				      size_t *ret_size, struct ward_err *err);
/* Decode hex into a fixed-size buffer: in_size must be exactly 2 * out_size. */
WARD_PUBLIC int ward_hex_decode_fixed(const char *in, size_t in_size, uint8_t *out,
				      size_t out_size, struct ward_err *err);
