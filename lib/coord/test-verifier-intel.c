/* SPDX-License-Identifier: Apache-2.0 */
/* The coordinator's [attest] verifier with TDX and SGX DCAP quotes and
 * with Trustee's SEV-SNP evidence JSON, against real vectors from
 * ../shared/vectors; and the manifest's Intel TCB / SGX signer rules. The
 * KBS binding check (report data = the session's runtime-data hash) lives
 * in the service, not in the verifier, so the verifier accepts a recorded
 * quote here; tests/integration/test-coordinator-intel.sh checks that the
 * service refuses the same quote for not binding its nonce. */
#include <stdlib.h>
#include <string.h>

#include "ward-test.h"
#include "ward/attest.h"
#include "ward/cleanup.h"
#include "ward/coord.h"
#include "ward/encoding.h"
#include "ward/file.h"
#include "ward/json.h"
#include "ward/util.h"

#define TDX_DIR "tdx/v4-uptodate-dcapqvl"
#define TDX_AT "2025-07-19T10:00:34Z"
#define TDX_MRTD                                                                                   \
	"91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538" \
	"873118b7"
#define TDX_REPORT_DATA                                                                            \
	"9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9eca3efdbb481601c163cf524" \
	"93d6e44aed55d51ec39b7e518fadb92c2b523f20"
#define SGX_QUOTE "sgx/v3-occlum-trustee/quote.dat"
#define TRUSTEE_DIR "snp/genoa-v3-trustee"

static time_t at(const char *s)
{
	time_t t = 0;

	if (ward_time_parse_rfc3339(s, &t, NULL) < 0)
		abort();
	return t;
}

/* {"quote": base64(file)}, or NULL when the vector is missing. */
static json_t *quote_evidence(const char *rel, uint8_t **ret_quote, size_t *ret_size)
{
	const char *path = ward_test_vector(rel);
	uint8_t *q = NULL;
	size_t size = 0;
	char *b64;
	json_t *j;

	if (!path || ward_file_read(path, 1 << 16, &q, &size, NULL) < 0)
		return NULL;
	b64 = ward_base64_encode_alloc(q, size);
	j = json_pack("{s:s}", "quote", b64);
	free(b64);
	if (ret_quote) {
		*ret_quote = q;
		*ret_size = size;
	} else {
		free(q);
	}
	return j;
}

static struct ward_coord_verifier *tdx_verifier(time_t when)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_coord_verifier *v = NULL;
	struct ward_coord_attest_opts o = {
	    .dcap_collateral_file = ward_test_vector(TDX_DIR "/collateral.json"),
	    .insecure_at = when,
	};

	if (!o.dcap_collateral_file)
		return NULL;
	if (ward_coord_attest_verifier_new_opts(&o, &v, &err) < 0) {
		fprintf(stderr, "verifier: %s\n", err.msg);
		return NULL;
	}
	return v;
}

static const char MANIFEST_TDX[] =
    "{\"packages\":{\"td\":{\"tees\":[\"tdx\"],\"measurements\":{\"tdx\":[\"" TDX_MRTD "\"]}%s}},"
    "\"workloads\":{},\"secrets\":{}}";

static struct ward_manifest *manifest_tdx(const char *extra, struct ward_err *err)
{
	char buf[2048];
	struct ward_manifest *m = NULL;

	snprintf(buf, sizeof(buf), MANIFEST_TDX, extra);
	if (ward_manifest_parse(buf, strlen(buf), &m, err) < 0)
		return NULL;
	return m;
}

/* The Intel verifier's acceptance path: the recorded TDX quote with its
 * collateral at its check time; the claims the policy reads. */
