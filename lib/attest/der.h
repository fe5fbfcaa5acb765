/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A minimal strict DER reader for the small values inside X.509 extensions
 * (AMD's VCEK TCB/HWID extensions): definite lengths in minimal form,
 * single-byte tags, no trailing bytes. Internal to lib/attest. */

#include <stddef.h>
#include <stdint.h>

#include "ward/cursor.h"
#include "ward/error.h"

#define WARD_DER_TAG_INTEGER 0x02
#define WARD_DER_TAG_OCTET_STRING 0x04
#define WARD_DER_TAG_UTF8STRING 0x0C
#define WARD_DER_TAG_IA5STRING 0x16
#define WARD_DER_TAG_SEQUENCE 0x30

/* Largest content length accepted (more than any certificate needs). */
#define WARD_DER_MAX_LENGTH (1u << 24)

/* Read one TLV from c: *ret_tag the identifier octet, *ret_content a
 * sub-cursor over the contents. Rejects high tag numbers, indefinite and
 * non-minimal lengths and lengths past the input. Returns 0 or
 * -WARD_E_MALFORMED (cursor unchanged on failure). */
int ward_der_next(struct ward_cur *c, uint8_t *ret_tag, struct ward_cur *ret_content);

/* buf must be exactly one TLV with the given tag: *ret_content covers it. */
int ward_der_expect(const uint8_t *buf, size_t size, uint8_t tag, struct ward_cur *ret_content,
		    struct ward_err *err);

/* buf must be exactly one non-negative INTEGER in minimal form that fits
 * in 64 bits. */
int ward_der_uint64(const uint8_t *buf, size_t size, uint64_t *ret, struct ward_err *err);
