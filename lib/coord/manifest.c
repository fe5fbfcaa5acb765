/* SPDX-License-Identifier: Apache-2.0 */
#include "ward/manifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ward/cleanup.h"
#include "ward/encoding.h"
#include "ward/json.h"
#include "ward/util.h"

#define P_MAX 200

static const char *const SECRET_TYPES[] = {
    [WARD_SECRET_SYMMETRIC] = "symmetric", [WARD_SECRET_EC_P256] = "ec-p256",
    [WARD_SECRET_EC_P384] = "ec-p384",	   [WARD_SECRET_RSA] = "rsa",
    [WARD_SECRET_CERT] = "cert",	   [WARD_SECRET_PASSWORD] = "password",
    [WARD_SECRET_USER] = "user",
};

const char *ward_secret_type_name(enum ward_secret_type t)
{
	return (unsigned)t < WARD_ARRAY_SIZE(SECRET_TYPES) ? SECRET_TYPES[t] : "?";
}

struct ward_manifest *ward_manifest_free(struct ward_manifest *m)
{
	if (!m)
		return NULL;
	for (size_t i = 0; i < m->package_count; i++)
		free(m->packages[i].measurements);
	for (size_t i = 0; i < m->user_count; i++)
		ward_pkey_free(m->users[i].key);
	for (size_t i = 0; i < m->recovery_key_count; i++)
		ward_pkey_free(m->recovery_keys[i].key);
	free(m->packages);
	free(m->workloads);
	free(m->secrets);
	free(m->users);
	free(m->recovery_keys);
	json_decref(m->root);
	free(m);
	return NULL;
}

static bool name_ok(const char *s, bool allow_dot)
{
	size_t n = strlen(s);

	if (n == 0 || n > WARD_MANIFEST_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || (allow_dot && c == '.')))
			return false;
	}
	return true;
}

/* An object of named entries: checks count and names, calls fn per entry. */
typedef int (*entry_fn)(struct ward_manifest *m, const char *name, json_t *v, size_t i,
			const char *path, struct ward_err *err);

static int each_entry(struct ward_manifest *m, json_t *obj, const char *key, bool allow_dot,
		      size_t *ret_count, void **ret_array, size_t elem_size, entry_fn fn,
		      struct ward_err *err)
{
	char path[P_MAX], epath[P_MAX];
	json_t *section = NULL, *v;
	const char *name;
	size_t i = 0, n;
	void *arr;
	int r;

	r = ward_json_get_object(obj, "$", key, false, &section, err);
	if (r < 0)
		return r;
	if (!section)
		return 0;
	ward_json_path_key(path, sizeof(path), "$", key);
	n = json_object_size(section);
	if (n > WARD_MANIFEST_MAX_ITEMS)
		return ward_err_set(err, -WARD_E_TOO_BIG, "%s: more than %d entries", path,
				    WARD_MANIFEST_MAX_ITEMS);
	if (n == 0)
		return 0;
	arr = calloc(n, elem_size);
	if (!arr)
		return ward_err_set(err, -ENOMEM, "manifest: out of memory");
	*ret_array = arr;
	json_object_foreach(section, name, v)
	{
		ward_json_path_key(epath, sizeof(epath), path, name);
		if (!name_ok(name, allow_dot))
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "%s: invalid name (1-%d of A-Z a-z 0-9 _ -%s)", epath,
					    WARD_MANIFEST_NAME_MAX, allow_dot ? " ." : "");
		if (!json_is_object(v))
			return ward_err_set(err, -WARD_E_MALFORMED, "%s: expected object, got %s",
					    epath, ward_json_type_name(v));
		/* Counted before it is filled: the destructor frees half-built entries. */
		*ret_count = i + 1;
		r = fn(m, name, v, i, epath, err);
		if (r < 0)
			return r;
		i++;
	}
	return 0;
}

static int string_array(json_t *obj, const char *path, const char *key, size_t max,
			const json_t **ret, struct ward_err *err)
{
	char p[P_MAX], ip[P_MAX];
	json_t *a = NULL, *v;
	size_t i;
	int r;

	r = ward_json_get_array(obj, path, key, false, max, &a, err);
	if (r < 0 || !a)
		return r;
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v))
			return ward_err_set(
			    err, -WARD_E_MALFORMED, "%s: expected string, got %s",
			    ward_json_path_index(ip, sizeof(ip),
						 ward_json_path_key(p, sizeof(p), path, key), i),
			    ward_json_type_name(v));
	}
	*ret = a;
	return 0;
}

