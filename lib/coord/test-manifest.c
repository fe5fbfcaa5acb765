/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include "ward-test.h"
#include "ward/cleanup.h"
#include "ward/coord.h"
#include "ward/encoding.h"
#include "ward/manifest.h"

#define M48                                                                                        \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* P-256 public key for the users section. */
static const char USER_PEM[] = "-----BEGIN PUBLIC KEY-----\\n"
			       "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEVs/o5+uQbTjL3chynL4wXgUg2R9\\n"
			       "q9UU8I5mEovUf86QZ7kOBIjJwqnzD1omageEHWwHdBO6B+dFabmdT9POxg==\\n"
			       "-----END PUBLIC KEY-----\\n";

static char *good_manifest(void)
{
	char *s = NULL;

	if (asprintf(
		&s,
		"{\"packages\": {\"web\": {\"tees\": [\"sim\"], \"measurements\": "
		"{\"sim\": [\"%s\"]}, \"debug\": false,"
		" \"min_tcb\": {\"bootloader\": 1, \"tee\": 0, \"snp\": 8, \"microcode\": 2}}},"
		" \"secrets\": {\"db.password\": {\"type\": \"password\"},"
		"   \"k\": {\"type\": \"symmetric\", \"resource\": \"default/key/1\", "
		"\"packages\": [\"web\"]},"
		"   \"tls\": {\"type\": \"cert\", \"cert\": {\"subject\": \"CN=web\"}},"
		"   \"sig\": {\"type\": \"ec-p256\"}, \"u\": {\"type\": \"user\"}},"
		" \"workloads\": {\"w\": {\"package\": \"web\", \"argv\": [\"--pw={{ "
		"secret.db.password }}\"],"
		"   \"env\": {\"K\": \"{{hex secret.k}}\"}, \"files\": {\"/a\": \"{{ pem "
		"secret.tls.private }}\"}}},"
		" \"users\": {\"alice\": {\"public_key\": \"%s\", \"roles\": [\"ops\"]}},"
		" \"roles\": {\"ops\": {\"actions\": [\"set_secret\", \"read_log\"], "
		"\"secrets\": [\"u\"]}}}",
		M48 "aaaaaaaa", USER_PEM) < 0)
		return NULL;
	return s;
}

WARD_TEST(parse_good)
{
	WARD_AUTOFREE char *text = good_manifest();
	WARD_CLEANUP(ward_manifest_freep) struct ward_manifest *m = NULL, *m2 = NULL;
	struct ward_err err = WARD_ERR_INIT;
	const struct ward_manifest_package *p;
	const struct ward_manifest_user *u;
	WARD_AUTOFREE char *canon = NULL;
	uint8_t meas[48];

	CHECK(text != NULL);
	CHECK_OK(ward_manifest_parse(text, strlen(text), &m, &err), &err);
	CHECK_INT(m->package_count, ==, 1);
	CHECK_INT(m->secret_count, ==, 5);
	p = ward_manifest_package(m, "web");
	CHECK(p != NULL);
	CHECK(p->has_min_tcb);
	CHECK_INT(p->min_tcb[2], ==, 8);
	memset(meas, 0xaa, 48);
	CHECK(ward_manifest_package_accepts(p, WARD_TEE_SIM, meas, 48));
	CHECK(!ward_manifest_package_accepts(p, WARD_TEE_SNP, meas, 48));
	meas[47] ^= 1;
	CHECK(!ward_manifest_package_accepts(p, WARD_TEE_SIM, meas, 48));
	CHECK(ward_manifest_secret_by_resource(m, "default/key/1") == ward_manifest_secret(m, "k"));
	CHECK(ward_manifest_secret_by_resource(m, "default/key/2") == NULL);
	u = ward_manifest_user(m, "alice");
	CHECK(u != NULL);
	CHECK(ward_manifest_user_allows(m, u, WARD_ROLE_READ_LOG, NULL));
	CHECK(!ward_manifest_user_allows(m, u, WARD_ROLE_UPDATE_MANIFEST, NULL));
	CHECK(ward_manifest_user_allows(m, u, WARD_ROLE_SET_SECRET, "u"));
	CHECK(!ward_manifest_user_allows(m, u, WARD_ROLE_SET_SECRET, "k"));
	/* The canonical form parses to the same hash. */
	CHECK_OK(ward_manifest_canonical(m, &canon, &err), &err);
	CHECK_OK(ward_manifest_parse(canon, strlen(canon), &m2, &err), &err);
	CHECK_MEM(m->hash, m2->hash, 32);
}

struct bad_case {
	const char *json;
	const char *msg;
};

