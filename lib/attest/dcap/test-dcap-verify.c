/* SPDX-License-Identifier: Apache-2.0 */
/* DCAP quote verification end to end against the real vectors at their
 * check times, plus mutations that must each fail with the right class. */
#include <sys/stat.h>

#include "test-dcap-util.h"
#include "ward/crypto.h"
#include "ward/util.h"

static time_t at(const char *rfc3339)
{
	time_t t = 0;

	if (ward_time_parse_rfc3339(rfc3339, &t, NULL) < 0)
		abort();
	return t;
}

static const char *claim(const json_t *claims, const char *obj, const char *key)
{
	const json_t *o = obj ? json_object_get(claims, obj) : claims;

	return json_string_value(json_object_get(o, key));
}

static struct ward_dcap_collateral *qvl(const char *rel)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_dcap_collateral *c = NULL;
	const char *path = ward_test_vector(rel);

	if (!path)
		return NULL;
	if (ward_dcap_collateral_load_qvl_json(path, &c, &err) < 0) {
		fprintf(stderr, "%s: %s\n", rel, err.msg);
		return NULL;
	}
	return c;
}

static int add(struct ward_dcap_collateral *c, enum ward_dcap_item item, const char *rel)
{
	struct ward_err err = WARD_ERR_INIT;
	const char *path = ward_test_vector(rel);
	int r;

	if (!path)
		return -ENOENT;
	r = ward_dcap_collateral_add_file(c, item, path, &err);
	if (r < 0)
		fprintf(stderr, "%s: %s\n", rel, err.msg);
	return r;
}

/* The renewed TCB signing chain (valid 2025-05-06 to 2032-05-06). */
static int add_renewed_tcb_chain(struct ward_dcap_collateral *c)
{
	struct ward_err err = WARD_ERR_INIT;
	struct tvec v;
	char *chain;
	int r;

	if (!tvec_load("tdx/v4-uptodate-dcapqvl/collateral.json", &v))
		return -ENOENT;
	chain = tqvl_member(&v, "tcb_info_issuer_chain");
	r = ward_dcap_collateral_add(c, WARD_DCAP_TCB_ISSUER_CHAIN, chain, strlen(chain), &err);
	if (r == 0) {
		char *crl = tqvl_member(&v, "root_ca_crl");

		r = ward_dcap_collateral_add(c, WARD_DCAP_ROOT_CRL, crl, strlen(crl), &err);
		free(crl);
	}
	if (r < 0)
		fprintf(stderr, "renewed chain: %s\n", err.msg);
	free(chain);
	tvec_clear(&v);
	return r;
}

#define TDX_UPTODATE_AT "2025-07-19T10:00:34Z"

WARD_TEST(tdx_v4_uptodate)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_dcap_collateral_freep) struct ward_dcap_collateral *c = NULL;
	json_t *claims = NULL;
	struct tvec q;

	if (!tvec_load("tdx/v4-uptodate-dcapqvl/quote.dat", &q))
		return;
	c = qvl("tdx/v4-uptodate-dcapqvl/collateral.json");
	CHECK(c != NULL);
	CHECK_OK(ward_dcap_verify(q.data, q.size, c, at(TDX_UPTODATE_AT), &claims, &err), &err);
	CHECK_STR(claim(claims, NULL, "tee"), "tdx");
	CHECK_STR(claim(claims, "tcb", "status"), "UpToDate");
	CHECK_INT(json_array_size(json_object_get(json_object_get(claims, "tcb"), "advisory_ids")),
		  ==, 0);
	CHECK_STR(claim(claims, "tcb", "tdx_module_status"), "UpToDate");
	CHECK_STR(claim(claims, "tcb", "fmspc"), "b0c06f000000");
	CHECK_STR(claim(claims, "tcb", "tee_tcb_svn"), "06010300000000000000000000000000");
	CHECK_STR(claim(claims, "measurements", "mrtd"),
		  "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27"
		  "428b2538873118b7");
	CHECK_STR(claim(claims, "measurements", "rtmr1"),
		  "0084452c01668329d4bc06acdf58a7205c26743304509973949e5619bf81a6a7aea8c323c173019b"
		  "3093d54e579e9378");
	CHECK_STR(claim(claims, NULL, "report_data"),
		  "9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9eca3efdbb481601c"
		  "163cf52493d6e44aed55d51ec39b7e518fadb92c2b523f20");
	CHECK(json_is_false(json_object_get(claims, "debug")));
	CHECK_STR(claim(claims, "collateral", "expires"), "2025-07-19T10:00:35Z");
	json_decref(claims);

	/* Again through the caches, then one day later: collateral expired. */
	CHECK_OK(ward_dcap_verify(q.data, q.size, c, at(TDX_UPTODATE_AT) - 3600, &claims, &err),
		 &err);
	json_decref(claims);
	CHECK_ERR(ward_dcap_verify(q.data, q.size, c, at(TDX_UPTODATE_AT) + 86400, &claims, &err),
		  -WARD_E_EXPIRED);
	fprintf(stderr, "one day later: %s\n", err.msg);
	tvec_clear(&q);
}

