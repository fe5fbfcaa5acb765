/* SPDX-License-Identifier: Apache-2.0 */
/* SNP verification against the real vectors (expected results from
 * vectors/PROVENANCE.md) and mutations that must each fail with the right
 * error class. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ward-test.h"
#include "ward/attest.h"
#include "ward/cleanup.h"
#include "ward/encoding.h"
#include "ward/file.h"
#include "ward/sim.h"
#include "ward/util.h"

#define AT "2025-12-01T00:00:00Z" /* inside every vector's collateral window */

static uint8_t *load(const char *rel, size_t *size)
{
	const char *path = ward_test_vector(rel);
	uint8_t *buf = NULL;

	if (!path || ward_file_read(path, 1u << 20, &buf, size, NULL) < 0)
		return NULL;
	return buf;
}

#define SKIP_IF_NO_VECTORS(buf)                                                                    \
	do {                                                                                       \
		if (!(buf)) {                                                                      \
			fprintf(stderr, "vectors missing: skipped\n");                             \
			return;                                                                    \
		}                                                                                  \
	} while (0)

static time_t at_time(const char *s)
{
	time_t t = 0;

	if (ward_time_parse_rfc3339(s, &t, NULL) < 0)
		abort();
	return t;
}

/* Parse report bytes (+ optional auxblob), add the certificates of
 * cert_rel (a vector path, may be NULL) and verify at the time given. */
static int verify_bytes(const uint8_t *buf, size_t size, const uint8_t *aux, size_t aux_size,
			const char *cert_rel, const char *at, const char *collateral, json_t **ret,
			struct ward_err *err)
{
	WARD_CLEANUP(ward_evidence_freep) struct ward_evidence *ev = NULL;
	struct ward_attest_opts opts = {.at = at_time(at), .collateral_dir = collateral};
	int r;

	r = ward_evidence_parse(buf, size, aux, aux_size, WARD_TEE_NONE, &ev, err);
	if (r < 0)
		return r;
	if (cert_rel) {
		r = ward_evidence_add_certs_file(ev, ward_test_vector(cert_rel), err);
		if (r < 0)
			return r;
	}
	return ward_evidence_verify(ev, &opts, ret, err);
}

static int verify_case(const char *report_rel, const char *cert_rel, const char *at, json_t **ret,
		       struct ward_err *err)
{
	size_t n;
	WARD_AUTOFREE uint8_t *buf = load(report_rel, &n);

	if (!buf)
		return ward_err_set(err, -ENOENT, "vector %s missing", report_rel);
	return verify_bytes(buf, n, NULL, 0, cert_rel, at, NULL, ret, err);
}

static const char *cstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "(missing)";
}

