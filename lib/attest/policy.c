/* SPDX-License-Identifier: Apache-2.0 */
/* Attestation policy: which verified claims are acceptable. Evaluated over
 * the normalized claims object, so it does not depend on the evidence
 * format. Every check runs and every failure is named. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ward/attest.h"
#include "ward/cleanup.h"
#include "ward/encoding.h"
#include "ward/file.h"
#include "ward/json.h"

#define TCB_FIELDS 5
static const char *const tcb_names[TCB_FIELDS] = {"bl", "tee", "snp", "ucode", "fmc"};

struct ward_attest_policy {
	char **measurements; /* lowercase hex, owned */
	size_t measurement_count;
	bool has_min_tcb;
	int min_tcb[TCB_FIELDS]; /* -1: not constrained */
	bool allow_debug_insecure;
	bool has_max_vmpl;
	int64_t max_vmpl;
	char *report_data; /* lowercase hex, 64 bytes (zero-padded), owned */
	char *host_data;   /* lowercase hex, 32 bytes, owned */
	bool has_min_guest_svn;
	int64_t min_guest_svn;
	bool tees_set;
	bool tee_snp, tee_sim, tee_tdx, tee_sgx; /* accepted TEEs (default: snp, tdx, sgx) */
	unsigned tcb_statuses; /* bit per entry of tcb_status_names; 0: the default set */
	bool allow_outdated_tcb_insecure;
	char **advisories; /* accepted advisory IDs (NULL: not checked), owned */
	size_t advisory_count;
	bool signing_keys_set;
	bool allow_vcek, allow_vlek;
};

struct ward_attest_policy *ward_attest_policy_free(struct ward_attest_policy *p)
{
	if (!p)
		return NULL;
	for (size_t i = 0; i < p->measurement_count; i++)
		free(p->measurements[i]);
	free(p->measurements);
	for (size_t i = 0; i < p->advisory_count; i++)
		free(p->advisories[i]);
	free(p->advisories);
	free(p->report_data);
	free(p->host_data);
	free(p);
	return NULL;
}

/* Decode hex of at most max bytes, re-encode lowercase, zero-padded to pad
 * bytes when pad > 0 (exact length max otherwise). */
static int norm_hex(const char *s, const char *where, size_t max, bool pad, char **ret,
		    struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *raw = NULL;
	uint8_t full[64] = {0};
	size_t n;
	int r;

	r = ward_hex_decode(s, strlen(s), &raw, &n, err);
	if (r < 0)
		return ward_err_prefix(err, "policy %s", where);
	if (pad ? (n == 0 || n > max) : n != max)
		return ward_err_set(err, -WARD_E_MALFORMED, "policy %s: %zu bytes, expected %s%zu",
				    where, n, pad ? "1 to " : "", max);
	memcpy(full, raw, n);
	*ret = ward_hex_encode_alloc(full, max);
	if (!*ret)
		return ward_err_set(err, -ENOMEM, "out of memory");
	return 0;
}

/* Intel TCB statuses as the DCAP verifier names them. The first six are
 * acceptable by default; OutOfDate ones only with allow_outdated_tcb_insecure
 * (the platform has known, fixed vulnerabilities). */
static const char *const tcb_status_names[] = {
	"UpToDate",
	"SWHardeningNeeded",
	"ConfigurationNeeded",
	"ConfigurationAndSWHardeningNeeded",
	"TDRelaunchAdvised",
	"TDRelaunchAdvisedConfigurationNeeded",
	"OutOfDate",
	"OutOfDateConfigurationNeeded",
	NULL,
};
#define TCB_STATUS_DEFAULT 0x3fu
#define TCB_STATUS_OUTDATED 0xc0u

