/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The coordinator's state: an embedded SQLite database in WAL mode with
 * synchronous=FULL, so a committed transaction survives a crash or power
 * loss. lib/store is the only module that includes sqlite3.h. Its schema
 * is versioned (PRAGMA user_version) and has two tables:
 *   kv(ns, key, value)  namespaced blobs (manifests, sealed keys, secrets)
 *   audit(seq, ...)     the append-only, hash-chained audit log
 * Values are opaque here: callers encrypt secret material before storing
 * it. Every change a caller makes belongs in one ward_store_begin() /
 * ward_store_commit() transaction. A store is used by one thread at a
 * time (the coordinator serialises access). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ward/compiler.h"
#include "ward/error.h"

#define WARD_STORE_SCHEMA_VERSION 1
#define WARD_STORE_VALUE_MAX (16u << 20)
#define WARD_STORE_HASH_SIZE 32

struct ward_store;

/* Open (creating if needed) the database at path, enable WAL +
 * synchronous=FULL, and create or check the schema. A database written by a
 * newer schema version is refused (-WARD_E_UNSUPPORTED). */
WARD_PUBLIC int ward_store_open(const char *path, struct ward_store **ret, struct ward_err *err);
/* Close; accepts NULL; returns NULL. An open transaction is rolled back. */
WARD_PUBLIC struct ward_store *ward_store_free(struct ward_store *st);
static inline void ward_store_freep(struct ward_store **st)
{
	ward_store_free(*st);
}

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. Transactions do not nest:
 * -WARD_E_STATE if one is already open. rollback is a no-op without one. */
WARD_PUBLIC int ward_store_begin(struct ward_store *st, struct ward_err *err);
WARD_PUBLIC int ward_store_commit(struct ward_store *st, struct ward_err *err);
WARD_PUBLIC void ward_store_rollback(struct ward_store *st);
WARD_PUBLIC bool ward_store_in_transaction(const struct ward_store *st);

/* Value of (ns, key): *ret malloc'ed (NUL appended, not counted).
 * -WARD_E_NOT_FOUND if absent. */
WARD_PUBLIC int ward_store_get(struct ward_store *st, const char *ns, const char *key,
			       uint8_t **ret, size_t *ret_size, struct ward_err *err);
/* Insert or replace (ns, key). */
WARD_PUBLIC int ward_store_put(struct ward_store *st, const char *ns, const char *key,
			       const void *data, size_t size, struct ward_err *err);
/* Insert (ns, key); -EEXIST if it exists already. */
WARD_PUBLIC int ward_store_insert(struct ward_store *st, const char *ns, const char *key,
				  const void *data, size_t size, struct ward_err *err);
/* Delete (ns, key); -WARD_E_NOT_FOUND if absent. */
WARD_PUBLIC int ward_store_delete(struct ward_store *st, const char *ns, const char *key,
				  struct ward_err *err);
/* Call fn for every key of ns in key order. Pointers are valid only during
 * the call. A negative return from fn stops the walk and is returned. */
typedef int (*ward_store_each_fn)(const char *key, const uint8_t *data, size_t size, void *ud);
WARD_PUBLIC int ward_store_list(struct ward_store *st, const char *ns, ward_store_each_fn fn,
				void *ud, struct ward_err *err);

/* One audit record. Strings are borrowed. */
struct ward_store_audit_row {
	uint64_t seq;	     /* 1, 2, ... without gaps */
	int64_t time;	     /* Unix seconds */
	const char *kind;    /* "manifest.set", "attest.accepted", ... */
	const char *subject; /* who or what */
	const char *detail;  /* canonical JSON text */
	uint8_t prev_hash[WARD_STORE_HASH_SIZE];
	uint8_t hash[WARD_STORE_HASH_SIZE];
};
/* Append row; row->seq must be the current head seq + 1 (-WARD_E_STATE
 * otherwise). The hash is computed by the caller (lib/coord). */
WARD_PUBLIC int ward_store_audit_append(struct ward_store *st,
					const struct ward_store_audit_row *row,
					struct ward_err *err);
/* The last record's seq and hash; seq 0 and an all-zero hash if empty. */
WARD_PUBLIC int ward_store_audit_head(struct ward_store *st, uint64_t *ret_seq,
				      uint8_t ret_hash[WARD_STORE_HASH_SIZE], struct ward_err *err);
/* Call fn for every record with seq >= from_seq, in order. */
typedef int (*ward_store_audit_fn)(const struct ward_store_audit_row *row, void *ud);
WARD_PUBLIC int ward_store_audit_each(struct ward_store *st, uint64_t from_seq,
				      ward_store_audit_fn fn, void *ud, struct ward_err *err);