static const char *const TCB_STATUS_NAMES[] = {
    "UpToDate",		 "SWHardeningNeeded",
    "ConfigurationNeeded", "ConfigurationAndSWHardeningNeeded",
    "TDRelaunchAdvised",	 "TDRelaunchAdvisedConfigurationNeeded",
    "OutOfDate",		 "OutOfDateConfigurationNeeded",
    NULL,
};

int ward_manifest_tcb_status(const char *name)
{
	for (int i = 0; name && TCB_STATUS_NAMES[i]; i++)
		if (strcmp(name, TCB_STATUS_NAMES[i]) == 0)
			return i;
	return -1;
}

/* tcb_statuses, allow_outdated_tcb_insecure, accepted_advisories, sgx. */
static int parse_intel_rules(struct ward_manifest_package *pkg, json_t *v, const char *path,
			     struct ward_err *err)
{
	static const char *const skeys[] = {"mrsigner", "isv_prodid", "min_isv_svn", NULL};
	char p[P_MAX], ip[P_MAX];
	json_t *a = NULL, *sgx = NULL, *e;
	const json_t *adv = NULL;
	size_t i;
	int r;

	r = ward_json_get_array(v, path, "tcb_statuses", false, 8, &a, err);
	if (r >= 0)
		r = ward_json_get_bool(v, path, "allow_outdated_tcb_insecure", false,
				       &pkg->allow_outdated_tcb_insecure, err);
	if (r >= 0)
		r = string_array(v, path, "accepted_advisories", WARD_MANIFEST_MAX_ITEMS, &adv, err);
	if (r >= 0)
		r = ward_json_get_object(v, path, "sgx", false, &sgx, err);
	if (r < 0)
		return r;
	pkg->accepted_advisories = adv;
	ward_json_path_key(p, sizeof(p), path, "tcb_statuses");
	if (a && json_array_size(a) == 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "%s: lists no status", p);
	json_array_foreach(a, i, e)
	{
		int k = ward_manifest_tcb_status(json_string_value(e));

		if (k < 0)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "%s: expected an Intel TCB status (UpToDate, "
					    "SWHardeningNeeded, ConfigurationNeeded, "
					    "ConfigurationAndSWHardeningNeeded, TDRelaunchAdvised, "
					    "TDRelaunchAdvisedConfigurationNeeded, OutOfDate, "
					    "OutOfDateConfigurationNeeded)",
					    ward_json_path_index(ip, sizeof(ip), p, i));
		if (((1u << k) & WARD_MANIFEST_TCB_OUTDATED) && !pkg->allow_outdated_tcb_insecure)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "%s: \"%s\" needs \"allow_outdated_tcb_insecure\": "
					    "true (the platform has known, fixed vulnerabilities)",
					    ward_json_path_index(ip, sizeof(ip), p, i),
					    TCB_STATUS_NAMES[k]);
		pkg->tcb_statuses |= 1u << k;
	}
	if ((a || adv || pkg->allow_outdated_tcb_insecure) &&
	    !(pkg->tee_mask & ((1u << WARD_TEE_TDX) | (1u << WARD_TEE_SGX))))
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "%s: Intel TCB rules (tcb_statuses, accepted_advisories, "
				    "allow_outdated_tcb_insecure) need \"tdx\" or \"sgx\" in "
				    "\"tees\"",
				    path);
	if (!sgx)
		return 0;
	ward_json_path_key(p, sizeof(p), path, "sgx");
	if (!(pkg->tee_mask & (1u << WARD_TEE_SGX)))
		return ward_err_set(err, -WARD_E_MALFORMED, "%s: \"sgx\" is not in \"tees\"", p);
	r = ward_json_check_keys(sgx, p, skeys, err);
	if (r >= 0)
		r = ward_json_get_hex_fixed(sgx, p, "mrsigner", true, pkg->sgx_mrsigner, 32, err);
	if (r >= 0 && json_object_get(sgx, "isv_prodid")) {
		int64_t x = 0;

		r = ward_json_get_int(sgx, p, "isv_prodid", true, 0, 65535, &x, err);
		pkg->sgx_isv_prodid = (uint16_t)x;
		pkg->has_sgx_isv_prodid = true;
	}
	if (r >= 0) {
		int64_t x = 0;

		r = ward_json_get_int(sgx, p, "min_isv_svn", false, 0, 65535, &x, err);
		pkg->sgx_min_isv_svn = (uint16_t)x;
	}
	if (r < 0)
		return r;
	pkg->has_sgx_signer = true;
	return 0;
}

