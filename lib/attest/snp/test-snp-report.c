/* SPDX-License-Identifier: Apache-2.0 */
/* SNP parsing without crypto: report fields pinned from the real vectors
 * (values from vectors/PROVENANCE.md), every truncation, trailing bytes,
 * reserved fields, TCB layouts, the certificate table and the HCL wrapper. */
#include "ward-test.h"
#include "ward/attest.h"
#include "ward/cleanup.h"
#include "ward/encoding.h"
#include "ward/file.h"

static uint8_t *load(const char *rel, size_t *size)
{
	const char *path = ward_test_vector(rel);
	uint8_t *buf = NULL;

	if (!path || ward_file_read(path, 1u << 20, &buf, size, NULL) < 0)
		return NULL;
	return buf;
}

static bool hex_eq(const uint8_t *p, size_t n, const char *hex)
{
	char out[260];

	if (n * 2 + 1 > sizeof(out))
		return false;
	ward_hex_encode(p, n, out);
	if (strcmp(out, hex) != 0) {
		fprintf(stderr, "  got      %s\n  expected %s\n", out, hex);
		return false;
	}
	return true;
}

#define SKIP_IF_NO_VECTORS(buf)                                                                    \
	do {                                                                                       \
		if (!(buf)) {                                                                      \
			fprintf(stderr, "vectors missing: skipped\n");                             \
			return;                                                                    \
		}                                                                                  \
	} while (0)

static const char zeros32[] = "0000000000000000000000000000000000000000000000000000000000000000";

WARD_TEST(parse_milan_v2_gosevguest)
{
	size_t n;
	WARD_AUTOFREE uint8_t *buf = load("snp/milan-v2-gosevguest/report.bin", &n);
	struct ward_err err = WARD_ERR_INIT;
	struct ward_snp_report r;
	struct ward_snp_tcb t;

	SKIP_IF_NO_VECTORS(buf);
	CHECK_OK(ward_snp_report_parse(buf, n, &r, &err), &err);
	CHECK_INT(r.version, ==, 2);
	CHECK_INT(r.guest_svn, ==, 0);
	CHECK(r.policy == 0xB0000);
	CHECK(r.policy & WARD_SNP_POLICY_DEBUG);
	CHECK_INT(r.vmpl, ==, 0);
	CHECK_INT(r.signing_key, ==, WARD_SNP_SIGNING_KEY_VCEK);
	CHECK(r.platform_info == 1);
	CHECK(r.current_tcb == 0x4405000000000002ULL);
	CHECK(r.reported_tcb == 0x4405000000000002ULL);
	CHECK_INT(r.current_major, ==, 1);
	CHECK_INT(r.current_minor, ==, 49);
	CHECK_INT(r.current_build, ==, 3);
	CHECK(hex_eq(r.report_data, 5, "0102030405"));
	CHECK(
	    hex_eq(r.measurement, 48,
		   "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5"
		   "a608eb0cf2e4872b01"));
	CHECK(hex_eq(r.report_id, 32,
		     "8edc638e1857c555d21f6b11bda3c8b1b5a09dba4852b4c8ee7aa2f16f22cc0a"));
	CHECK(hex_eq(r.host_data, 32, zeros32));
	CHECK(
	    hex_eq(r.chip_id, 64,
		   "3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2"
		   "b76a1936776b564ea464cdce40c05f63c9b610c5068b006b5d"));
	CHECK_INT(ward_snp_report_product(&r), ==, WARD_SNP_PRODUCT_UNKNOWN); /* v2 */
	ward_snp_tcb_decode(r.reported_tcb, WARD_SNP_PRODUCT_MILAN, &t);
	CHECK_INT(t.bl, ==, 2);
	CHECK_INT(t.tee, ==, 0);
	CHECK_INT(t.snp, ==, 5);
	CHECK_INT(t.ucode, ==, 68);
	CHECK(!t.has_fmc);
}