static int parse_min_tcb(struct ward_attest_policy *p, json_t *o, struct ward_err *err)
{
	const char *key;
	json_t *v;

	if (!json_is_object(o))
		return ward_err_set(err, -WARD_E_MALFORMED, "policy min_tcb: expected an object");
	p->has_min_tcb = true;
	json_object_foreach(o, key, v)
	{
		size_t i;

		for (i = 0; i < TCB_FIELDS; i++)
			if (strcmp(key, tcb_names[i]) == 0)
				break;
		if (i == TCB_FIELDS)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "policy min_tcb: unknown component '%s' (bl, tee, snp, "
					    "ucode, fmc)",
					    key);
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 255)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "policy min_tcb.%s: expected an integer 0..255", key);
		p->min_tcb[i] = (int)json_integer_value(v);
	}
	return 0;
}

static int parse_string_set(json_t *a, const char *where, const char *const *allowed, bool *flags,
			    struct ward_err *err)
{
	size_t i;
	json_t *v;

	if (!json_is_array(a) || json_array_size(a) == 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "policy %s: expected a non-empty array",
				    where);
	json_array_foreach(a, i, v)
	{
		size_t k;

		for (k = 0; allowed[k]; k++)
			if (json_is_string(v) && strcmp(json_string_value(v), allowed[k]) == 0)
				break;
		if (!allowed[k])
			return ward_err_set(err, -WARD_E_MALFORMED, "policy %s[%zu]: unknown value",
					    where, i);
		flags[k] = true;
	}
	return 0;
}

int ward_attest_policy_parse(const void *buf, size_t size, struct ward_attest_policy **ret,
			     struct ward_err *err)
{
	WARD_CLEANUP(ward_attest_policy_freep) struct ward_attest_policy *p = NULL;
	WARD_CLEANUP(json_decrefp) json_t *j = NULL;
	const char *key;
	json_t *v;
	int r;