WARD_TEST(sgx_v3_config_and_sw_hardening)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_dcap_collateral_freep) struct ward_dcap_collateral *c = NULL;
	json_t *claims = NULL, *adv;
	struct tvec q;

	if (!tvec_load("sgx/v3-dcapqvl/quote.dat", &q))
		return;
	c = qvl("sgx/v3-dcapqvl/collateral.json");
	CHECK(c != NULL);
	CHECK_OK(ward_dcap_verify(q.data, q.size, c, at("2025-07-19T10:01:17Z"), &claims, &err),
		 &err);
	CHECK_STR(claim(claims, NULL, "tee"), "sgx");
	CHECK_STR(claim(claims, "tcb", "status"), "ConfigurationAndSWHardeningNeeded");
	adv = json_object_get(json_object_get(claims, "tcb"), "advisory_ids");
	CHECK_INT(json_array_size(adv), ==, 2);
	CHECK_STR(json_string_value(json_array_get(adv, 0)), "INTEL-SA-00289");
	CHECK_STR(json_string_value(json_array_get(adv, 1)), "INTEL-SA-00615");
	CHECK_STR(claim(claims, "measurements", "mrenclave"),
		  "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb");
	CHECK_STR(claim(claims, "measurements", "mrsigner"),
		  "815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6");
	CHECK_STR(claim(claims, "tcb", "fmspc"), "00a067110000");
	json_decref(claims);
	c = ward_dcap_collateral_free(c);

	/* Against the TDX collateral: its PCK CRL is the Platform CA's. */
	c = qvl("tdx/v4-uptodate-dcapqvl/collateral.json");
	CHECK_ERR(ward_dcap_verify(q.data, q.size, c, at("2025-07-19T10:00:30Z"), &claims, &err),
		  -WARD_E_NOT_FOUND);
	CHECK_MSG(&err, "PCK CRL of Intel SGX PCK Processor CA");
	tvec_clear(&q);
}

static struct ward_dcap_collateral *spr_collateral(void)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_dcap_collateral *c = NULL;

	if (ward_dcap_collateral_new(&c, &err) < 0)
		return NULL;
	if (add(c, WARD_DCAP_TCB_INFO, "tdx/v4-spr-gotdxguest/tcbinfo.json") < 0 ||
	    add(c, WARD_DCAP_QE_IDENTITY, "tdx/v4-spr-gotdxguest/qeidentity.json") < 0 ||
	    add(c, WARD_DCAP_PCK_CRL, "tdx/v4-spr-gotdxguest/pckcrl-platform.der") < 0 ||
	    add(c, WARD_DCAP_ROOT_CRL, "tdx/v4-spr-gotdxguest/rootcrl.der") < 0 ||
	    add(c, WARD_DCAP_TCB_ISSUER_CHAIN, "tdx/v4-spr-gotdxguest/tcbinfo-issuer-chain.pem") <
		0 ||
	    add(c, WARD_DCAP_PCK_CRL_ISSUER_CHAIN,
		"tdx/v4-spr-gotdxguest/pckcrl-issuer-chain.pem") < 0)
		return ward_dcap_collateral_free(c);
	return c;
}

