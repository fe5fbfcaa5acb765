/* SPDX-License-Identifier: Apache-2.0 */
/* A small cursor-based DER reader (X.690 distinguished encoding subset):
 * enough for PCK certificate extensions and CRL issuer names. UNTRUSTED
 * input throughout: every length is checked against the bytes left. */

#include <stdio.h>
#include <string.h>

#include "der.h"

int ward_der_next(struct ward_cur *c, uint8_t *ret_tag, struct ward_cur *ret_content)
{
	struct ward_cur t = *c;
	uint8_t tag, b;
	size_t len = 0;

	if (ward_cur_u8(&t, &tag) < 0 || ward_cur_u8(&t, &b) < 0)
		return -WARD_E_MALFORMED;
	if ((tag & 0x1f) == 0x1f) /* high-tag-number form: never used here */
		return -WARD_E_MALFORMED;
	if (b < 0x80) {
		len = b;
	} else {
		unsigned n = b & 0x7f;

		/* 0x80 is BER indefinite length; more than 4 length bytes is absurd here. */
		if (n == 0 || n > 4)
			return -WARD_E_MALFORMED;
		for (unsigned i = 0; i < n; i++) {
			if (ward_cur_u8(&t, &b) < 0)
				return -WARD_E_MALFORMED;
			if (i == 0 && b == 0) /* not minimal */
				return -WARD_E_MALFORMED;
			len = (len << 8) | b;
		}
		if (len < 0x80) /* should have used the short form */
			return -WARD_E_MALFORMED;
	}
	if (ward_cur_sub(&t, len, ret_content) < 0)
		return -WARD_E_MALFORMED;
	*ret_tag = tag;
	*c = t;
	return 0;
}

int ward_der_expect(struct ward_cur *c, uint8_t tag, struct ward_cur *ret_content)
{
	struct ward_cur t = *c, content;
	uint8_t got;

	if (ward_der_next(&t, &got, &content) < 0 || got != tag)
		return -WARD_E_MALFORMED;
	*ret_content = content;
	*c = t;
	return 0;
}

int ward_der_uint(const struct ward_cur *content, uint64_t max, uint64_t *ret)
{
	struct ward_cur c = *content;
	uint64_t v = 0;
	uint8_t b;

	if (c.left == 0 || c.left > 9)
		return -WARD_E_MALFORMED;
	if (c.p[0] & 0x80) /* negative */
		return -WARD_E_MALFORMED;
	if (c.left > 1 && c.p[0] == 0 && !(c.p[1] & 0x80)) /* not minimal */
		return -WARD_E_MALFORMED;
	if (c.left == 9 && c.p[0] != 0)
		return -WARD_E_MALFORMED;
	while (ward_cur_u8(&c, &b) == 0)
		v = (v << 8) | b;
	if (v > max)
		return -WARD_E_MALFORMED;
	*ret = v;
	return 0;
}

bool ward_der_oid_eq(const struct ward_cur *content, const uint8_t *oid, size_t oid_size)
{
	return content->left == oid_size && memcmp(content->p, oid, oid_size) == 0;
}

int ward_der_oid_text(const struct ward_cur *content, char *buf, size_t size)
{
	struct ward_cur c = *content;
	size_t used = 0;
	bool first = true;

	if (size == 0)
		return -WARD_E_USAGE;
	buf[0] = '\0';
	if (c.left == 0)
		return -WARD_E_MALFORMED;
	while (!ward_cur_empty(&c)) {
		uint64_t arc = 0;
		uint8_t b;
		bool start = true;
		int n;

		do {
			if (ward_cur_u8(&c, &b) < 0) /* last byte had the continuation bit */
				return -WARD_E_MALFORMED;
			if (start && b == 0x80) /* leading zero group: not minimal */
				return -WARD_E_MALFORMED;
			if (arc >> 57)
				return -WARD_E_MALFORMED;
			arc = (arc << 7) | (b & 0x7f);
			start = false;
		} while (b & 0x80);
		if (first) {
			unsigned top = arc < 40 ? 0 : arc < 80 ? 1 : 2;

			n = snprintf(buf + used, size - used, "%u.%llu", top,
				     (unsigned long long)(arc - 40 * top));
			first = false;
		} else {
			n = snprintf(buf + used, size - used, ".%llu", (unsigned long long)arc);
		}
		if (n < 0)
			return -WARD_E_MALFORMED;
		used += (size_t)n;
		if (used >= size)
			used = size - 1; /* truncated; keep going to validate */
	}
	return 0;
}