WARD_TEST(parse_milan_v2_trustee_reported_vs_current)
{
	size_t n;
	WARD_AUTOFREE uint8_t *buf = load("snp/milan-v2-trustee/report.bin", &n);
	struct ward_snp_report r;
	struct ward_snp_tcb cur, rep;

	SKIP_IF_NO_VECTORS(buf);
	CHECK_OK(ward_snp_report_parse(buf, n, &r, NULL), NULL);
	CHECK_INT(r.guest_svn, ==, 4);
	CHECK(r.policy == 0x3001F);
	CHECK(r.current_tcb == 0xCE08000000000003ULL);
	CHECK(r.reported_tcb == 0x7308000000000003ULL);
	ward_snp_tcb_decode(r.current_tcb, WARD_SNP_PRODUCT_MILAN, &cur);
	ward_snp_tcb_decode(r.reported_tcb, WARD_SNP_PRODUCT_MILAN, &rep);
	CHECK_INT(cur.ucode, ==, 206);
	CHECK_INT(rep.bl, ==, 3);
	CHECK_INT(rep.snp, ==, 8);
	CHECK_INT(rep.ucode, ==, 115);
	CHECK(hex_eq(r.family_id, 16, "01000000000000000000000000000000"));
	CHECK(hex_eq(r.image_id, 16, "02000000000000000000000000000000"));
	CHECK(hex_eq(r.report_data, 32,
		     "ec6c52d7533cc2c4f45be7849cf112ab82b2009fe7bd43e71ed08c14400ad7e2"));
	CHECK(hex_eq(r.report_data + 32, 32, zeros32));
	CHECK(
	    hex_eq(r.measurement, 48,
		   "a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef827c23500644e0e692"
		   "e6be917f9050d3d38c"));
	CHECK(
	    hex_eq(r.chip_id, 64,
		   "c38427a30d4c7af9d96f7a15b97269825a64cb76a2352ffd5d18115d89ad473f8e8c0bcd9a5d92"
		   "86612bad4aadfb4426205a3b9e4fea82301135a170e477524e"));
}

WARD_TEST(parse_milan_v3_vlek)
{
	size_t n;
	WARD_AUTOFREE uint8_t *buf = load("snp/milan-v3-vlek-trustee/report.bin", &n);
	struct ward_snp_report r;
	struct ward_snp_tcb t;

	SKIP_IF_NO_VECTORS(buf);
	CHECK_OK(ward_snp_report_parse(buf, n, &r, NULL), NULL);
	CHECK_INT(r.version, ==, 3);
	CHECK_INT(r.vmpl, ==, 1);
	CHECK_INT(r.signing_key, ==, WARD_SNP_SIGNING_KEY_VLEK);
	CHECK_INT(r.cpuid_fam_id, ==, 0x19);
	CHECK_INT(r.cpuid_mod_id, ==, 0x01);
	CHECK_INT(r.cpuid_step, ==, 0x1);
	CHECK_INT(ward_snp_report_product(&r), ==, WARD_SNP_PRODUCT_MILAN);
	CHECK(r.platform_info == 0x27);
	CHECK(r.current_tcb == 0xDC18000000000004ULL);
	CHECK(r.reported_tcb == 0xD918000000000004ULL);
	CHECK(r.committed_tcb == 0xDB18000000000004ULL);
	CHECK(r.launch_tcb == 0xDB18000000000004ULL);
	ward_snp_tcb_decode(r.reported_tcb, WARD_SNP_PRODUCT_MILAN, &t);
	CHECK_INT(t.bl, ==, 4);
	CHECK_INT(t.snp, ==, 24);
	CHECK_INT(t.ucode, ==, 217);
	CHECK(hex_eq(r.chip_id, 4, "00000000"));
	CHECK(
	    hex_eq(r.measurement, 48,
		   "8922ebbdd00ec2c541f36a6e7a82a8773a7accb451ed67bc94e740dbe92c93c4e8c9af857f5cee"
		   "b5a493df2a570d7bf0"));
}

