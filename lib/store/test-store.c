/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ward-test.h"
#include "ward/cleanup.h"
#include "ward/file.h"
#include "ward/store.h"

struct tmpdir {
	char path[64];
};
static void tmpdir_cleanup(struct tmpdir *t)
{
	if (t->path[0])
		(void)ward_rm_rf(t->path, NULL);
}

static int open_tmp(struct tmpdir *t, struct ward_store **st, struct ward_err *err)
{
	char db[96];

	strcpy(t->path, "/tmp/ward-store-XXXXXX");
	if (ward_mkdtemp(t->path, err) < 0)
		return -1;
	snprintf(db, sizeof(db), "%s/state.db", t->path);
	return ward_store_open(db, st, err);
}

WARD_TEST(kv_roundtrip)
{
	WARD_CLEANUP(tmpdir_cleanup) struct tmpdir t = {{0}};
	WARD_CLEANUP(ward_store_freep) struct ward_store *st = NULL;
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOFREE uint8_t *v = NULL;
	size_t size;

	CHECK_OK(open_tmp(&t, &st, &err), &err);
	CHECK_ERR(ward_store_get(st, "a", "k", &v, &size, &err), -WARD_E_NOT_FOUND);
	CHECK_MSG(&err, "a/k not found");
	CHECK_OK(ward_store_put(st, "a", "k", "one", 3, &err), &err);
	CHECK_OK(ward_store_put(st, "a", "k", "two!", 4, &err), &err);
	CHECK_OK(ward_store_get(st, "a", "k", &v, &size, &err), &err);
	CHECK_INT(size, ==, 4);
	CHECK_MEM(v, "two!", 4);
	CHECK_ERR(ward_store_insert(st, "a", "k", "x", 1, &err), -EEXIST);
	CHECK_OK(ward_store_insert(st, "b", "k", "", 0, &err), &err);
	free(v);
	v = NULL;
	CHECK_OK(ward_store_get(st, "b", "k", &v, &size, &err), &err);
	CHECK_INT(size, ==, 0);
	CHECK_OK(ward_store_delete(st, "b", "k", &err), &err);
	CHECK_ERR(ward_store_delete(st, "b", "k", &err), -WARD_E_NOT_FOUND);
}

static int count_cb(const char *key, const uint8_t *data, size_t size, void *ud)
{
	(void)data;
	(void)size;
	if (strcmp(key, "stop") == 0)
		return -EINTR;
	(*(int *)ud)++;
	return 0;
}

WARD_TEST(list_in_order_and_stop)
{
	WARD_CLEANUP(tmpdir_cleanup) struct tmpdir t = {{0}};
	WARD_CLEANUP(ward_store_freep) struct ward_store *st = NULL;
	struct ward_err err = WARD_ERR_INIT;
	int n = 0;

	CHECK_OK(open_tmp(&t, &st, &err), &err);
	CHECK_OK(ward_store_put(st, "ns", "b", "2", 1, &err), &err);
	CHECK_OK(ward_store_put(st, "ns", "a", "1", 1, &err), &err);
	CHECK_OK(ward_store_put(st, "other", "c", "3", 1, &err), &err);
	CHECK_OK(ward_store_list(st, "ns", count_cb, &n, &err), &err);
	CHECK_INT(n, ==, 2);
	CHECK_OK(ward_store_put(st, "ns", "stop", "", 0, &err), &err);
	CHECK_ERR(ward_store_list(st, "ns", count_cb, &n, &err), -EINTR);
}

/* A list callback that lists the same namespace again: the inner walk gets
 * its own statement while the cached one is still stepping, and both walks
 * see every row. Then a rolled-back transaction after many cached uses
 * leaves no trace, so reused statements hold no stale state. */
struct nested {
	struct ward_store *st;
	int outer, inner;
};

static int inner_cb(const char *key, const uint8_t *data, size_t size, void *ud)
{
	struct nested *n = ud;

	(void)key;
	(void)data;
	(void)size;
	n->inner++;
	return 0;
}

