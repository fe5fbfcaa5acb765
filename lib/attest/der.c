/* SPDX-License-Identifier: Apache-2.0 */
#include "der.h"

int ward_der_next(struct ward_cur *c, uint8_t *ret_tag, struct ward_cur *ret_content)
{
	struct ward_cur t = *c; /* work on a copy: c stays unchanged on failure */
	uint8_t tag, first;
	size_t len = 0;
	int r;

	r = ward_cur_u8(&t, &tag);
	if (r < 0)
		return r;
	if ((tag & 0x1F) == 0x1F) /* high tag number form: not used by anything we read */
		return -WARD_E_MALFORMED;
	r = ward_cur_u8(&t, &first);
	if (r < 0)
		return r;
	if (first < 0x80) {
		len = first;
	} else {
		size_t n = first & 0x7F;

		/* 0x80 is indefinite (BER only); more than 3 length octets
		 * exceeds WARD_DER_MAX_LENGTH anyway. */
		if (n == 0 || n > 3)
			return -WARD_E_MALFORMED;
		for (size_t i = 0; i < n; i++) {
			uint8_t b;

			r = ward_cur_u8(&t, &b);
			if (r < 0)
				return r;
			if (i == 0 && b == 0) /* leading zero octet: not minimal */
				return -WARD_E_MALFORMED;
			len = (len << 8) | b;
		}
		if (len < 0x80) /* should have used the short form */
			return -WARD_E_MALFORMED;
	}
	if (len > WARD_DER_MAX_LENGTH)
		return -WARD_E_MALFORMED;
	r = ward_cur_sub(&t, len, ret_content);
	if (r < 0)
		return r;
	*ret_tag = tag;
	*c = t;
	return 0;
}

int ward_der_expect(const uint8_t *buf, size_t size, uint8_t tag, struct ward_cur *ret_content,
		    struct ward_err *err)
{
	struct ward_cur c = ward_cur_make(buf, size), content;
	uint8_t got;

	if (ward_der_next(&c, &got, &content) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "DER: bad tag or length");
	if (got != tag)
		return ward_err_set(err, -WARD_E_MALFORMED, "DER: expected tag 0x%02x, got 0x%02x",
				    tag, got);
	if (!ward_cur_empty(&c))
		return ward_err_set(err, -WARD_E_MALFORMED, "DER: %zu trailing bytes", c.left);
	*ret_content = content;
	return 0;
}

int ward_der_uint64(const uint8_t *buf, size_t size, uint64_t *ret, struct ward_err *err)
{
	struct ward_cur content;
	const uint8_t *p;
	uint64_t v = 0;
	size_t n;
	int r;

	r = ward_der_expect(buf, size, WARD_DER_TAG_INTEGER, &content, err);
	if (r < 0)
		return r;
	n = content.left;
	if (n == 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "DER: empty INTEGER");
	r = ward_cur_take(&content, n, &p);
	if (r < 0)
		return ward_err_set(err, r, "DER: INTEGER");
	if (p[0] & 0x80)
		return ward_err_set(err, -WARD_E_MALFORMED, "DER: negative INTEGER");
	if (n > 1 && p[0] == 0 && !(p[1] & 0x80))
		return ward_err_set(err, -WARD_E_MALFORMED, "DER: INTEGER not minimally encoded");
	if (p[0] == 0) { /* sign octet */
		p++;
		n--;
	}
	if (n > 8)
		return ward_err_set(err, -WARD_E_MALFORMED, "DER: INTEGER larger than 64 bits");
	for (size_t i = 0; i < n; i++)
		v = (v << 8) | p[i];
	*ret = v;
	return 0;
}
