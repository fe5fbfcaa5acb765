/* SPDX-License-Identifier: Apache-2.0 */
/* KBS protocol request bodies (Trustee kbs_attestation_protocol.md). */
#include <errno.h>
#include <string.h>

#include "ward/cleanup.h"
#include "ward/coord.h"
#include "ward/json.h"
#include "ward/util.h"

#define KBS_BODY_MAX (1u << 20)

int ward_kbs_parse_request(const void *buf, size_t size, enum ward_tee_type *ret_tee,
			   struct ward_err *err)
{
	static const char *const keys[] = {"version", "tee", "extra-params", NULL};
	static const struct {
		const char *name;
		enum ward_tee_type tee;
	} map[] = {{"snp", WARD_TEE_SNP},      {"amd-sev-snp", WARD_TEE_SNP}, {"sim", WARD_TEE_SIM},
		   {"tdx", WARD_TEE_TDX},      {"intel-tdx", WARD_TEE_TDX},   {"sgx", WARD_TEE_SGX},
		   {"intel-sgx", WARD_TEE_SGX}};
	WARD_AUTOJSON json_t *j = NULL;
	const char *version, *tee;
	int r;

	r = ward_json_parse(buf, size, KBS_BODY_MAX, &j, err);
	if (r >= 0)
		r = ward_json_check_keys(j, "$", keys, err);
	if (r >= 0)
		r = ward_json_get_string(j, "$", "version", true, &version, err);
	if (r >= 0)
		r = ward_json_get_string(j, "$", "tee", true, &tee, err);
	if (r < 0)
		return ward_err_prefix(err, "KBS request");
	if (!ward_startswith(version, "0."))
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "KBS request: protocol version \"%.32s\" unsupported", version);
	for (size_t i = 0; i < WARD_ARRAY_SIZE(map); i++)
		if (strcmp(map[i].name, tee) == 0) {
			*ret_tee = map[i].tee;
			return 0;
		}
	return ward_err_set(err, -WARD_E_UNSUPPORTED, "KBS request: unknown tee \"%.32s\"", tee);
}

void ward_kbs_attestation_clear(struct ward_kbs_attestation *a)
{
	json_decref(a->root);
	json_decref(a->evidence_owned);
	*a = (struct ward_kbs_attestation){0};
}

int ward_kbs_parse_attestation(const void *buf, size_t size, struct ward_kbs_attestation *ret,
			       struct ward_err *err)
{
	struct ward_kbs_attestation a = {0};
	json_t *rt = NULL, *ev;
	int r;

	r = ward_json_parse(buf, size, KBS_BODY_MAX, &a.root, err);
	if (r < 0)
		return ward_err_prefix(err, "KBS attestation");
	if (!json_is_object(a.root)) {
		ward_kbs_attestation_clear(&a);
		return ward_err_set(err, -WARD_E_MALFORMED, "KBS attestation: expected an object");
	}
	r = ward_json_get_object(a.root, "$", "runtime-data", false, &rt, err);
	if (r >= 0 && rt)
		r = ward_json_get_string(rt, "$.runtime-data", "nonce", true, &a.nonce, err);
	if (r >= 0) {
		a.tee_pubkey = json_object_get(rt ? rt : a.root, "tee-pubkey");
		ev = json_object_get(a.root, "tee-evidence");
		if (!json_is_object(a.tee_pubkey))
			r = ward_err_set(err, -WARD_E_MALFORMED,
					 "KBS attestation: tee-pubkey must be a JWK object");
		else if (json_is_string(ev)) {
			r = ward_json_parse(json_string_value(ev), json_string_length(ev),
					    KBS_BODY_MAX, &a.evidence_owned, err);
			a.evidence = a.evidence_owned;
		} else {
			a.evidence = ev;
		}
		if (r >= 0 && !json_is_object(a.evidence))
			r = ward_err_set(err, -WARD_E_MALFORMED,
					 "KBS attestation: tee-evidence must be an object");
	}
	if (r < 0) {
		ward_kbs_attestation_clear(&a);
		return ward_err_prefix(err, "KBS attestation");
	}
	*ret = a;
	return 0;
}
