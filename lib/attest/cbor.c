/* SPDX-License-Identifier: Apache-2.0 */
#include "cbor.h"

int ward_cbor_head(struct ward_cur *c, enum ward_cbor_major *ret_major, uint64_t *ret_arg)
{
	struct ward_cur save = *c;
	uint8_t ib, b8;
	uint16_t b16;
	uint32_t b32;
	uint64_t arg;
	unsigned info;

	if (ward_cur_u8(c, &ib) < 0)
		return -WARD_E_MALFORMED;
	info = ib & 0x1f;
	if (info < 24) {
		arg = info;
	} else if (info == 24 && ward_cur_u8(c, &b8) == 0) {
		arg = b8;
	} else if (info == 25 && ward_cur_u16be(c, &b16) == 0) {
		arg = b16;
	} else if (info == 26 && ward_cur_u32be(c, &b32) == 0) {
		arg = b32;
	} else if (info == 27 && ward_cur_u64be(c, &arg) == 0) {
		/* arg set */
	} else {
		*c = save; /* 28..31: reserved or indefinite length; or truncated */
		return -WARD_E_MALFORMED;
	}
	*ret_major = (enum ward_cbor_major)(ib >> 5);
	*ret_arg = arg;
	return 0;
}

int ward_cbor_expect(struct ward_cur *c, enum ward_cbor_major major, uint64_t *ret_arg)
{
	struct ward_cur save = *c;
	enum ward_cbor_major m;

	if (ward_cbor_head(c, &m, ret_arg) < 0 || m != major) {
		*c = save;
		return -WARD_E_MALFORMED;
	}
	return 0;
}

int ward_cbor_string(struct ward_cur *c, enum ward_cbor_major major, size_t max,
		     const uint8_t **ret, size_t *ret_size)
{
	struct ward_cur save = *c;
	uint64_t len;

	if ((major != WARD_CBOR_BYTES && major != WARD_CBOR_TEXT) ||
	    ward_cbor_expect(c, major, &len) < 0 || len > max ||
	    ward_cur_take(c, (size_t)len, ret) < 0) {
		*c = save;
		return -WARD_E_MALFORMED;
	}
	*ret_size = (size_t)len;
	return 0;
}

int ward_cbor_skip(struct ward_cur *c, unsigned depth)
{
	enum ward_cbor_major m;
	uint64_t arg;

	if (depth == 0 || ward_cbor_head(c, &m, &arg) < 0)
		return -WARD_E_MALFORMED;
	switch (m) {
	case WARD_CBOR_UINT:
	case WARD_CBOR_NINT:
	case WARD_CBOR_SIMPLE:
		return 0;
	case WARD_CBOR_BYTES:
	case WARD_CBOR_TEXT:
		return arg > c->left ? -WARD_E_MALFORMED : ward_cur_skip(c, (size_t)arg);
	case WARD_CBOR_ARRAY:
	case WARD_CBOR_MAP:
		/* Each element needs at least one byte: bound the count by the input. */
		if (arg > c->left)
			return -WARD_E_MALFORMED;
		for (uint64_t i = 0; i < (m == WARD_CBOR_MAP ? 2 * arg : arg); i++)
			if (ward_cbor_skip(c, depth - 1) < 0)
				return -WARD_E_MALFORMED;
		return 0;
	case WARD_CBOR_TAG:
		return ward_cbor_skip(c, depth - 1);
	}
	return -WARD_E_MALFORMED;
}
