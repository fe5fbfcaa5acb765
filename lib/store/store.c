/* SPDX-License-Identifier: Apache-2.0 */
#include "ward/store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "ward/cleanup.h"

WARD_DEFINE_FREEP(sqlite3_stmt, sqlite3_finalize)

/* Statements used on every request are prepared once per store
 * (SQLITE_PREPARE_PERSISTENT) and reset after each use; the SQL and its
 * transaction semantics are exactly those of a freshly prepared statement. */
enum stmt_id {
	STMT_GET,
	STMT_PUT,
	STMT_INSERT,
	STMT_DELETE,
	STMT_LIST,
	STMT_AUDIT_HEAD,
	STMT_AUDIT_APPEND,
	STMT_AUDIT_EACH,
	STMT_COUNT,
};

static const char *const stmt_sql[STMT_COUNT] = {
    [STMT_GET] = "SELECT value FROM kv WHERE ns = ?1 AND key = ?2",
    [STMT_PUT] = "INSERT OR REPLACE INTO kv (ns, key, value) VALUES (?1, ?2, ?3)",
    [STMT_INSERT] = "INSERT INTO kv (ns, key, value) VALUES (?1, ?2, ?3)",
    [STMT_DELETE] = "DELETE FROM kv WHERE ns = ?1 AND key = ?2",
    [STMT_LIST] = "SELECT key, value FROM kv WHERE ns = ?1 ORDER BY key",
    [STMT_AUDIT_HEAD] = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
    [STMT_AUDIT_APPEND] = "INSERT INTO audit (seq, time, kind, subject, detail, prev_hash, hash)"
			  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [STMT_AUDIT_EACH] = "SELECT seq, time, kind, subject, detail, prev_hash, hash FROM audit"
			" WHERE seq >= ?1 ORDER BY seq",
};

struct ward_store {
	sqlite3 *db; /* owned */
	bool in_tx;
	sqlite3_stmt *stmts[STMT_COUNT]; /* owned, prepared on first use */
};

/* A statement borrowed from the cache (reset on release) or, when the
 * cached one is still running (a list callback using the same store),
 * prepared for this use only (finalized on release). */
struct stmt_ref {
	sqlite3_stmt *s;
	bool owned;
};

static void stmt_release(struct stmt_ref *ref)
{
	if (!ref->s)
		return;
	if (ref->owned) {
		sqlite3_finalize(ref->s);
	} else {
		/* Ends the statement's implicit read, like finalize would. */
		(void)sqlite3_reset(ref->s);
		(void)sqlite3_clear_bindings(ref->s);
	}
	ref->s = NULL;
}
#define STMT_AUTORELEASE WARD_CLEANUP(stmt_release)

static int db_err(struct ward_store *st, struct ward_err *err, const char *what)
{
	int code = sqlite3_extended_errcode(st->db);
	int r = -WARD_E_STATE;

	if ((code & 0xff) == SQLITE_FULL)
		r = -ENOSPC;
	else if ((code & 0xff) == SQLITE_IOERR)
		r = -EIO;
	else if ((code & 0xff) == SQLITE_NOMEM)
		r = -ENOMEM;
	else if ((code & 0xff) == SQLITE_CORRUPT || (code & 0xff) == SQLITE_NOTADB)
		r = -WARD_E_MALFORMED;
	return ward_err_set(err, r, "store: %s: %s", what, sqlite3_errmsg(st->db));
}

static int exec(struct ward_store *st, const char *sql, struct ward_err *err)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_err(st, err, sql);
	return 0;
}

static int prepare(struct ward_store *st, const char *sql, sqlite3_stmt **ret, struct ward_err *err)
{
	if (sqlite3_prepare_v2(st->db, sql, -1, ret, NULL) != SQLITE_OK)
		return db_err(st, err, "prepare");
	return 0;
}

static int stmt_get(struct ward_store *st, enum stmt_id id, struct stmt_ref *ret,
		    struct ward_err *err)
{
	sqlite3_stmt *s = st->stmts[id];

	if (s && !sqlite3_stmt_busy(s)) {
		*ret = (struct stmt_ref){.s = s};
		return 0;
	}
	if (sqlite3_prepare_v3(st->db, stmt_sql[id], -1, s ? 0 : SQLITE_PREPARE_PERSISTENT, &s,
			       NULL) != SQLITE_OK)
		return db_err(st, err, "prepare");
	if (!st->stmts[id]) {
		st->stmts[id] = s;
		*ret = (struct stmt_ref){.s = s};
	} else {
		*ret = (struct stmt_ref){.s = s, .owned = true};
	}
	return 0;
}