static int outer_cb(const char *key, const uint8_t *data, size_t size, void *ud)
{
	struct nested *n = ud;
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOFREE uint8_t *v = NULL;
	size_t vsize;

	(void)data;
	(void)size;
	n->outer++;
	if (ward_store_get(n->st, "n", key, &v, &vsize, &err) < 0)
		return -EIO;
	return ward_store_list(n->st, "n", inner_cb, n, &err) < 0 ? -EIO : 0;
}

WARD_TEST(cached_statements_nested_and_reused)
{
	WARD_CLEANUP(tmpdir_cleanup) struct tmpdir t = {{0}};
	WARD_CLEANUP(ward_store_freep) struct ward_store *st = NULL;
	struct ward_err err = WARD_ERR_INIT;
	struct nested n = {0};
	WARD_AUTOFREE uint8_t *v = NULL;
	size_t size;

	CHECK_OK(open_tmp(&t, &st, &err), &err);
	CHECK_OK(ward_store_put(st, "n", "a", "1", 1, &err), &err);
	CHECK_OK(ward_store_put(st, "n", "b", "2", 1, &err), &err);
	CHECK_OK(ward_store_put(st, "n", "c", "3", 1, &err), &err);
	n.st = st;
	CHECK_OK(ward_store_list(st, "n", outer_cb, &n, &err), &err);
	CHECK_INT(n.outer, ==, 3);
	CHECK_INT(n.inner, ==, 9);
	/* The cached statement is reset: the next walk starts at the top. */
	n = (struct nested){.st = st};
	CHECK_OK(ward_store_list(st, "n", inner_cb, &n, &err), &err);
	CHECK_INT(n.inner, ==, 3);
	for (int i = 0; i < 50; i++) {
		CHECK_OK(ward_store_get(st, "n", "a", &v, &size, &err), &err);
		free(v);
		v = NULL;
	}
	CHECK_OK(ward_store_begin(st, &err), &err);
	CHECK_OK(ward_store_put(st, "n", "d", "4", 1, &err), &err);
	ward_store_rollback(st);
	CHECK_ERR(ward_store_get(st, "n", "d", &v, &size, &err), -WARD_E_NOT_FOUND);
	/* Bindings from an earlier use do not leak into a failed lookup. */
	CHECK_ERR(ward_store_get(st, "n", "zz", &v, &size, &err), -WARD_E_NOT_FOUND);
	CHECK_MSG(&err, "n/zz not found");
}

WARD_TEST(transaction_rollback_and_reopen)
{
	WARD_CLEANUP(tmpdir_cleanup) struct tmpdir t = {{0}};
	WARD_CLEANUP(ward_store_freep) struct ward_store *st = NULL;
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOFREE uint8_t *v = NULL;
	char db[96];
	size_t size;

	CHECK_OK(open_tmp(&t, &st, &err), &err);
	CHECK_ERR(ward_store_commit(st, &err), -WARD_E_STATE);
	CHECK_OK(ward_store_begin(st, &err), &err);
	CHECK(ward_store_in_transaction(st));
	CHECK_ERR(ward_store_begin(st, &err), -WARD_E_STATE);
	CHECK_OK(ward_store_put(st, "a", "gone", "x", 1, &err), &err);
	ward_store_rollback(st);
	CHECK(!ward_store_in_transaction(st));
	CHECK_OK(ward_store_begin(st, &err), &err);
	CHECK_OK(ward_store_put(st, "a", "kept", "y", 1, &err), &err);
	CHECK_OK(ward_store_commit(st, &err), &err);
	st = ward_store_free(st);

	snprintf(db, sizeof(db), "%s/state.db", t.path);
	CHECK_OK(ward_store_open(db, &st, &err), &err);
	CHECK_ERR(ward_store_get(st, "a", "gone", &v, &size, &err), -WARD_E_NOT_FOUND);
	CHECK_OK(ward_store_get(st, "a", "kept", &v, &size, &err), &err);
	CHECK_MEM(v, "y", 1);
}

