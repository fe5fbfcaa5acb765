/* SPDX-License-Identifier: Apache-2.0 */
#include "ward/cursor.h"

#include <string.h>

int ward_cur_skip(struct ward_cur *c, size_t n)
{
	const uint8_t *p;

	return ward_cur_take(c, n, &p);
}

int ward_cur_copy(struct ward_cur *c, void *out, size_t n)
{
	const uint8_t *p;
	int r = ward_cur_take(c, n, &p);

	if (r < 0)
		return r;
	if (n)
		memcpy(out, p, n);
	return 0;
}

int ward_cur_sub(struct ward_cur *c, size_t n, struct ward_cur *ret)
{
	const uint8_t *p;
	int r = ward_cur_take(c, n, &p);

	if (r < 0)
		return r;
	ret->p = p;
	ret->left = n;
	return 0;
}

int ward_cur_zeros(struct ward_cur *c, size_t n)
{
	const uint8_t *p;
	uint8_t acc = 0;

	if (n > c->left)
		return -WARD_E_MALFORMED;
	for (size_t i = 0; i < n; i++)
		acc |= c->p[i];
	if (acc)
		return -WARD_E_MALFORMED;
	return ward_cur_take(c, n, &p);
}

static int take_int(struct ward_cur *c, size_t n, bool le, uint64_t *ret)
{
	const uint8_t *p;
	uint64_t v = 0;
	int r = ward_cur_take(c, n, &p);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * (le ? i : n - 1 - i));
	*ret = v;
	return 0;
}

#define DEFINE_READER(name, type, n, le)                                                           \
	int name(struct ward_cur *c, type *ret)                                                    \
	{                                                                                          \
		uint64_t v;                                                                        \
		int r = take_int(c, n, le, &v);                                                    \
		if (r < 0)                                                                         \
			return r;                                                                  \
		*ret = (type)v;                                                                    \
		return 0;                                                                          \
	}

DEFINE_READER(ward_cur_u8, uint8_t, 1, true)
DEFINE_READER(ward_cur_u16le, uint16_t, 2, true)
DEFINE_READER(ward_cur_u32le, uint32_t, 4, true)
DEFINE_READER(ward_cur_u64le, uint64_t, 8, true)
DEFINE_READER(ward_cur_u16be, uint16_t, 2, false)
DEFINE_READER(ward_cur_u32be, uint32_t, 4, false)
DEFINE_READER(ward_cur_u64be, uint64_t, 8, false)

/* Length-prefixed region: on any failure the cursor is restored. */
static int sub_prefixed(struct ward_cur *c, size_t len_size, bool le, size_t max,
			struct ward_cur *ret)
{
	struct ward_cur save = *c;
	uint64_t len;
	int r = take_int(c, len_size, le, &len);

	if (r < 0)
		return r;
	if (len > max || (r = ward_cur_sub(c, (size_t)len, ret)) < 0) {
		*c = save;
		return -WARD_E_MALFORMED;
	}
	return 0;
}

int ward_cur_sub_u16le(struct ward_cur *c, size_t max, struct ward_cur *ret)
{
	return sub_prefixed(c, 2, true, max, ret);
}

int ward_cur_sub_u32le(struct ward_cur *c, size_t max, struct ward_cur *ret)
{
	return sub_prefixed(c, 4, true, max, ret);
}

int ward_cur_sub_u32be(struct ward_cur *c, size_t max, struct ward_cur *ret)
{
	return sub_prefixed(c, 4, false, max, ret);
}
