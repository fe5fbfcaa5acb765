/* SPDX-License-Identifier: Apache-2.0 */
/* Intel PCS TCB info (SGX/TDX, versions 2 and 3) and enclave (QE)
 * identity (version 2), parsed from the exact signed JSON text into C
 * structures. UNTRUSTED until the caller verified the signature over the
 * same bytes; structure is checked strictly either way. */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dcap-internal.h"
#include "ward/cleanup.h"
#include "ward/encoding.h"
#include "ward/util.h"

static const char *const status_names[] = {
    [WARD_DCAP_TCB_UP_TO_DATE] = "UpToDate",
    [WARD_DCAP_TCB_SW_HARDENING_NEEDED] = "SWHardeningNeeded",
    [WARD_DCAP_TCB_CONFIGURATION_NEEDED] = "ConfigurationNeeded",
    [WARD_DCAP_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED] = "ConfigurationAndSWHardeningNeeded",
    [WARD_DCAP_TCB_OUT_OF_DATE] = "OutOfDate",
    [WARD_DCAP_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED] = "OutOfDateConfigurationNeeded",
    [WARD_DCAP_TCB_REVOKED] = "Revoked",
    [WARD_DCAP_TCB_TD_RELAUNCH_ADVISED] = "TDRelaunchAdvised",
    [WARD_DCAP_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED] =
	"TDRelaunchAdvisedConfigurationNeeded",
};

const char *ward_dcap_tcb_status_name(enum ward_dcap_tcb_status s)
{
	if ((size_t)s >= WARD_ARRAY_SIZE(status_names))
		return "invalid";
	return status_names[s];
}

int ward_dcap_status_parse(const char *s, enum ward_dcap_tcb_status *ret)
{
	/* Only the seven level statuses appear in collateral. */
	for (int i = WARD_DCAP_TCB_UP_TO_DATE; i <= WARD_DCAP_TCB_REVOKED; i++)
		if (strcmp(s, status_names[i]) == 0) {
			*ret = (enum ward_dcap_tcb_status)i;
			return 0;
		}
	return -WARD_E_MALFORMED;
}

/* ---- small typed getters over jansson (lib/json is not shared yet) ---- */

static int get_member(const json_t *obj, const char *path, const char *key, json_type type,
		      bool required, json_t **ret, struct ward_err *err)
{
	json_t *v = json_object_get(obj, key);

	if (!v) {
		if (!required) {
			*ret = NULL;
			return 0;
		}
		return ward_err_set(err, -WARD_E_MALFORMED, "%s.%s: missing", path, key);
	}
	if (json_typeof(v) != type)
		return ward_err_set(err, -WARD_E_MALFORMED, "%s.%s: wrong type", path, key);
	*ret = v;
	return 0;
}

static int get_str(const json_t *obj, const char *path, const char *key, const char **ret,
		   struct ward_err *err)
{
	json_t *v = NULL;
	int r = get_member(obj, path, key, JSON_STRING, true, &v, err);

	if (r < 0)
		return r;
	*ret = json_string_value(v);
	return 0;
}

static int get_uint(const json_t *obj, const char *path, const char *key, uint64_t max,
		    uint64_t *ret, struct ward_err *err)
{
	json_t *v = NULL;
	json_int_t i;
	int r = get_member(obj, path, key, JSON_INTEGER, true, &v, err);

	if (r < 0)
		return r;
	i = json_integer_value(v);
	if (i < 0 || (uint64_t)i > max)
		return ward_err_set(err, -WARD_E_MALFORMED, "%s.%s: %lld out of range 0..%llu",
				    path, key, (long long)i, (unsigned long long)max);
	*ret = (uint64_t)i;
	return 0;
}

static int get_hex(const json_t *obj, const char *path, const char *key, uint8_t *out, size_t size,
		   struct ward_err *err)
{
	const char *s;
	int r = get_str(obj, path, key, &s, err);

	if (r < 0)
		return r;
	r = ward_hex_decode_fixed(s, strlen(s), out, size, NULL);
	if (r < 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "%s.%s: expected %zu hex bytes", path,
				    key, size);
	return 0;
}

static int get_time(const json_t *obj, const char *path, const char *key, time_t *ret,
		    struct ward_err *err)
{
	const char *s;
	int r = get_str(obj, path, key, &s, err);

	if (r < 0)
		return r;
	if (ward_time_parse_rfc3339(s, ret, NULL) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "%s.%s: bad time", path, key);
	return 0;
}