static int der_walk(struct ward_cur c, unsigned depth)
{
	if (depth > WARD_DER_MAX_DEPTH)
		return -WARD_E_MALFORMED;
	while (!ward_cur_empty(&c)) {
		struct ward_cur content;
		uint8_t tag;
		int r;

		r = ward_der_next(&c, &tag, &content);
		if (r < 0)
			return r;
		if (tag & 0x20) { /* constructed */
			r = der_walk(content, depth + 1);
			if (r < 0)
				return r;
		} else if (tag == WARD_DER_OID) {
			char text[128];

			r = ward_der_oid_text(&content, text, sizeof(text));
			if (r < 0)
				return r;
		} else if (tag == WARD_DER_INTEGER && content.left <= 9) {
			uint64_t v;

			/* Just exercises the decoder; big or negative integers are fine here. */
			(void)ward_der_uint(&content, UINT64_MAX, &v);
		}
	}
	return 0;
}

int ward_der_walk(const uint8_t *der, size_t size)
{
	struct ward_cur c = ward_cur_make(der, size), content;
	uint8_t tag;

	/* Exactly one top-level value. */
	if (ward_der_next(&c, &tag, &content) < 0 || !ward_cur_empty(&c))
		return -WARD_E_MALFORMED;
	return der_walk(ward_cur_make(der, size), 0);
}

/* Find the CN in a Name (SEQUENCE OF SET OF SEQUENCE { OID, string }). */
static int name_cn(struct ward_cur name, char *buf, size_t buf_size)
{
	static const uint8_t oid_cn[] = {0x55, 0x04, 0x03};

	while (!ward_cur_empty(&name)) {
		struct ward_cur rdn, atv, oid, val;
		uint8_t tag;

		if (ward_der_expect(&name, WARD_DER_SET, &rdn) < 0)
			return -WARD_E_MALFORMED;
		while (!ward_cur_empty(&rdn)) {
			if (ward_der_expect(&rdn, WARD_DER_SEQUENCE, &atv) < 0 ||
			    ward_der_expect(&atv, WARD_DER_OID, &oid) < 0 ||
			    ward_der_next(&atv, &tag, &val) < 0)
				return -WARD_E_MALFORMED;
			if (!ward_der_oid_eq(&oid, oid_cn, sizeof(oid_cn)))
				continue;
			if (val.left >= buf_size || memchr(val.p, '\0', val.left))
				return -WARD_E_MALFORMED;
			memcpy(buf, val.p, val.left);
			buf[val.left] = '\0';
			return 0;
		}
	}
	return -WARD_E_NOT_FOUND;
}

int ward_der_issuer_cn(const uint8_t *der, size_t size, bool is_crl, char *buf, size_t buf_size)
{
	struct ward_cur c = ward_cur_make(der, size), outer, tbs, skip, name;
	uint8_t tag;

	if (buf_size == 0)
		return -WARD_E_USAGE;
	if (ward_der_expect(&c, WARD_DER_SEQUENCE, &outer) < 0 ||
	    ward_der_expect(&outer, WARD_DER_SEQUENCE, &tbs) < 0)
		return -WARD_E_MALFORMED;
	if (is_crl) {
		/* TBSCertList: version INTEGER OPTIONAL, signature, issuer */
		struct ward_cur peek = tbs;

		if (ward_der_next(&peek, &tag, &skip) < 0)
			return -WARD_E_MALFORMED;
		if (tag == WARD_DER_INTEGER)
			tbs = peek;
	} else {
		/* TBSCertificate: [0] version, serial, signature, issuer */
		struct ward_cur peek = tbs;

		if (ward_der_next(&peek, &tag, &skip) < 0)
			return -WARD_E_MALFORMED;
		if (tag == 0xa0)
			tbs = peek;
		if (ward_der_expect(&tbs, WARD_DER_INTEGER, &skip) < 0)
			return -WARD_E_MALFORMED;
	}
	if (ward_der_expect(&tbs, WARD_DER_SEQUENCE, &skip) < 0 ||
	    ward_der_expect(&tbs, WARD_DER_SEQUENCE, &name) < 0)
		return -WARD_E_MALFORMED;
	return name_cn(name, buf, buf_size);
}
