/* SPDX-License-Identifier: Apache-2.0 */
/* Protected-volume freshness at the coordinator: the registered state of
 * each (workload, volume) and the rules for changing it
 * (docs/volumes.md). Pure functions; service.c does HTTP, auth, storage
 * and auditing around them. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "coord-internal.h"
#include "ward/cleanup.h"
#include "ward/encoding.h"
#include "ward/json.h"
#include "ward/util.h"

static bool name_ok(const char *s, size_t n)
{
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

int coord_vol_split(const char *path, char workload[65], char volume[65], struct ward_err *err)
{
	const char *slash = strchr(path, '/');

	if (!slash || !name_ok(path, (size_t)(slash - path)) ||
	    !name_ok(slash + 1, strlen(slash + 1)))
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "volume path must be <workload>/<volume> (names of 1-64 "
				    "characters A-Z a-z 0-9 _ -)");
	memcpy(workload, path, (size_t)(slash - path));
	workload[slash - path] = '\0';
	snprintf(volume, 65, "%s", slash + 1);
	return 0;
}

int coord_vol_state_parse(const void *buf, size_t size, struct coord_vol_state *ret,
			  struct ward_err *err)
{
	static const char *const keys[] = {"id", "version", "root", "accept", NULL};
	static const char *const akeys[] = {"version", "root", "by", NULL};
	WARD_AUTOJSON json_t *j = NULL;
	json_t *a = NULL;
	int64_t v;
	int r;

	*ret = (struct coord_vol_state){0};
	r = ward_json_parse(buf, size, 4096, &j, err);
	if (r >= 0)
		r = ward_json_check_keys(j, "$", keys, err);
	if (r >= 0)
		r = ward_json_get_hex_fixed(j, "$", "id", true, ret->id, sizeof(ret->id), err);
	if (r >= 0)
		r = ward_json_get_int(j, "$", "version", true, 1, INT64_MAX, &v, err);
	if (r >= 0) {
		ret->version = (uint64_t)v;
		r = ward_json_get_hex_fixed(j, "$", "root", true, ret->root, sizeof(ret->root),
					    err);
	}
	if (r >= 0)
		r = ward_json_get_object(j, "$", "accept", false, &a, err);
	if (r >= 0 && a) {
		const char *by = NULL;

		r = ward_json_check_keys(a, "$.accept", akeys, err);
		if (r >= 0)
			r = ward_json_get_int(a, "$.accept", "version", true, 1, INT64_MAX, &v,
					      err);
		if (r >= 0) {
			ret->accept_version = (uint64_t)v;
			r = ward_json_get_hex_fixed(a, "$.accept", "root", true, ret->accept_root,
						    sizeof(ret->accept_root), err);
		}
		if (r >= 0)
			r = ward_json_get_string(a, "$.accept", "by", true, &by, err);
		if (r >= 0) {
			snprintf(ret->accept_by, sizeof(ret->accept_by), "%s", by);
			ret->has_accept = true;
		}
	}
	if (r < 0)
		return ward_err_prefix(err, "stored volume state");
	return 0;
}

int coord_vol_state_json(const struct coord_vol_state *s, json_t **ret, struct ward_err *err)
{
	char id[33], root[65], aroot[65];
	json_t *j;

	ward_hex_encode(s->id, sizeof(s->id), id);
	ward_hex_encode(s->root, sizeof(s->root), root);
	j = json_pack("{s:s, s:I, s:s}", "id", id, "version", (json_int_t)s->version, "root", root);
	if (j && s->has_accept) {
		ward_hex_encode(s->accept_root, sizeof(s->accept_root), aroot);
		if (json_object_set_new(j, "accept",
					json_pack("{s:I, s:s, s:s}", "version",
						  (json_int_t)s->accept_version, "root", aroot,
						  "by", s->accept_by)) < 0) {
			json_decref(j);
			j = NULL;
		}
	}
	if (!j)
		return ward_err_set(err, -ENOMEM, "out of memory");
	*ret = j;
	return 0;
}

int coord_vol_register(const struct coord_vol_state *cur, const uint8_t id[16], uint64_t version,
		       const uint8_t root[32], struct coord_vol_state *ret_new,
		       struct ward_err *err)
{
	if (version == 0 || version > INT64_MAX)
		return ward_err_set(err, -WARD_E_MALFORMED, "version must be 1..2^63-1");
	if (cur && memcmp(cur->id, id, 16) != 0)
		return ward_err_set(err, -WARD_E_POLICY,
				    "another volume is registered under this name (the backing "
				    "directory was replaced)");
	if (cur && version < cur->version)
		return ward_err_set(err, -WARD_E_POLICY,
				    "rollback: version %" PRIu64
				    " is older than the registered version %" PRIu64,
				    version, cur->version);
	if (cur && version == cur->version && memcmp(cur->root, root, 32) != 0)
		return ward_err_set(err, -WARD_E_POLICY,
				    "rollback: root hash differs from the registered one at "
				    "version %" PRIu64,
				    version);
	*ret_new = (struct coord_vol_state){.version = version};
	memcpy(ret_new->id, id, 16);
	memcpy(ret_new->root, root, 32);
	/* Re-registering the same state keeps a pending acceptance; a newer
	 * state (the accepted one continued, or not) consumes it. */
	if (cur && cur->has_accept && version == cur->version) {
		ret_new->has_accept = true;
		ret_new->accept_version = cur->accept_version;
		memcpy(ret_new->accept_root, cur->accept_root, 32);
		memcpy(ret_new->accept_by, cur->accept_by, sizeof(ret_new->accept_by));
	}
	return 0;
}

int coord_vol_accept(const struct coord_vol_state *cur, uint64_t version, const uint8_t root[32],
		     const char *user, struct coord_vol_state *ret_new, struct ward_err *err)
{
	if (!cur)
		return ward_err_set(err, -WARD_E_NOT_FOUND, "the volume was never registered");
	if (version == 0 || version > cur->version ||
	    (version == cur->version && memcmp(root, cur->root, 32) == 0))
		return ward_err_set(err, -WARD_E_POLICY,
				    "version %" PRIu64 " is not older than the registered version "
				    "%" PRIu64 ": nothing to accept",
				    version, cur->version);
	if (strlen(user) >= sizeof(ret_new->accept_by))
		return ward_err_set(err, -WARD_E_MALFORMED, "user name too long");
	*ret_new = *cur;
	ret_new->has_accept = true;
	ret_new->accept_version = version;
	memcpy(ret_new->accept_root, root, 32);
	snprintf(ret_new->accept_by, sizeof(ret_new->accept_by), "%s", user);
	return 0;
}