static int get_status(const json_t *obj, const char *path, enum ward_dcap_tcb_status *ret,
		      struct ward_err *err)
{
	const char *s;
	int r = get_str(obj, path, "tcbStatus", &s, err);

	if (r < 0)
		return r;
	if (ward_dcap_status_parse(s, ret) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "%s.tcbStatus: unknown status", path);
	return 0;
}

static int get_advisories(const json_t *obj, const char *path, json_t **ret, struct ward_err *err)
{
	json_t *a = NULL, *v, *out;
	size_t i;
	int r = get_member(obj, path, "advisoryIDs", JSON_ARRAY, false, &a, err);

	if (r < 0)
		return r;
	out = json_array();
	if (!out)
		return ward_err_set(err, -ENOMEM, "out of memory");
	if (a) {
		if (json_array_size(a) > WARD_DCAP_MAX_ADVISORIES) {
			json_decref(out);
			return ward_err_set(err, -WARD_E_TOO_BIG, "%s.advisoryIDs: too many", path);
		}
		json_array_foreach(a, i, v)
		{
			if (!json_is_string(v) || json_array_append(out, v) < 0) {
				json_decref(out);
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "%s.advisoryIDs[%zu]: expected string", path,
						    i);
			}
		}
	}
	*ret = out;
	return 0;
}

static int load_object(const char *text, size_t size, const char *what, json_t **ret,
		       struct ward_err *err)
{
	json_error_t jerr;
	json_t *j;

	if (size > WARD_DCAP_COLLATERAL_MAX_SIZE)
		return ward_err_set(err, -WARD_E_TOO_BIG, "%s of %zu bytes too big", what, size);
	j = json_loadb(text, size, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "%s: JSON error at line %d column %d: %s", what, jerr.line,
				    jerr.column, jerr.text);
	if (!json_is_object(j)) {
		json_decref(j);
		return ward_err_set(err, -WARD_E_MALFORMED, "%s: not a JSON object", what);
	}
	*ret = j;
	return 0;
}

static void isv_levels_free(struct ward_dcap_isv_level *l, size_t n)
{
	for (size_t i = 0; l && i < n; i++)
		json_decref(l[i].advisories);
	free(l);
}

/* tcbLevels of QE identities and TDX module identities: {tcb:{isvsvn}, ...} */
static int parse_isv_levels(const json_t *obj, const char *path, struct ward_dcap_isv_level **ret,
			    size_t *ret_count, struct ward_err *err)
{
	struct ward_dcap_isv_level *levels;
	json_t *arr = NULL, *lv;
	size_t i, n;
	char p[96];
	int r;

	r = get_member(obj, path, "tcbLevels", JSON_ARRAY, true, &arr, err);
	if (r < 0)
		return r;
	n = json_array_size(arr);
	if (n == 0 || n > WARD_DCAP_MAX_TCB_LEVELS)
		return ward_err_set(err, -WARD_E_MALFORMED, "%s.tcbLevels: %zu levels", path, n);
	levels = calloc(n, sizeof(*levels));
	if (!levels)
		return ward_err_set(err, -ENOMEM, "out of memory");
	json_array_foreach(arr, i, lv)
	{
		json_t *tcb;
		uint64_t v;

		snprintf(p, sizeof(p), "%s.tcbLevels[%zu]", path, i);
		if (!json_is_object(lv)) {
			r = ward_err_set(err, -WARD_E_MALFORMED, "%s: expected object", p);
			goto fail;
		}
		if ((r = get_member(lv, p, "tcb", JSON_OBJECT, true, &tcb, err)) < 0 ||
		    (r = get_uint(tcb, p, "isvsvn", 65535, &v, err)) < 0 ||
		    (r = get_time(lv, p, "tcbDate", &levels[i].tcb_date, err)) < 0 ||
		    (r = get_status(lv, p, &levels[i].status, err)) < 0 ||
		    (r = get_advisories(lv, p, &levels[i].advisories, err)) < 0)
			goto fail;
		levels[i].isvsvn = (uint16_t)v;
	}
	*ret = levels;
	*ret_count = n;
	return 0;
fail:
	isv_levels_free(levels, n);
	return r;
}

static int parse_components(const json_t *tcb, const char *path, const char *key, uint8_t out[16],
			    struct ward_err *err)
{
	json_t *arr = NULL, *c;
	size_t i;
	char p[128];
	int r = get_member(tcb, path, key, JSON_ARRAY, true, &arr, err);