WARD_TEST(parse_errors_name_the_path)
{
	static const struct bad_case cases[] = {
	    {"[]", "expected object"},
	    {"{\"nope\": 1}", "$.nope: unknown key"},
	    {"{\"packages\": {\"w\": {\"tees\": [], \"measurements\": {}}}}", "lists no TEE"},
	    {"{\"packages\": {\"w\": {\"tees\": [\"xen\"], \"measurements\": {}}}}",
	     "$.packages.w.tees[0]"},
	    {"{\"packages\": {\"w\": {\"tees\": [\"sim\"], \"measurements\": {}}}}",
	     "no measurement for TEE \"sim\""},
	    {"{\"packages\": {\"w\": {\"tees\": [\"sim\"], \"measurements\": {\"sim\": "
	     "[\"ab\"]}}}}",
	     "$.packages.w.measurements.sim[0]: expected 96 hex digits"},
	    {"{\"packages\": {\"w\": {\"tees\": [\"sim\"], \"measurements\": {\"snp\": []}}}}",
	     "not listed in \"tees\""},
	    {"{\"packages\": {\"bad name\": {}}}", "invalid name"},
	    {"{\"secrets\": {\"s\": {\"type\": \"magic\"}}}", "unknown secret type"},
	    {"{\"secrets\": {\"s\": {\"type\": \"rsa\", \"size\": 1000}}}", "$.secrets.s.size"},
	    {"{\"secrets\": {\"s\": {\"type\": \"cert\"}}}", "$.secrets.s.cert: missing"},
	    {"{\"secrets\": {\"s\": {\"type\": \"symmetric\", \"resource\": \"a/b\", "
	     "\"packages\": []}}}",
	     "<repo>/<type>/<tag>"},
	    {"{\"secrets\": {\"s\": {\"type\": \"symmetric\", \"resource\": \"ward/b/c\", "
	     "\"packages\": []}}}",
	     "reserved"},
	    {"{\"secrets\": {\"s\": {\"type\": \"symmetric\", \"resource\": \"a/b/c\"}}}",
	     "packages: required"},
	    {"{\"workloads\": {\"w\": {\"package\": \"none\"}}}", "no package \"none\""},
	    {"{\"roles\": {\"r\": {\"actions\": [\"fly\"]}}}", "unknown action"},
	    {"{\"recovery_keys\": {\"r\": \"junk\"}}", "$.recovery_keys.r"},
	};
	struct ward_err err = WARD_ERR_INIT;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ward_manifest *m = NULL;
		int r = ward_manifest_parse(cases[i].json, strlen(cases[i].json), &m, &err);

		if (r >= 0) {
			ward_manifest_free(m);
			WARD_FAIL_("case %zu accepted: %s", i, cases[i].json);
		}
		if (!strstr(err.msg, cases[i].msg))
			WARD_FAIL_("case %zu: message '%s' lacks '%s'", i, err.msg, cases[i].msg);
	}
}

static int fake_resolve(void *ud, const struct ward_manifest_secret *s, const char *part,
			uint8_t **ret, size_t *ret_size, struct ward_err *err)
{
	char buf[64];

	(void)ud;
	(void)err;
	snprintf(buf, sizeof(buf), "<%s:%s>", s->name, part ? part : "-");
	*ret = (uint8_t *)strdup(buf);
	*ret_size = strlen(buf);
	return 0;
}