static int parse_package(struct ward_manifest *m, const char *name, json_t *v, size_t idx,
			 const char *path, struct ward_err *err)
{
	static const char *const keys[] = {"image_digests",
					   "tees",
					   "measurements",
					   "min_tcb",
					   "debug",
					   "tcb_statuses",
					   "allow_outdated_tcb_insecure",
					   "accepted_advisories",
					   "sgx",
					   NULL};
	struct ward_manifest_package *pkg = &m->packages[idx];
	char p[P_MAX], ip[P_MAX];
	json_t *tees = NULL, *meas = NULL, *tcb = NULL, *e;
	const json_t *digests = NULL;
	const char *tname;
	size_t i, count = 0;
	int r;

	pkg->name = name;
	r = ward_json_check_keys(v, path, keys, err);
	if (r >= 0)
		r = string_array(v, path, "image_digests", WARD_MANIFEST_MAX_ITEMS, &digests, err);
	if (r >= 0)
		r = ward_json_get_array(v, path, "tees", true, 8, &tees, err);
	if (r >= 0)
		r = ward_json_get_object(v, path, "measurements", false, &meas, err);
	if (r >= 0)
		r = ward_json_get_object(v, path, "min_tcb", false, &tcb, err);
	if (r >= 0)
		r = ward_json_get_bool(v, path, "debug", false, &pkg->debug, err);
	if (r < 0)
		return r;
	pkg->image_digests = digests;
	for (i = 0; digests && i < json_array_size(digests); i++) {
		const char *d = json_string_value(json_array_get(digests, i));
		uint8_t raw[32];

		if (!ward_startswith(d, "sha256:") ||
		    ward_hex_decode_fixed(d + 7, strlen(d + 7), raw, 32, NULL) < 0)
			return ward_err_set(
			    err, -WARD_E_MALFORMED, "%s: expected \"sha256:<64 hex>\"",
			    ward_json_path_index(
				ip, sizeof(ip),
				ward_json_path_key(p, sizeof(p), path, "image_digests"), i));
	}
	ward_json_path_key(p, sizeof(p), path, "tees");
	if (json_array_size(tees) == 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "%s: lists no TEE", p);
	json_array_foreach(tees, i, e)
	{
		enum ward_tee_type t;

		if (!json_is_string(e) || ward_tee_parse(json_string_value(e), &t) < 0)
			return ward_err_set(
			    err, -WARD_E_MALFORMED,
			    "%s: expected one of \"sim\", \"snp\", \"tdx\", \"sgx\"",
			    ward_json_path_index(ip, sizeof(ip), p, i));
		pkg->tee_mask |= 1u << t;
	}
	r = parse_intel_rules(pkg, v, path, err);
	if (r < 0)
		return r;
	ward_json_path_key(p, sizeof(p), path, "measurements");
	json_object_foreach(meas, tname, e)
	{
		if (!json_is_array(e) || json_array_size(e) > WARD_MANIFEST_MAX_ITEMS)
			return ward_err_set(err, -WARD_E_MALFORMED, "%s.%s: expected an array", p,
					    tname);
		count += json_array_size(e);
	}
	if (count > WARD_MANIFEST_MAX_ITEMS)
		return ward_err_set(err, -WARD_E_TOO_BIG, "%s: too many measurements", p);
	pkg->measurements = calloc(count ? count : 1, sizeof(*pkg->measurements));
	if (!pkg->measurements)
		return ward_err_set(err, -ENOMEM, "manifest: out of memory");
	json_object_foreach(meas, tname, e)
	{
		enum ward_tee_type t;
		char mp[P_MAX];
		json_t *x;
		size_t j;

		ward_json_path_key(mp, sizeof(mp), p, tname);
		if (ward_tee_parse(tname, &t) < 0)
			return ward_err_set(err, -WARD_E_MALFORMED, "%s: unknown TEE", mp);
		if (!(pkg->tee_mask & (1u << t)))
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "%s: TEE not listed in \"tees\"", mp);
		json_array_foreach(e, j, x)
		{
			struct ward_manifest_measurement *mm =
			    &pkg->measurements[pkg->measurement_count];
			const char *hex = json_string_value(x);
			size_t want =
			    (t == WARD_TEE_SIM || t == WARD_TEE_SNP || t == WARD_TEE_TDX) ? 48 : 32;

			if (!hex ||
			    ward_hex_decode_fixed(hex, strlen(hex), mm->value, want, NULL) < 0)
				return ward_err_set(
				    err, -WARD_E_MALFORMED, "%s: expected %zu hex digits",
				    ward_json_path_index(ip, sizeof(ip), mp, j), want * 2);
			mm->tee = t;
			mm->size = want;
			pkg->measurement_count++;
		}
	}
	for (unsigned t = 0; t < 8; t++) {
		bool found = false;

		if (!(pkg->tee_mask & (1u << t)))
			continue;
		/* SGX enclaves may be accepted by signer instead of MRENCLAVE. */
		found = t == WARD_TEE_SGX && pkg->has_sgx_signer;
		for (i = 0; i < pkg->measurement_count; i++)
			found |= pkg->measurements[i].tee == (enum ward_tee_type)t;
		if (!found)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "%s: no measurement for TEE \"%s\" (every listed TEE "
					    "needs at least one; SGX may use \"sgx\".\"mrsigner\" "
					    "instead)",
					    p, ward_tee_name((enum ward_tee_type)t));
	}
	if (tcb) {
		static const char *const tkeys[] = {"bootloader", "tee", "snp", "microcode", NULL};

		ward_json_path_key(p, sizeof(p), path, "min_tcb");
		r = ward_json_check_keys(tcb, p, tkeys, err);
		for (i = 0; r >= 0 && i < 4; i++) {
			int64_t x = 0;

			r = ward_json_get_int(tcb, p, tkeys[i], true, 0, 255, &x, err);
			pkg->min_tcb[i] = (uint8_t)x;
		}
		if (r < 0)
			return r;
		pkg->has_min_tcb = true;
	}
	return 0;
}

