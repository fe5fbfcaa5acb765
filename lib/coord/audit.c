/* SPDX-License-Identifier: Apache-2.0 */
/* The audit log: append-only, each record chained to the previous by
 * hash = SHA-256(prev_hash || canonical JSON of the record). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ward/cleanup.h"
#include "ward/coord.h"
#include "ward/encoding.h"
#include "ward/json.h"

#define DETAIL_MAX (64u << 10)

static int entry_hash(const uint8_t prev[32], uint64_t seq, int64_t time, const char *kind,
		      const char *subject, const json_t *detail, uint8_t out[32],
		      struct ward_err *err)
{
	WARD_CLEANUP(ward_hash_freep) struct ward_hash *h = NULL;
	WARD_AUTOJSON json_t *j = NULL;
	WARD_AUTOFREE char *text = NULL;
	int r;

	j = json_pack("{s:O, s:s, s:I, s:s, s:I}", "detail", detail, "kind", kind, "seq",
		      (json_int_t)seq, "subject", subject, "time", (json_int_t)time);
	if (!j)
		return ward_err_set(err, -ENOMEM, "audit: out of memory");
	r = ward_json_dump(j, &text, err);
	if (r >= 0)
		r = ward_hash_new(WARD_HASH_SHA256, &h, err);
	if (r >= 0)
		r = ward_hash_update(h, prev, 32, err);
	if (r >= 0)
		r = ward_hash_update(h, text, strlen(text), err);
	if (r >= 0)
		r = ward_hash_final(h, out, err);
	return r;
}

int ward_audit_append(struct ward_store *st, int64_t now, const char *kind, const char *subject,
		      const json_t *detail, uint8_t ret_head[32], struct ward_err *err)
{
	struct ward_store_audit_row row = {.time = now, .kind = kind, .subject = subject};
	WARD_AUTOFREE char *text = NULL;
	uint64_t seq;
	int r;

	r = ward_store_audit_head(st, &seq, row.prev_hash, err);
	if (r < 0)
		return r;
	row.seq = seq + 1;
	r = ward_json_dump(detail, &text, err);
	if (r < 0)
		return r;
	if (strlen(text) > DETAIL_MAX)
		return ward_err_set(err, -WARD_E_TOO_BIG, "audit: detail too large");
	row.detail = text;
	r = entry_hash(row.prev_hash, row.seq, now, kind, subject, detail, row.hash, err);
	if (r >= 0)
		r = ward_store_audit_append(st, &row, err);
	if (r < 0)
		return ward_err_prefix(err, "audit '%s'", kind);
	if (ret_head)
		memcpy(ret_head, row.hash, 32);
	return 0;
}

int ward_audit_row_json(const struct ward_store_audit_row *row, json_t **ret, struct ward_err *err)
{
	WARD_AUTOJSON json_t *detail = NULL;
	char prev[65], hash[65];
	json_t *j;
	int r;

	r = ward_json_parse(row->detail, strlen(row->detail), DETAIL_MAX, &detail, err);
	if (r < 0)
		return ward_err_prefix(err, "audit record %" PRIu64, row->seq);
	ward_hex_encode(row->prev_hash, 32, prev);
	ward_hex_encode(row->hash, 32, hash);
	j = json_pack("{s:I, s:I, s:s, s:s, s:O, s:s, s:s}", "seq", (json_int_t)row->seq, "time",
		      (json_int_t)row->time, "kind", row->kind, "subject", row->subject, "detail",
		      detail, "prev_hash", prev, "hash", hash);
	if (!j)
		return ward_err_set(err, -ENOMEM, "audit: out of memory");
	*ret = j;
	return 0;
}

int ward_audit_verify(const json_t *entries, uint8_t ret_head[32], uint64_t *ret_count,
		      struct ward_err *err)
{
	uint8_t prev[32] = {0}, want[32], got[32];
	json_t *e;
	size_t i;
	int r;

	if (!json_is_array(entries))
		return ward_err_set(err, -WARD_E_MALFORMED, "audit log: expected an array");
	json_array_foreach((json_t *)entries, i, e)
	{
		static const char *const keys[] = {"seq",    "time",	  "kind", "subject",
						   "detail", "prev_hash", "hash", NULL};
		char path[32];
		const char *kind, *subject;
		int64_t seq, time;
		json_t *detail;

		snprintf(path, sizeof(path), "$[%zu]", i);
		r = ward_json_check_keys(e, path, keys, err);
		if (r >= 0)
			r = ward_json_get_int(e, path, "seq", true, 1, INT64_MAX, &seq, err);
		if (r >= 0)
			r = ward_json_get_int(e, path, "time", true, 0, INT64_MAX, &time, err);
		if (r >= 0)
			r = ward_json_get_string(e, path, "kind", true, &kind, err);
		if (r >= 0)
			r = ward_json_get_string(e, path, "subject", true, &subject, err);
		if (r >= 0)
			r = ward_json_get_object(e, path, "detail", true, &detail, err);
		if (r >= 0)
			r = ward_json_get_hex_fixed(e, path, "prev_hash", true, want, 32, err);
		if (r < 0)
			return ward_err_prefix(err, "audit log");
		if ((uint64_t)seq != i + 1)
			return ward_err_set(err, -WARD_E_VERIFY,
					    "audit log: record %zu has seq %" PRId64
					    " (gap or reorder)",
					    i + 1, seq);
		if (!ward_ct_eq(want, prev, 32))
			return ward_err_set(err, -WARD_E_VERIFY,
					    "audit log: record %" PRId64
					    " does not chain to the previous one",
					    seq);
		r = ward_json_get_hex_fixed(e, path, "hash", true, want, 32, err);
		if (r >= 0)
			r = entry_hash(prev, (uint64_t)seq, time, kind, subject, detail, got, err);
		if (r < 0)
			return ward_err_prefix(err, "audit log");
		if (!ward_ct_eq(want, got, 32))
			return ward_err_set(
			    err, -WARD_E_VERIFY,
			    "audit log: record %" PRId64 " was altered (hash mismatch)", seq);
		memcpy(prev, got, 32);
	}
	memcpy(ret_head, prev, 32);
	*ret_count = json_array_size(entries);
	return 0;
}
