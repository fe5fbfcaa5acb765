/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A minimal strict CBOR (RFC 8949) reader over the bounded cursor, for the
 * RA-TLS evidence extension. Definite lengths only; indefinite-length
 * items, reserved additional-info values and lengths beyond the input are
 * -WARD_E_MALFORMED. Private to lib/attest. */

#include <stdint.h>

#include "ward/cursor.h"

enum ward_cbor_major {
	WARD_CBOR_UINT = 0,
	WARD_CBOR_NINT = 1,
	WARD_CBOR_BYTES = 2,
	WARD_CBOR_TEXT = 3,
	WARD_CBOR_ARRAY = 4,
	WARD_CBOR_MAP = 5,
	WARD_CBOR_TAG = 6,
	WARD_CBOR_SIMPLE = 7,
};

/* Read an item head: major type and argument (value, length or tag). */
int ward_cbor_head(struct ward_cur *c, enum ward_cbor_major *ret_major, uint64_t *ret_arg);
/* Expect a head of the given major type; *ret_arg gets its argument. */
int ward_cbor_expect(struct ward_cur *c, enum ward_cbor_major major, uint64_t *ret_arg);
/* A byte or text string of at most max bytes, as a view into the input. */
int ward_cbor_string(struct ward_cur *c, enum ward_cbor_major major, size_t max,
		     const uint8_t **ret, size_t *ret_size);
/* Skip one complete item (nesting at most depth levels). */
int ward_cbor_skip(struct ward_cur *c, unsigned depth);