WARD_TEST(tdx_v4_spr_no_matching_level)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_dcap_collateral_freep) struct ward_dcap_collateral *c = NULL;
	json_t *claims = NULL;
	struct tvec q;

	if (!tvec_load("tdx/v4-spr-gotdxguest/quote.dat", &q))
		return;
	CHECK_OK(ward_dcap_verify_quote_only(q.data, q.size, at("2023-07-01T01:00:00Z"), &err),
		 &err);
	c = spr_collateral();
	CHECK(c != NULL);
	CHECK_ERR(ward_dcap_verify(q.data, q.size, c, at("2023-07-01T01:00:00Z"), &claims, &err),
		  -WARD_E_POLICY);
	CHECK_MSG(&err, "no TCB level");
	/* go-tdx-guest's negative: at 2053 the PCK has expired. */
	CHECK_ERR(ward_dcap_verify_quote_only(q.data, q.size, at("2053-07-01T00:00:00Z"), &err),
		  -WARD_E_EXPIRED);
	tvec_clear(&q);
}

WARD_TEST(tdx_v5_relaunch_advised)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_dcap_collateral_freep) struct ward_dcap_collateral *c = NULL;
	json_t *claims = NULL, *adv;
	struct tvec q;

	if (!tvec_load("tdx/v5-relaunch-advised-oe/quote.dat", &q))
		return;
	CHECK_OK(ward_dcap_collateral_new(&c, &err), &err);
	CHECK_OK(add(c, WARD_DCAP_TCB_INFO, "tdx/v5-relaunch-advised-oe/tcbinfo.json"), NULL);
	CHECK_OK(add(c, WARD_DCAP_QE_IDENTITY, "tdx/v5-relaunch-advised-oe/qeidentity.json"), NULL);
	CHECK_OK(add(c, WARD_DCAP_PCK_CRL, "tdx/v5-relaunch-advised-oe/pckcrl-platform.hex"), NULL);
	CHECK_OK(add(c, WARD_DCAP_ROOT_CRL, "tdx/v5-relaunch-advised-oe/rootcrl.hex"), NULL);
	CHECK_OK(add(c, WARD_DCAP_TCB_ISSUER_CHAIN,
		     "tdx/v5-relaunch-advised-oe/tcbinfo-issuer-chain.pem"),
		 NULL);
	CHECK_OK(ward_dcap_verify(q.data, q.size, c, at("2025-03-10T00:00:00Z"), &claims, &err),
		 &err);
	CHECK_STR(claim(claims, "tcb", "status"), "TDRelaunchAdvised");
	CHECK_STR(claim(claims, "tcb", "platform_status"), "UpToDate");
	CHECK_STR(claim(claims, "tcb", "tdx_module_status"), "OutOfDate");
	adv = json_object_get(json_object_get(claims, "tcb"), "advisory_ids");
	CHECK_INT(json_array_size(adv), ==, 2);
	CHECK_STR(json_string_value(json_array_get(adv, 0)), "INTEL-SA-01036");
	CHECK_STR(json_string_value(json_array_get(adv, 1)), "INTEL-SA-01099");
	CHECK_STR(claim(claims, "measurements", "tee_tcb_svn2"),
		  "07010300000000000000000000000000");
	CHECK_STR(claim(claims, "measurements", "mrtd"),
		  "ece51dc95034ed0e1aad68e57b2d9d0a54d79f5b75626adbc4bbe9576971e85ed33702d96be68134"
		  "a841fb5de7f839bf");
	CHECK(json_object_get(json_object_get(claims, "measurements"), "mrservicetd") != NULL);
	json_decref(claims);
	tvec_clear(&q);
}