WARD_TEST(parse_genoa_v3_and_v5)
{
	size_t n3, n5;
	WARD_AUTOFREE uint8_t *b3 = load("snp/genoa-v3-trustee/report.bin", &n3);
	WARD_AUTOFREE uint8_t *b5 = load("snp/genoa-v5-routex/report.bin", &n5);
	struct ward_snp_report r;
	struct ward_snp_tcb t;

	SKIP_IF_NO_VECTORS(b3);
	SKIP_IF_NO_VECTORS(b5);
	CHECK_OK(ward_snp_report_parse(b3, n3, &r, NULL), NULL);
	CHECK_INT(r.cpuid_mod_id, ==, 0xA0);
	CHECK_INT(ward_snp_report_product(&r), ==, WARD_SNP_PRODUCT_GENOA);
	CHECK(r.reported_tcb == 0x191700000000000AULL);
	CHECK(
	    hex_eq(r.measurement, 48,
		   "6a6519d757e68c2e939c9dbbbc1828498e8de35d2766dd05f1a2cca5059d0cf4ae62a36d75c837"
		   "974dd50b315506e73e"));
	CHECK_OK(ward_snp_report_parse(b5, n5, &r, NULL), NULL);
	CHECK_INT(r.version, ==, 5);
	CHECK_INT(ward_snp_report_product(&r), ==, WARD_SNP_PRODUCT_GENOA);
	ward_snp_tcb_decode(r.reported_tcb, WARD_SNP_PRODUCT_GENOA, &t);
	CHECK_INT(t.bl, ==, 10);
	CHECK_INT(t.snp, ==, 27);
	CHECK_INT(t.ucode, ==, 88);
	CHECK(hex_eq(r.report_data, 32,
		     "bb851e203747c3685d79a29910e76c53957896dbf6e68835b64ea2c2b2be7db6"));
	CHECK(hex_eq(r.chip_id, 8, "e0234bedb3918431"));
}

WARD_TEST(parse_turin_v5_layout)
{
	size_t n;
	WARD_AUTOFREE uint8_t *buf = load("snp/turin-v5-routex/report.bin", &n);
	struct ward_snp_report r;
	struct ward_snp_tcb t;
	json_t *claims = NULL;

	SKIP_IF_NO_VECTORS(buf);
	CHECK_OK(ward_snp_report_parse(buf, n, &r, NULL), NULL);
	CHECK_INT(r.cpuid_fam_id, ==, 0x1A);
	CHECK_INT(ward_snp_report_product(&r), ==, WARD_SNP_PRODUCT_TURIN);
	CHECK(r.platform_info == 0x67); /* bit 6 set: accepted */
	ward_snp_tcb_decode(r.reported_tcb, WARD_SNP_PRODUCT_TURIN, &t);
	CHECK(t.has_fmc);
	CHECK_INT(t.fmc, ==, 0);
	CHECK_INT(t.bl, ==, 1);
	CHECK_INT(t.tee, ==, 0);
	CHECK_INT(t.snp, ==, 2);
	CHECK_INT(t.ucode, ==, 71);
	CHECK(hex_eq(r.chip_id, 64,
		     "3b42092f69c656d3000000000000000000000000000000000000000000000000000000000000"
		     "0000000000000000000000000000000000000000000000000000"));
	CHECK(
	    hex_eq(r.measurement, 48,
		   "f924dd18f168df60fbea937f0b086284d51b1b376de872bac43694f61134d57967c318018de733"
		   "5503023dbb50dee624"));
	CHECK_OK(ward_snp_report_claims(&r, WARD_SNP_PRODUCT_TURIN, &claims, NULL), NULL);
	CHECK_INT(
	    json_integer_value(json_object_get(json_object_get(claims, "reported_tcb"), "fmc")), ==,
	    0);
	CHECK_INT(
	    json_integer_value(json_object_get(json_object_get(claims, "reported_tcb"), "bl")), ==,
	    1);
	CHECK_STR(json_string_value(json_object_get(claims, "product")), "Turin");
	CHECK_STR(json_string_value(json_object_get(claims, "current_firmware")), "1.55.61");
	CHECK(json_is_false(json_object_get(claims, "verified")));
	json_decref(claims);
}

