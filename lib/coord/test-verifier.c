/* SPDX-License-Identifier: Apache-2.0 */
/* The coordinator's evidence verifiers against a real SEV-SNP report
 * (Milan, from ../shared/vectors) with AMD's real VCEK/ASK/ARK. */
#include <stdlib.h>
#include <string.h>

#include "ward-test.h"
#include "ward/cleanup.h"
#include "ward/coord.h"
#include "ward/encoding.h"
#include "ward/file.h"
#include "ward/json.h"

static const uint8_t GUID_VCEK[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
				      0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
static const uint8_t GUID_ASK[16] = {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
				     0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};

struct vec {
	uint8_t *report, *vcek;
	size_t report_size, vcek_size;
	struct ward_x509 **chain; /* ASK, ARK */
	size_t chain_count;
};

static void vec_clear(struct vec *v)
{
	free(v->report);
	free(v->vcek);
	if (v->chain)
		ward_x509_list_free(v->chain, v->chain_count);
}

static int load(struct vec *v, const char *dir, const char *chain, struct ward_err *err)
{
	char p[256];
	const char *path;
	WARD_AUTOFREE uint8_t *pem = NULL;
	size_t size;
	int r;

	snprintf(p, sizeof(p), "snp/%s/report.bin", dir);
	if (!(path = ward_test_vector(p)))
		return 1;
	r = ward_file_read(path, 1 << 16, &v->report, &v->report_size, err);
	snprintf(p, sizeof(p), "snp/%s/vcek.der", dir);
	if (r >= 0 && (path = ward_test_vector(p)))
		r = ward_file_read(path, 1 << 16, &v->vcek, &v->vcek_size, err);
	snprintf(p, sizeof(p), "roots/amd/%s", chain);
	if (r >= 0 && (path = ward_test_vector(p)))
		r = ward_file_read(path, 1 << 16, &pem, &size, err);
	if (r >= 0 && pem)
		r = ward_x509_list_from_pem(pem, size, 4, &v->chain, &v->chain_count, err);
	if (r >= 0 && (!v->vcek || !v->chain || v->chain_count != 2))
		return 1;
	return r;
}

/* Evidence JSON with a certificate table of (VCEK, ASK). */
static json_t *evidence(const struct vec *v, const uint8_t *report)
{
	WARD_AUTOFREE uint8_t *ask = NULL, *table = NULL;
	WARD_AUTOFREE char *rep64 = NULL, *tab64 = NULL;
	size_t ask_size, off = 3 * 24, total;

	if (ward_x509_der(v->chain[0], &ask, &ask_size, NULL) < 0)
		return NULL;
	total = off + v->vcek_size + ask_size;
	table = calloc(1, total);
	if (!table)
		return NULL;
	memcpy(table, GUID_VCEK, 16);
	table[16] = (uint8_t)off;
	table[17] = (uint8_t)(off >> 8);
	table[20] = (uint8_t)v->vcek_size;
	table[21] = (uint8_t)(v->vcek_size >> 8);
	memcpy(table + off, v->vcek, v->vcek_size);
	memcpy(table + 24, GUID_ASK, 16);
	table[24 + 16] = (uint8_t)(off + v->vcek_size);
	table[24 + 17] = (uint8_t)((off + v->vcek_size) >> 8);
	table[24 + 20] = (uint8_t)ask_size;
	table[24 + 21] = (uint8_t)(ask_size >> 8);
	memcpy(table + off + v->vcek_size, ask, ask_size);
	rep64 = ward_base64url_encode_alloc(report, v->report_size);
	tab64 = ward_base64url_encode_alloc(table, total);
	return json_pack("{s:s, s:s}", "report", rep64, "cert_table", tab64);
}

WARD_TEST(builtin_and_attest_agree_on_real_milan_report)
{
	WARD_CLEANUP(vec_clear) struct vec v = {0};
	struct ward_err err = WARD_ERR_INIT;
	struct ward_coord_verifier *builtin = NULL, *attest = NULL;
	WARD_AUTOJSON json_t *ev = NULL, *bad = NULL;
	struct ward_coord_claims a, b;
	int r = load(&v, "milan-v2-trustee", "milan_ask_ark.pem", &err);

	if (r == 1) {
		fprintf(stderr, "vectors missing; skipped\n");
		return;
	}
	CHECK_OK(r, &err);
	ev = evidence(&v, v.report);
	CHECK(ev != NULL);
	CHECK_OK(ward_coord_snp_verifier_new(v.chain[1], false, &builtin, &err), &err);
	CHECK_OK(ward_coord_attest_verifier_new(NULL, NULL, &attest, &err), &err);
	r = builtin->verify(builtin->ctx, WARD_TEE_SNP, ev, &a, &err);
	if (r == -WARD_E_EXPIRED || strstr(err.msg, "expired"))
		fprintf(stderr, "VCEK expired at this date; checking refusal only\n");
	else
		CHECK_OK(r, &err);
	if (r == 0) {
		/* Cached chain: a second verification also succeeds. */
		CHECK_OK(builtin->verify(builtin->ctx, WARD_TEE_SNP, ev, &a, &err), &err);
		CHECK_OK(attest->verify(attest->ctx, WARD_TEE_SNP, ev, &b, &err), &err);
		CHECK_MEM(a.measurement, b.measurement, 48);
		CHECK_MEM(a.report_data, b.report_data, 64);
		CHECK_INT(a.debug, ==, b.debug);
		CHECK_MEM(a.tcb, b.tcb, 4);
		CHECK(!a.insecure && !b.insecure);
	}
	/* The sim TEE is refused by a non-sim verifier and without a sim ARK. */
	CHECK_ERR(builtin->verify(builtin->ctx, WARD_TEE_SIM, ev, &a, &err), -WARD_E_UNSUPPORTED);
	CHECK_ERR(attest->verify(attest->ctx, WARD_TEE_SIM, ev, &b, &err), -WARD_E_UNSUPPORTED);
	/* A flipped bit in the signed part fails both. */
	v.report[0x90] ^= 1;
	bad = evidence(&v, v.report);
	CHECK(builtin->verify(builtin->ctx, WARD_TEE_SNP, bad, &a, &err) < 0);
	CHECK(attest->verify(attest->ctx, WARD_TEE_SNP, bad, &b, &err) < 0);
	v.report[0x90] ^= 1;
	json_decref(bad);
	/* Truncated report. */
	v.report_size -= 1;
	bad = evidence(&v, v.report);
	CHECK_ERR(builtin->verify(builtin->ctx, WARD_TEE_SNP, bad, &a, &err), -WARD_E_MALFORMED);
	v.report_size += 1;
	ward_coord_snp_verifier_free(builtin);
	ward_coord_attest_verifier_free(attest);
}

WARD_TEST(builtin_refuses_another_ark)
{
	WARD_CLEANUP(vec_clear) struct vec v = {0}, g = {0};
	struct ward_err err = WARD_ERR_INIT;
	struct ward_coord_verifier *builtin = NULL;
	WARD_AUTOJSON json_t *ev = NULL;
	struct ward_coord_claims a;
	int r = load(&v, "milan-v2-trustee", "milan_ask_ark.pem", &err);

	if (r == 1 || load(&g, "genoa-v3-trustee", "genoa_ask_ark.pem", &err) == 1) {
		fprintf(stderr, "vectors missing; skipped\n");
		return;
	}
	CHECK_OK(r, &err);
	ev = evidence(&v, v.report);
	/* Milan evidence, Genoa ARK. */
	CHECK_OK(ward_coord_snp_verifier_new(g.chain[1], false, &builtin, &err), &err);
	CHECK(builtin->verify(builtin->ctx, WARD_TEE_SNP, ev, &a, &err) < 0);
	CHECK_MSG(&err, "VCEK chain");
	ward_coord_snp_verifier_free(builtin);
}

WARD_TEST_MAIN()