static int parse_secret(struct ward_manifest *m, const char *name, json_t *v, size_t idx,
			const char *path, struct ward_err *err)
{
	static const char *const keys[] = {"type", "size", "resource", "packages", "cert", NULL};
	struct ward_manifest_secret *s = &m->secrets[idx];
	const char *type;
	json_t *cert = NULL;
	char p[P_MAX];
	size_t t;
	int r;

	s->name = name;
	r = ward_json_check_keys(v, path, keys, err);
	if (r >= 0)
		r = ward_json_get_string(v, path, "type", true, &type, err);
	if (r < 0)
		return r;
	for (t = 0; t < WARD_ARRAY_SIZE(SECRET_TYPES); t++)
		if (strcmp(type, SECRET_TYPES[t]) == 0)
			break;
	if (t == WARD_ARRAY_SIZE(SECRET_TYPES))
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "%s.type: unknown secret type \"%s\" (symmetric, ec-p256, "
				    "ec-p384, rsa, cert, password, user)",
				    path, type);
	s->type = (enum ward_secret_type)t;
	switch (s->type) {
	case WARD_SECRET_SYMMETRIC:
		s->size = 32;
		r = ward_json_get_int(v, path, "size", false, 16, 64, &s->size, err);
		break;
	case WARD_SECRET_RSA:
		s->size = 3072;
		r = ward_json_get_int(v, path, "size", false, 2048, 4096, &s->size, err);
		if (r >= 0 && s->size % 1024)
			r = ward_err_set(err, -WARD_E_MALFORMED,
					 "%s.size: RSA size must be 2048, "
					 "3072 or 4096",
					 path);
		break;
	case WARD_SECRET_PASSWORD:
		s->size = 24;
		r = ward_json_get_int(v, path, "size", false, 8, 128, &s->size, err);
		break;
	case WARD_SECRET_USER:
		s->size = 0;
		r = ward_json_get_int(v, path, "size", false, 1, 1 << 20, &s->size, err);
		break;
	default:
		if (json_object_get(v, "size"))
			r = ward_err_set(err, -WARD_E_MALFORMED, "%s.size: not allowed for %s",
					 path, type);
	}
	if (r >= 0)
		r = ward_json_get_string(v, path, "resource", false, &s->resource, err);
	if (r >= 0)
		r = string_array(v, path, "packages", WARD_MANIFEST_MAX_ITEMS, &s->packages, err);
	if (r >= 0)
		r = ward_json_get_object(v, path, "cert", s->type == WARD_SECRET_CERT, &cert, err);
	if (r < 0)
		return r;
	if (s->resource) {
		int slashes = 0;

		for (const char *c = s->resource; *c; c++)
			slashes += *c == '/';
		if (slashes != 2 || strstr(s->resource, "//") || s->resource[0] == '/' ||
		    ward_endswith(s->resource, "/") || strstr(s->resource, "..") ||
		    ward_startswith(s->resource, "ward/"))
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "%s.resource: expected \"<repo>/<type>/<tag>\" "
					    "(repo \"ward\" is reserved)",
					    path);
		if (!s->packages)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "%s.packages: required with \"resource\"", path);
	}
	if (cert && s->type != WARD_SECRET_CERT)
		return ward_err_set(err, -WARD_E_MALFORMED, "%s.cert: only for type \"cert\"",
				    path);
	if (cert) {
		static const char *const ckeys[] = {"subject", "dns", "ips", "validity_days", NULL};

		ward_json_path_key(p, sizeof(p), path, "cert");
		s->cert_validity_days = 365;
		r = ward_json_check_keys(cert, p, ckeys, err);
		if (r >= 0)
			r = ward_json_get_string(cert, p, "subject", true, &s->cert_subject, err);
		if (r >= 0)
			r = string_array(cert, p, "dns", 16, &s->cert_dns, err);
		if (r >= 0)
			r = string_array(cert, p, "ips", 16, &s->cert_ips, err);
		if (r >= 0)
			r = ward_json_get_int(cert, p, "validity_days", false, 1, 3650,
					      &s->cert_validity_days, err);
		if (r < 0)
			return r;
		if (!ward_startswith(s->cert_subject, "CN="))
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "%s.subject: must start with \"CN=\"", p);
	}
	return 0;
}

