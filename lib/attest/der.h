/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A strict DER reader over the bounded cursor, shared by lib/attest's
 * parsers (Intel PCK extensions, AMD VCEK names). Private to lib/attest. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ward/cursor.h"
#include "ward/error.h"

#define WARD_DER_BOOLEAN 0x01
#define WARD_DER_INTEGER 0x02
#define WARD_DER_BIT_STRING 0x03
#define WARD_DER_OCTET_STRING 0x04
#define WARD_DER_NULL 0x05
#define WARD_DER_OID 0x06
#define WARD_DER_ENUMERATED 0x0a
#define WARD_DER_UTF8_STRING 0x0c
#define WARD_DER_PRINTABLE_STRING 0x13
#define WARD_DER_SEQUENCE 0x30
#define WARD_DER_SET 0x31
#define WARD_DER_MAX_DEPTH 32

/* Read one TLV from c: single-byte tags only (high-tag-number form is
 * rejected), definite minimal lengths (DER). *ret_content is a sub-cursor
 * over the value. Returns 0 or -WARD_E_MALFORMED; c is unchanged on error. */
int ward_der_next(struct ward_cur *c, uint8_t *ret_tag, struct ward_cur *ret_content);
/* As ward_der_next(), requiring the tag. */
int ward_der_expect(struct ward_cur *c, uint8_t tag, struct ward_cur *ret_content);
/* Decode a non-negative INTEGER/ENUMERATED value (the content bytes) of at
 * most max; minimal encoding required. */
int ward_der_uint(const struct ward_cur *content, uint64_t max, uint64_t *ret);
/* Does the OID content equal the encoded OID bytes? */
bool ward_der_oid_eq(const struct ward_cur *content, const uint8_t *oid, size_t oid_size);
/* Dotted text of an OID's content into buf (truncated); -WARD_E_MALFORMED
 * if the encoding is not minimal or an arc overflows 64 bits. */
int ward_der_oid_text(const struct ward_cur *content, char *buf, size_t size);
/* Walk an entire DER value recursively, checking every nested
 * constructed value parses (for the fuzz target and sanity checks). */
int ward_der_walk(const uint8_t *der, size_t size);
/* The issuer common name of a DER CRL or certificate ("Intel SGX PCK
 * Platform CA"), NUL-terminated into buf. -WARD_E_NOT_FOUND if none. */
int ward_der_issuer_cn(const uint8_t *der, size_t size, bool is_crl, char *buf, size_t buf_size);