static const char SCHEMA[] = "CREATE TABLE IF NOT EXISTS kv ("
			     " ns TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,"
			     " PRIMARY KEY (ns, key)) WITHOUT ROWID;"
			     "CREATE TABLE IF NOT EXISTS audit ("
			     " seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, kind TEXT NOT NULL,"
			     " subject TEXT NOT NULL, detail TEXT NOT NULL,"
			     " prev_hash BLOB NOT NULL, hash BLOB NOT NULL);";

static int schema_setup(struct ward_store *st, struct ward_err *err)
{
	WARD_CLEANUP(sqlite3_finalizep) sqlite3_stmt *s = NULL;
	int version, r;

	r = prepare(st, "PRAGMA user_version", &s, err);
	if (r < 0)
		return r;
	if (sqlite3_step(s) != SQLITE_ROW)
		return db_err(st, err, "reading schema version");
	version = sqlite3_column_int(s, 0);
	sqlite3_finalize(WARD_TAKE_PTR(s));
	if (version > WARD_STORE_SCHEMA_VERSION)
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "store: schema version %d is newer than this build's (%d)",
				    version, WARD_STORE_SCHEMA_VERSION);
	if (version == WARD_STORE_SCHEMA_VERSION)
		return 0;
	r = exec(st, "BEGIN IMMEDIATE", err);
	if (r < 0)
		return r;
	r = exec(st, SCHEMA, err);
	if (r >= 0)
		r = exec(st, "PRAGMA user_version = 1", err);
	if (r < 0) {
		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return r;
	}
	return exec(st, "COMMIT", err);
}

int ward_store_open(const char *path, struct ward_store **ret, struct ward_err *err)
{
	WARD_CLEANUP(ward_store_freep) struct ward_store *st = NULL;
	WARD_CLEANUP(sqlite3_finalizep) sqlite3_stmt *s = NULL;
	int r;

	st = calloc(1, sizeof(*st));
	if (!st)
		return ward_err_set(err, -ENOMEM, "store: out of memory");
	if (sqlite3_open_v2(path, &st->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
				SQLITE_OPEN_EXRESCODE,
			    NULL) != SQLITE_OK) {
		if (!st->db)
			return ward_err_set(err, -ENOMEM, "store '%s': out of memory", path);
		r = db_err(st, err, "open");
		return ward_err_prefix(err, "'%s'", path);
	}
	(void)sqlite3_busy_timeout(st->db, 5000);
	r = prepare(st, "PRAGMA journal_mode=WAL", &s, err);
	if (r < 0)
		return ward_err_prefix(err, "'%s'", path);
	if (sqlite3_step(s) != SQLITE_ROW ||
	    strcmp((const char *)sqlite3_column_text(s, 0), "wal") != 0) {
		r = db_err(st, err, "enabling WAL");
		return ward_err_prefix(err, "'%s'", path);
	}
	sqlite3_finalize(WARD_TAKE_PTR(s));
	r = exec(st, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON",
		 err);
	if (r >= 0)
		r = schema_setup(st, err);
	if (r < 0)
		return ward_err_prefix(err, "'%s'", path);
	*ret = WARD_TAKE_PTR(st);
	return 0;
}

struct ward_store *ward_store_free(struct ward_store *st)
{
	if (!st)
		return NULL;
	if (st->in_tx)
		ward_store_rollback(st);
	for (size_t i = 0; i < STMT_COUNT; i++)
		sqlite3_finalize(st->stmts[i]);
	(void)sqlite3_close_v2(st->db);
	free(st);
	return NULL;
}

int ward_store_begin(struct ward_store *st, struct ward_err *err)
{
	int r;

	if (st->in_tx)
		return ward_err_set(err, -WARD_E_STATE, "store: transaction already open");
	r = exec(st, "BEGIN IMMEDIATE", err);
	if (r < 0)
		return r;
	st->in_tx = true;
	return 0;
}

int ward_store_commit(struct ward_store *st, struct ward_err *err)
{
	int r;

	if (!st->in_tx)
		return ward_err_set(err, -WARD_E_STATE, "store: no transaction to commit");
	r = exec(st, "COMMIT", err);
	if (r < 0) {
		ward_store_rollback(st);
		return r;
	}
	st->in_tx = false;
	return 0;
}