static int parse_workload(struct ward_manifest *m, const char *name, json_t *v, size_t idx,
			  const char *path, struct ward_err *err)
{
	static const char *const keys[] = {"package",	    "argv", "env", "files", "volumes",
					   "max_instances", "dns",  "ips", NULL};
	struct ward_manifest_workload *w = &m->workloads[idx];
	const char *pkg, *key;
	json_t *obj = NULL, *x;
	char p[P_MAX], ip[P_MAX];
	size_t i;
	int r;

	w->name = name;
	r = ward_json_check_keys(v, path, keys, err);
	if (r >= 0)
		r = ward_json_get_string(v, path, "package", true, &pkg, err);
	if (r >= 0)
		r = string_array(v, path, "argv", 256, &w->argv, err);
	if (r >= 0)
		r = string_array(v, path, "volumes", 16, &w->volumes, err);
	if (r >= 0)
		r = string_array(v, path, "dns", 16, &w->dns, err);
	if (r >= 0)
		r = string_array(v, path, "ips", 16, &w->ips, err);
	if (r >= 0)
		r = ward_json_get_int(v, path, "max_instances", false, 0, 1000000,
				      &w->max_instances, err);
	if (r < 0)
		return r;
	w->package = ward_manifest_package(m, pkg);
	if (!w->package)
		return ward_err_set(err, -WARD_E_MALFORMED, "%s.package: no package \"%s\"", path,
				    pkg);
	json_array_foreach(w->argv, i, x)
	{
		r = ward_template_check(
		    m, json_string_value(x),
		    ward_json_path_index(ip, sizeof(ip),
					 ward_json_path_key(p, sizeof(p), path, "argv"), i),
		    err);
		if (r < 0)
			return r;
	}
	for (int k = 0; k < 2; k++) {
		const char *sect = k == 0 ? "env" : "files";

		obj = NULL;
		r = ward_json_get_object(v, path, sect, false, &obj, err);
		if (r < 0)
			return r;
		if (!obj)
			continue;
		if (k == 0)
			w->env = obj;
		else
			w->files = obj;
		ward_json_path_key(p, sizeof(p), path, sect);
		json_object_foreach(obj, key, x)
		{
			ward_json_path_key(ip, sizeof(ip), p, key);
			if (!json_is_string(x))
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "%s: expected string, got %s", ip,
						    ward_json_type_name(x));
			if (k == 0 && (key[0] == '\0' || strchr(key, '=')))
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "%s: invalid environment variable name", ip);
			if (k == 1 && (key[0] != '/' || strstr(key, "/../") ||
				       ward_endswith(key, "/..") || strlen(key) > 1024))
				return ward_err_set(
				    err, -WARD_E_MALFORMED,
				    "%s: file paths must be absolute without \"..\"", ip);
			r = ward_template_check(m, json_string_value(x), ip, err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static const struct {
	const char *name;
	unsigned bit;
} ACTIONS[] = {
    {"update_manifest", WARD_ROLE_UPDATE_MANIFEST},
    {"set_secret", WARD_ROLE_SET_SECRET},
    {"read_secret", WARD_ROLE_READ_SECRET},
    {"read_log", WARD_ROLE_READ_LOG},
};

static int check_role(json_t *role, const char *path, unsigned *ret_actions, struct ward_err *err)
{
	static const char *const keys[] = {"actions", "secrets", NULL};
	const json_t *actions = NULL, *secrets = NULL;
	char p[P_MAX], ip[P_MAX];
	unsigned mask = 0;
	json_t *x;
	size_t i;
	int r;

	if (!json_is_object(role))
		return ward_err_set(err, -WARD_E_MALFORMED, "%s: expected object", path);
	r = ward_json_check_keys(role, path, keys, err);
	if (r >= 0)
		r = string_array(role, path, "actions", 8, &actions, err);
	if (r >= 0)
		r = string_array(role, path, "secrets", WARD_MANIFEST_MAX_ITEMS, &secrets, err);
	if (r < 0)
		return r;
	if (!actions)
		return ward_err_set(err, -WARD_E_MALFORMED, "%s.actions: missing", path);
	ward_json_path_key(p, sizeof(p), path, "actions");
	json_array_foreach((json_t *)actions, i, x)
	{
		size_t a;

		for (a = 0; a < WARD_ARRAY_SIZE(ACTIONS); a++)
			if (strcmp(ACTIONS[a].name, json_string_value(x)) == 0)
				break;
		if (a == WARD_ARRAY_SIZE(ACTIONS))
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "%s: unknown action (update_manifest, set_secret, "
					    "read_secret, read_log)",
					    ward_json_path_index(ip, sizeof(ip), p, i));
		mask |= ACTIONS[a].bit;
	}
	*ret_actions = mask;
	return 0;
}

static int parse_user(struct ward_manifest *m, const char *name, json_t *v, size_t idx,
		      const char *path, struct ward_err *err)
{
	static const char *const keys[] = {"public_key", "roles", NULL};
	struct ward_manifest_user *u = &m->users[idx];
	json_t *roles_obj = json_object_get(m->root, "roles"), *x;
	const json_t *roles = NULL;
	const char *pem;
	char p[P_MAX], ip[P_MAX];
	size_t i;
	int r;

	u->name = name;
	r = ward_json_check_keys(v, path, keys, err);
	if (r >= 0)
		r = ward_json_get_string(v, path, "public_key", true, &pem, err);
	if (r >= 0)
		r = string_array(v, path, "roles", 16, &roles, err);
	if (r < 0)
		return r;
	u->roles = roles;
	ward_json_path_key(p, sizeof(p), path, "public_key");
	r = ward_pkey_from_pem(pem, strlen(pem), &u->key, err);
	if (r < 0)
		return ward_err_prefix(err, "%s", p);
	if (ward_pkey_is_private(u->key) || ward_pkey_type(u->key) != WARD_KEY_EC_P256)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "%s: expected an EC P-256 public key (users sign with ES256)",
				    p);
	ward_json_path_key(p, sizeof(p), path, "roles");
	json_array_foreach((json_t *)roles, i, x)
	{
		json_t *role = roles_obj ? json_object_get(roles_obj, json_string_value(x)) : NULL;
		unsigned a = 0;

		if (!role)
			return ward_err_set(err, -WARD_E_MALFORMED, "%s: no role \"%s\"",
					    ward_json_path_index(ip, sizeof(ip), p, i),
					    json_string_value(x));
		r = check_role(role, p, &a, err);
		if (r < 0)
			return r;
		u->actions |= a;
	}
	return 0;
}