WARD_TEST(tdx_v5_gotdxguest_tcb_info)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_dcap_collateral_freep) struct ward_dcap_collateral *c = NULL;
	const struct ward_dcap_tcb_info *ti;
	struct ward_dcap_pck_info pck;
	struct ward_dcap_quote quote;
	struct ward_dcap_eval e;
	json_t *claims = NULL;
	struct tvec q;

	if (!tvec_load("tdx/v5-gotdxguest/quote.dat", &q))
		return;
	CHECK_OK(ward_dcap_verify_quote_only(q.data, q.size, at("2026-02-03T01:00:00Z"), &err),
		 &err);
	CHECK_OK(ward_dcap_collateral_new(&c, &err), &err);
	CHECK_OK(add_renewed_tcb_chain(c), NULL);
	CHECK_OK(add(c, WARD_DCAP_TCB_INFO, "tdx/v5-gotdxguest/tcbinfo-v5.json"), NULL);
	CHECK_OK(ward_dcap_quote_parse(q.data, q.size, &quote, &err), &err);
	CHECK_OK(tquote_pck(&quote, &pck), NULL);
	CHECK_OK(ward_dcap_collateral_check_tcb_info(c, WARD_DCAP_TEE_TDX, pck.fmspc,
						     at("2026-02-03T01:00:00Z"), &ti, &err),
		 &err);
	CHECK_OK(ward_dcap_eval_platform(ti, &pck, quote.td.tee_tcb_svn, quote.td.mrsignerseam,
					 quote.td.seam_attributes, &e, &err),
		 &err);
	CHECK_INT(e.status, ==, WARD_DCAP_TCB_UP_TO_DATE);
	ward_dcap_eval_clear(&e);
	/* The full verification names what is missing. */
	CHECK_ERR(ward_dcap_verify(q.data, q.size, c, at("2026-02-03T01:00:00Z"), &claims, &err),
		  -WARD_E_NOT_FOUND);
	CHECK_MSG(&err, "PCK CRL of Intel SGX PCK Platform CA");
	tvec_clear(&q);
}

WARD_TEST(tdx_v4_outofdate_collateral)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_dcap_collateral_freep) struct ward_dcap_collateral *c = NULL;
	const struct ward_dcap_tcb_info *ti;
	const struct ward_dcap_qe_identity *qi;
	struct ward_dcap_pck_info pck;
	struct ward_dcap_quote quote;
	struct ward_dcap_eval e;
	struct tvec q;
	time_t t = at("2025-11-01T00:00:00Z");

	if (!tvec_load("tdx/v4-outofdate-trustee/quote.dat", &q))
		return;
	CHECK_OK(ward_dcap_verify_quote_only(q.data, q.size, t, &err), &err);
	CHECK_OK(ward_dcap_collateral_new(&c, &err), &err);
	CHECK_OK(add_renewed_tcb_chain(c), NULL);
	CHECK_OK(add(c, WARD_DCAP_TCB_INFO, "tdx/v4-outofdate-trustee/tcbinfo.json"), NULL);
	CHECK_OK(add(c, WARD_DCAP_QE_IDENTITY, "tdx/v4-outofdate-trustee/qeidentity.json"), NULL);
	CHECK_OK(ward_dcap_quote_parse(q.data, q.size, &quote, &err), &err);
	CHECK_OK(tquote_pck(&quote, &pck), NULL);
	CHECK_OK(ward_dcap_collateral_check_tcb_info(c, WARD_DCAP_TEE_TDX, pck.fmspc, t, &ti, &err),
		 &err);
	CHECK_OK(ward_dcap_collateral_check_qe_identity(c, WARD_DCAP_QE_TD, t, &qi, &err), &err);
	CHECK_OK(ward_dcap_evaluate(&quote, &pck, ti, qi, &e, &err), &err);
	CHECK_STR(ward_dcap_tcb_status_name(e.status), "OutOfDate");
	ward_dcap_eval_clear(&e);
	/* TCB info checked after its nextUpdate */
	CHECK_ERR(ward_dcap_collateral_check_tcb_info(c, WARD_DCAP_TEE_TDX, pck.fmspc,
						      at("2025-11-27T00:00:00Z"), &ti, &err),
		  -WARD_E_EXPIRED);
	CHECK_MSG(&err, "TCB info");
	tvec_clear(&q);
}