WARD_TEST(open_errors)
{
	WARD_CLEANUP(tmpdir_cleanup) struct tmpdir t = {{0}};
	WARD_CLEANUP(ward_store_freep) struct ward_store *st = NULL;
	struct ward_err err = WARD_ERR_INIT;
	char db[96];

	CHECK(ward_store_open("/nonexistent-dir/x.db", &st, &err) < 0);
	CHECK_MSG(&err, "/nonexistent-dir/x.db");
	strcpy(t.path, "/tmp/ward-store-XXXXXX");
	CHECK_OK(ward_mkdtemp(t.path, &err), &err);
	snprintf(db, sizeof(db), "%s/junk.db", t.path);
	CHECK_OK(
	    ward_file_write_atomic(db, "this is not a database, not at all....", 38, 0600, &err),
	    &err);
	CHECK_ERR(ward_store_open(db, &st, &err), -WARD_E_MALFORMED);
}

WARD_TEST(newer_schema_refused)
{
	WARD_CLEANUP(tmpdir_cleanup) struct tmpdir t = {{0}};
	WARD_CLEANUP(ward_store_freep) struct ward_store *st = NULL;
	struct ward_err err = WARD_ERR_INIT;
	char db[96], cmd[160];

	CHECK_OK(open_tmp(&t, &st, &err), &err);
	st = ward_store_free(st);
	snprintf(db, sizeof(db), "%s/state.db", t.path);
	snprintf(cmd, sizeof(cmd), "sqlite3 %s 'PRAGMA user_version = 9' 2>/dev/null", db);
	if (system(cmd) != 0) {
		fprintf(stderr, "sqlite3 shell not available; skipping\n");
		return;
	}
	CHECK_ERR(ward_store_open(db, &st, &err), -WARD_E_UNSUPPORTED);
	CHECK_MSG(&err, "schema version 9");
}

static int audit_cb(const struct ward_store_audit_row *row, void *ud)
{
	uint64_t *n = ud;

	if (row->seq != *n + 1)
		return -EINVAL;
	*n = row->seq;
	return 0;
}

WARD_TEST(audit_chain_rules)
{
	WARD_CLEANUP(tmpdir_cleanup) struct tmpdir t = {{0}};
	WARD_CLEANUP(ward_store_freep) struct ward_store *st = NULL;
	struct ward_err err = WARD_ERR_INIT;
	struct ward_store_audit_row row = {
	    .seq = 1, .time = 1, .kind = "k", .subject = "s", .detail = "{}"};
	uint8_t hash[32];
	uint64_t seq, n = 0;

	CHECK_OK(open_tmp(&t, &st, &err), &err);
	CHECK_OK(ward_store_audit_head(st, &seq, hash, &err), &err);
	CHECK_INT(seq, ==, 0);
	memset(row.hash, 0xaa, 32);
	CHECK_OK(ward_store_audit_append(st, &row, &err), &err);
	/* gap */
	row.seq = 3;
	memcpy(row.prev_hash, row.hash, 32);
	CHECK_ERR(ward_store_audit_append(st, &row, &err), -WARD_E_STATE);
	/* wrong prev hash */
	row.seq = 2;
	row.prev_hash[0] ^= 1;
	CHECK_ERR(ward_store_audit_append(st, &row, &err), -WARD_E_STATE);
	CHECK_MSG(&err, "does not chain");
	row.prev_hash[0] ^= 1;
	memset(row.hash, 0xbb, 32);
	CHECK_OK(ward_store_audit_append(st, &row, &err), &err);
	CHECK_OK(ward_store_audit_head(st, &seq, hash, &err), &err);
	CHECK_INT(seq, ==, 2);
	CHECK_INT(hash[0], ==, 0xbb);
	CHECK_OK(ward_store_audit_each(st, 1, audit_cb, &n, &err), &err);
	CHECK_INT(n, ==, 2);
	n = 5;
	CHECK_ERR(ward_store_audit_each(st, 1, audit_cb, &n, &err), -EINVAL);
}

WARD_TEST_MAIN()