	if (r < 0)
		return r;
	if (json_array_size(arr) != 16)
		return ward_err_set(err, -WARD_E_MALFORMED, "%s.%s: %zu components, expected 16",
				    path, key, json_array_size(arr));
	json_array_foreach(arr, i, c)
	{
		uint64_t v;

		snprintf(p, sizeof(p), "%s.%s[%zu]", path, key, i);
		if (!json_is_object(c))
			return ward_err_set(err, -WARD_E_MALFORMED, "%s: expected object", p);
		if ((r = get_uint(c, p, "svn", 255, &v, err)) < 0)
			return r;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static int parse_tcb_level(const json_t *lv, const char *p, const struct ward_dcap_tcb_info *ti,
			   struct ward_dcap_tcb_level *l, struct ward_err *err)
{
	json_t *tcb = NULL;
	uint64_t v;
	int r;

	if (!json_is_object(lv))
		return ward_err_set(err, -WARD_E_MALFORMED, "%s: expected object", p);
	if ((r = get_member(lv, p, "tcb", JSON_OBJECT, true, &tcb, err)) < 0)
		return r;
	if (ti->version == 2) {
		/* v2 (SGX only): sgxtcbcomp01svn .. sgxtcbcomp16svn */
		for (int i = 0; i < 16; i++) {
			char key[24];

			snprintf(key, sizeof(key), "sgxtcbcomp%02dsvn", i + 1);
			if ((r = get_uint(tcb, p, key, 255, &v, err)) < 0)
				return r;
			l->sgx_svn[i] = (uint8_t)v;
		}
	} else {
		if ((r = parse_components(tcb, p, "sgxtcbcomponents", l->sgx_svn, err)) < 0)
			return r;
		if (ti->tee == WARD_DCAP_TEE_TDX &&
		    (r = parse_components(tcb, p, "tdxtcbcomponents", l->tdx_svn, err)) < 0)
			return r;
	}
	if ((r = get_uint(tcb, p, "pcesvn", 65535, &v, err)) < 0)
		return r;
	l->pcesvn = (uint16_t)v;
	if ((r = get_time(lv, p, "tcbDate", &l->tcb_date, err)) < 0 ||
	    (r = get_status(lv, p, &l->status, err)) < 0 ||
	    (r = get_advisories(lv, p, &l->advisories, err)) < 0)
		return r;
	return 0;
}

struct ward_dcap_tcb_info *ward_dcap_tcb_info_free(struct ward_dcap_tcb_info *t)
{
	if (!t)
		return NULL;
	for (size_t i = 0; t->modules && i < t->module_count; i++)
		isv_levels_free(t->modules[i].levels, t->modules[i].level_count);
	free(t->modules);
	for (size_t i = 0; t->levels && i < t->level_count; i++)
		json_decref(t->levels[i].advisories);
	free(t->levels);
	free(t);
	return NULL;
}

static void tcb_info_freep(struct ward_dcap_tcb_info **t)
{
	ward_dcap_tcb_info_free(*t);
}

static int parse_modules(const json_t *root, struct ward_dcap_tcb_info *ti, struct ward_err *err)
{
	json_t *mod = NULL, *arr = NULL, *m;
	size_t i, n;
	char p[64];
	int r;

	if ((r = get_member(root, "$", "tdxModule", JSON_OBJECT, true, &mod, err)) < 0 ||
	    (r = get_hex(mod, "$.tdxModule", "mrsigner", ti->module_mrsigner, 48, err)) < 0 ||
	    (r = get_hex(mod, "$.tdxModule", "attributes", ti->module_attributes, 8, err)) < 0 ||
	    (r = get_hex(mod, "$.tdxModule", "attributesMask", ti->module_attributes_mask, 8,
			 err)) < 0)
		return r;
	ti->has_tdx_module = true;
	if ((r = get_member(root, "$", "tdxModuleIdentities", JSON_ARRAY, false, &arr, err)) < 0)
		return r;
	if (!arr)
		return 0;
	n = json_array_size(arr);
	if (n > WARD_DCAP_MAX_MODULES)
		return ward_err_set(err, -WARD_E_TOO_BIG, "$.tdxModuleIdentities: %zu entries", n);
	if (n == 0)
		return 0;
	ti->modules = calloc(n, sizeof(*ti->modules));
	if (!ti->modules)
		return ward_err_set(err, -ENOMEM, "out of memory");
	json_array_foreach(arr, i, m)
	{
		struct ward_dcap_module_identity *mi = &ti->modules[i];
		const char *id;

		snprintf(p, sizeof(p), "$.tdxModuleIdentities[%zu]", i);
		if (!json_is_object(m))
			return ward_err_set(err, -WARD_E_MALFORMED, "%s: expected object", p);
		if ((r = get_str(m, p, "id", &id, err)) < 0)
			return r;
		if (strlen(id) >= sizeof(mi->id))
			return ward_err_set(err, -WARD_E_MALFORMED, "%s.id: too long", p);
		for (size_t j = 0; j < i; j++)
			if (strcmp(ti->modules[j].id, id) == 0)
				return ward_err_set(err, -WARD_E_MALFORMED, "%s.id: duplicate %s",
						    p, id);
		strcpy(mi->id, id);
		if ((r = get_hex(m, p, "mrsigner", mi->mrsigner, 48, err)) < 0 ||
		    (r = get_hex(m, p, "attributes", mi->attributes, 8, err)) < 0 ||
		    (r = get_hex(m, p, "attributesMask", mi->attributes_mask, 8, err)) < 0 ||
		    (r = parse_isv_levels(m, p, &mi->levels, &mi->level_count, err)) < 0)
			return r;
		ti->module_count = i + 1;
	}
	return 0;
}

int ward_dcap_tcb_info_parse(const char *text, size_t size, struct ward_dcap_tcb_info **ret,
			     struct ward_err *err)
{
	WARD_CLEANUP(json_decrefp) json_t *root = NULL;
	WARD_CLEANUP(tcb_info_freep) struct ward_dcap_tcb_info *ti = NULL;
	json_t *arr = NULL, *lv;
	const char *id;
	uint64_t v;
	size_t i, n;
	char p[64];
	int r;

	r = load_object(text, size, "TCB info", &root, err);
	if (r < 0)
		return r;
	ti = calloc(1, sizeof(*ti));
	if (!ti)
		return ward_err_set(err, -ENOMEM, "out of memory");
	if ((r = get_str(root, "$", "id", &id, err)) < 0)
		return ward_err_prefix(err, "TCB info");
	if (strcmp(id, "SGX") == 0)
		ti->tee = WARD_DCAP_TEE_SGX;
	else if (strcmp(id, "TDX") == 0)
		ti->tee = WARD_DCAP_TEE_TDX;
	else
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "TCB info: id \"%s\" unsupported",
				    id);
	if ((r = get_uint(root, "$", "version", 100, &v, err)) < 0)
		return ward_err_prefix(err, "TCB info");
	if (v != 3 && !(v == 2 && ti->tee == WARD_DCAP_TEE_SGX))
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "TCB info: version %llu unsupported",
				    (unsigned long long)v);
	ti->version = (int)v;
	if ((r = get_time(root, "$", "issueDate", &ti->issue_date, err)) < 0 ||
	    (r = get_time(root, "$", "nextUpdate", &ti->next_update, err)) < 0 ||
	    (r = get_hex(root, "$", "fmspc", ti->fmspc, 6, err)) < 0 ||
	    (r = get_hex(root, "$", "pceId", ti->pceid, 2, err)) < 0 ||
	    (r = get_uint(root, "$", "tcbType", UINT32_MAX, &v, err)) < 0)
		return ward_err_prefix(err, "TCB info");
	ti->tcb_type = (uint32_t)v;
	if (ti->tcb_type != 0)
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "TCB info: tcbType %u unsupported",
				    ti->tcb_type);
	if ((r = get_uint(root, "$", "tcbEvaluationDataNumber", UINT32_MAX, &v, err)) < 0)
		return ward_err_prefix(err, "TCB info");
	ti->eval_number = (uint32_t)v;
	if (ti->tee == WARD_DCAP_TEE_TDX && (r = parse_modules(root, ti, err)) < 0)
		return ward_err_prefix(err, "TCB info");

	if ((r = get_member(root, "$", "tcbLevels", JSON_ARRAY, true, &arr, err)) < 0)
		return ward_err_prefix(err, "TCB info");
	n = json_array_size(arr);
	if (n == 0 || n > WARD_DCAP_MAX_TCB_LEVELS)
		return ward_err_set(err, -WARD_E_MALFORMED, "TCB info: %zu TCB levels", n);
	ti->levels = calloc(n, sizeof(*ti->levels));
	if (!ti->levels)
		return ward_err_set(err, -ENOMEM, "out of memory");
	json_array_foreach(arr, i, lv)
	{
		snprintf(p, sizeof(p), "$.tcbLevels[%zu]", i);
		r = parse_tcb_level(lv, p, ti, &ti->levels[i], err);
		ti->level_count = i + 1; /* so that free sees advisories set so far */
		if (r < 0)
			return ward_err_prefix(err, "TCB info");
	}
	*ret = WARD_TAKE_PTR(ti);
	return 0;
}