static int parse_recovery(struct ward_manifest *m, json_t *root, struct ward_err *err)
{
	json_t *obj = NULL, *v;
	const char *name;
	char p[P_MAX];
	size_t i = 0;
	int r;

	r = ward_json_get_object(root, "$", "recovery_keys", false, &obj, err);
	if (r < 0 || !obj)
		return r;
	if (json_object_size(obj) > 16)
		return ward_err_set(err, -WARD_E_TOO_BIG, "$.recovery_keys: more than 16");
	m->recovery_keys = calloc(json_object_size(obj) + 1, sizeof(*m->recovery_keys));
	if (!m->recovery_keys)
		return ward_err_set(err, -ENOMEM, "manifest: out of memory");
	json_object_foreach(obj, name, v)
	{
		struct ward_manifest_recovery_key *k = &m->recovery_keys[i];
		const char *pem = json_string_value(v);

		ward_json_path_key(p, sizeof(p), "$.recovery_keys", name);
		if (!name_ok(name, false) || !pem)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "%s: expected a name and an RSA public key PEM", p);
		k->name = name;
		r = ward_pkey_from_pem(pem, strlen(pem), &k->key, err);
		if (r < 0)
			return ward_err_prefix(err, "%s", p);
		m->recovery_key_count = ++i;
		if (ward_pkey_type(k->key) != WARD_KEY_RSA || ward_pkey_is_private(k->key))
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "%s: expected an RSA public key (RSA-OAEP-256)", p);
	}
	return 0;
}

