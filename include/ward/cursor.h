/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A bounded cursor over untrusted binary input. ward_cur_take() is the only
 * function that advances the pointer; every reader is built on it, so no
 * caller does pointer arithmetic on lengths taken from input. All readers
 * return 0 or -WARD_E_MALFORMED and leave the cursor unchanged on failure. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ward/error.h"

struct ward_cur {
	const uint8_t *p; /* next unread byte (borrowed) */
	size_t left;      /* bytes remaining */
};

static inline struct ward_cur ward_cur_make(const void *buf, size_t size)
{
	struct ward_cur c = {.p = (const uint8_t *)buf, .left = buf ? size : 0};
	return c;
}

/* Borrow n bytes: *ret points into the underlying buffer. */
static inline int ward_cur_take(struct ward_cur *c, size_t n, const uint8_t **ret)
{
	if (n > c->left) /* compare sizes; never form p + n first */
		return -WARD_E_MALFORMED;
	*ret = c->p;
	c->p += n;
	c->left -= n;
	return 0;
}

static inline bool ward_cur_empty(const struct ward_cur *c)
{
	return c->left == 0;
}

/* Offset of c within the region that started at base (for error messages). */
static inline size_t ward_cur_offset(const struct ward_cur *c, const struct ward_cur *base)
{
	return base->left - c->left;
}

WARD_PUBLIC int ward_cur_skip(struct ward_cur *c, size_t n);
/* Copy n bytes into out. */
WARD_PUBLIC int ward_cur_copy(struct ward_cur *c, void *out, size_t n);
/* Carve out the next n bytes as a sub-cursor. */
WARD_PUBLIC int ward_cur_sub(struct ward_cur *c, size_t n, struct ward_cur *ret);
/* Require the next n bytes to be all zero (reserved fields). */
WARD_PUBLIC int ward_cur_zeros(struct ward_cur *c, size_t n);

WARD_PUBLIC int ward_cur_u8(struct ward_cur *c, uint8_t *ret);
WARD_PUBLIC int ward_cur_u16le(struct ward_cur *c, uint16_t *ret);
WARD_PUBLIC int ward_cur_u32le(struct ward_cur *c, uint32_t *ret);
WARD_PUBLIC int ward_cur_u64le(struct ward_cur *c, uint64_t *ret);
WARD_PUBLIC int ward_cur_u16be(struct ward_cur *c, uint16_t *ret);
WARD_PUBLIC int ward_cur_u32be(struct ward_cur *c, uint32_t *ret);
WARD_PUBLIC int ward_cur_u64be(struct ward_cur *c, uint64_t *ret);

/* Read a length-prefixed region: a u16le/u32le/u32be length (at most max)
 * followed by that many bytes. */
WARD_PUBLIC int ward_cur_sub_u16le(struct ward_cur *c, size_t max, struct ward_cur *ret);
WARD_PUBLIC int ward_cur_sub_u32le(struct ward_cur *c, size_t max, struct ward_cur *ret);
WARD_PUBLIC int ward_cur_sub_u32be(struct ward_cur *c, size_t max, struct ward_cur *ret);