struct ward_dcap_qe_identity *ward_dcap_qe_identity_free(struct ward_dcap_qe_identity *q)
{
	if (!q)
		return NULL;
	isv_levels_free(q->levels, q->level_count);
	free(q);
	return NULL;
}

static void qe_identity_freep(struct ward_dcap_qe_identity **q)
{
	ward_dcap_qe_identity_free(*q);
}

int ward_dcap_qe_identity_parse(const char *text, size_t size, struct ward_dcap_qe_identity **ret,
				struct ward_err *err)
{
	WARD_CLEANUP(json_decrefp) json_t *root = NULL;
	WARD_CLEANUP(qe_identity_freep) struct ward_dcap_qe_identity *qi = NULL;
	const char *id;
	uint8_t b4[4];
	uint64_t v;
	int r;

	r = load_object(text, size, "QE identity", &root, err);
	if (r < 0)
		return r;
	qi = calloc(1, sizeof(*qi));
	if (!qi)
		return ward_err_set(err, -ENOMEM, "out of memory");
	if ((r = get_str(root, "$", "id", &id, err)) < 0)
		return ward_err_prefix(err, "QE identity");
	if (strcmp(id, "QE") == 0)
		qi->id = WARD_DCAP_QE_SGX;
	else if (strcmp(id, "TD_QE") == 0)
		qi->id = WARD_DCAP_QE_TD;
	else if (strcmp(id, "QVE") == 0)
		qi->id = WARD_DCAP_QE_QVE;
	else
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "QE identity: id \"%s\" unsupported",
				    id);
	if ((r = get_uint(root, "$", "version", 100, &v, err)) < 0)
		return ward_err_prefix(err, "QE identity");
	if (v != 2)
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "QE identity: version %llu unsupported", (unsigned long long)v);
	qi->version = 2;
	if ((r = get_time(root, "$", "issueDate", &qi->issue_date, err)) < 0 ||
	    (r = get_time(root, "$", "nextUpdate", &qi->next_update, err)) < 0 ||
	    (r = get_uint(root, "$", "tcbEvaluationDataNumber", UINT32_MAX, &v, err)) < 0)
		return ward_err_prefix(err, "QE identity");
	qi->eval_number = (uint32_t)v;
	/* MISCSELECT is a little-endian u32 in the report but big-endian hex here. */
	if ((r = get_hex(root, "$", "miscselect", b4, 4, err)) < 0)
		return ward_err_prefix(err, "QE identity");
	qi->miscselect =
	    (uint32_t)b4[0] << 24 | (uint32_t)b4[1] << 16 | (uint32_t)b4[2] << 8 | b4[3];
	if ((r = get_hex(root, "$", "miscselectMask", b4, 4, err)) < 0)
		return ward_err_prefix(err, "QE identity");
	qi->miscselect_mask =
	    (uint32_t)b4[0] << 24 | (uint32_t)b4[1] << 16 | (uint32_t)b4[2] << 8 | b4[3];
	if ((r = get_hex(root, "$", "attributes", qi->attributes, 16, err)) < 0 ||
	    (r = get_hex(root, "$", "attributesMask", qi->attributes_mask, 16, err)) < 0 ||
	    (r = get_hex(root, "$", "mrsigner", qi->mrsigner, 32, err)) < 0 ||
	    (r = get_uint(root, "$", "isvprodid", 65535, &v, err)) < 0)
		return ward_err_prefix(err, "QE identity");
	qi->isvprodid = (uint16_t)v;
	if ((r = parse_isv_levels(root, "$", &qi->levels, &qi->level_count, err)) < 0)
		return ward_err_prefix(err, "QE identity");
	*ret = WARD_TAKE_PTR(qi);
	return 0;
}