	if (size > WARD_ATTEST_POLICY_MAX_SIZE)
		return ward_err_set(err, -WARD_E_TOO_BIG, "policy: %zu bytes exceeds %u", size,
				    WARD_ATTEST_POLICY_MAX_SIZE);
	r = ward_json_parse(buf, size, WARD_ATTEST_POLICY_MAX_SIZE, &j, err);
	if (r < 0)
		return ward_err_prefix(err, "policy");
	if (!json_is_object(j))
		return ward_err_set(err, -WARD_E_MALFORMED, "policy: expected a JSON object");
	p = calloc(1, sizeof(*p));
	if (!p)
		return ward_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < TCB_FIELDS; i++)
		p->min_tcb[i] = -1;

	json_object_foreach(j, key, v)
	{
		if (strcmp(key, "measurements") == 0) {
			size_t i;
			json_t *m;

			if (!json_is_array(v) ||
			    json_array_size(v) > WARD_ATTEST_POLICY_MAX_MEASUREMENTS)
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "policy measurements: expected an array of at "
						    "most %u hex strings",
						    WARD_ATTEST_POLICY_MAX_MEASUREMENTS);
			p->measurements = calloc(json_array_size(v) + 1, sizeof(char *));
			if (!p->measurements)
				return ward_err_set(err, -ENOMEM, "out of memory");
			json_array_foreach(v, i, m)
			{
				char where[40];

				snprintf(where, sizeof(where), "measurements[%zu]", i);
				if (!json_is_string(m))
					return ward_err_set(err, -WARD_E_MALFORMED,
							    "policy %s: expected a hex string",
							    where);
				/* SNP measurements and TDX MRTD are 48 bytes, SGX
				 * MRENCLAVE 32. */
				const char *hex = json_string_value(m);
				r = norm_hex(hex, where, strlen(hex) == 64 ? 32 : 48, false,
					     &p->measurements[i], err);
				if (r < 0)
					return r;
				p->measurement_count++;
			}
		} else if (strcmp(key, "min_tcb") == 0) {
			r = parse_min_tcb(p, v, err);
			if (r < 0)
				return r;
		} else if (strcmp(key, "allow_debug_insecure") == 0) {
			if (!json_is_boolean(v))
				return ward_err_set(
				    err, -WARD_E_MALFORMED,
				    "policy allow_debug_insecure: expected a boolean");
			p->allow_debug_insecure = json_is_true(v);
		} else if (strcmp(key, "max_vmpl") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > 3)
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "policy max_vmpl: expected an integer 0..3");
			p->has_max_vmpl = true;
			p->max_vmpl = json_integer_value(v);
		} else if (strcmp(key, "min_guest_svn") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > UINT32_MAX)
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "policy min_guest_svn: expected an integer");
			p->has_min_guest_svn = true;
			p->min_guest_svn = json_integer_value(v);
		} else if (strcmp(key, "report_data") == 0 || strcmp(key, "host_data") == 0) {
			bool rd = key[0] == 'r';

			if (!json_is_string(v))
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "policy %s: expected a hex string", key);
			r = norm_hex(json_string_value(v), key, rd ? 64 : 32, rd,
				     rd ? &p->report_data : &p->host_data, err);
			if (r < 0)
				return r;
		} else if (strcmp(key, "tees") == 0) {
			static const char *const tees[] = {"snp", "sim", "tdx", "sgx", NULL};
			bool flags[4] = {false, false, false, false};

			r = parse_string_set(v, key, tees, flags, err);
			if (r < 0)
				return r;
			p->tees_set = true;
			p->tee_snp = flags[0];
			p->tee_sim = flags[1];
			p->tee_tdx = flags[2];
			p->tee_sgx = flags[3];
		} else if (strcmp(key, "tcb_statuses") == 0) {
			bool flags[8] = {false};

			r = parse_string_set(v, key, tcb_status_names, flags, err);
			if (r < 0)
				return r;
			for (unsigned k = 0; k < 8; k++)
				if (flags[k])
					p->tcb_statuses |= 1u << k;
		} else if (strcmp(key, "allow_outdated_tcb_insecure") == 0) {
			if (!json_is_boolean(v))
				return ward_err_set(
				    err, -WARD_E_MALFORMED,
				    "policy allow_outdated_tcb_insecure: expected a boolean");
			p->allow_outdated_tcb_insecure = json_is_true(v);
		} else if (strcmp(key, "accepted_advisories") == 0) {
			size_t i;
			json_t *a;

			if (!json_is_array(v) || json_array_size(v) > 256)
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "policy accepted_advisories: expected an array of "
						    "at most 256 strings");
			p->advisories = calloc(json_array_size(v) + 1, sizeof(char *));
			if (!p->advisories)
				return ward_err_set(err, -ENOMEM, "out of memory");
			json_array_foreach(v, i, a)
			{
				if (!json_is_string(a) || json_string_length(a) == 0 ||
				    json_string_length(a) > 64)
					return ward_err_set(err, -WARD_E_MALFORMED,
							    "policy accepted_advisories[%zu]: "
							    "expected an advisory ID",
							    i);
				p->advisories[i] = strdup(json_string_value(a));
				if (!p->advisories[i])
					return ward_err_set(err, -ENOMEM, "out of memory");
				p->advisory_count++;
			}
		} else if (strcmp(key, "signing_keys") == 0) {
			static const char *const keys[] = {"vcek", "vlek", NULL};
			bool flags[2] = {false, false};

			r = parse_string_set(v, key, keys, flags, err);
			if (r < 0)
				return r;
			p->signing_keys_set = true;
			p->allow_vcek = flags[0];
			p->allow_vlek = flags[1];
		} else {
			return ward_err_set(err, -WARD_E_MALFORMED, "policy: unknown key '%s'",
					    key);
		}
	}
	*ret = WARD_TAKE_PTR(p);
	return 0;
}

int ward_attest_policy_load(const char *path, struct ward_attest_policy **ret, struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *raw = NULL;
	size_t size;
	int r;

	r = ward_file_read(path, WARD_ATTEST_POLICY_MAX_SIZE, &raw, &size, err);
	if (r < 0)
		return ward_err_prefix(err, "policy '%s'", path);
	r = ward_attest_policy_parse(raw, size, ret, err);
	if (r < 0)
		return ward_err_prefix(err, "policy '%s'", path);
	return 0;
}