WARD_TEST(parse_genoa_v2_parseonly)
{
	size_t n;
	WARD_AUTOFREE uint8_t *buf = load("snp/genoa-v2-routex-parseonly/report.bin", &n);
	struct ward_snp_report r;
	json_t *claims = NULL;

	SKIP_IF_NO_VECTORS(buf);
	CHECK_OK(ward_snp_report_parse(buf, n, &r, NULL), NULL);
	CHECK_INT(r.version, ==, 2);
	CHECK(r.reported_tcb == 0x440E000000000007ULL);
	CHECK(hex_eq(r.report_id, 32,
		     "8c44966159e86a060c1c8972cb739f6f8d8a7ee493877ea43116b3a0ba687c1e"));
	CHECK(
	    hex_eq(r.measurement, 48,
		   "eb94937547f1f14613dd835752c81c160a98ca954ce2d25b316cbee45540e8f82338b7043ac45e"
		   "926efd323548beb8cb"));
	CHECK_OK(ward_snp_report_claims(&r, WARD_SNP_PRODUCT_UNKNOWN, &claims, NULL), NULL);
	CHECK_STR(json_string_value(json_object_get(claims, "committed_firmware")), "1.55.21");
	CHECK_STR(json_string_value(json_object_get(claims, "signing_key")), "vcek");
	CHECK(json_is_false(json_object_get(claims, "debug")));
	json_decref(claims);
}

WARD_TEST(parse_truncation_every_offset)
{
	size_t n;
	WARD_AUTOFREE uint8_t *buf = load("snp/genoa-v5-routex/report.bin", &n);
	struct ward_snp_report r;

	SKIP_IF_NO_VECTORS(buf);
	for (size_t i = 0; i < WARD_SNP_REPORT_SIZE; i++) {
		/* A private copy of exactly i bytes, so ASan sees any overread. */
		WARD_AUTOFREE uint8_t *t = malloc(i ? i : 1);

		CHECK(t);
		memcpy(t, buf, i);
		if (ward_snp_report_parse(t, i, &r, NULL) != -WARD_E_MALFORMED)
			WARD_FAIL_("truncation at %zu not rejected as malformed", i);
	}
}