WARD_TEST(tdx_quote_verifies_at_check_time)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOJSON json_t *ev = quote_evidence(TDX_DIR "/quote.dat", NULL, NULL);
	struct ward_coord_verifier *v = tdx_verifier(at(TDX_AT));
	WARD_CLEANUP(ward_manifest_freep) struct ward_manifest *m = NULL;
	struct ward_coord_claims c;
	uint8_t want[64];
	char hex[97];

	if (!ev || !v) {
		ward_coord_attest_verifier_free(v);
		return;
	}
	CHECK_OK(v->verify(v->ctx, WARD_TEE_TDX, ev, &c, &err), &err);
	CHECK_INT(c.tee, ==, WARD_TEE_TDX);
	CHECK_INT(c.measurement_size, ==, 48);
	ward_hex_encode(c.measurement, 48, hex);
	CHECK_STR(hex, TDX_MRTD);
	CHECK_INT(ward_test_unhex(TDX_REPORT_DATA, want, sizeof(want)), ==, 64);
	CHECK_MEM(c.report_data, want, 64);
	CHECK(!c.debug);
	CHECK(!c.insecure);
	CHECK(c.has_tcb_status);
	CHECK_STR(c.tcb_status, "UpToDate");
	CHECK_INT(c.advisory_count, ==, 0);
	CHECK(!c.has_sgx);

	/* The manifest accepts it by MRTD; another MRTD or TEE does not. */
	m = manifest_tdx("", &err);
	CHECK(m != NULL);
	CHECK_OK(ward_coord_check_policy(&m->packages[0], &c, &err), &err);
	c.measurement[0] ^= 1;
	CHECK_ERR(ward_coord_check_policy(&m->packages[0], &c, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "measurement");

	/* A TDX quote in an SGX session is refused. */
	CHECK_ERR(v->verify(v->ctx, WARD_TEE_SGX, ev, &c, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "evidence is a tdx quote, not sgx");
	ward_coord_attest_verifier_free(v);
}

WARD_TEST(tdx_quote_refused_outside_check_time_or_tampered)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOFREE uint8_t *q = NULL;
	size_t size = 0;
	WARD_AUTOJSON json_t *ev = quote_evidence(TDX_DIR "/quote.dat", &q, &size);
	WARD_AUTOJSON json_t *bad = NULL;
	struct ward_coord_verifier *v = tdx_verifier(at(TDX_AT) + 86400);
	WARD_AUTOFREE char *b64 = NULL;
	struct ward_coord_claims c;

	if (!ev || !v) {
		ward_coord_attest_verifier_free(v);
		return;
	}
	/* The collateral expired a second after the check time. */
	CHECK_ERR(v->verify(v->ctx, WARD_TEE_TDX, ev, &c, &err), -WARD_E_EXPIRED);
	ward_coord_attest_verifier_free(v);

	v = tdx_verifier(at(TDX_AT));
	CHECK(v != NULL);
	q[48 + 16 + 48 + 48] ^= 1; /* a body byte: the quote signature fails */
	b64 = ward_base64_encode_alloc(q, size);
	bad = json_pack("{s:s}", "quote", b64);
	CHECK_ERR(v->verify(v->ctx, WARD_TEE_TDX, bad, &c, &err), -WARD_E_VERIFY);

	/* Malformed evidence JSON. */
	json_decref(bad);
	bad = json_pack("{s:s}", "quote", "!!!");
	CHECK_ERR(v->verify(v->ctx, WARD_TEE_TDX, bad, &c, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "$.tee-evidence.quote");
	json_decref(bad);
	bad = json_pack("{s:s}", "quote", "AAAAAAAA"); /* six zero bytes */
	CHECK_INT(v->verify(v->ctx, WARD_TEE_TDX, bad, &c, &err), <, 0);
	json_decref(bad);
	bad = quote_evidence("ratls/gramine-legacy-oid-konvera/cert.der", NULL, NULL);
	if (bad) {
		/* An RA-TLS certificate is not a quote here. */
		CHECK_INT(v->verify(v->ctx, WARD_TEE_SGX, bad, &c, &err), <, 0);
		CHECK_MSG(&err, "not a DCAP quote");
	}
	json_decref(bad);
	bad = json_pack("{s:s}", "report", "AAAA");
	CHECK_ERR(v->verify(v->ctx, WARD_TEE_TDX, bad, &c, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "report");
	ward_coord_attest_verifier_free(v);
}

/* Without DCAP collateral the verifier refuses TDX/SGX naming what is
 * missing; the real SGX quote is a debug enclave, which a package refuses
 * unless it allows debug. */
WARD_TEST(sgx_debug_quote_without_collateral)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOFREE uint8_t *q = NULL;
	size_t size = 0;
	WARD_AUTOJSON json_t *ev = quote_evidence(SGX_QUOTE, &q, &size);
	WARD_AUTOJSON json_t *uclaims = NULL;
	WARD_CLEANUP(ward_manifest_freep) struct ward_manifest *m = NULL;
	struct ward_coord_attest_opts o = {0};
	struct ward_coord_verifier *v = NULL;
	struct ward_dcap_quote dq;
	struct ward_coord_claims c = {.tee = WARD_TEE_SGX};
	char buf[1024], mre[65];

	if (!ev)
		return;
	CHECK_OK(ward_coord_attest_verifier_new_opts(&o, &v, &err), &err);
	CHECK_ERR(v->verify(v->ctx, WARD_TEE_SGX, ev, &c, &err), -WARD_E_NOT_FOUND);
	CHECK_MSG(&err, "sgx quote: no DCAP collateral given");
	ward_coord_attest_verifier_free(v);

	/* With collateral it would reach the policy: the enclave is a debug
	 * one, so a package without "debug": true refuses it. */
	CHECK_OK(ward_dcap_quote_parse(q, size, &dq, &err), &err);
	CHECK(ward_dcap_quote_is_debug(&dq));
	memcpy(c.measurement, dq.enclave.mrenclave, 32);
	c.measurement_size = 32;
	c.debug = true;
	c.has_tcb_status = true;
	strcpy(c.tcb_status, "UpToDate");
	ward_hex_encode(dq.enclave.mrenclave, 32, mre);
	snprintf(buf, sizeof(buf),
		 "{\"packages\":{\"e\":{\"tees\":[\"sgx\"],\"measurements\":{\"sgx\":[\"%s\"]}}},"
		 "\"workloads\":{},\"secrets\":{}}",
		 mre);
	CHECK_OK(ward_manifest_parse(buf, strlen(buf), &m, &err), &err);
	CHECK_ERR(ward_coord_check_policy(&m->packages[0], &c, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "debug TEE refused");
	c.debug = false;
	CHECK_OK(ward_coord_check_policy(&m->packages[0], &c, &err), &err);
	(void)uclaims;
}

/* Manifest Intel TCB rules against claims. */
WARD_TEST(intel_tcb_rules)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_coord_claims c = {.tee = WARD_TEE_TDX, .measurement_size = 48,
				      .has_tcb_status = true};
	struct ward_manifest *m;

	CHECK_INT(ward_test_unhex(TDX_MRTD, c.measurement, 48), ==, 48);
	/* Default set: UpToDate ... TDRelaunchAdvised, not OutOfDate. */
	m = manifest_tdx("", &err);
	CHECK(m != NULL);
	strcpy(c.tcb_status, "SWHardeningNeeded");
	CHECK_OK(ward_coord_check_policy(&m->packages[0], &c, &err), &err);
	strcpy(c.tcb_status, "OutOfDate");
	CHECK_ERR(ward_coord_check_policy(&m->packages[0], &c, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "needs allow_outdated_tcb_insecure");
	strcpy(c.tcb_status, "Revoked");
	CHECK_ERR(ward_coord_check_policy(&m->packages[0], &c, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "TCB status Revoked is not accepted by package td");
	c.has_tcb_status = false;
	CHECK_ERR(ward_coord_check_policy(&m->packages[0], &c, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "no Intel TCB status");
	c.has_tcb_status = true;
	ward_manifest_free(m);

	/* Only UpToDate. */
	m = manifest_tdx(",\"tcb_statuses\":[\"UpToDate\"]", &err);
	CHECK(m != NULL);
	strcpy(c.tcb_status, "SWHardeningNeeded");
	CHECK_ERR(ward_coord_check_policy(&m->packages[0], &c, &err), -WARD_E_POLICY);
	strcpy(c.tcb_status, "UpToDate");
	CHECK_OK(ward_coord_check_policy(&m->packages[0], &c, &err), &err);
	ward_manifest_free(m);

	/* OutOfDate with the insecure switch; advisories must be listed. */
	m = manifest_tdx(",\"allow_outdated_tcb_insecure\":true,"
			 "\"tcb_statuses\":[\"UpToDate\",\"OutOfDate\"],"
			 "\"accepted_advisories\":[\"INTEL-SA-00837\"]",
			 &err);
	CHECK(m != NULL);
	strcpy(c.tcb_status, "OutOfDate");
	strcpy(c.advisories[0], "INTEL-SA-00837");
	c.advisory_count = 1;
	CHECK_OK(ward_coord_check_policy(&m->packages[0], &c, &err), &err);
	strcpy(c.advisories[1], "INTEL-SA-00615");
	c.advisory_count = 2;
	CHECK_ERR(ward_coord_check_policy(&m->packages[0], &c, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "advisory INTEL-SA-00615 is not accepted by package td");
	ward_manifest_free(m);
}

WARD_TEST(sgx_signer_rule)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_manifest_freep) struct ward_manifest *m = NULL;
	struct ward_coord_claims c = {.tee = WARD_TEE_SGX, .measurement_size = 32,
				      .has_tcb_status = true, .has_sgx = true,
				      .isv_prodid = 7, .isv_svn = 3};
	static const char text[] =
	    "{\"packages\":{\"e\":{\"tees\":[\"sgx\"],\"sgx\":{\"mrsigner\":\"" /* */
	    "1111111111111111111111111111111111111111111111111111111111111111\","
	    "\"isv_prodid\":7,\"min_isv_svn\":3}}},\"workloads\":{},\"secrets\":{}}";

	strcpy(c.tcb_status, "UpToDate");
	memset(c.mrsigner, 0x11, 32);
	memset(c.measurement, 0xab, 32);
	CHECK_OK(ward_manifest_parse(text, strlen(text), &m, &err), &err);
	CHECK_OK(ward_coord_check_policy(&m->packages[0], &c, &err), &err);
	c.isv_svn = 2;
	CHECK_ERR(ward_coord_check_policy(&m->packages[0], &c, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "SGX ISVSVN 2 below the minimum 3");
	c.isv_svn = 3;
	c.isv_prodid = 8;
	CHECK_ERR(ward_coord_check_policy(&m->packages[0], &c, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "SGX ISVPRODID 8 is not 7");
	c.isv_prodid = 7;
	c.mrsigner[31] = 0;
	CHECK_ERR(ward_coord_check_policy(&m->packages[0], &c, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "SGX MRSIGNER is not the one package e accepts");
}

WARD_TEST(manifest_intel_rules_errors)
{
	static const struct {
		const char *extra, *msg;
	} cases[] = {
	    {",\"tcb_statuses\":[\"Fine\"]", "$.packages.td.tcb_statuses[0]: expected an Intel TCB"},
	    {",\"tcb_statuses\":[]", "$.packages.td.tcb_statuses: lists no status"},
	    {",\"tcb_statuses\":[\"OutOfDate\"]",
	     "tcb_statuses[0]: \"OutOfDate\" needs \"allow_outdated_tcb_insecure\""},
	    {",\"allow_outdated_tcb_insecure\":1", "allow_outdated_tcb_insecure"},
	    {",\"accepted_advisories\":[3]", "accepted_advisories[0]: expected string"},
	    {",\"sgx\":{\"mrsigner\":\"00\"}", "\"sgx\" is not in \"tees\""},
	};
	static const char sgx_bad[][200] = {
	    "{\"tees\":[\"sgx\"],\"sgx\":{\"mrsigner\":\"00\"}}",
	    "{\"tees\":[\"sgx\"],\"sgx\":{\"isv_prodid\":1}}",
	    "{\"tees\":[\"sgx\"],\"sgx\":{\"mrsigner\":\"" /* */
	    "1111111111111111111111111111111111111111111111111111111111111111\",\"isv_prodid\":"
	    "70000}}",
	    "{\"tees\":[\"sgx\"],\"measurements\":{}}",
	    "{\"tees\":[\"snp\"],\"measurements\":{\"snp\":[]},\"tcb_statuses\":[\"UpToDate\"]}",
	};
	static const char *const sgx_msg[] = {
	    "$.packages.e.sgx.mrsigner", "$.packages.e.sgx.mrsigner: missing",
	    "$.packages.e.sgx.isv_prodid", "SGX may use \"sgx\".\"mrsigner\" instead",
	    "need \"tdx\" or \"sgx\" in \"tees\""};
	struct ward_err err = WARD_ERR_INIT;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(manifest_tdx(cases[i].extra, &err) == NULL);
		CHECK_MSG(&err, cases[i].msg);
	}
	for (size_t i = 0; i < sizeof(sgx_bad) / sizeof(sgx_bad[0]); i++) {
		char buf[512];
		struct ward_manifest *m = NULL;

		snprintf(buf, sizeof(buf),
			 "{\"packages\":{\"e\":%s},\"workloads\":{},\"secrets\":{}}", sgx_bad[i]);
		CHECK_INT(ward_manifest_parse(buf, strlen(buf), &m, &err), <, 0);
		CHECK_MSG(&err, sgx_msg[i]);
		ward_manifest_free(m);
	}
}

/* ---- Trustee's SNP evidence ---- */

static json_t *trustee_json(void)
{
	const char *path = ward_test_vector(TRUSTEE_DIR "/evidence.json");
	WARD_AUTOFREE uint8_t *buf = NULL;
	size_t size;
	json_t *j = NULL;

	if (!path || ward_file_read(path, 1 << 20, &buf, &size, NULL) < 0 ||
	    ward_json_parse(buf, size, 1 << 20, &j, NULL) < 0)
		return NULL;
	return j;
}

/* The conversion reproduces the real report byte for byte and puts the
 * real VCEK into the certificate table; the verifier then accepts it. */
WARD_TEST(trustee_snp_evidence_converts_and_verifies)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOJSON json_t *ev = trustee_json();
	WARD_AUTOFREE uint8_t *report = NULL, *vcek = NULL, *table = NULL;
	size_t report_size, vcek_size, table_size = 0;
	uint8_t conv[WARD_SNP_REPORT_SIZE];
	struct ward_snp_certtable ct;
	struct ward_coord_verifier *v = NULL;
	struct ward_coord_attest_opts o = {0};
	struct ward_coord_claims c;

	if (!ev)
		return;
	CHECK_OK(ward_file_read(ward_test_vector(TRUSTEE_DIR "/report.bin"), 4096, &report,
				&report_size, &err),
		 &err);
	CHECK_OK(ward_file_read(ward_test_vector(TRUSTEE_DIR "/vcek.der"), 4096, &vcek, &vcek_size,
				&err),
		 &err);
	CHECK_INT(report_size, ==, WARD_SNP_REPORT_SIZE);
	CHECK_OK(ward_coord_trustee_snp_convert(ev, conv, &table, &table_size, &err), &err);
	CHECK_MEM(conv, report, WARD_SNP_REPORT_SIZE);
	CHECK_OK(ward_snp_certtable_parse(table, table_size, &ct, &err), &err);
	CHECK_INT(ct.count, ==, 1);
	CHECK_INT(ct.entries[0].kind, ==, WARD_SNP_CERT_VCEK);
	CHECK_INT(ct.entries[0].size, ==, vcek_size);
	CHECK_MEM(ct.entries[0].data, vcek, vcek_size);

	CHECK_OK(ward_coord_attest_verifier_new_opts(&o, &v, &err), &err);
	CHECK_OK(v->verify(v->ctx, WARD_TEE_SNP, ev, &c, &err), &err);
	CHECK_MEM(c.report_data, report + 0x50, 64);
	CHECK_MEM(c.measurement, report + 0x90, 48);
	CHECK(c.has_tcb);
	CHECK_INT(c.tcb[2], ==, 23); /* snp */
	CHECK(!c.has_tcb_status);

	/* A changed field makes the converted report's signature fail. */
	json_array_set_new(
	    json_object_get(json_object_get(ev, "attestation_report"), "measurement"), 0,
	    json_integer(0));
	CHECK_ERR(v->verify(v->ctx, WARD_TEE_SNP, ev, &c, &err), -WARD_E_VERIFY);
	ward_coord_attest_verifier_free(v);
}

WARD_TEST(trustee_snp_evidence_errors)
{
	static const struct {
		const char *field;
		const char *value; /* JSON */
		const char *msg;
	} cases[] = {
	    {"measurement", "[1,2,3]",
	     "$.tee-evidence.attestation_report.measurement: expected 48 bytes"},
	    {"family_id", "[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,256]", "family_id[15]: expected a byte"},
	    {"version", "\"3\"", "attestation_report.version"},
	    {"bogus", "1", "bogus"},
	    {"current_tcb", "{\"bootloader\":1}", "current_tcb.tee: missing"},
	    {"current", "{\"major\":1,\"minor\":2}", "current.build: missing"},
	    {"signature", "{\"r\":[]}", "signature.r: expected 72 bytes"},
	};
	struct ward_err err = WARD_ERR_INIT;
	uint8_t conv[WARD_SNP_REPORT_SIZE];
	uint8_t *table = NULL;
	size_t table_size = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		WARD_AUTOJSON json_t *ev = trustee_json();

		if (!ev)
			return;
		json_object_set_new(json_object_get(ev, "attestation_report"), cases[i].field,
				    json_loads(cases[i].value, JSON_DECODE_ANY, NULL));
		CHECK_INT(ward_coord_trustee_snp_convert(ev, conv, &table, &table_size, &err), <,
			  0);
		CHECK_MSG(&err, cases[i].msg);
		CHECK_MSG(&err, "Trustee SNP evidence");
	}
	{
		WARD_AUTOJSON json_t *ev = trustee_json();
		json_t *chain = json_object_get(ev, "cert_chain");

		json_object_set_new(json_array_get(chain, 0), "cert_type", json_string("PEK"));
		CHECK_ERR(ward_coord_trustee_snp_convert(ev, conv, &table, &table_size, &err),
			  -WARD_E_UNSUPPORTED);
		CHECK_MSG(&err, "cert_chain[0].cert_type: \"PEK\"");
		json_object_set_new(json_array_get(chain, 0), "data", json_array());
		json_object_set_new(json_array_get(chain, 0), "cert_type", json_string("VCEK"));
		CHECK_ERR(ward_coord_trustee_snp_convert(ev, conv, &table, &table_size, &err),
			  -WARD_E_MALFORMED);
		CHECK_MSG(&err, "cert_chain[0].data");
		/* Without a chain the conversion succeeds with an empty table. */
		json_object_set_new(ev, "cert_chain", json_null());
		CHECK_OK(ward_coord_trustee_snp_convert(ev, conv, &table, &table_size, &err), &err);
		CHECK(table == NULL);
		CHECK_INT(table_size, ==, 0);
	}
}

WARD_TEST_MAIN()