int ward_manifest_parse(const void *buf, size_t size, struct ward_manifest **ret,
			struct ward_err *err)
{
	static const char *const keys[] = {"packages", "workloads",	"secrets",     "users",
					   "roles",    "recovery_keys", "coordinator", NULL};
	WARD_CLEANUP(ward_manifest_freep) struct ward_manifest *m = NULL;
	WARD_AUTOFREE char *canon = NULL;
	json_t *roles = NULL, *coord = NULL, *x;
	const char *rname;
	int r;

	m = calloc(1, sizeof(*m));
	if (!m)
		return ward_err_set(err, -ENOMEM, "manifest: out of memory");
	r = ward_json_parse(buf, size, WARD_MANIFEST_MAX_SIZE, &m->root, err);
	if (r < 0)
		return ward_err_prefix(err, "manifest");
	if (!json_is_object(m->root))
		return ward_err_set(err, -WARD_E_MALFORMED, "manifest $: expected object");
	r = ward_json_check_keys(m->root, "$", keys, err);
	if (r >= 0)
		r = each_entry(m, m->root, "packages", false, &m->package_count,
			       (void **)&m->packages, sizeof(*m->packages), parse_package, err);
	if (r >= 0)
		r = each_entry(m, m->root, "secrets", true, &m->secret_count, (void **)&m->secrets,
			       sizeof(*m->secrets), parse_secret, err);
	if (r >= 0)
		r = each_entry(m, m->root, "workloads", false, &m->workload_count,
			       (void **)&m->workloads, sizeof(*m->workloads), parse_workload, err);
	if (r >= 0)
		r = ward_json_get_object(m->root, "$", "roles", false, &roles, err);
	if (r >= 0 && roles) {
		json_object_foreach(roles, rname, x)
		{
			char p[P_MAX];
			unsigned a;

			ward_json_path_key(p, sizeof(p), "$.roles", rname);
			if (!name_ok(rname, false)) {
				r = ward_err_set(err, -WARD_E_MALFORMED, "%s: invalid name", p);
				break;
			}
			r = check_role(x, p, &a, err);
			if (r < 0)
				break;
		}
	}
	if (r >= 0)
		r = each_entry(m, m->root, "users", false, &m->user_count, (void **)&m->users,
			       sizeof(*m->users), parse_user, err);
	if (r >= 0)
		r = parse_recovery(m, m->root, err);
	if (r >= 0)
		r = ward_json_get_object(m->root, "$", "coordinator", false, &coord, err);
	if (r >= 0 && coord) {
		static const char *const ckeys[] = {"dns", "ips", NULL};

		r = ward_json_check_keys(coord, "$.coordinator", ckeys, err);
		if (r >= 0)
			r = string_array(coord, "$.coordinator", "dns", 16, &m->coord_dns, err);
		if (r >= 0)
			r = string_array(coord, "$.coordinator", "ips", 16, &m->coord_ips, err);
	}
	if (r < 0)
		return ward_err_prefix(err, "manifest");
	/* Secrets referenced by "packages" must name packages. */
	for (size_t i = 0; i < m->secret_count; i++) {
		size_t j;

		json_array_foreach((json_t *)m->secrets[i].packages, j, x)
		{
			if (!ward_manifest_package(m, json_string_value(x)))
				return ward_err_set(
				    err, -WARD_E_MALFORMED,
				    "manifest $.secrets.%s.packages[%zu]: no package "
				    "\"%s\"",
				    m->secrets[i].name, j, json_string_value(x));
		}
		for (size_t k = 0; k < i; k++)
			if (m->secrets[i].resource && m->secrets[k].resource &&
			    strcmp(m->secrets[i].resource, m->secrets[k].resource) == 0)
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "manifest $.secrets.%s.resource: \"%s\" is "
						    "already used by %s",
						    m->secrets[i].name, m->secrets[i].resource,
						    m->secrets[k].name);
	}
	r = ward_manifest_canonical(m, &canon, err);
	if (r >= 0)
		r = ward_hash(WARD_HASH_SHA256, canon, strlen(canon), m->hash, err);
	if (r < 0)
		return r;
	ward_hex_encode(m->hash, 32, m->hash_hex);
	*ret = WARD_TAKE_PTR(m);
	return 0;
}