WARD_TEST(quote_only_debug_and_trailing)
{
	static const char *const paths[] = {"tdx/v4-debugtd-trustee/quote.dat",
					    "sgx/v3-occlum-trustee/quote.dat",
					    "tdx/v5-trustee/quote.dat",
					    "tdx/v4-oe/quote.dat",
					    "tdx/v4-gcp-cos-gotdxguest/quote-8000B-zero-padded.dat",
					    "tdx/azure-v4-hcl-trustee/td-quote.dat"};

	for (size_t i = 0; i < WARD_ARRAY_SIZE(paths); i++) {
		struct ward_err err = WARD_ERR_INIT;
		struct tvec q;

		if (!tvec_load(paths[i], &q))
			continue;
		CHECK_OK(
		    ward_dcap_verify_quote_only(q.data, q.size, at("2025-06-01T00:00:00Z"), &err),
		    &err);
		tvec_clear(&q);
	}
}

/* Every byte of both signatures, measurement and report data bytes, the
 * QE report data and the attestation key: flipped, always -WARD_E_VERIFY. */
WARD_TEST(mutations_rejected)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_dcap_collateral_freep) struct ward_dcap_collateral *c = NULL;
	struct ward_dcap_quote quote;
	json_t *claims = NULL;
	struct tvec q;
	size_t offs[64 * 4 + 16];
	size_t n = 0;
	uint8_t *m;

	if (!tvec_load("tdx/v4-uptodate-dcapqvl/quote.dat", &q))
		return;
	c = qvl("tdx/v4-uptodate-dcapqvl/collateral.json");
	CHECK(c != NULL);
	CHECK_OK(ward_dcap_quote_parse(q.data, q.size, &quote, &err), &err);
#define OFF(p) ((size_t)((const uint8_t *)(p)-q.data))
	for (size_t i = 0; i < 64; i++) {
		offs[n++] = OFF(quote.signature) + i;
		offs[n++] = OFF(quote.qe_report_signature) + i;
	}
	for (size_t i = 0; i < 48; i += 7)
		offs[n++] = OFF(quote.td.mrtd) + i;
	for (size_t i = 0; i < 64; i += 9)
		offs[n++] = OFF(quote.td.report_data) + i;
	offs[n++] = OFF(quote.td.rtmr[3]) + 47;
	offs[n++] = OFF(quote.td.tee_tcb_svn);
	offs[n++] = OFF(quote.qe_report.report_data) + 5;
	offs[n++] = OFF(quote.qe_report.report_data) + 40;
	offs[n++] = OFF(quote.attest_key) + 3;
	offs[n++] = OFF(quote.attest_key) + 63;
	offs[n++] = OFF(quote.qe_auth_data);
	offs[n++] = OFF(quote.qe_vendor_id);
	offs[n++] = 0x1e; /* header user data (go-tdx-guest's negative) */
#undef OFF
	m = malloc(q.size);
	for (size_t k = 0; k < n; k++) {
		int r;

		memcpy(m, q.data, q.size);
		m[offs[k]] ^= 0x01;
		r = ward_dcap_verify(m, q.size, c, at(TDX_UPTODATE_AT), &claims, &err);
		if (r != -WARD_E_VERIFY)
			fprintf(stderr, "flip at %zu: %d (%s)\n", offs[k], r, err.msg);
		CHECK_ERR(r, -WARD_E_VERIFY);
	}
	/* Bytes of the PCK chain PEM: never accepted (verify or malformed). */
	for (size_t i = 0; i < quote.pck_chain_size; i += 97) {
		size_t off = (size_t)((const uint8_t *)quote.pck_chain_pem - q.data) + i;
		int r;

		memcpy(m, q.data, q.size);
		m[off] = m[off] == 'A' ? 'B' : 'A';
		r = ward_dcap_verify(m, q.size, c, at(TDX_UPTODATE_AT), &claims, &err);
		if (r == 0)
			fprintf(stderr, "PEM change at %zu accepted\n", i);
		CHECK(r == -WARD_E_VERIFY || r == -WARD_E_MALFORMED);
		if (r == 0)
			json_decref(claims);
	}
	free(m);
	tvec_clear(&q);
}