void ward_store_rollback(struct ward_store *st)
{
	if (!st->in_tx)
		return;
	(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->in_tx = false;
}

bool ward_store_in_transaction(const struct ward_store *st)
{
	return st->in_tx;
}

static int check_value(const char *ns, const char *key, size_t size, struct ward_err *err)
{
	if (size > WARD_STORE_VALUE_MAX)
		return ward_err_set(err, -WARD_E_TOO_BIG,
				    "store: value of %s/%s is %zu bytes (limit %u)", ns, key, size,
				    WARD_STORE_VALUE_MAX);
	return 0;
}

int ward_store_get(struct ward_store *st, const char *ns, const char *key, uint8_t **ret,
		   size_t *ret_size, struct ward_err *err)
{
	STMT_AUTORELEASE struct stmt_ref ref = {0};
	sqlite3_stmt *s;
	uint8_t *buf;
	int r, n;

	r = stmt_get(st, STMT_GET, &ref, err);
	if (r < 0)
		return r;
	s = ref.s;
	(void)sqlite3_bind_text(s, 1, ns, -1, SQLITE_STATIC);
	(void)sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	r = sqlite3_step(s);
	if (r == SQLITE_DONE)
		return ward_err_set(err, -WARD_E_NOT_FOUND, "store: %s/%s not found", ns, key);
	if (r != SQLITE_ROW)
		return db_err(st, err, "get");
	n = sqlite3_column_bytes(s, 0);
	buf = malloc((size_t)n + 1);
	if (!buf)
		return ward_err_set(err, -ENOMEM, "store: out of memory");
	if (n > 0)
		memcpy(buf, sqlite3_column_blob(s, 0), (size_t)n);
	buf[n] = 0;
	*ret = buf;
	*ret_size = (size_t)n;
	return 0;
}

static int write_kv(struct ward_store *st, enum stmt_id id, const char *ns, const char *key,
		    const void *data, size_t size, struct ward_err *err)
{
	STMT_AUTORELEASE struct stmt_ref ref = {0};
	sqlite3_stmt *s;
	int r;

	r = check_value(ns, key, size, err);
	if (r < 0)
		return r;
	r = stmt_get(st, id, &ref, err);
	if (r < 0)
		return r;
	s = ref.s;
	(void)sqlite3_bind_text(s, 1, ns, -1, SQLITE_STATIC);
	(void)sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	(void)sqlite3_bind_blob(s, 3, size ? data : "", (int)size, SQLITE_STATIC);
	r = sqlite3_step(s);
	if ((sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_PRIMARYKEY) && r != SQLITE_DONE)
		return ward_err_set(err, -EEXIST, "store: %s/%s exists already", ns, key);
	if (r != SQLITE_DONE)
		return db_err(st, err, "put");
	return 0;
}

int ward_store_put(struct ward_store *st, const char *ns, const char *key, const void *data,
		   size_t size, struct ward_err *err)
{
	return write_kv(st, STMT_PUT, ns, key, data, size, err);
}

int ward_store_insert(struct ward_store *st, const char *ns, const char *key, const void *data,
		      size_t size, struct ward_err *err)
{
	return write_kv(st, STMT_INSERT, ns, key, data, size, err);
}

int ward_store_delete(struct ward_store *st, const char *ns, const char *key, struct ward_err *err)
{
	STMT_AUTORELEASE struct stmt_ref ref = {0};
	sqlite3_stmt *s;
	int r;

	r = stmt_get(st, STMT_DELETE, &ref, err);
	if (r < 0)
		return r;
	s = ref.s;
	(void)sqlite3_bind_text(s, 1, ns, -1, SQLITE_STATIC);
	(void)sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		return db_err(st, err, "delete");
	if (sqlite3_changes(st->db) == 0)
		return ward_err_set(err, -WARD_E_NOT_FOUND, "store: %s/%s not found", ns, key);
	return 0;
}

int ward_store_list(struct ward_store *st, const char *ns, ward_store_each_fn fn, void *ud,
		    struct ward_err *err)
{
	STMT_AUTORELEASE struct stmt_ref ref = {0};
	sqlite3_stmt *s;
	int r;

	r = stmt_get(st, STMT_LIST, &ref, err);
	if (r < 0)
		return r;
	s = ref.s;
	(void)sqlite3_bind_text(s, 1, ns, -1, SQLITE_STATIC);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		const uint8_t *v = sqlite3_column_blob(s, 1);

		r = fn((const char *)sqlite3_column_text(s, 0), v ? v : (const uint8_t *)"",
		       (size_t)sqlite3_column_bytes(s, 1), ud);
		if (r < 0)
			return ward_err_set(err, r, "store: listing %s stopped", ns);
	}
	if (r != SQLITE_DONE)
		return db_err(st, err, "list");
	return 0;
}