struct verdict {
	json_t *failed; /* array */
	char summary[WARD_ERR_MSG_MAX];
	bool oom;
};

static void fail(struct verdict *v, const char *check, const char *fmt, ...) WARD_PRINTF(3, 4);
static void fail(struct verdict *v, const char *check, const char *fmt, ...)
{
	char reason[256];
	size_t len = strlen(v->summary);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (json_array_append_new(v->failed,
				  json_pack("{s:s, s:s}", "check", check, "reason", reason)) < 0)
		v->oom = true;
	/* Name each failed check once in the summary. */
	if (!strstr(v->summary, check))
		snprintf(v->summary + len, sizeof(v->summary) - len, "%s%s", len ? ", " : "",
			 check);
}

static const char *claim_str(const json_t *claims, const char *key)
{
	return json_string_value(json_object_get(claims, key));
}

int ward_attest_policy_check(const struct ward_attest_policy *p, const json_t *claims,
			     json_t **ret_verdict, struct ward_err *err)
{
	struct verdict v = {.failed = json_array()};
	WARD_CLEANUP(json_decrefp) json_t *failed = v.failed;
	const char *s;
	json_t *j;
	bool ok;

	if (!failed)
		return ward_err_set(err, -ENOMEM, "out of memory");
	if (!json_is_object(claims))
		return ward_err_set(err, -WARD_E_USAGE, "policy check: claims are not an object");

	if (!json_is_true(json_object_get(claims, "verified")))
		fail(&v, "verified", "the evidence has not been verified");
	/* Insecure (simulated) evidence is acceptable only when the policy
	 * names the sim TEE explicitly. */
	s = claim_str(claims, "tee");
	if (!json_is_false(json_object_get(claims, "insecure")) &&
	    !(p->tee_sim && s && strcmp(s, "sim") == 0))
		fail(&v, "insecure",
		     "the evidence comes from an insecure (simulated) TEE, which the policy "
		     "does not accept");
	if (!(s && ((strcmp(s, "snp") == 0 && (!p->tees_set || p->tee_snp)) ||
		    (strcmp(s, "tdx") == 0 && (!p->tees_set || p->tee_tdx)) ||
		    (strcmp(s, "sgx") == 0 && (!p->tees_set || p->tee_sgx)) ||
		    (strcmp(s, "sim") == 0 && p->tee_sim))))
		fail(&v, "tee", "TEE '%s' is not accepted", s ? s : "?");

	/* Intel TCB status and advisories (TDX/SGX claims carry "tcb"). */
	j = json_object_get(json_object_get(claims, "tcb"), "status");
	if (j) {
		unsigned accepted = p->tcb_statuses ? p->tcb_statuses : TCB_STATUS_DEFAULT;
		const char *st = json_string_value(j);
		size_t k;

		if (p->allow_outdated_tcb_insecure)
			accepted |= TCB_STATUS_OUTDATED;
		else
			accepted &= ~TCB_STATUS_OUTDATED;
		for (k = 0; st && tcb_status_names[k]; k++)
			if (strcmp(st, tcb_status_names[k]) == 0)
				break;
		if (!st || !tcb_status_names[k] || !(accepted & (1u << k)))
			fail(&v, "tcb_status", "TCB status %s is not accepted%s", st ? st : "?",
			     st && tcb_status_names[k] && (TCB_STATUS_OUTDATED & (1u << k))
				 ? " (an out-of-date TCB needs allow_outdated_tcb_insecure)"
				 : "");
	}
	if (p->advisories) {
		json_t *ids = json_object_get(json_object_get(claims, "tcb"), "advisory_ids");
		size_t k;
		json_t *id;

		json_array_foreach(ids, k, id)
		{
			bool ok_id = false;

			for (size_t a = 0; a < p->advisory_count && json_is_string(id); a++)
				if (strcmp(json_string_value(id), p->advisories[a]) == 0)
					ok_id = true;
			if (!ok_id)
				fail(&v, "advisories", "advisory %s is not accepted",
				     json_is_string(id) ? json_string_value(id) : "?");
		}
	}

	if (p->measurements) {
		bool found = false;

		s = claim_str(claims, "measurement");
		for (size_t i = 0; s && i < p->measurement_count; i++)
			if (strcmp(s, p->measurements[i]) == 0)
				found = true;
		if (!found)
			fail(&v, "measurement", "measurement %s is not in the accepted list",
			     s ? s : "(none)");
	}

	if (p->has_min_tcb) {
		const json_t *tcb = json_object_get(claims, "reported_tcb");

		for (size_t i = 0; i < TCB_FIELDS; i++) {
			json_t *c;

			if (p->min_tcb[i] < 0)
				continue;
			c = json_object_get(tcb, tcb_names[i]);
			if (!json_is_integer(c)) {
				/* fmc exists only on Turin: absent means the
				 * platform has no such component. */
				if (strcmp(tcb_names[i], "fmc") == 0 && tcb)
					continue;
				fail(&v, "min_tcb", "reported TCB has no %s component",
				     tcb_names[i]);
			} else if (json_integer_value(c) < p->min_tcb[i]) {
				fail(&v, "min_tcb", "reported TCB %s is %lld, minimum is %d",
				     tcb_names[i], (long long)json_integer_value(c), p->min_tcb[i]);
			}
		}
	}

	j = json_object_get(claims, "debug");
	if (!p->allow_debug_insecure && !json_is_false(j))
		fail(&v, "debug",
		     "the guest policy allows debugging (its memory is readable by "
		     "the host)");

	if (p->has_max_vmpl) {
		j = json_object_get(claims, "vmpl");
		if (!json_is_integer(j) || json_integer_value(j) > p->max_vmpl)
			fail(&v, "vmpl", "VMPL %lld exceeds the maximum %lld",
			     json_is_integer(j) ? (long long)json_integer_value(j) : -1LL,
			     (long long)p->max_vmpl);
	}

	if (p->has_min_guest_svn) {
		j = json_object_get(claims, "guest_svn");
		if (!json_is_integer(j) || json_integer_value(j) < p->min_guest_svn)
			fail(&v, "guest_svn", "guest SVN %lld is below the minimum %lld",
			     json_is_integer(j) ? (long long)json_integer_value(j) : -1LL,
			     (long long)p->min_guest_svn);
	}

	if (p->report_data) {
		s = claim_str(claims, "report_data");
		if (!s || strcmp(s, p->report_data) != 0)
			fail(&v, "report_data", "report data %s differs from the expected %s",
			     s ? s : "(none)", p->report_data);
	}
	if (p->host_data) {
		s = claim_str(claims, "host_data");
		if (!s || strcmp(s, p->host_data) != 0)
			fail(&v, "host_data", "host data %s differs from the expected %s",
			     s ? s : "(none)", p->host_data);
	}
	if (p->signing_keys_set) {
		s = claim_str(claims, "signing_key");
		if (!s || !((strcmp(s, "vcek") == 0 && p->allow_vcek) ||
			    (strcmp(s, "vlek") == 0 && p->allow_vlek)))
			fail(&v, "signing_key", "signing key '%s' is not accepted", s ? s : "?");
	}

	if (v.oom)
		return ward_err_set(err, -ENOMEM, "out of memory");
	ok = json_array_size(failed) == 0;
	if (ret_verdict) {
		json_t *verdict = json_pack("{s:b, s:O}", "ok", ok, "failed", failed);

		if (!verdict)
			return ward_err_set(err, -ENOMEM, "out of memory");
		*ret_verdict = verdict;
	}
	if (!ok)
		return ward_err_set(err, -WARD_E_POLICY, "policy not met: %s", v.summary);
	return 0;
}