WARD_TEST(collateral_mutations)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_dcap_collateral *c = NULL;
	json_t *claims = NULL;
	struct tvec q, coll;
	char *ti, *sig_hex, *s;
	uint8_t sig[64];

	if (!tvec_load("tdx/v4-uptodate-dcapqvl/quote.dat", &q) ||
	    !tvec_load("tdx/v4-uptodate-dcapqvl/collateral.json", &coll))
		return;
	ti = tqvl_member(&coll, "tcb_info");
	sig_hex = tqvl_member(&coll, "tcb_info_signature");
	CHECK(ward_hex_decode_fixed(sig_hex, 128, sig, 64, NULL) == 0);

	/* TCB info text with one byte changed: the signature fails. */
	c = qvl("tdx/v4-uptodate-dcapqvl/collateral.json");
	s = strstr(ti, "\"tcbEvaluationDataNumber\":17");
	CHECK(s != NULL);
	s[strlen("\"tcbEvaluationDataNumber\":1")] = '8';
	CHECK_OK(
	    ward_dcap_collateral_add_signed(c, WARD_DCAP_TCB_INFO, ti, strlen(ti), sig, 64, &err),
	    &err);
	CHECK_ERR(ward_dcap_verify(q.data, q.size, c, at(TDX_UPTODATE_AT), &claims, &err),
		  -WARD_E_VERIFY);
	CHECK_MSG(&err, "TCB info");
	s[strlen("\"tcbEvaluationDataNumber\":1")] = '7';
	/* The original text verifies again; a flipped signature byte does not. */
	CHECK_OK(
	    ward_dcap_collateral_add_signed(c, WARD_DCAP_TCB_INFO, ti, strlen(ti), sig, 64, &err),
	    &err);
	CHECK_OK(ward_dcap_verify(q.data, q.size, c, at(TDX_UPTODATE_AT), &claims, &err), &err);
	json_decref(claims);
	for (size_t i = 0; i < 64; i++) {
		sig[i] ^= 0x80;
		CHECK_OK(ward_dcap_collateral_add_signed(c, WARD_DCAP_TCB_INFO, ti, strlen(ti), sig,
							 64, &err),
			 &err);
		CHECK_ERR(ward_dcap_verify(q.data, q.size, c, at(TDX_UPTODATE_AT), &claims, &err),
			  -WARD_E_VERIFY);
		sig[i] ^= 0x80;
	}
	c = ward_dcap_collateral_free(c);

	/* QE identity text with one byte changed, and a flipped signature. */
	{
		char *qe = tqvl_member(&coll, "qe_identity");
		char *qe_sig_hex = tqvl_member(&coll, "qe_identity_signature");
		uint8_t qe_sig[64];
		char *isv = strstr(qe, "\"isvprodid\":2");

		CHECK(isv != NULL);
		CHECK(ward_hex_decode_fixed(qe_sig_hex, 128, qe_sig, 64, NULL) == 0);
		c = qvl("tdx/v4-uptodate-dcapqvl/collateral.json");
		isv[strlen("\"isvprodid\":")] = '3';
		CHECK_OK(ward_dcap_collateral_add_signed(c, WARD_DCAP_QE_IDENTITY, qe, strlen(qe),
							 qe_sig, 64, &err),
			 &err);
		CHECK_ERR(ward_dcap_verify(q.data, q.size, c, at(TDX_UPTODATE_AT), &claims, &err),
			  -WARD_E_VERIFY);
		CHECK_MSG(&err, "TD QE identity");
		isv[strlen("\"isvprodid\":")] = '2';
		qe_sig[63] ^= 1;
		CHECK_OK(ward_dcap_collateral_add_signed(c, WARD_DCAP_QE_IDENTITY, qe, strlen(qe),
							 qe_sig, 64, &err),
			 &err);
		CHECK_ERR(ward_dcap_verify(q.data, q.size, c, at(TDX_UPTODATE_AT), &claims, &err),
			  -WARD_E_VERIFY);
		qe_sig[63] ^= 1;
		CHECK_OK(ward_dcap_collateral_add_signed(c, WARD_DCAP_QE_IDENTITY, qe, strlen(qe),
							 qe_sig, 64, &err),
			 &err);
		CHECK_OK(ward_dcap_verify(q.data, q.size, c, at(TDX_UPTODATE_AT), &claims, &err),
			 &err);
		json_decref(claims);
		c = ward_dcap_collateral_free(c);
		free(qe);
		free(qe_sig_hex);
	}

	/* Wrong root: a TCB signing chain that does not lead to Intel's root. */
	c = qvl("tdx/v4-uptodate-dcapqvl/collateral.json");
	CHECK_OK(add(c, WARD_DCAP_TCB_ISSUER_CHAIN, "snp/genoa-v5-routex/vcek-chain.pem"), NULL);
	CHECK_ERR(ward_dcap_verify(q.data, q.size, c, at(TDX_UPTODATE_AT), &claims, &err),
		  -WARD_E_VERIFY);
	fprintf(stderr, "wrong root: %s\n", err.msg);
	c = ward_dcap_collateral_free(c);

	/* A root CRL that revokes nothing but is outside its validity. */
	c = qvl("tdx/v4-uptodate-dcapqvl/collateral.json");
	CHECK_OK(add(c, WARD_DCAP_ROOT_CRL, "tdx/v4-spr-gotdxguest/rootcrl.der"), NULL);
	CHECK_ERR(ward_dcap_verify(q.data, q.size, c, at(TDX_UPTODATE_AT), &claims, &err),
		  -WARD_E_EXPIRED);
	CHECK_MSG(&err, "root CA CRL");
	c = ward_dcap_collateral_free(c);

	/* Same for the PCK CRL (the 2023 Platform CA CRL). */
	c = qvl("tdx/v4-uptodate-dcapqvl/collateral.json");
	CHECK_OK(add(c, WARD_DCAP_PCK_CRL, "tdx/v4-spr-gotdxguest/pckcrl-platform.der"), NULL);
	CHECK_ERR(ward_dcap_verify(q.data, q.size, c, at(TDX_UPTODATE_AT), &claims, &err),
		  -WARD_E_EXPIRED);
	CHECK_MSG(&err, "PCK CRL");
	c = ward_dcap_collateral_free(c);

	/* An empty set: the first missing item is named. */
	CHECK_OK(ward_dcap_collateral_new(&c, &err), &err);
	CHECK_ERR(ward_dcap_verify(q.data, q.size, c, at(TDX_UPTODATE_AT), &claims, &err),
		  -WARD_E_NOT_FOUND);
	CHECK_MSG(&err, "root CA CRL");
	c = ward_dcap_collateral_free(c);

	/* Malformed collateral.json forms. */
	CHECK_OK(ward_dcap_collateral_new(&c, &err), &err);
	CHECK_ERR(ward_dcap_collateral_add_qvl_json(c, "{}", 2, &err), -WARD_E_NOT_FOUND);
	CHECK_MSG(&err, "root_ca_crl");
	CHECK_ERR(ward_dcap_collateral_add_qvl_json(c, "[", 1, &err), -WARD_E_MALFORMED);
	CHECK_ERR(ward_dcap_collateral_add(c, WARD_DCAP_ROOT_CRL, "zz", 2, &err),
		  -WARD_E_MALFORMED);
	CHECK_ERR(
	    ward_dcap_collateral_add_signed(c, WARD_DCAP_TCB_INFO, ti, strlen(ti), sig, 63, &err),
	    -WARD_E_MALFORMED);
	CHECK_ERR(
	    ward_dcap_collateral_add_signed(c, WARD_DCAP_ROOT_CRL, ti, strlen(ti), sig, 64, &err),
	    -WARD_E_USAGE);
	c = ward_dcap_collateral_free(c);

	free(ti);
	free(sig_hex);
	tvec_clear(&coll);
	tvec_clear(&q);
}