static long long tcbv(const json_t *claims, const char *tcb, const char *field)
{
	json_t *v = json_object_get(json_object_get(claims, tcb), field);

	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

WARD_TEST(verify_milan_v2_gosevguest_debug_policy)
{
	struct ward_err err = WARD_ERR_INIT;
	json_auto_t *claims = NULL;
	WARD_CLEANUP(ward_attest_policy_freep) struct ward_attest_policy *p = NULL;

	if (!ward_test_vector("snp/milan-v2-gosevguest/report.bin"))
		return;
	CHECK_OK(verify_case("snp/milan-v2-gosevguest/report.bin",
			     "snp/milan-v2-gosevguest/vcek.der", AT, &claims, &err),
		 &err);
	CHECK(json_is_true(json_object_get(claims, "verified")));
	CHECK_STR(cstr(claims, "product"), "Milan"); /* v2: from the VCEK issuer */
	CHECK_STR(cstr(claims, "measurement"),
		  "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a6"
		  "08eb0cf2e4872b01");
	CHECK(json_is_true(json_object_get(claims, "debug")));
	CHECK_INT(tcbv(claims, "reported_tcb", "ucode"), ==, 68);
	CHECK_STR(cstr(json_object_get(claims, "collateral"), "vcek_not_after"),
		  "2029-09-24T00:55:28Z");
	/* Authentic, but the default policy forbids debug. */
	CHECK_OK(ward_attest_policy_parse("{}", 2, &p, &err), &err);
	CHECK_ERR(ward_attest_policy_check(p, claims, NULL, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "debug");
	p = ward_attest_policy_free(p);
	CHECK_OK(ward_attest_policy_parse("{\"allow_debug_insecure\":true}", 29, &p, &err), &err);
	CHECK_OK(ward_attest_policy_check(p, claims, NULL, &err), &err);
}

WARD_TEST(verify_milan_v2_trustee_reported_tcb)
{
	struct ward_err err = WARD_ERR_INIT;
	json_auto_t *claims = NULL;

	if (!ward_test_vector("snp/milan-v2-trustee/report.bin"))
		return;
	CHECK_OK(verify_case("snp/milan-v2-trustee/report.bin", "snp/milan-v2-trustee/vcek.der", AT,
			     &claims, &err),
		 &err);
	CHECK_INT(tcbv(claims, "reported_tcb", "bl"), ==, 3);
	CHECK_INT(tcbv(claims, "reported_tcb", "tee"), ==, 0);
	CHECK_INT(tcbv(claims, "reported_tcb", "snp"), ==, 8);
	CHECK_INT(tcbv(claims, "reported_tcb", "ucode"), ==, 115);
	CHECK_INT(tcbv(claims, "current_tcb", "ucode"), ==, 206);
	CHECK_STR(cstr(claims, "chip_id"),
		  "c38427a30d4c7af9d96f7a15b97269825a64cb76a2352ffd5d18115d89ad473f8e8c0bcd9a5d9286"
		  "612bad4aadfb4426205a3b9e4fea82301135a170e477524e");
	CHECK_STR(
	    cstr(claims, "report_data"),
	    "ec6c52d7533cc2c4f45be7849cf112ab82b2009fe7bd43e71ed08c14400ad7e2000000000000000000"
	    "0000000000000000000000000000000000000000000000");
}

WARD_TEST(verify_milan_v2_trustee_negative_vceks)
{
	static const char *const bad[] = {"snp/milan-v2-trustee/NEGATIVE-vcek-invalid-legacy.der",
					  "snp/milan-v2-trustee/NEGATIVE-vcek-invalid-new.der"};
	struct ward_err err = WARD_ERR_INIT;

	if (!ward_test_vector("snp/milan-v2-trustee/report.bin"))
		return;
	for (size_t i = 0; i < WARD_ARRAY_SIZE(bad); i++) {
		json_t *claims = NULL;
		int r = verify_case("snp/milan-v2-trustee/report.bin", bad[i], AT, &claims, &err);

		if (r != -WARD_E_VERIFY)
			WARD_FAIL_("%s: returned %d (%s), expected -WARD_E_VERIFY", bad[i], r,
				   err.msg);
		CHECK(claims == NULL);
	}
}

WARD_TEST(verify_milan_v3_vlek_window)
{
	struct ward_err err = WARD_ERR_INIT;
	json_auto_t *claims = NULL;
	json_t *none = NULL;

	if (!ward_test_vector("snp/milan-v3-vlek-trustee/report.bin"))
		return;
	CHECK_OK(verify_case("snp/milan-v3-vlek-trustee/report.bin",
			     "snp/milan-v3-vlek-trustee/vlek.der", "2025-06-01T00:00:00Z", &claims,
			     &err),
		 &err);
	CHECK_STR(cstr(claims, "signing_key"), "vlek");
	CHECK_INT(json_integer_value(json_object_get(claims, "vmpl")), ==, 1);
	CHECK_INT(tcbv(claims, "reported_tcb", "snp"), ==, 24);
	CHECK_INT(tcbv(claims, "reported_tcb", "ucode"), ==, 217);
	CHECK_STR(cstr(json_object_get(claims, "collateral"), "vlek_not_after"),
		  "2025-12-10T22:14:21Z");
	/* Expired after 2025-12-10, not yet valid before 2024-12-10. */
	CHECK_ERR(verify_case("snp/milan-v3-vlek-trustee/report.bin",
			      "snp/milan-v3-vlek-trustee/vlek.der", "2025-12-11T00:00:00Z", &none,
			      &err),
		  -WARD_E_EXPIRED);
	CHECK_ERR(verify_case("snp/milan-v3-vlek-trustee/report.bin",
			      "snp/milan-v3-vlek-trustee/vlek.der", "2024-12-01T00:00:00Z", &none,
			      &err),
		  -WARD_E_EXPIRED);
}

WARD_TEST(verify_genoa_v3_v5_turin)
{
	static const struct {
		const char *report, *cert, *product, *measurement;
		long long snp, ucode, fmc;
	} cases[] = {
	    {"snp/genoa-v3-trustee/report.bin", "snp/genoa-v3-trustee/vcek.der", "Genoa",
	     "6a6519d757e68c2e939c9dbbbc1828498e8de35d2766dd05f1a2cca5059d0cf4ae62a36d75c837974d"
	     "d50b315506e73e",
	     23, 25, -1},
	    {"snp/genoa-v5-routex/report.bin", "snp/genoa-v5-routex/vcek-chain.pem", "Genoa",
	     "bece7399a4da054a63a2e3fa1a47ff98c88e391d4379126fc4e75c677f25b6cd6bfd8ef609a8638049"
	     "633ac7e00e4ac1",
	     27, 88, -1},
	    {"snp/turin-v5-routex/report.bin", "snp/turin-v5-routex/vcek-chain.pem", "Turin",
	     "f924dd18f168df60fbea937f0b086284d51b1b376de872bac43694f61134d57967c318018de7335503"
	     "023dbb50dee624",
	     2, 71, 0},
	};
	struct ward_err err = WARD_ERR_INIT;

	if (!ward_test_vector("snp/genoa-v3-trustee/report.bin"))
		return;
	for (size_t i = 0; i < WARD_ARRAY_SIZE(cases); i++) {
		json_auto_t *claims = NULL;

		CHECK_OK(verify_case(cases[i].report, cases[i].cert, AT, &claims, &err), &err);
		CHECK_STR(cstr(claims, "product"), cases[i].product);
		CHECK_STR(cstr(claims, "measurement"), cases[i].measurement);
		CHECK_INT(tcbv(claims, "reported_tcb", "snp"), ==, cases[i].snp);
		CHECK_INT(tcbv(claims, "reported_tcb", "ucode"), ==, cases[i].ucode);
		CHECK_INT(tcbv(claims, "reported_tcb", "fmc"), ==, cases[i].fmc);
	}
}

WARD_TEST(verify_genoa_v2_vcek_missing)
{
	struct ward_err err = WARD_ERR_INIT;
	json_t *claims = NULL;
	size_t n;
	WARD_AUTOFREE uint8_t *buf = load("snp/genoa-v2-routex-parseonly/report.bin", &n);

	SKIP_IF_NO_VECTORS(buf);
	CHECK_ERR(verify_bytes(buf, n, NULL, 0, NULL, AT, NULL, &claims, &err), -WARD_E_NOT_FOUND);
	CHECK_MSG(&err, "VCEK missing");
	/* With a collateral directory, the error names the files looked for
	 * (v2: product unknown, so Milan and Genoa). */
	CHECK_ERR(verify_bytes(buf, n, NULL, 0, NULL, AT, "/nonexistent-dir", &claims, &err),
		  -WARD_E_NOT_FOUND);
	CHECK_MSG(&err,
		  "VCEK missing: /nonexistent-dir/snp/{milan,genoa}/vcek/"
		  "d932d021261a3010c08aa11c8b5efcfb62f1e0438afbea660e55cdf7c12062c6b0e9305205"
		  "af247d09bcc9d96577a4e84cc99ab28f215372c52090f292fefb15-440e000000000007.der");
	CHECK(claims == NULL);
}

WARD_TEST(verify_tsm_outblob_auxblob)
{
	struct ward_err err = WARD_ERR_INIT;
	json_auto_t *claims = NULL;
	size_t n, an;
	WARD_AUTOFREE uint8_t *out = load("snp/genoa-v3-veraison-tsm/outblob.bin", &n);
	WARD_AUTOFREE uint8_t *aux = load("snp/genoa-v3-veraison-tsm/auxblob.bin", &an);

	SKIP_IF_NO_VECTORS(out);
	SKIP_IF_NO_VECTORS(aux);
	CHECK_OK(verify_bytes(out, n, aux, an, NULL, AT, NULL, &claims, &err), &err);
	CHECK_STR(cstr(claims, "evidence_format"), "configfs-tsm");
	CHECK_STR(cstr(claims, "report_data"),
		  "4d4944424e48323869696f69736a5079787878787878787878787878787878784d4944424e4832"
		  "3869696f69736a507978787878787878787878787878787878");
	CHECK_STR(cstr(json_object_get(claims, "collateral"), "signing_cert_source"), "evidence");
	/* The same evidence in Veraison's tsm-report+json form. */
	{
		size_t jn;
		WARD_AUTOFREE uint8_t *j =
		    load("snp/genoa-v3-veraison-tsm/sevsnp-tsm-report.json", &jn);
		json_auto_t *c2 = NULL;

		SKIP_IF_NO_VECTORS(j);
		CHECK_OK(verify_bytes(j, jn, NULL, 0, NULL, AT, NULL, &c2, &err), &err);
		CHECK_STR(cstr(c2, "evidence_format"), "configfs-tsm");
		CHECK_STR(cstr(c2, "measurement"), cstr(claims, "measurement"));
	}
	/* Without the auxblob, the VCEK is missing. */
	CHECK_ERR(verify_bytes(out, n, NULL, 0, NULL, AT, NULL, &claims, &err), -WARD_E_NOT_FOUND);
}

WARD_TEST(verify_azure_hcl)
{
	struct ward_err err = WARD_ERR_INIT;
	json_auto_t *m = NULL;
	json_auto_t *g = NULL;
	json_t *none = NULL;
	size_t n;
	WARD_AUTOFREE uint8_t *buf = load("snp/azure-milan-v2-hcl/hcl-report.bin", &n);

	SKIP_IF_NO_VECTORS(buf);
	CHECK_OK(verify_case("snp/azure-milan-v2-hcl/hcl-report.bin",
			     "snp/azure-milan-v2-hcl/vcek-chain.pem", AT, &m, &err),
		 &err);
	CHECK_STR(cstr(m, "evidence_format"), "azure-hcl");
	CHECK_STR(cstr(m, "measurement"),
		  "9ac48fcac8a2d88aeeff8d427ad4f2be0e3917c748a18bdf52cc317e7fe20308b459d5ef1a12e0c2"
		  "2944eb386d17c315");
	CHECK_INT(tcbv(m, "reported_tcb", "ucode"), ==, 115);
	CHECK_INT(tcbv(m, "current_tcb", "ucode"), ==, 0xD2);
	CHECK(json_is_object(json_object_get(m, "runtime_data")));
	CHECK(json_is_array(json_object_get(json_object_get(m, "runtime_data"), "keys")));
	CHECK_OK(verify_case("snp/azure-genoa-v3-hcl/hcl-report.bin",
			     "snp/azure-genoa-v3-hcl/vcek.pem", AT, &g, &err),
		 &err);
	CHECK_STR(cstr(g, "product"), "Genoa");
	CHECK_INT(json_integer_value(json_object_get(g, "guest_svn")), ==, 65547);
	/* A changed runtime claim breaks the REPORT_DATA binding. */
	buf[0x4D4 + 10] ^= 1;
	CHECK_ERR(verify_bytes(buf, n, NULL, 0, "snp/azure-milan-v2-hcl/vcek-chain.pem", AT, NULL,
			       &none, &err),
		  -WARD_E_VERIFY);
	CHECK_MSG(&err, "runtime data");
}

/* ---- mutations on genoa-v3-trustee (DER VCEK, fast) --------------------- */

static int verify_genoa_mut(const uint8_t *report, size_t size, struct ward_err *err)
{
	json_t *claims = NULL;
	int r = verify_bytes(report, size, NULL, 0, "snp/genoa-v3-trustee/vcek.der", AT, NULL,
			     &claims, err);

	if (r == 0)
		json_decref(claims);
	return r;
}

WARD_TEST(mutate_signature_bytes)
{
	size_t n;
	WARD_AUTOFREE uint8_t *buf = load("snp/genoa-v3-trustee/report.bin", &n);
	struct ward_err err = WARD_ERR_INIT;

	SKIP_IF_NO_VECTORS(buf);
	CHECK_OK(verify_genoa_mut(buf, n, &err), &err);
	/* All 144 bytes of r and s: the low 48 of each are the value (a flip
	 * breaks the signature), the upper 24 must be zero (malformed). */
	for (size_t i = 0; i < 2 * WARD_SNP_SIG_COMPONENT_SIZE; i++) {
		size_t off = WARD_SNP_SIGNED_SIZE + i;
		bool value_byte = i % WARD_SNP_SIG_COMPONENT_SIZE < 48;
		int r;

		buf[off] ^= 0x01;
		r = verify_genoa_mut(buf, n, &err);
		buf[off] ^= 0x01;
		if (r != (value_byte ? -WARD_E_VERIFY : -WARD_E_MALFORMED))
			WARD_FAIL_("signature byte 0x%zx flipped: returned %d (%s)", off, r,
				   err.msg);
	}
	/* routex: the whole signature area overwritten with 'W'. */
	memset(buf + WARD_SNP_SIGNED_SIZE, 'W', WARD_SNP_REPORT_SIZE - WARD_SNP_SIGNED_SIZE);
	CHECK_ERR(verify_genoa_mut(buf, n, &err), -WARD_E_MALFORMED);
}

WARD_TEST(mutate_signed_fields)
{
	static const struct {
		size_t off;
		const char *name;
	} fields[] = {
	    {0x04, "GUEST_SVN"},
	    {0x08, "POLICY"},
	    {0x10, "FAMILY_ID"},
	    {0x20, "IMAGE_ID"},
	    {0x30, "VMPL"},
	    {0x38, "CURRENT_TCB"},
	    {0x40, "PLATFORM_INFO"},
	    {0x50, "REPORT_DATA"},
	    {0x8F, "REPORT_DATA end"},
	    {0x90, "MEASUREMENT"},
	    {0xBF, "MEASUREMENT end"},
	    {0xC0, "HOST_DATA"},
	    {0xE0, "ID_KEY_DIGEST"},
	    {0x110, "AUTHOR_KEY_DIGEST"},
	    {0x140, "REPORT_ID"},
	    {0x160, "REPORT_ID_MA"},
	    {0x1A0, "CHIP_ID"},
	    {0x1E0, "COMMITTED_TCB"},
	    {0x1E8, "CURRENT_BUILD"},
	    {0x1EC, "COMMITTED_BUILD"},
	    {0x1F0, "LAUNCH_TCB"},
	};
	size_t n;
	WARD_AUTOFREE uint8_t *buf = load("snp/genoa-v3-trustee/report.bin", &n);
	struct ward_err err = WARD_ERR_INIT;

	SKIP_IF_NO_VECTORS(buf);
	for (size_t i = 0; i < WARD_ARRAY_SIZE(fields); i++) {
		int r;

		buf[fields[i].off] ^= 0x80;
		r = verify_genoa_mut(buf, n, &err);
		buf[fields[i].off] ^= 0x80;
		if (r != -WARD_E_VERIFY)
			WARD_FAIL_("%s (0x%zx) flipped: returned %d (%s)", fields[i].name,
				   fields[i].off, r, err.msg);
	}
	/* trustee's check_report_tcb_failure: REPORTED_TCB.bootloader += 1. */
	buf[0x180] += 1;
	CHECK_ERR(verify_genoa_mut(buf, n, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "REPORTED_TCB");
	CHECK_MSG(&err, "bl is 10 in the VCEK, 11 in the report");
	buf[0x180] -= 1;
	/* routex: reported TEE version + 1. */
	buf[0x181] += 1;
	CHECK_ERR(verify_genoa_mut(buf, n, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "tee is 0 in the VCEK, 1 in the report");
	buf[0x181] -= 1;
	/* SIGNING_KEY = none. */
	buf[0x48] = 0x1C;
	CHECK_ERR(verify_genoa_mut(buf, n, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "not signed");
	buf[0x48] = 0;
	CHECK_OK(verify_genoa_mut(buf, n, &err), &err);
}

WARD_TEST(mutate_truncation_and_trailing)
{
	size_t n;
	WARD_AUTOFREE uint8_t *buf = load("snp/genoa-v3-trustee/report.bin", &n);
	WARD_AUTOFREE uint8_t *big = NULL;
	struct ward_err err = WARD_ERR_INIT;

	SKIP_IF_NO_VECTORS(buf);
	for (size_t i = 0; i < n; i++) {
		struct ward_evidence *ev = NULL;
		int r = ward_evidence_parse(buf, i, NULL, 0, WARD_TEE_NONE, &ev, &err);

		ward_evidence_free(ev);
		if (r != -WARD_E_MALFORMED)
			WARD_FAIL_("truncation at %zu: returned %d", i, r);
	}
	big = calloc(1, n + 16);
	CHECK(big);
	memcpy(big, buf, n);
	for (size_t extra = 1; extra <= 16; extra++)
		CHECK_ERR(verify_genoa_mut(big, n + extra, &err), -WARD_E_MALFORMED);
}

WARD_TEST(mutate_wrong_vcek_and_time)
{
	struct ward_err err = WARD_ERR_INIT;
	json_t *none = NULL;

	if (!ward_test_vector("snp/genoa-v3-trustee/report.bin"))
		return;
	/* A VCEK of another chip (same product). */
	CHECK_ERR(verify_case("snp/genoa-v3-trustee/report.bin",
			      "snp/genoa-v5-routex/vcek-chain.pem", AT, &none, &err),
		  -WARD_E_VERIFY);
	CHECK_MSG(&err, "another chip");
	CHECK_ERR(verify_case("snp/milan-v2-trustee/report.bin", "snp/milan-v2-gosevguest/vcek.der",
			      AT, &none, &err),
		  -WARD_E_VERIFY);
	/* A VCEK of another product line. */
	CHECK_ERR(verify_case("snp/milan-v3-vlek-trustee/report.bin",
			      "snp/genoa-v3-trustee/vcek.der", AT, &none, &err),
		  -WARD_E_NOT_FOUND); /* a VLEK report needs a VLEK */
	CHECK_ERR(verify_case("snp/genoa-v5-routex/report.bin", "snp/milan-v2-trustee/vcek.der", AT,
			      &none, &err),
		  -WARD_E_VERIFY);
	CHECK_MSG(&err, "issued for Milan");
	/* Expired and not yet valid VCEK. */
	CHECK_ERR(verify_case("snp/genoa-v3-trustee/report.bin", "snp/genoa-v3-trustee/vcek.der",
			      "2032-05-28T00:00:00Z", &none, &err),
		  -WARD_E_EXPIRED);
	CHECK_ERR(verify_case("snp/genoa-v3-trustee/report.bin", "snp/genoa-v3-trustee/vcek.der",
			      "2025-05-27T00:00:00Z", &none, &err),
		  -WARD_E_EXPIRED);
	CHECK(none == NULL);
}

WARD_TEST(mutate_vcek_der_byte)
{
	size_t n, vn;
	WARD_AUTOFREE uint8_t *buf = load("snp/milan-v2-trustee/report.bin", &n);
	WARD_AUTOFREE uint8_t *vcek = load("snp/milan-v2-trustee/vcek.der", &vn);
	WARD_CLEANUP(ward_evidence_freep) struct ward_evidence *ev = NULL;
	struct ward_x509 *cert = NULL;
	struct ward_attest_opts opts = {.at = at_time(AT)};
	struct ward_err err = WARD_ERR_INIT;
	json_t *none = NULL;
	int r;

	SKIP_IF_NO_VECTORS(buf);
	SKIP_IF_NO_VECTORS(vcek);
	vcek[42] += 1; /* trustee's check_vcek_signature_failure */
	CHECK_OK(ward_evidence_parse(buf, n, NULL, 0, WARD_TEE_SNP, &ev, &err), &err);
	r = ward_x509_from_der(vcek, vn, &cert, &err);
	if (r == 0) {
		ev->certs = calloc(1, sizeof(*ev->certs));
		CHECK(ev->certs);
		ev->certs[0] = cert;
		ev->cert_count = 1;
		r = ward_evidence_verify(ev, &opts, &none, &err);
		CHECK_ERR(r, -WARD_E_VERIFY);
	} else {
		CHECK_ERR(r, -WARD_E_MALFORMED);
	}
}

WARD_TEST(builtin_roots)
{
	static const enum ward_snp_product products[] = {
	    WARD_SNP_PRODUCT_MILAN, WARD_SNP_PRODUCT_GENOA, WARD_SNP_PRODUCT_TURIN};
	static const char *const files[] = {"roots/amd/milan_ask_ark.pem",
					    "roots/amd/genoa_ask_ark.pem",
					    "roots/amd/turin_ask_ark.pem"};
	struct ward_err err = WARD_ERR_INIT;
	struct ward_x509 *x = NULL;

	for (size_t i = 0; i < WARD_ARRAY_SIZE(products); i++) {
		WARD_CLEANUP(ward_x509_freep) struct ward_x509 *ark = NULL;
		WARD_CLEANUP(ward_x509_freep) struct ward_x509 *ask = NULL;
		WARD_CLEANUP(ward_x509_freep) struct ward_x509 *asvk = NULL;
		WARD_AUTOFREE char *cn = NULL;
		const char *path = ward_test_vector(files[i]);

		CHECK_OK(ward_snp_builtin_ark(products[i], &ark, &err), &err);
		CHECK_OK(ward_snp_builtin_ask(products[i], false, &ask, &err), &err);
		CHECK_OK(ward_snp_builtin_ask(products[i], true, &asvk, &err), &err);
		CHECK_OK(ward_x509_check_issued_by(ark, ark, &err), &err);
		CHECK_OK(ward_x509_check_issued_by(ask, ark, &err), &err);
		CHECK_OK(ward_x509_check_issued_by(asvk, ark, &err), &err);
		CHECK_OK(ward_x509_common_name(asvk, &cn, &err), &err);
		CHECK(ward_startswith(cn, "SEV-VLEK-"));
		/* The built-in bytes are the published bundle's. */
		if (path) {
			WARD_AUTOFREE uint8_t *pem = NULL;
			struct ward_x509 **list = NULL;
			size_t size, count = 0;
			uint8_t a[32], b[32];

			CHECK_OK(ward_file_read(path, 1u << 16, &pem, &size, &err), &err);
			CHECK_OK(ward_x509_list_from_pem(pem, size, 4, &list, &count, &err), &err);
			CHECK_INT(count, ==, 2);
			CHECK_OK(ward_x509_fingerprint(list[0], a, &err), &err);
			CHECK_OK(ward_x509_fingerprint(ask, b, &err), &err);
			CHECK_MEM(a, b, 32);
			CHECK_OK(ward_x509_fingerprint(list[1], a, &err), &err);
			CHECK_OK(ward_x509_fingerprint(ark, b, &err), &err);
			CHECK_MEM(a, b, 32);
			ward_x509_list_free(list, count);
		}
	}
	CHECK_ERR(ward_snp_builtin_ark(WARD_SNP_PRODUCT_UNKNOWN, &x, &err), -WARD_E_NOT_FOUND);
	CHECK_ERR(ward_snp_builtin_ask((enum ward_snp_product)9, false, &x, &err),
		  -WARD_E_NOT_FOUND);
}

WARD_TEST(wrong_root_asvk_for_vcek)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *ark = NULL;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *ask = NULL;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *asvk = NULL;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *vcek = NULL;
	WARD_AUTOFREE uint8_t *der = NULL;
	struct ward_x509_verify_opts opts = {.at = at_time(AT)};
	const char *path = ward_test_vector("snp/milan-v2-trustee/vcek.der");
	size_t size;

	if (!path)
		return;
	CHECK_OK(ward_file_read(path, 1u << 16, &der, &size, &err), &err);
	CHECK_OK(ward_x509_from_der(der, size, &vcek, &err), &err);
	CHECK_OK(ward_snp_builtin_ark(WARD_SNP_PRODUCT_MILAN, &ark, &err), &err);
	CHECK_OK(ward_snp_builtin_ask(WARD_SNP_PRODUCT_MILAN, false, &ask, &err), &err);
	CHECK_OK(ward_snp_builtin_ask(WARD_SNP_PRODUCT_MILAN, true, &asvk, &err), &err);
	CHECK_OK(ward_x509_verify_chain(vcek, &ask, 1, &ark, 1, &opts, NULL, NULL, &err), &err);
	CHECK_ERR(ward_x509_verify_chain(vcek, &asvk, 1, &ark, 1, &opts, NULL, NULL, &err),
		  -WARD_E_VERIFY);
}

WARD_TEST(turin_vcek_virtee_chain)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *ark = NULL;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *ask = NULL;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *vcek = NULL;
	WARD_AUTOFREE uint8_t *der = NULL;
	struct ward_x509_verify_opts opts = {.at = at_time(AT)};
	const char *path = ward_test_vector("snp/turin-vcek-virtee/vcek.der");
	size_t size;

	if (!path)
		return;
	CHECK_OK(ward_file_read(path, 1u << 16, &der, &size, &err), &err);
	CHECK_OK(ward_x509_from_der(der, size, &vcek, &err), &err);
	CHECK_OK(ward_snp_builtin_ark(WARD_SNP_PRODUCT_TURIN, &ark, &err), &err);
	CHECK_OK(ward_snp_builtin_ask(WARD_SNP_PRODUCT_TURIN, false, &ask, &err), &err);
	CHECK_OK(ward_x509_verify_chain(vcek, &ask, 1, &ark, 1, &opts, NULL, NULL, &err), &err);
}

/* ---- collateral directory and containers -------------------------------- */

static int copy_vector(const char *rel, const char *dst)
{
	size_t n;
	WARD_AUTOFREE uint8_t *buf = load(rel, &n);

	if (!buf)
		return -ENOENT;
	return ward_file_write_atomic(dst, buf, n, 0644, NULL);
}

static void mkdirs(const char *path)
{
	char tmp[1024];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			(void)mkdir(tmp, 0755);
			*p = '/';
		}
	(void)mkdir(tmp, 0755);
}

WARD_TEST(collateral_dir)
{
	char dir[] = "/tmp/ward-test-collateral-XXXXXX";
	char path[1024];
	struct ward_err err = WARD_ERR_INIT;
	json_auto_t *claims = NULL;
	json_auto_t *claims2 = NULL;
	json_t *none = NULL;
	size_t n, n2;
	WARD_AUTOFREE uint8_t *g = load("snp/genoa-v3-trustee/report.bin", &n);
	WARD_AUTOFREE uint8_t *m = load("snp/milan-v2-trustee/report.bin", &n2);

	SKIP_IF_NO_VECTORS(g);
	SKIP_IF_NO_VECTORS(m);
	CHECK(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/snp/genoa/vcek", dir);
	mkdirs(path);
	snprintf(path, sizeof(path), "%s/snp/milan/vcek", dir);
	mkdirs(path);
	snprintf(
	    path, sizeof(path),
	    "%s/snp/genoa/vcek/371c55d6d15cb50f16dc31d39a24e300caaabff4431e841111429b73ec45ad67"
	    "ea6e687ffae7bf84b54a5d0e6d79b3ef6ff0bd8b4cff94c2163af5c5de8718e8-191700000000000a.der",
	    dir);
	CHECK_OK(copy_vector("snp/genoa-v3-trustee/vcek.der", path), NULL);
	snprintf(
	    path, sizeof(path),
	    "%s/snp/milan/vcek/c38427a30d4c7af9d96f7a15b97269825a64cb76a2352ffd5d18115d89ad473f"
	    "8e8c0bcd9a5d9286612bad4aadfb4426205a3b9e4fea82301135a170e477524e-7308000000000003.der",
	    dir);
	CHECK_OK(copy_vector("snp/milan-v2-trustee/vcek.der", path), NULL);

	CHECK_OK(verify_bytes(g, n, NULL, 0, NULL, AT, dir, &claims, &err), &err);
	CHECK_STR(cstr(json_object_get(claims, "collateral"), "signing_cert_source"), "collateral");
	CHECK(json_is_false(json_object_get(json_object_get(claims, "collateral"), "crl_checked")));
	/* v2 report: found under milan/ by trying each product. */
	CHECK_OK(verify_bytes(m, n2, NULL, 0, NULL, AT, dir, &claims2, &err), &err);
	CHECK_STR(cstr(claims2, "product"), "Milan");

	/* A CRL that is required but absent is named. */
	{
		WARD_CLEANUP(ward_evidence_freep) struct ward_evidence *ev = NULL;
		struct ward_attest_opts opts = {
		    .at = at_time(AT), .collateral_dir = dir, .require_crl = true};

		CHECK_OK(ward_evidence_parse(g, n, NULL, 0, WARD_TEE_SNP, &ev, &err), &err);
		CHECK_ERR(ward_evidence_verify(ev, &opts, &none, &err), -WARD_E_NOT_FOUND);
		CHECK_MSG(&err, "CRL missing");
		CHECK_MSG(&err, "/snp/genoa/crl.der");
		/* A CRL file that does not parse is an error naming it. */
		snprintf(path, sizeof(path), "%s/snp/genoa/crl.der", dir);
		CHECK_OK(ward_file_write_atomic(path, "garbage", 7, 0644, NULL), NULL);
		opts.require_crl = false;
		CHECK(ward_evidence_verify(ev, &opts, &none, &err) < 0);
		CHECK_MSG(&err, "crl.der");
		(void)unlink(path);
	}
	/* Expiry warnings. */
	{
		WARD_CLEANUP(ward_evidence_freep) struct ward_evidence *ev = NULL;
		struct ward_attest_opts opts = {
		    .at = at_time(AT), .collateral_dir = dir, .warn_days = 3000};
		json_auto_t *c = NULL;
		json_t *w;

		CHECK_OK(ward_evidence_parse(g, n, NULL, 0, WARD_TEE_SNP, &ev, &err), &err);
		CHECK_OK(ward_evidence_verify(ev, &opts, &c, &err), &err);
		w = json_object_get(c, "warnings");
		CHECK_INT(json_array_size(w), ==, 1); /* the VCEK (2032); ASK/ARK live to 2047 */
		CHECK(strstr(json_string_value(json_array_get(w, 0)), "VCEK expires at"));
	}
	CHECK_OK(ward_rm_rf(dir, &err), &err);
}

WARD_TEST(evidence_load_tsm_dir)
{
	char dir[] = "/tmp/ward-test-tsm-XXXXXX";
	char path[256];
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_evidence_freep) struct ward_evidence *ev = NULL;
	struct ward_evidence *bad = NULL;
	struct ward_attest_opts opts = {.at = at_time(AT)};
	json_auto_t *claims = NULL;

	if (!ward_test_vector("snp/genoa-v3-veraison-tsm/outblob.bin"))
		return;
	CHECK(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/outblob", dir);
	CHECK_OK(copy_vector("snp/genoa-v3-veraison-tsm/outblob.bin", path), NULL);
	snprintf(path, sizeof(path), "%s/auxblob", dir);
	CHECK_OK(copy_vector("snp/genoa-v3-veraison-tsm/auxblob.bin", path), NULL);
	snprintf(path, sizeof(path), "%s/provider", dir);
	CHECK_OK(ward_file_write_atomic(path, "sev_guest\n", 10, 0644, NULL), NULL);
	CHECK_OK(ward_evidence_load(dir, WARD_TEE_NONE, &ev, &err), &err);
	CHECK_INT(ev->format, ==, WARD_EVIDENCE_SNP_TSM);
	CHECK_INT(ev->cert_count, ==, 2); /* ASK + VCEK; the ARK is built in */
	CHECK_OK(ward_evidence_verify(ev, &opts, &claims, &err), &err);
	CHECK_OK(ward_file_write_atomic(path, "tdx_guest\n", 10, 0644, NULL), NULL);
	CHECK_ERR(ward_evidence_load(dir, WARD_TEE_NONE, &bad, &err), -WARD_E_UNSUPPORTED);
	CHECK_MSG(&err, "tdx_guest");
	CHECK_ERR(ward_evidence_load(dir, WARD_TEE_SIM, &bad, &err), -WARD_E_UNSUPPORTED);
	CHECK_OK(ward_rm_rf(dir, &err), &err);
	CHECK_ERR(ward_evidence_load(dir, WARD_TEE_NONE, &bad, &err), -ENOENT);
	CHECK(bad == NULL);
}

WARD_TEST(evidence_envelope)
{
	size_t n, vn;
	WARD_AUTOFREE uint8_t *rep = load("snp/genoa-v3-trustee/report.bin", &n);
	WARD_AUTOFREE uint8_t *vcek = load("snp/genoa-v3-trustee/vcek.der", &vn);
	WARD_AUTOFREE char *rb = NULL;
	WARD_AUTOFREE char *vb = NULL;
	struct ward_err err = WARD_ERR_INIT;
	json_t *none = NULL;
	char *text;

	SKIP_IF_NO_VECTORS(rep);
	SKIP_IF_NO_VECTORS(vcek);
	rb = ward_base64_encode_alloc(rep, n);
	vb = ward_base64_encode_alloc(vcek, vn);
	CHECK(rb && vb);
	{
		json_auto_t *env =
		    json_pack("{s:s, s:s, s:[s]}", "tee", "snp", "report", rb, "certs", vb);
		json_auto_t *claims = NULL;

		text = json_dumps(env, JSON_COMPACT);
		CHECK(text);
		CHECK_OK(verify_bytes((uint8_t *)text, strlen(text), NULL, 0, NULL, AT, NULL,
				      &claims, &err),
			 &err);
		free(text);
		CHECK_STR(cstr(claims, "evidence_format"), "ward-envelope");
	}
	{
		json_auto_t *env = json_pack("{s:s, s:s, s:i}", "tee", "snp", "report", rb, "x", 1);

		text = json_dumps(env, JSON_COMPACT);
		CHECK_ERR(verify_bytes((uint8_t *)text, strlen(text), NULL, 0, NULL, AT, NULL,
				       &none, &err),
			  -WARD_E_MALFORMED);
		free(text);
	}
	{
		json_auto_t *env = json_pack("{s:s, s:s}", "tee", "tdx", "report", rb);

		text = json_dumps(env, JSON_COMPACT);
		CHECK_ERR(verify_bytes((uint8_t *)text, strlen(text), NULL, 0, NULL, AT, NULL,
				       &none, &err),
			  -WARD_E_UNSUPPORTED);
		free(text);
	}
	{
		json_auto_t *env = json_pack("{s:s, s:s}", "tee", "snp", "report", "AAAA");

		text = json_dumps(env, JSON_COMPACT);
		CHECK_ERR(verify_bytes((uint8_t *)text, strlen(text), NULL, 0, NULL, AT, NULL,
				       &none, &err),
			  -WARD_E_MALFORMED);
		free(text);
	}
	{
		/* {"report":"<valid report>" followed by each of these. */
		static const char *const bad[] = {
		    ",\"tee\":\"snp\",\"certs\":[1]}",
		    ",\"tee\":\"snp\",\"certs\":[\"!!\"]}",
		    ",\"tee\":\"snp\",\"certs\":[\"AAAA\"]}",
		    ",\"tee\":\"snp\",\"cert_table\":\"!!\"}",
		    ",\"tee\":\"snp\",\"cert_table\":\"AAAA\"}",
		    ",\"tee\":\"snp\",\"certs\":[\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"]}",
		    ",\"tee\":\"snp\",\"tee\":\"snp\"}",
		    "}",
		    ",\"tee\":7}",
		};

		for (size_t i = 0; i < WARD_ARRAY_SIZE(bad); i++) {
			size_t tn = strlen(rb) + strlen(bad[i]) + 16;
			WARD_AUTOFREE char *t = malloc(tn);
			int r;

			CHECK(t);
			snprintf(t, tn, "{\"report\":\"%s\"%s", rb, bad[i]);
			r = verify_bytes((uint8_t *)t, strlen(t), NULL, 0, NULL, AT, NULL, &none,
					 &err);
			if (r != -WARD_E_MALFORMED && r != -WARD_E_UNSUPPORTED)
				WARD_FAIL_("envelope %zu: returned %d (%s)", i, r, err.msg);
		}
	}
	CHECK_ERR(verify_bytes((const uint8_t *)"{", 1, NULL, 0, NULL, AT, NULL, &none, &err),
		  -WARD_E_MALFORMED);
	CHECK_ERR(verify_bytes((const uint8_t *)"", 0, NULL, 0, NULL, AT, NULL, &none, &err),
		  -WARD_E_MALFORMED);
}

WARD_TEST(evidence_cert_limit)
{
	size_t n;
	WARD_AUTOFREE uint8_t *rep = load("snp/genoa-v5-routex/report.bin", &n);
	WARD_CLEANUP(ward_evidence_freep) struct ward_evidence *ev = NULL;
	const char *chain = ward_test_vector("snp/genoa-v5-routex/vcek-chain.pem");
	struct ward_err err = WARD_ERR_INIT;

	SKIP_IF_NO_VECTORS(rep);
	CHECK_OK(ward_evidence_parse(rep, n, NULL, 0, WARD_TEE_SNP, &ev, &err), &err);
	CHECK_OK(ward_evidence_add_certs_file(ev, chain, &err), &err);
	CHECK_OK(ward_evidence_add_certs_file(ev, chain, &err), &err);
	CHECK_INT(ev->cert_count, ==, 6);
	CHECK_ERR(ward_evidence_add_certs_file(ev, chain, &err), -WARD_E_TOO_BIG);
	CHECK_INT(ev->cert_count, ==, WARD_EVIDENCE_MAX_CERTS);
	CHECK_ERR(ward_evidence_add_certs_file(ev, "/nonexistent.pem", &err), -ENOENT);
	CHECK_MSG(&err, "/nonexistent.pem");
	/* A file that is not a certificate. */
	CHECK_ERR(ward_evidence_add_certs_file(
		      ev, ward_test_vector("snp/genoa-v5-routex/report.bin"), &err),
		  -WARD_E_MALFORMED);
}

/* The INSECURE sim TEE: same format and code path, its own anchor, and
 * accepted only when asked for, marked insecure, and allowed by policy. */
WARD_TEST(sim_tee_anchor)
{
	char dir[] = "/tmp/ward-test-sim-XXXXXX";
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_sim_freep) struct ward_sim *sim = NULL;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *ark = NULL;
	WARD_CLEANUP(ward_evidence_freep) struct ward_evidence *ev = NULL;
	WARD_CLEANUP(ward_evidence_freep) struct ward_evidence *as_snp = NULL;
	WARD_CLEANUP(ward_attest_policy_freep) struct ward_attest_policy *p = NULL;
	WARD_AUTOFREE uint8_t *table = NULL;
	struct ward_sim_launch launch = {.policy = 0x30000};
	uint8_t report[WARD_SNP_REPORT_SIZE], rd[64] = {1, 2, 3};
	struct ward_attest_opts opts = {.at = time(NULL)};
	json_auto_t *claims = NULL;
	json_t *none = NULL;
	size_t table_size;

	CHECK(mkdtemp(dir));
	memset(launch.measurement, 0xAB, sizeof(launch.measurement));
	CHECK_OK(ward_sim_open(dir, &sim, &err), &err);
	CHECK_OK(ward_sim_report(sim, &launch, rd, report, &err), &err);
	CHECK_OK(ward_sim_cert_table(sim, &table, &table_size, &err), &err);
	CHECK_OK(ward_sim_load_ark(dir, &ark, &err), &err);

	CHECK_OK(
	    ward_evidence_parse(report, sizeof(report), table, table_size, WARD_TEE_SIM, &ev, &err),
	    &err);
	/* Refused unless the caller supplies the sim root. */
	CHECK_ERR(ward_evidence_verify(ev, &opts, &none, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "sim");
	opts.sim_ark = ark;
	CHECK_OK(ward_evidence_verify(ev, &opts, &claims, &err), &err);
	CHECK_STR(cstr(claims, "tee"), "sim");
	CHECK(json_is_true(json_object_get(claims, "insecure")));
	CHECK(strstr(json_string_value(json_array_get(json_object_get(claims, "warnings"), 0)),
		     "INSECURE"));
	/* Policy: refused by default, accepted when "sim" is listed. */
	CHECK_OK(ward_attest_policy_parse("{}", 2, &p, &err), &err);
	CHECK_ERR(ward_attest_policy_check(p, claims, NULL, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "insecure");
	p = ward_attest_policy_free(p);
	{
		const char *tees = "{\"tees\":[\"sim\"]}";

		CHECK_OK(ward_attest_policy_parse(tees, strlen(tees), &p, &err), &err);
	}
	CHECK_OK(ward_attest_policy_check(p, claims, NULL, &err), &err);

	/* The same bytes as SNP evidence never chain to AMD, sim root or not. */
	CHECK_OK(ward_evidence_parse(report, sizeof(report), table, table_size, WARD_TEE_NONE,
				     &as_snp, &err),
		 &err);
	CHECK_ERR(ward_evidence_verify(as_snp, &opts, &none, &err), -WARD_E_VERIFY);
	CHECK(none == NULL);
	CHECK_OK(ward_rm_rf(dir, &err), &err);
}

WARD_TEST_MAIN()