WARD_TEST(parse_trailing_and_null)
{
	size_t n;
	WARD_AUTOFREE uint8_t *buf = load("snp/genoa-v3-trustee/report.bin", &n);
	uint8_t big[WARD_SNP_REPORT_SIZE + 1] = {0};
	struct ward_err err = WARD_ERR_INIT;
	struct ward_snp_report r;

	SKIP_IF_NO_VECTORS(buf);
	memcpy(big, buf, n);
	CHECK_ERR(ward_snp_report_parse(big, sizeof(big), &r, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "expected exactly 1184");
	CHECK_ERR(ward_snp_report_parse(NULL, WARD_SNP_REPORT_SIZE, &r, &err), -WARD_E_MALFORMED);
}

/* Set a field in a copy of a valid report and expect err_code. */
static int mutate(const uint8_t *base, size_t off, uint8_t value, struct ward_err *err)
{
	uint8_t t[WARD_SNP_REPORT_SIZE];
	struct ward_snp_report r;

	memcpy(t, base, sizeof(t));
	t[off] = value;
	return ward_snp_report_parse(t, sizeof(t), &r, err);
}

WARD_TEST(parse_field_checks)
{
	size_t n;
	WARD_AUTOFREE uint8_t *b = load("snp/genoa-v3-trustee/report.bin", &n);
	WARD_AUTOFREE uint8_t *b2 = load("snp/milan-v2-trustee/report.bin", &n);
	WARD_AUTOFREE uint8_t *b5 = load("snp/genoa-v5-routex/report.bin", &n);
	struct ward_err err = WARD_ERR_INIT;

	SKIP_IF_NO_VECTORS(b);
	SKIP_IF_NO_VECTORS(b2);
	SKIP_IF_NO_VECTORS(b5);
	/* Versions: allow-list 2, 3, 5. */
	for (unsigned v = 0; v < 8; v++) {
		int r = mutate(b, 0x00, (uint8_t)v, &err);

		if (v == 3 || v == 5)
			CHECK_OK(r, &err);
		else if (v == 2) /* a v2 report has no CPUID bytes at 0x188 */
			CHECK_ERR(r, -WARD_E_MALFORMED);
		else
			CHECK_ERR(r, -WARD_E_UNSUPPORTED);
	}
	CHECK_ERR(mutate(b, 0x01, 1, &err), -WARD_E_UNSUPPORTED); /* version 0x103 */
	/* SIGNATURE_ALGO must be 1. */
	CHECK_ERR(mutate(b, 0x34, 2, &err), -WARD_E_UNSUPPORTED);
	CHECK_MSG(&err, "SIGNATURE_ALGO 2");
	CHECK_ERR(mutate(b, 0x34, 0, &err), -WARD_E_UNSUPPORTED);
	/* KEY_INFO: reserved bits and reserved SIGNING_KEY values. */
	CHECK_ERR(mutate(b, 0x48, 0x20, &err), -WARD_E_MALFORMED);
	CHECK_ERR(mutate(b, 0x48, 0x08, &err), -WARD_E_MALFORMED); /* SIGNING_KEY 2 */
	CHECK_OK(mutate(b, 0x48, 0x1C, &err), &err);		   /* SIGNING_KEY 7: none */
	/* Reserved fields that the spec requires to be zero. */
	CHECK_ERR(mutate(b, 0x4C, 1, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "0x4C");
	CHECK_ERR(mutate(b, 0x18B, 1, &err), -WARD_E_MALFORMED);
	CHECK_ERR(mutate(b, 0x19F, 1, &err), -WARD_E_MALFORMED);
	CHECK_ERR(mutate(b2, 0x188, 0x19, &err), -WARD_E_MALFORMED); /* v2: no CPUID */
	CHECK_ERR(mutate(b, 0x1EB, 1, &err), -WARD_E_MALFORMED);
	CHECK_ERR(mutate(b, 0x1EF, 1, &err), -WARD_E_MALFORMED);
	CHECK_ERR(mutate(b, 0x1F8, 1, &err), -WARD_E_MALFORMED); /* v3: reserved */
	CHECK_OK(mutate(b5, 0x1F8, 1, &err), &err);		 /* v5: LAUNCH_MIT_VECTOR */
	CHECK_ERR(mutate(b5, 0x208, 1, &err), -WARD_E_MALFORMED);
	CHECK_ERR(mutate(b, 0x29F, 1, &err), -WARD_E_MALFORMED);
	/* r and s: only the low 48 of 72 bytes may be non-zero. */
	CHECK_ERR(mutate(b, 0x2A0 + 48, 1, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "SIGNATURE.R");
	CHECK_ERR(mutate(b, 0x2E8 + 71, 1, &err), -WARD_E_MALFORMED);
	CHECK_ERR(mutate(b, 0x330, 1, &err), -WARD_E_MALFORMED);
	CHECK_ERR(mutate(b, 0x49F, 1, &err), -WARD_E_MALFORMED);
}

WARD_TEST(product_from_cpuid)
{
	struct ward_snp_report r = {.version = 3, .cpuid_fam_id = 0x19};
	enum ward_snp_product p;

	r.cpuid_mod_id = 0x00;
	CHECK_INT(ward_snp_report_product(&r), ==, WARD_SNP_PRODUCT_MILAN);
	r.cpuid_mod_id = 0x0F;
	CHECK_INT(ward_snp_report_product(&r), ==, WARD_SNP_PRODUCT_MILAN);
	r.cpuid_mod_id = 0x10;
	CHECK_INT(ward_snp_report_product(&r), ==, WARD_SNP_PRODUCT_GENOA);
	r.cpuid_mod_id = 0xAF;
	CHECK_INT(ward_snp_report_product(&r), ==, WARD_SNP_PRODUCT_GENOA);
	r.cpuid_mod_id = 0x20;
	CHECK_INT(ward_snp_report_product(&r), ==, WARD_SNP_PRODUCT_UNKNOWN);
	r.cpuid_fam_id = 0x1A;
	CHECK_INT(ward_snp_report_product(&r), ==, WARD_SNP_PRODUCT_TURIN);
	r.cpuid_fam_id = 0x17;
	CHECK_INT(ward_snp_report_product(&r), ==, WARD_SNP_PRODUCT_UNKNOWN);
	r.version = 2;
	r.cpuid_fam_id = 0x1A;
	CHECK_INT(ward_snp_report_product(&r), ==, WARD_SNP_PRODUCT_UNKNOWN);

	CHECK_OK(ward_snp_product_parse("genoa", &p, NULL), NULL);
	CHECK_INT(p, ==, WARD_SNP_PRODUCT_GENOA);
	CHECK_ERR(ward_snp_product_parse("Rome", &p, NULL), -WARD_E_MALFORMED);
	CHECK_ERR(ward_snp_product_parse("unknown", &p, NULL), -WARD_E_MALFORMED);
	CHECK_STR(ward_snp_product_name(WARD_SNP_PRODUCT_TURIN), "Turin");
	CHECK_STR(ward_snp_product_name((enum ward_snp_product)42), "unknown");
}

WARD_TEST(certtable_tsm_auxblob)
{
	size_t n;
	WARD_AUTOFREE uint8_t *buf = load("snp/genoa-v3-veraison-tsm/auxblob.bin", &n);
	struct ward_err err = WARD_ERR_INIT;
	struct ward_snp_certtable t;

	SKIP_IF_NO_VECTORS(buf);
	CHECK_OK(ward_snp_certtable_parse(buf, n, &t, &err), &err);
	CHECK_INT(t.count, ==, 3);
	CHECK_INT(t.entries[0].kind, ==, WARD_SNP_CERT_ARK);
	CHECK_INT(t.entries[0].size, ==, 2277);
	CHECK(t.entries[0].data == buf + 96);
	CHECK_INT(t.entries[1].kind, ==, WARD_SNP_CERT_ASK);
	CHECK(t.entries[1].data == buf + 2373);
	CHECK_INT(t.entries[2].kind, ==, WARD_SNP_CERT_VCEK);
	CHECK_INT(t.entries[2].size, ==, 1879);
	CHECK(t.entries[2].data == buf + 4698);
	CHECK(memcmp(t.entries[2].data, "-----BEGIN CERTIFICATE-----", 27) == 0);
	/* Every truncation is rejected (the last entry runs to the end). */
	for (size_t i = 0; i < n; i++)
		if (ward_snp_certtable_parse(buf, i, &t, NULL) >= 0)
			WARD_FAIL_("truncated auxblob (%zu bytes) accepted", i);
	/* Trailing bytes after the last certificate are allowed (kernel pages). */
	CHECK_OK(ward_snp_certtable_parse(buf, n, &t, NULL), NULL);
}

static size_t put_entry(uint8_t *p, const char *guid_hex, uint32_t off, uint32_t len)
{
	ward_test_unhex(guid_hex, p, 16);
	for (int i = 0; i < 4; i++) {
		p[16 + i] = (uint8_t)(off >> (8 * i));
		p[20 + i] = (uint8_t)(len >> (8 * i));
	}
	return 24;
}

#define VCEK_GUID "63da758de6644564adc5f4b93be8accd"
#define ASK_GUID "4ab7b379bbac4fe4a02f05aef327c782"
#define OTHER_GUID "00112233445566778899aabbccddeeff"

WARD_TEST(certtable_errors)
{
	uint8_t buf[256] = {0};
	struct ward_err err = WARD_ERR_INIT;
	struct ward_snp_certtable t;
	size_t o = 0;

	/* Empty table: just the terminator. */
	CHECK_OK(ward_snp_certtable_parse(buf, 24, &t, &err), &err);
	CHECK_INT(t.count, ==, 0);
	/* No terminator. */
	CHECK_ERR(ward_snp_certtable_parse(buf, 23, &t, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "terminator");
	/* A valid two-entry table with an unknown GUID. */
	o += put_entry(buf + o, VCEK_GUID, 72, 4);
	o += put_entry(buf + o, OTHER_GUID, 76, 3);
	o += 24;
	memcpy(buf + o, "VCEKXYZ", 7);
	CHECK_OK(ward_snp_certtable_parse(buf, o + 7, &t, &err), &err);
	CHECK_INT(t.count, ==, 2);
	CHECK_INT(t.entries[1].kind, ==, WARD_SNP_CERT_OTHER);
	CHECK(memcmp(t.entries[0].data, "VCEK", 4) == 0);
	/* Data past the end. */
	CHECK_ERR(ward_snp_certtable_parse(buf, o + 6, &t, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "outside the data area");
	/* Data overlapping the table. */
	put_entry(buf, VCEK_GUID, 0, 4);
	CHECK_ERR(ward_snp_certtable_parse(buf, o + 7, &t, &err), -WARD_E_MALFORMED);
	/* Offset near 4 GiB must not wrap. */
	put_entry(buf, VCEK_GUID, 0xFFFFFFFFu, 4);
	CHECK_ERR(ward_snp_certtable_parse(buf, o + 7, &t, &err), -WARD_E_MALFORMED);
	/* Zero length. */
	put_entry(buf, VCEK_GUID, 72, 0);
	CHECK_ERR(ward_snp_certtable_parse(buf, o + 7, &t, &err), -WARD_E_MALFORMED);
	/* Duplicate GUIDs. */
	put_entry(buf, VCEK_GUID, 72, 4);
	put_entry(buf + 24, VCEK_GUID, 76, 3);
	CHECK_ERR(ward_snp_certtable_parse(buf, o + 7, &t, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "duplicate");
	/* Zero GUID with non-zero offset. */
	put_entry(buf + 24, "00000000000000000000000000000000", 76, 3);
	CHECK_ERR(ward_snp_certtable_parse(buf, o + 7, &t, &err), -WARD_E_MALFORMED);
	/* Too big. */
	CHECK_ERR(ward_snp_certtable_parse(buf, WARD_SNP_CERTTABLE_MAX_SIZE + 1, &t, &err),
		  -WARD_E_TOO_BIG);
}

WARD_TEST(certtable_too_many_entries)
{
	static uint8_t buf[(WARD_SNP_CERTTABLE_MAX_ENTRIES + 2) * 24 + 64];
	struct ward_snp_certtable t;
	size_t o = 0;

	memset(buf, 0, sizeof(buf));
	for (unsigned i = 0; i <= WARD_SNP_CERTTABLE_MAX_ENTRIES; i++) {
		char guid[33];

		snprintf(guid, sizeof(guid), "%032x", i + 1);
		o += put_entry(buf + o, guid, (uint32_t)(sizeof(buf) - 8), 1);
	}
	CHECK_ERR(ward_snp_certtable_parse(buf, sizeof(buf), &t, NULL), -WARD_E_TOO_BIG);
}

WARD_TEST(hcl_parse_real)
{
	size_t nm, ng;
	WARD_AUTOFREE uint8_t *m = load("snp/azure-milan-v2-hcl/hcl-report.bin", &nm);
	WARD_AUTOFREE uint8_t *g = load("snp/azure-genoa-v3-hcl/hcl-report.bin", &ng);
	struct ward_err err = WARD_ERR_INIT;
	struct ward_snp_hcl h;
	struct ward_snp_report r;

	SKIP_IF_NO_VECTORS(m);
	SKIP_IF_NO_VECTORS(g);
	CHECK_OK(ward_snp_hcl_parse(m, nm, &h, &err), &err);
	CHECK_INT(h.version, ==, 1);
	CHECK_INT(h.hash_type, ==, 1);
	CHECK_INT(h.runtime_data_size, ==, 1110);
	CHECK(h.report == m + 0x20);
	CHECK(h.runtime_data[0] == '{');
	CHECK_OK(ward_snp_report_parse(h.report, WARD_SNP_REPORT_SIZE, &r, &err), &err);
	CHECK_INT(r.version, ==, 2);
	CHECK_INT(r.guest_svn, ==, 5);
	CHECK(
	    hex_eq(r.measurement, 48,
		   "9ac48fcac8a2d88aeeff8d427ad4f2be0e3917c748a18bdf52cc317e7fe20308b459d5ef1a12e0"
		   "c22944eb386d17c315"));
	CHECK_OK(ward_snp_hcl_parse(g, ng, &h, &err), &err);
	CHECK_INT(h.version, ==, 2);
	CHECK_INT(h.runtime_data_size, ==, 1200);
	CHECK_OK(ward_snp_report_parse(h.report, WARD_SNP_REPORT_SIZE, &r, &err), &err);
	CHECK_INT(r.guest_svn, ==, 65547);
	CHECK(hex_eq(r.report_data, 32,
		     "b581f12e29a2d7d64e5e0b738d563879a78b51c644d0fa0cce02b48699f6bf5f"));
}

WARD_TEST(hcl_parse_errors)
{
	size_t n;
	WARD_AUTOFREE uint8_t *m = load("snp/azure-milan-v2-hcl/hcl-report.bin", &n);
	struct ward_err err = WARD_ERR_INIT;
	struct ward_snp_hcl h;
	WARD_AUTOFREE uint8_t *t = NULL;

	SKIP_IF_NO_VECTORS(m);
	t = malloc(n);
	CHECK(t);
	/* Every truncation that cuts into the declared size fails. */
	for (size_t i = 0; i < 0x92a; i++)
		if (ward_snp_hcl_parse(m, i, &h, NULL) >= 0)
			WARD_FAIL_("truncated HCL report (%zu bytes) accepted", i);
	/* Padding must be zero. */
	memcpy(t, m, n);
	t[n - 1] = 1;
	CHECK_ERR(ward_snp_hcl_parse(t, n, &h, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "non-zero bytes");
	/* Magic. */
	memcpy(t, m, n);
	t[0] = 'X';
	CHECK_ERR(ward_snp_hcl_parse(t, n, &h, &err), -WARD_E_MALFORMED);
	/* Report type (IGVM report_type at 0x4C8) must be SNP. */
	memcpy(t, m, n);
	t[0x4C8] = 4;
	CHECK_ERR(ward_snp_hcl_parse(t, n, &h, &err), -WARD_E_UNSUPPORTED);
	/* Hash type. */
	memcpy(t, m, n);
	t[0x4CC] = 9;
	CHECK_ERR(ward_snp_hcl_parse(t, n, &h, &err), -WARD_E_UNSUPPORTED);
	/* Variable data size disagreeing with the IGVM data size. */
	memcpy(t, m, n);
	t[0x4D0] += 1;
	CHECK_ERR(ward_snp_hcl_parse(t, n, &h, &err), -WARD_E_MALFORMED);
	/* Declared report size larger than the input. */
	memcpy(t, m, n);
	t[0x09] = 0x20;
	CHECK_ERR(ward_snp_hcl_parse(t, n, &h, &err), -WARD_E_MALFORMED);
	/* Version. */
	memcpy(t, m, n);
	t[4] = 7;
	CHECK_ERR(ward_snp_hcl_parse(t, n, &h, &err), -WARD_E_UNSUPPORTED);
}

WARD_TEST_MAIN()