static int copy_vector(const char *rel, const char *dst)
{
	struct tvec v;
	struct ward_err err = WARD_ERR_INIT;
	int r;

	if (!tvec_load(rel, &v))
		return -ENOENT;
	r = ward_file_write_atomic(dst, v.data, v.size, 0644, &err);
	tvec_clear(&v);
	return r;
}

/* The offline directory layout of docs/attestation-dcap.md. */
WARD_TEST(collateral_directory)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_dcap_collateral_freep) struct ward_dcap_collateral *c = NULL;
	char tmpl[] = "/tmp/ward-dcap-XXXXXX", p[512];
	json_t *claims = NULL;
	struct tvec q;

	if (!tvec_load("tdx/v5-relaunch-advised-oe/quote.dat", &q))
		return;
	CHECK_OK(ward_mkdtemp(tmpl, &err), &err);
	snprintf(p, sizeof(p), "%s/dcap", tmpl);
	CHECK(mkdir(p, 0755) == 0);
	snprintf(p, sizeof(p), "%s/dcap/90c06f000000", tmpl);
	CHECK(mkdir(p, 0755) == 0);
	CHECK_OK(ward_dcap_collateral_open_dir(tmpl, &c, &err), &err);

	/* Files appear one by one; each error names the next missing file. */
	CHECK_ERR(ward_dcap_verify(q.data, q.size, c, at("2025-03-10T00:00:00Z"), &claims, &err),
		  -WARD_E_NOT_FOUND);
	CHECK_MSG(&err, "/dcap/rootcrl.der");
	snprintf(p, sizeof(p), "%s/dcap/rootcrl.hex", tmpl);
	CHECK_OK(copy_vector("tdx/v5-relaunch-advised-oe/rootcrl.hex", p), NULL);
	CHECK_ERR(ward_dcap_verify(q.data, q.size, c, at("2025-03-10T00:00:00Z"), &claims, &err),
		  -WARD_E_NOT_FOUND);
	CHECK_MSG(&err, "/dcap/pckcrl-platform.der");
	snprintf(p, sizeof(p), "%s/dcap/pckcrl-platform.hex", tmpl);
	CHECK_OK(copy_vector("tdx/v5-relaunch-advised-oe/pckcrl-platform.hex", p), NULL);
	CHECK_ERR(ward_dcap_verify(q.data, q.size, c, at("2025-03-10T00:00:00Z"), &claims, &err),
		  -WARD_E_NOT_FOUND);
	CHECK_MSG(&err, "/dcap/tcb-signing-chain.pem");
	snprintf(p, sizeof(p), "%s/dcap/tcb-signing-chain.pem", tmpl);
	CHECK_OK(copy_vector("tdx/v5-relaunch-advised-oe/tcbinfo-issuer-chain.pem", p), NULL);
	CHECK_ERR(ward_dcap_verify(q.data, q.size, c, at("2025-03-10T00:00:00Z"), &claims, &err),
		  -WARD_E_NOT_FOUND);
	CHECK_MSG(&err, "/dcap/90c06f000000/tcbinfo-tdx.json");
	snprintf(p, sizeof(p), "%s/dcap/90c06f000000/tcbinfo-tdx.json", tmpl);
	CHECK_OK(copy_vector("tdx/v5-relaunch-advised-oe/tcbinfo.json", p), NULL);
	CHECK_ERR(ward_dcap_verify(q.data, q.size, c, at("2025-03-10T00:00:00Z"), &claims, &err),
		  -WARD_E_NOT_FOUND);
	CHECK_MSG(&err, "/dcap/td-qe-identity.json");
	snprintf(p, sizeof(p), "%s/dcap/td-qe-identity.json", tmpl);
	CHECK_OK(copy_vector("tdx/v5-relaunch-advised-oe/qeidentity.json", p), NULL);
	CHECK_OK(ward_dcap_verify(q.data, q.size, c, at("2025-03-10T00:00:00Z"), &claims, &err),
		 &err);
	CHECK_STR(claim(claims, "tcb", "status"), "TDRelaunchAdvised");
	json_decref(claims);
	CHECK_OK(ward_rm_rf(tmpl, &err), &err);
	tvec_clear(&q);
}

WARD_TEST(builtin_root)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *root = NULL;
	uint8_t fp[32], want[32];
	const char *pem = ward_dcap_intel_root_pem();

	CHECK_OK(ward_x509_from_pem(pem, strlen(pem), &root, &err), &err);
	CHECK_OK(ward_x509_fingerprint(root, fp, &err), &err);
	ward_test_unhex("44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3", want,
			32);
	CHECK_MEM(fp, want, 32);
	CHECK_MEM(ward_dcap_intel_root_fingerprint, want, 32);
}

WARD_TEST_MAIN()