int ward_store_audit_head(struct ward_store *st, uint64_t *ret_seq,
			  uint8_t ret_hash[WARD_STORE_HASH_SIZE], struct ward_err *err)
{
	STMT_AUTORELEASE struct stmt_ref ref = {0};
	sqlite3_stmt *s;
	int r;

	r = stmt_get(st, STMT_AUDIT_HEAD, &ref, err);
	if (r < 0)
		return r;
	s = ref.s;
	r = sqlite3_step(s);
	if (r == SQLITE_DONE) {
		*ret_seq = 0;
		memset(ret_hash, 0, WARD_STORE_HASH_SIZE);
		return 0;
	}
	if (r != SQLITE_ROW)
		return db_err(st, err, "audit head");
	if (sqlite3_column_bytes(s, 1) != WARD_STORE_HASH_SIZE)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "store: audit head hash has wrong size");
	*ret_seq = (uint64_t)sqlite3_column_int64(s, 0);
	memcpy(ret_hash, sqlite3_column_blob(s, 1), WARD_STORE_HASH_SIZE);
	return 0;
}

int ward_store_audit_append(struct ward_store *st, const struct ward_store_audit_row *row,
			    struct ward_err *err)
{
	STMT_AUTORELEASE struct stmt_ref ref = {0};
	sqlite3_stmt *s;
	uint8_t head_hash[WARD_STORE_HASH_SIZE];
	uint64_t head;
	int r;

	r = ward_store_audit_head(st, &head, head_hash, err);
	if (r < 0)
		return r;
	if (row->seq != head + 1)
		return ward_err_set(err, -WARD_E_STATE,
				    "store: audit record %llu does not follow head %llu",
				    (unsigned long long)row->seq, (unsigned long long)head);
	if (memcmp(row->prev_hash, head_hash, WARD_STORE_HASH_SIZE) != 0)
		return ward_err_set(err, -WARD_E_STATE,
				    "store: audit record %llu does not chain to the head",
				    (unsigned long long)row->seq);
	r = stmt_get(st, STMT_AUDIT_APPEND, &ref, err);
	if (r < 0)
		return r;
	s = ref.s;
	(void)sqlite3_bind_int64(s, 1, (sqlite3_int64)row->seq);
	(void)sqlite3_bind_int64(s, 2, row->time);
	(void)sqlite3_bind_text(s, 3, row->kind, -1, SQLITE_STATIC);
	(void)sqlite3_bind_text(s, 4, row->subject, -1, SQLITE_STATIC);
	(void)sqlite3_bind_text(s, 5, row->detail, -1, SQLITE_STATIC);
	(void)sqlite3_bind_blob(s, 6, row->prev_hash, WARD_STORE_HASH_SIZE, SQLITE_STATIC);
	(void)sqlite3_bind_blob(s, 7, row->hash, WARD_STORE_HASH_SIZE, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		return db_err(st, err, "audit append");
	return 0;
}

int ward_store_audit_each(struct ward_store *st, uint64_t from_seq, ward_store_audit_fn fn,
			  void *ud, struct ward_err *err)
{
	STMT_AUTORELEASE struct stmt_ref ref = {0};
	sqlite3_stmt *s;
	int r;

	r = stmt_get(st, STMT_AUDIT_EACH, &ref, err);
	if (r < 0)
		return r;
	s = ref.s;
	(void)sqlite3_bind_int64(s, 1, (sqlite3_int64)from_seq);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		struct ward_store_audit_row row = {
		    .seq = (uint64_t)sqlite3_column_int64(s, 0),
		    .time = sqlite3_column_int64(s, 1),
		    .kind = (const char *)sqlite3_column_text(s, 2),
		    .subject = (const char *)sqlite3_column_text(s, 3),
		    .detail = (const char *)sqlite3_column_text(s, 4),
		};

		if (!row.kind || !row.subject || !row.detail ||
		    sqlite3_column_bytes(s, 5) != WARD_STORE_HASH_SIZE ||
		    sqlite3_column_bytes(s, 6) != WARD_STORE_HASH_SIZE)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "store: audit record %llu malformed",
					    (unsigned long long)row.seq);
		memcpy(row.prev_hash, sqlite3_column_blob(s, 5), WARD_STORE_HASH_SIZE);
		memcpy(row.hash, sqlite3_column_blob(s, 6), WARD_STORE_HASH_SIZE);
		r = fn(&row, ud);
		if (r < 0)
			return ward_err_set(err, r, "store: audit walk stopped at %llu",
					    (unsigned long long)row.seq);
	}
	if (r != SQLITE_DONE)
		return db_err(st, err, "audit walk");
	return 0;
}
