/* SPDX-License-Identifier: Apache-2.0 */
/* The [attest] verifier (ward/attest.h) behind struct ward_coord_verifier:
 * full SEV-SNP verification (AMD's built-in roots, VCEK/VLEK, collateral
 * and CRLs when a collateral directory is given) and, only with a sim ARK,
 * the INSECURE sim TEE. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ward/attest.h"
#include "ward/cleanup.h"
#include "ward/coord.h"
#include "ward/encoding.h"
#include "ward/json.h"

#define CERT_TABLE_MAX (64u << 10)

struct attest_verifier {
	struct ward_coord_verifier v; /* first: the public table */
	struct ward_x509 *sim_ark;    /* owned reference, may be NULL */
	char *collateral_dir;	      /* owned, may be NULL */
};

static int hex_claim(const json_t *claims, const char *key, uint8_t *out, size_t size,
		     struct ward_err *err)
{
	return ward_json_get_hex_fixed(claims, "$claims", key, true, out, size, err);
}

static int attest_verify(void *ctx, enum ward_tee_type tee, const json_t *evidence,
			 struct ward_coord_claims *ret, struct ward_err *err)
{
	struct attest_verifier *av = ctx;
	WARD_AUTOFREE uint8_t *report = NULL, *table = NULL;
	WARD_CLEANUP(ward_evidence_freep) struct ward_evidence *ev = NULL;
	WARD_AUTOJSON json_t *claims = NULL;
	struct ward_attest_opts opts = {
	    .at = time(NULL), .collateral_dir = av->collateral_dir, .sim_ark = av->sim_ark};
	struct ward_coord_claims c = {.tee = tee};
	size_t report_size, table_size = 0;
	json_t *tcb;
	bool b = false;
	int r;

	if (tee != WARD_TEE_SNP && !(tee == WARD_TEE_SIM && av->sim_ark))
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "no verifier for TEE \"%s\"",
				    ward_tee_name(tee));
	r = ward_json_get_b64url(evidence, "$.tee-evidence", "report", true, WARD_SNP_REPORT_SIZE,
				 &report, &report_size, err);
	if (r >= 0)
		r = ward_json_get_b64url(evidence, "$.tee-evidence", "cert_table", false,
					 CERT_TABLE_MAX, &table, &table_size, err);
	if (r >= 0)
		r = ward_evidence_parse(report, report_size, table, table_size, tee, &ev, err);
	if (r >= 0)
		r = ward_evidence_verify(ev, &opts, &claims, err);
	if (r < 0)
		return r;
	r = hex_claim(claims, "report_data", c.report_data, sizeof(c.report_data), err);
	if (r >= 0)
		r = hex_claim(claims, "measurement", c.measurement, 48, err);
	if (r >= 0)
		r = ward_json_get_bool(claims, "$claims", "debug", true, &c.debug, err);
	if (r >= 0)
		r = ward_json_get_bool(claims, "$claims", "insecure", false, &b, err);
	if (r < 0)
		return ward_err_prefix(err, "attest claims");
	c.measurement_size = 48;
	c.insecure = b || tee == WARD_TEE_SIM;
	tcb = json_object_get(claims, "reported_tcb");
	if (json_is_object(tcb)) {
		static const char *const keys[4] = {"bl", "tee", "snp", "ucode"};

		for (int i = 0; i < 4; i++) {
			json_int_t v = json_integer_value(json_object_get(tcb, keys[i]));

			c.tcb[i] = v >= 0 && v <= 255 ? (uint8_t)v : 0;
		}
		c.has_tcb = true;
	}
	*ret = c;
	return 0;
}

int ward_coord_attest_verifier_new(const struct ward_x509 *sim_ark, const char *collateral_dir,
				   struct ward_coord_verifier **ret, struct ward_err *err)
{
	struct attest_verifier *av = calloc(1, sizeof(*av));

	if (!av)
		return ward_err_set(err, -ENOMEM, "verifier: out of memory");
	if (sim_ark)
		av->sim_ark = ward_x509_ref((struct ward_x509 *)sim_ark);
	if (collateral_dir && !(av->collateral_dir = strdup(collateral_dir))) {
		ward_coord_attest_verifier_free(&av->v);
		return ward_err_set(err, -ENOMEM, "verifier: out of memory");
	}
	av->v.verify = attest_verify;
	av->v.ctx = av;
	*ret = &av->v;
	return 0;
}

struct ward_coord_verifier *ward_coord_attest_verifier_free(struct ward_coord_verifier *v)
{
	struct attest_verifier *av = (struct attest_verifier *)v;

	if (!av)
		return NULL;
	ward_x509_free(av->sim_ark);
	free(av->collateral_dir);
	free(av);
	return NULL;
}