WARD_TEST(templates)
{
	WARD_AUTOFREE char *text = good_manifest();
	WARD_CLEANUP(ward_manifest_freep) struct ward_manifest *m = NULL;
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *out = NULL;
	struct ward_err err = WARD_ERR_INIT;

	CHECK_OK(ward_manifest_parse(text, strlen(text), &m, &err), &err);
	CHECK_OK(ward_template_render(m,
				      "a {{ secret.db.password }} b {{hex secret.k}}{{ pem "
				      "secret.tls.private }}{{ secret.tls }}",
				      fake_resolve, NULL, &out, &err),
		 &err);
	CHECK_INT(out->size, ==, strlen("a <db.password:-> b 3c6b3a2d3e<tls:private><tls:cert>"));
	CHECK_MEM(out->data, "a <db.password:-> b 3c6b3a2d3e<tls:private><tls:cert>", out->size);
	CHECK_ERR(ward_template_check(m, "{{ secret.nope }}", "$.x", &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "unknown secret \"nope\"");
	CHECK_ERR(ward_template_check(m, "{{ secret.k", "$.x", &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "unterminated");
	CHECK_ERR(ward_template_check(m, "{{ rot13 secret.k }}", "$.x", &err), -WARD_E_MALFORMED);
	CHECK_ERR(ward_template_check(m, "{{ pem secret.k }}", "$.x", &err), -WARD_E_MALFORMED);
	CHECK_ERR(ward_template_check(m, "{{ secret.k.private }}", "$.x", &err), -WARD_E_MALFORMED);
	CHECK_ERR(ward_template_check(m, "{{ secret.sig.cert }}", "$.x", &err), -WARD_E_MALFORMED);
	CHECK_ERR(ward_template_check(m, "{{ }}", "$.x", &err), -WARD_E_MALFORMED);
	CHECK_ERR(ward_template_check(m, "{{ db.password }}", "$.x", &err), -WARD_E_MALFORMED);
	CHECK_OK(ward_template_check(m, "no templates at all", "$.x", &err), &err);
}

WARD_TEST(policy)
{
	WARD_AUTOFREE char *text = good_manifest();
	WARD_CLEANUP(ward_manifest_freep) struct ward_manifest *m = NULL;
	struct ward_err err = WARD_ERR_INIT;
	struct ward_coord_claims c = {
	    .tee = WARD_TEE_SIM, .measurement_size = 48, .has_tcb = true, .tcb = {1, 0, 8, 2}};
	const struct ward_manifest_package *p;

	CHECK_OK(ward_manifest_parse(text, strlen(text), &m, &err), &err);
	p = ward_manifest_package(m, "web");
	memset(c.measurement, 0xaa, 48);
	CHECK_OK(ward_coord_check_policy(p, &c, &err), &err);
	c.tcb[2] = 7;
	CHECK_ERR(ward_coord_check_policy(p, &c, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "TCB snp 7 below the minimum 8");
	c.tcb[2] = 8;
	c.debug = true;
	CHECK_ERR(ward_coord_check_policy(p, &c, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "debug TEE refused");
	c.debug = false;
	c.tee = WARD_TEE_SNP;
	CHECK_ERR(ward_coord_check_policy(p, &c, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "TEE \"snp\" is not accepted");
	c.tee = WARD_TEE_SIM;
	c.measurement[0] = 0;
	CHECK_ERR(ward_coord_check_policy(p, &c, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "measurement");
}

#define REQ_OK "{\"version\":\"0.1.0\",\"tee\":\"amd-sev-snp\",\"extra-params\":\"\"}"
#define P(lit) lit, strlen(lit)

WARD_TEST(kbs_bodies_and_binding)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_kbs_attestation a = {0};
	enum ward_tee_type t;
	uint8_t rd1[64], rd2[64];
	static const char att_old[] =
	    "{\"tee-pubkey\": {\"kty\": \"EC\", \"crv\": \"P-256\", \"x\": \"a\", \"y\": \"b\"},"
	    " \"tee-evidence\": \"{\\\"report\\\": \\\"AA\\\"}\"}";
	static const char att_new[] =
	    "{\"runtime-data\": {\"nonce\": \"N\", \"tee-pubkey\": {\"kty\": \"EC\"}},"
	    " \"tee-evidence\": {\"report\": \"AA\"}}";

	CHECK_OK(ward_kbs_parse_request(REQ_OK, strlen(REQ_OK), &t, &err), &err);
	CHECK_INT(t, ==, WARD_TEE_SNP);
	CHECK_ERR(ward_kbs_parse_request(P("{\"version\":\"1.0\",\"tee\":\"snp\"}"), &t, &err),
		  -WARD_E_UNSUPPORTED);
	CHECK_ERR(ward_kbs_parse_request(P("{\"version\":\"0.1\",\"tee\":\"vax\"}"), &t, &err),
		  -WARD_E_UNSUPPORTED);
	CHECK_ERR(ward_kbs_parse_request(P("{\"version\":\"0.1\",\"x\":1}"), &t, &err),
		  -WARD_E_MALFORMED);

	CHECK_OK(ward_kbs_parse_attestation(att_old, strlen(att_old), &a, &err), &err);
	CHECK(a.nonce == NULL);
	CHECK_STR(json_string_value(json_object_get(a.evidence, "report")), "AA");
	ward_kbs_attestation_clear(&a);
	CHECK_OK(ward_kbs_parse_attestation(att_new, strlen(att_new), &a, &err), &err);
	CHECK_STR(a.nonce, "N");
	/* The binding depends on nonce and key, not on member order. */
	CHECK_OK(ward_kbs_report_data("N", a.tee_pubkey, rd1, &err), &err);
	CHECK_OK(ward_kbs_report_data("M", a.tee_pubkey, rd2, &err), &err);
	CHECK(memcmp(rd1, rd2, 64) != 0);
	for (int i = 48; i < 64; i++)
		CHECK_INT(rd1[i], ==, 0);
	ward_kbs_attestation_clear(&a);
	CHECK_ERR(ward_kbs_parse_attestation(P("{\"tee-evidence\": {}}"), &a, &err),
		  -WARD_E_MALFORMED);
	CHECK_ERR(
	    ward_kbs_parse_attestation(P("{\"tee-pubkey\": {}, \"tee-evidence\": 3}"), &a, &err),
	    -WARD_E_MALFORMED);
	CHECK_ERR(ward_kbs_parse_attestation(P("{\"tee-pubkey\": {}, \"tee-evidence\": \"{\"}"), &a,
					     &err),
		  -WARD_E_MALFORMED);
}

WARD_TEST_MAIN()
