/* SPDX-License-Identifier: Apache-2.0 */
/* The evidence layer over Intel quotes and RA-TLS certificates, the Intel
 * parts of the policy, and the SNP chain cache's time window. */
#include <time.h>

#include "ward-test.h"
#include "ward/attest.h"
#include "ward/cleanup.h"
#include "ward/file.h"
#include "ward/util.h"

static time_t at(const char *s)
{
	time_t t;

	if (ward_time_parse_rfc3339(s, &t, NULL) < 0)
		abort();
	return t;
}

/* ward_test_vector() returns a static buffer: keep a copy. */
static char *vec(const char *rel)
{
	const char *p = ward_test_vector(rel);

	return p ? strdup(p) : NULL;
}

static struct ward_dcap_collateral *qvl(const char *rel)
{
	const char *path = ward_test_vector(rel);
	struct ward_dcap_collateral *c = NULL;

	if (!path || ward_dcap_collateral_load_qvl_json(path, &c, NULL) < 0)
		return NULL;
	return c;
}

static const char *claim(const json_t *claims, const char *obj, const char *key)
{
	const json_t *o = obj ? json_object_get(claims, obj) : claims;

	return json_string_value(json_object_get(o, key));
}

WARD_TEST(tdx_quote_through_evidence_layer)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOFREE char *path = vec("tdx/v4-uptodate-dcapqvl/quote.dat");
	WARD_CLEANUP(ward_evidence_freep) struct ward_evidence *ev = NULL;
	WARD_CLEANUP(ward_dcap_collateral_freep) struct ward_dcap_collateral *c =
		qvl("tdx/v4-uptodate-dcapqvl/collateral.json");
	WARD_CLEANUP(ward_attest_policy_freep) struct ward_attest_policy *p = NULL;
	json_auto_t *claims = NULL;
	json_auto_t *shown = NULL;
	struct ward_attest_opts o = {.at = at("2025-07-19T10:00:34Z"), .dcap = c};
	static const char mrtd[] = "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407"
				   "de03ae6dc5f87f27428b2538873118b7";
	char pol[256];

	if (!path || !c) {
		fprintf(stderr, "SKIP: TDX vectors not available\n");
		return;
	}
	CHECK_OK(ward_evidence_load(path, WARD_TEE_NONE, &ev, &err), &err);
	CHECK_INT(ev->tee, ==, WARD_TEE_TDX);
	CHECK_INT(ev->format, ==, WARD_EVIDENCE_DCAP_QUOTE);
	CHECK_OK(ward_evidence_claims(ev, &shown, &err), &err);
	CHECK(json_is_false(json_object_get(shown, "verified")));
	CHECK_STR(claim(shown, NULL, "measurement"), mrtd);
	CHECK_OK(ward_evidence_verify(ev, &o, &claims, &err), &err);
	CHECK_STR(claim(claims, NULL, "tee"), "tdx");
	CHECK_STR(claim(claims, NULL, "measurement"), mrtd);
	CHECK_STR(claim(claims, "tcb", "status"), "UpToDate");
	CHECK_STR(claim(claims, NULL, "evidence_format"), "dcap-quote");

	/* policy: the measurement, TDX accepted */
	snprintf(pol, sizeof(pol), "{\"tees\":[\"tdx\"],\"measurements\":[\"%s\"]}", mrtd);
	CHECK_OK(ward_attest_policy_parse(pol, strlen(pol), &p, &err), &err);
	CHECK_OK(ward_attest_policy_check(p, claims, NULL, &err), &err);
	ward_attest_policy_free(WARD_TAKE_PTR(p));
	/* ... an SNP-only policy refuses it */
	CHECK_OK(ward_attest_policy_parse("{\"tees\":[\"snp\"]}", strlen("{\"tees\":[\"snp\"]}"), &p, &err), &err);
	CHECK_ERR(ward_attest_policy_check(p, claims, NULL, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "tee");
	ward_attest_policy_free(WARD_TAKE_PTR(p));
	/* ... a TCB status allow-list without UpToDate refuses it */
	CHECK_OK(ward_attest_policy_parse("{\"tcb_statuses\":[\"SWHardeningNeeded\"]}", strlen("{\"tcb_statuses\":[\"SWHardeningNeeded\"]}"), &p, &err),
		 &err);
	CHECK_ERR(ward_attest_policy_check(p, claims, NULL, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "tcb_status");

	/* collateral missing, or expired one day after the window */
	o.dcap = NULL;
	json_decref(WARD_TAKE_PTR(claims));
	CHECK_ERR(ward_evidence_verify(ev, &o, &claims, &err), -WARD_E_NOT_FOUND);
	CHECK_MSG(&err, "collateral");
	o.dcap = c;
	o.at = at("2025-07-20T10:00:35Z");
	CHECK_ERR(ward_evidence_verify(ev, &o, &claims, &err), -WARD_E_EXPIRED);
	/* an SNP-only request refuses a quote */
	ward_evidence_free(WARD_TAKE_PTR(ev));
	CHECK_ERR(ward_evidence_load(path, WARD_TEE_SNP, &ev, &err), -WARD_E_MALFORMED);
	CHECK_ERR(ward_evidence_load(path, WARD_TEE_SGX, &ev, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "tdx quote");
}

WARD_TEST(sgx_policy_statuses_and_advisories)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOFREE char *path = vec("sgx/v3-dcapqvl/quote.dat");
	WARD_CLEANUP(ward_evidence_freep) struct ward_evidence *ev = NULL;
	WARD_CLEANUP(ward_dcap_collateral_freep) struct ward_dcap_collateral *c =
		qvl("sgx/v3-dcapqvl/collateral.json");
	WARD_CLEANUP(ward_attest_policy_freep) struct ward_attest_policy *p = NULL;
	json_auto_t *claims = NULL;
	struct ward_attest_opts o = {.at = at("2025-07-19T10:01:17Z"), .dcap = c};
	static const char ok_adv[] =
		"{\"accepted_advisories\":[\"INTEL-SA-00289\",\"INTEL-SA-00615\"],"
		"\"measurements\":[\"33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb\"]}";

	if (!path || !c) {
		fprintf(stderr, "SKIP: SGX vectors not available\n");
		return;
	}
	CHECK_OK(ward_evidence_load(path, WARD_TEE_SGX, &ev, &err), &err);
	CHECK_OK(ward_evidence_verify(ev, &o, &claims, &err), &err);
	CHECK_STR(claim(claims, "tcb", "status"), "ConfigurationAndSWHardeningNeeded");
	/* default policy: this status is acceptable (not out of date) */
	CHECK_OK(ward_attest_policy_parse("{}", strlen("{}"), &p, &err), &err);
	CHECK_OK(ward_attest_policy_check(p, claims, NULL, &err), &err);
	ward_attest_policy_free(WARD_TAKE_PTR(p));
	/* both advisories accepted, 32-byte MRENCLAVE measurement */
	CHECK_OK(ward_attest_policy_parse(ok_adv, strlen(ok_adv), &p, &err), &err);
	CHECK_OK(ward_attest_policy_check(p, claims, NULL, &err), &err);
	ward_attest_policy_free(WARD_TAKE_PTR(p));
	/* one advisory not accepted: named */
	CHECK_OK(ward_attest_policy_parse("{\"accepted_advisories\":[\"INTEL-SA-00289\"]}", strlen("{\"accepted_advisories\":[\"INTEL-SA-00289\"]}"), &p,
					  &err), &err);
	CHECK_ERR(ward_attest_policy_check(p, claims, NULL, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "advisories");
	ward_attest_policy_free(WARD_TAKE_PTR(p));
	/* bad policy values */
	CHECK_ERR(ward_attest_policy_parse("{\"tcb_statuses\":[\"Fine\"]}", strlen("{\"tcb_statuses\":[\"Fine\"]}"), &p, &err),
		  -WARD_E_MALFORMED);
	CHECK_ERR(ward_attest_policy_parse("{\"allow_outdated_tcb_insecure\":1}", strlen("{\"allow_outdated_tcb_insecure\":1}"), &p, &err),
		  -WARD_E_MALFORMED);
	CHECK_ERR(ward_attest_policy_parse("{\"accepted_advisories\":[7]}", strlen("{\"accepted_advisories\":[7]}"), &p, &err),
		  -WARD_E_MALFORMED);
}

WARD_TEST(outdated_tcb_needs_insecure_switch)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_attest_policy_freep) struct ward_attest_policy *p = NULL;
	static const char c_json[] = "{\"tee\":\"tdx\",\"verified\":true,\"insecure\":false,"
				     "\"debug\":false,\"tcb\":{\"status\":\"OutOfDate\"}}";
	json_auto_t *claims = json_loads(c_json, 0, NULL);

	CHECK(claims != NULL);
	CHECK_OK(ward_attest_policy_parse("{}", strlen("{}"), &p, &err), &err);
	CHECK_ERR(ward_attest_policy_check(p, claims, NULL, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "tcb_status");
	ward_attest_policy_free(WARD_TAKE_PTR(p));
	/* listing OutOfDate alone does not weaken the check ... */
	CHECK_OK(ward_attest_policy_parse("{\"tcb_statuses\":[\"OutOfDate\"]}", strlen("{\"tcb_statuses\":[\"OutOfDate\"]}"), &p, &err), &err);
	CHECK_ERR(ward_attest_policy_check(p, claims, NULL, &err), -WARD_E_POLICY);
	ward_attest_policy_free(WARD_TAKE_PTR(p));
	/* ... only the switch named insecure does */
	CHECK_OK(ward_attest_policy_parse("{\"allow_outdated_tcb_insecure\":true}", strlen("{\"allow_outdated_tcb_insecure\":true}"), &p, &err),
		 &err);
	CHECK_OK(ward_attest_policy_check(p, claims, NULL, &err), &err);
}

WARD_TEST(ratls_certificate_through_evidence_layer)
{
	struct ward_err err = WARD_ERR_INIT;
	const char *path = ward_test_vector("ratls/gramine-legacy-oid-konvera/cert.pem");
	WARD_CLEANUP(ward_evidence_freep) struct ward_evidence *ev = NULL;
	json_auto_t *shown = NULL;
	json_auto_t *claims = NULL;
	struct ward_attest_opts o = {.at = at("2024-06-01T00:00:00Z")};

	if (!path) {
		fprintf(stderr, "SKIP: RA-TLS vector not available\n");
		return;
	}
	CHECK_OK(ward_evidence_load(path, WARD_TEE_NONE, &ev, &err), &err);
	CHECK_INT(ev->format, ==, WARD_EVIDENCE_RATLS_CERT);
	CHECK_INT(ev->tee, ==, WARD_TEE_SGX);
	CHECK_OK(ward_evidence_claims(ev, &shown, &err), &err);
	CHECK_STR(claim(shown, "measurements", "mrenclave"),
		  "f94ccbe6a504676b2edbefdcb8781a512913f7d8864c6f88592a843d0f9d4a66");
	CHECK_ERR(ward_evidence_verify(ev, &o, &claims, &err), -WARD_E_NOT_FOUND);
}

/* A cached chain answer holds only inside the chain's validity: the same
 * report verified again after the VCEK expired must fail. */
WARD_TEST(snp_chain_cache_respects_validity)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOFREE char *rep = vec("snp/milan-v2-trustee/report.bin");
	WARD_AUTOFREE char *vcek = vec("snp/milan-v2-trustee/vcek.der");
	WARD_CLEANUP(ward_evidence_freep) struct ward_evidence *ev = NULL;
	struct ward_attest_opts o = {.at = at("2024-01-01T00:00:00Z")};
	json_t *claims = NULL;

	if (!rep || !vcek) {
		fprintf(stderr, "SKIP: SNP vectors not available\n");
		return;
	}
	CHECK_OK(ward_evidence_load(rep, WARD_TEE_SNP, &ev, &err), &err);
	CHECK_OK(ward_evidence_add_certs_file(ev, vcek, &err), &err);
	for (int i = 0; i < 3; i++) { /* the second and third answers come from the cache */
		CHECK_OK(ward_evidence_verify(ev, &o, &claims, &err), &err);
		json_decref(claims);
		claims = NULL;
	}
	o.at = at("2030-02-01T00:00:00Z"); /* the VCEK expired on 2030-01-24 */
	CHECK_ERR(ward_evidence_verify(ev, &o, &claims, &err), -WARD_E_EXPIRED);
	o.at = at("2022-01-01T00:00:00Z"); /* before it was issued */
	CHECK_ERR(ward_evidence_verify(ev, &o, &claims, &err), -WARD_E_EXPIRED);
	o.at = at("2024-01-02T00:00:00Z");
	CHECK_OK(ward_evidence_verify(ev, &o, &claims, &err), &err);
	json_decref(claims);
}

WARD_TEST_MAIN()