int ward_manifest_canonical(const struct ward_manifest *m, char **ret, struct ward_err *err)
{
	return ward_json_dump(m->root, ret, err);
}

const struct ward_manifest_package *ward_manifest_package(const struct ward_manifest *m,
							  const char *name)
{
	for (size_t i = 0; name && i < m->package_count; i++)
		if (strcmp(m->packages[i].name, name) == 0)
			return &m->packages[i];
	return NULL;
}

const struct ward_manifest_workload *ward_manifest_workload(const struct ward_manifest *m,
							    const char *name)
{
	for (size_t i = 0; name && i < m->workload_count; i++)
		if (strcmp(m->workloads[i].name, name) == 0)
			return &m->workloads[i];
	return NULL;
}

const struct ward_manifest_secret *ward_manifest_secret(const struct ward_manifest *m,
							const char *name)
{
	for (size_t i = 0; name && i < m->secret_count; i++)
		if (strcmp(m->secrets[i].name, name) == 0)
			return &m->secrets[i];
	return NULL;
}

const struct ward_manifest_secret *ward_manifest_secret_by_resource(const struct ward_manifest *m,
								    const char *path)
{
	for (size_t i = 0; path && i < m->secret_count; i++)
		if (m->secrets[i].resource && strcmp(m->secrets[i].resource, path) == 0)
			return &m->secrets[i];
	return NULL;
}

const struct ward_manifest_user *ward_manifest_user(const struct ward_manifest *m, const char *name)
{
	for (size_t i = 0; name && i < m->user_count; i++)
		if (strcmp(m->users[i].name, name) == 0)
			return &m->users[i];
	return NULL;
}

bool ward_manifest_user_allows(const struct ward_manifest *m, const struct ward_manifest_user *u,
			       unsigned action, const char *secret)
{
	json_t *roles = json_object_get(m->root, "roles"), *x, *s;
	size_t i, j;

	json_array_foreach((json_t *)u->roles, i, x)
	{
		json_t *role = json_object_get(roles, json_string_value(x));
		json_t *actions = json_object_get(role, "actions"), *secrets;
		bool has = false;

		json_array_foreach(actions, j, s)
		{
			for (size_t a = 0; a < WARD_ARRAY_SIZE(ACTIONS); a++)
				if (ACTIONS[a].bit == action &&
				    strcmp(ACTIONS[a].name, json_string_value(s)) == 0)
					has = true;
		}
		if (!has)
			continue;
		if (!secret)
			return true;
		/* Secret actions need the secret listed (or "*"). */
		secrets = json_object_get(role, "secrets");
		json_array_foreach(secrets, j, s)
		{
			const char *n = json_string_value(s);

			if (strcmp(n, "*") == 0 || strcmp(n, secret) == 0)
				return true;
		}
	}
	return false;
}

bool ward_manifest_package_accepts(const struct ward_manifest_package *pkg, enum ward_tee_type tee,
				   const uint8_t *measurement, size_t size)
{
	bool ok = false;

	if (!(pkg->tee_mask & (1u << tee)))
		return false;
	for (size_t i = 0; i < pkg->measurement_count; i++)
		if (pkg->measurements[i].tee == tee && pkg->measurements[i].size == size &&
		    memcmp(pkg->measurements[i].value, measurement, size) == 0)
			ok = true;
	return ok;
}
