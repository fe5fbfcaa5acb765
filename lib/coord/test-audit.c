/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "ward-test.h"
#include "ward/cleanup.h"
#include "ward/coord.h"
#include "ward/file.h"
#include "ward/json.h"

struct collect {
	json_t *entries;
};

static int collect_row(const struct ward_store_audit_row *row, void *ud)
{
	struct collect *c = ud;
	json_t *j;

	if (ward_audit_row_json(row, &j, NULL) < 0)
		return -1;
	return json_array_append_new(c->entries, j);
}

WARD_TEST(chain_append_verify_tamper)
{
	char dir[] = "/tmp/ward-audit-XXXXXX", db[64];
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_store_freep) struct ward_store *st = NULL;
	WARD_AUTOJSON json_t *d = json_pack("{s:s, s:i}", "why", "test", "n", 1);
	struct collect c = {.entries = json_array()};
	uint8_t head[32], got[32], store_hash[32];
	uint64_t count, seq;
	json_t *e;

	CHECK_OK(ward_mkdtemp(dir, &err), &err);
	snprintf(db, sizeof(db), "%s/a.db", dir);
	CHECK_OK(ward_store_open(db, &st, &err), &err);
	for (int i = 0; i < 5; i++)
		CHECK_OK(ward_audit_append(st, 1000 + i, "k", "s", d, head, &err), &err);
	CHECK_OK(ward_store_audit_head(st, &seq, store_hash, &err), &err);
	CHECK_INT(seq, ==, 5);
	CHECK_MEM(store_hash, head, 32);
	CHECK_OK(ward_store_audit_each(st, 1, collect_row, &c, &err), &err);
	CHECK_OK(ward_audit_verify(c.entries, got, &count, &err), &err);
	CHECK_INT(count, ==, 5);
	CHECK_MEM(got, head, 32);

	/* Altered detail. */
	e = json_array_get(c.entries, 2);
	json_object_set_new(json_object_get(e, "detail"), "why", json_string("forged"));
	CHECK_ERR(ward_audit_verify(c.entries, got, &count, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "record 3 was altered");
	json_object_set_new(json_object_get(e, "detail"), "why", json_string("test"));
	CHECK_OK(ward_audit_verify(c.entries, got, &count, &err), &err);
	/* Dropped record. */
	json_array_remove(c.entries, 1);
	CHECK_ERR(ward_audit_verify(c.entries, got, &count, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "gap");
	/* Not an array / malformed record. */
	CHECK_ERR(ward_audit_verify(d, got, &count, &err), -WARD_E_MALFORMED);
	json_array_clear(c.entries);
	json_array_append_new(c.entries, json_pack("{s:i}", "seq", 1));
	CHECK_ERR(ward_audit_verify(c.entries, got, &count, &err), -WARD_E_MALFORMED);
	json_decref(c.entries);
	st = ward_store_free(st);
	(void)ward_rm_rf(dir, NULL);
}

WARD_TEST(evidence_binding)
{
	uint8_t n[16] = {1}, s[32] = {2}, m[32] = {3}, h[32] = {4}, a[64], b[64];
	struct ward_err err = WARD_ERR_INIT;

	CHECK_OK(ward_coord_evidence_report_data(n, 16, s, m, h, a, &err), &err);
	CHECK_OK(ward_coord_evidence_report_data(n, 16, s, m, h, b, &err), &err);
	CHECK_MEM(a, b, 64);
	m[31] ^= 1;
	CHECK_OK(ward_coord_evidence_report_data(n, 16, s, m, h, b, &err), &err);
	CHECK(memcmp(a, b, 64) != 0);
}

WARD_TEST_MAIN()