/* ---- PCS body splitting: find the exact bytes of the signed object ---- */

static void skip_ws(const char *s, size_t n, size_t *i)
{
	while (*i < n && (s[*i] == ' ' || s[*i] == '\t' || s[*i] == '\n' || s[*i] == '\r'))
		(*i)++;
}

/* Skip a JSON string starting at s[*i] == '"'; leaves *i after the quote. */
static int skip_string(const char *s, size_t n, size_t *i)
{
	if (*i >= n || s[*i] != '"')
		return -WARD_E_MALFORMED;
	for ((*i)++; *i < n; (*i)++) {
		if (s[*i] == '\\') {
			(*i)++;
			continue;
		}
		if (s[*i] == '"') {
			(*i)++;
			return 0;
		}
	}
	return -WARD_E_MALFORMED;
}

/* Skip one JSON value (structure only; jansson validates it afterwards). */
static int skip_value(const char *s, size_t n, size_t *i)
{
	size_t depth = 0;

	skip_ws(s, n, i);
	if (*i >= n)
		return -WARD_E_MALFORMED;
	if (s[*i] == '"')
		return skip_string(s, n, i);
	if (s[*i] != '{' && s[*i] != '[') {
		while (*i < n && s[*i] != ',' && s[*i] != '}' && s[*i] != ']' && s[*i] != ' ' &&
		       s[*i] != '\n' && s[*i] != '\r' && s[*i] != '\t')
			(*i)++;
		return 0;
	}
	while (*i < n) {
		char ch = s[*i];

		if (ch == '"') {
			if (skip_string(s, n, i) < 0)
				return -WARD_E_MALFORMED;
			continue;
		}
		if (ch == '{' || ch == '[') {
			if (++depth > WARD_DER_MAX_DEPTH * 2)
				return -WARD_E_MALFORMED;
		} else if (ch == '}' || ch == ']') {
			if (--depth == 0) {
				(*i)++;
				return 0;
			}
		}
		(*i)++;
	}
	return -WARD_E_MALFORMED;
}

