/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Test helpers shared by the DCAP unit tests: load vectors, pull the PCK
 * leaf's SGX extension out of a quote with the DER reader alone (so the
 * pure-logic tests need no crypto), and fetch collateral pieces. */

#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "dcap-internal.h"
#include "ward-test.h"
#include "ward/cleanup.h"
#include "ward/encoding.h"
#include "ward/file.h"

struct tvec {
	uint8_t *data; /* owned, NUL-terminated */
	size_t size;
};

static inline void tvec_clear(struct tvec *v)
{
	free(v->data);
	v->data = NULL;
	v->size = 0;
}

/* Load a vector file; false (and a note on stderr) if the vectors are absent. */
static inline bool tvec_load(const char *rel, struct tvec *v)
{
	const char *path = ward_test_vector(rel);
	struct ward_err err = WARD_ERR_INIT;

	v->data = NULL;
	v->size = 0;
	if (!path) {
		fprintf(stderr, "vector %s not available: skipping\n", rel);
		return false;
	}
	if (ward_file_read(path, 1u << 20, &v->data, &v->size, &err) < 0) {
		fprintf(stderr, "%s: %s\n", rel, err.msg);
		return false;
	}
	return true;
}

/* DER of the first certificate of a PEM text (malloc'ed) or NULL. */
static inline uint8_t *tpem_first_der(const char *pem, size_t size, size_t *ret_size)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	static const char end[] = "-----END CERTIFICATE-----";
	const char *b = memmem(pem, size, begin, strlen(begin)), *e;
	char *b64;
	size_t n = 0;
	uint8_t *der = NULL;

	if (!b)
		return NULL;
	b += strlen(begin);
	e = memmem(b, size - (size_t)(b - pem), end, strlen(end));
	if (!e)
		return NULL;
	b64 = malloc((size_t)(e - b) + 1);
	for (const char *p = b; p < e; p++)
		if (*p != '\n' && *p != '\r')
			b64[n++] = *p;
	if (ward_base64_decode(b64, n, &der, ret_size, NULL) < 0)
		der = NULL;
	free(b64);
	return der;
}

/* The SGX extension value inside a certificate's DER, via the DER reader. */
static inline bool tcert_sgx_ext(const uint8_t *der, size_t size, struct ward_cur *ret)
{
	static const uint8_t oid[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};
	struct ward_cur c = ward_cur_make(der, size), cert, tbs, skip, exts, list;
	uint8_t tag;

	if (ward_der_expect(&c, WARD_DER_SEQUENCE, &cert) < 0 ||
	    ward_der_expect(&cert, WARD_DER_SEQUENCE, &tbs) < 0)
		return false;
	while (!ward_cur_empty(&tbs)) {
		if (ward_der_next(&tbs, &tag, &skip) < 0)
			return false;
		if (tag != 0xa3)
			continue;
		exts = skip;
		if (ward_der_expect(&exts, WARD_DER_SEQUENCE, &list) < 0)
			return false;
		while (!ward_cur_empty(&list)) {
			struct ward_cur ext, o, v;

			if (ward_der_expect(&list, WARD_DER_SEQUENCE, &ext) < 0 ||
			    ward_der_expect(&ext, WARD_DER_OID, &o) < 0)
				return false;
			if (!ward_der_oid_eq(&o, oid, sizeof(oid)))
				continue;
			if (ward_der_next(&ext, &tag, &v) < 0)
				return false;
			if (tag == WARD_DER_BOOLEAN && ward_der_next(&ext, &tag, &v) < 0)
				return false;
			if (tag != WARD_DER_OCTET_STRING)
				return false;
			*ret = v;
			return true;
		}
	}
	return false;
}

/* PCK info of a parsed quote (no signature checks). */
static inline int tquote_pck(const struct ward_dcap_quote *q, struct ward_dcap_pck_info *pck)
{
	struct ward_err err = WARD_ERR_INIT;
	size_t der_size;
	uint8_t *der = tpem_first_der(q->pck_chain_pem, q->pck_chain_size, &der_size);
	struct ward_cur ext;
	int r = -WARD_E_MALFORMED;

	if (der && tcert_sgx_ext(der, der_size, &ext))
		r = ward_dcap_pck_ext_parse(ext.p, ext.left, pck, &err);
	if (r < 0)
		fprintf(stderr, "PCK extension: %s\n", err.msg);
	free(der);
	return r;
}

/* A string member of a dcap-qvl collateral.json, malloc'ed. */
static inline char *tqvl_member(const struct tvec *coll, const char *key)
{
	json_t *j = json_loadb((const char *)coll->data, coll->size, 0, NULL);
	const char *s = j ? json_string_value(json_object_get(j, key)) : NULL;
	char *out = s ? strdup(s) : NULL;

	json_decref(j);
	return out;
}