int ward_dcap_pcs_body_split(const char *body, size_t size, const char *key, size_t *ret_offset,
			     size_t *ret_len, uint8_t sig[64], struct ward_err *err)
{
	WARD_CLEANUP(json_decrefp) json_t *root = NULL;
	const char *k;
	json_t *v = NULL;
	size_t i = 0, off = 0, len = 0, found_off = 0;
	bool found = false;
	int r;

	/* First the whole body must be valid JSON with exactly the two keys. */
	r = load_object(body, size, key, &root, err);
	if (r < 0)
		return r;
	json_object_foreach(root, k, v)
	{
		if (strcmp(k, key) != 0 && strcmp(k, "signature") != 0)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "%s body: unexpected key \"%s\"", key, k);
	}
	if (!json_is_object(json_object_get(root, key)))
		return ward_err_set(err, -WARD_E_MALFORMED, "%s body: \"%s\" object missing", key,
				    key);
	v = json_object_get(root, "signature");
	if (!json_is_string(v) ||
	    ward_hex_decode_fixed(json_string_value(v), json_string_length(v), sig, 64, NULL) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "%s body: signature must be 64 bytes of hex", key);

	/* Then locate the member's value text. The body parsed above, so this
	 * scan sees well-formed JSON; keys are compared on their raw text, and
	 * an escaped spelling of the key simply is not found (fail closed). */
	skip_ws(body, size, &i);
	if (i >= size || body[i] != '{')
		return ward_err_set(err, -WARD_E_MALFORMED, "%s body: not an object", key);
	i++;
	for (;;) {
		size_t kstart, kend;

		skip_ws(body, size, &i);
		kstart = i;
		if (skip_string(body, size, &i) < 0)
			return ward_err_set(err, -WARD_E_MALFORMED, "%s body: bad key", key);
		kend = i;
		skip_ws(body, size, &i);
		if (i >= size || body[i] != ':')
			return ward_err_set(err, -WARD_E_MALFORMED, "%s body: expected ':'", key);
		i++;
		skip_ws(body, size, &i);
		off = i;
		if (skip_value(body, size, &i) < 0)
			return ward_err_set(err, -WARD_E_MALFORMED, "%s body: bad value", key);
		if (kend - kstart == strlen(key) + 2 &&
		    memcmp(body + kstart + 1, key, strlen(key)) == 0) {
			found_off = off;
			len = i - off;
			found = true;
		}
		skip_ws(body, size, &i);
		if (i < size && body[i] == ',') {
			i++;
			continue;
		}
		break;
	}
	if (!found)
		return ward_err_set(err, -WARD_E_MALFORMED, "%s body: \"%s\" not found", key, key);
	*ret_offset = found_off;
	*ret_len = len;
	return 0;
}
