/* SPDX-License-Identifier: Apache-2.0 */
/* The [attest] verifier (ward/attest.h) behind struct ward_coord_verifier:
 * full SEV-SNP verification (AMD's built-in roots, VCEK/VLEK, collateral
 * and CRLs when a collateral directory is given; Ward's or Trustee's
 * evidence JSON), TDX and SGX DCAP quotes against Intel collateral, and,
 * only with a sim ARK, the INSECURE sim TEE. */
#include <errno.h>
#include <pthread.h>
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
	struct ward_coord_verifier v;	    /* first: the public table */
	struct ward_x509 *sim_ark;	    /* owned reference, may be NULL */
	char *collateral_dir;		    /* owned, may be NULL */
	struct ward_dcap_collateral *dcap; /* owned: --dcap-collateral file, may be NULL */
	int64_t insecure_at;		    /* tests only: fixed verification time */
	/* The last certificate table decoded (a platform sends the same one
	 * with every report): SHA-256 of its base64url text -> its bytes. */
	pthread_mutex_t table_lock;
	uint8_t table_hash[32];
	uint8_t *table; /* owned, NULL until the first table decodes */
	size_t table_size;
};

/* $.tee-evidence.cert_table decoded (optional: *ret NULL when absent), or
 * the remembered bytes of the same text. */
static int cert_table(struct attest_verifier *av, const json_t *evidence, uint8_t **ret,
		      size_t *ret_size, struct ward_err *err)
{
	const json_t *v = json_object_get(evidence, "cert_table");
	const char *text = json_string_value(v);
	uint8_t hash[32], *copy = NULL;
	size_t size = 0;
	int r;

	if (!text)
		return ward_json_get_b64url(evidence, "$.tee-evidence", "cert_table", false,
					    CERT_TABLE_MAX, ret, ret_size, err);
	r = ward_hash(WARD_HASH_SHA256, text, json_string_length(v), hash, err);
	if (r < 0)
		return r;
	pthread_mutex_lock(&av->table_lock);
	if (av->table && memcmp(hash, av->table_hash, 32) == 0) {
		copy = malloc(av->table_size + 1);
		if (copy) {
			memcpy(copy, av->table, av->table_size);
			size = av->table_size;
		}
	}
	pthread_mutex_unlock(&av->table_lock);
	if (copy) {
		*ret = copy;
		*ret_size = size;
		return 0;
	}
	r = ward_json_get_b64url(evidence, "$.tee-evidence", "cert_table", false, CERT_TABLE_MAX,
				 ret, ret_size, err);
	if (r < 0 || !*ret)
		return r;
	copy = malloc(*ret_size + 1);
	if (copy) {
		memcpy(copy, *ret, *ret_size);
		pthread_mutex_lock(&av->table_lock);
		free(av->table);
		av->table = copy;
		av->table_size = *ret_size;
		memcpy(av->table_hash, hash, 32);
		pthread_mutex_unlock(&av->table_lock);
	}
	return 0;
}

static int hex_claim(const json_t *claims, const char *key, uint8_t *out, size_t size,
		     struct ward_err *err)
{
	return ward_json_get_hex_fixed(claims, "$claims", key, true, out, size, err);
}

/* TDX/SGX: {"quote": base64 (or base64url) of the raw DCAP quote}. */
static int dcap_quote(const json_t *evidence, uint8_t **ret, size_t *ret_size,
		      struct ward_err *err)
{
	static const char *const keys[] = {"quote", "cc_eventlog", "aa_eventlog", NULL};
	const char *text = NULL;
	size_t len;
	int r;

	r = ward_json_check_keys(evidence, "$.tee-evidence", keys, err);
	if (r >= 0)
		r = ward_json_get_string(evidence, "$.tee-evidence", "quote", true, &text, err);
	if (r < 0)
		return r;
	len = strlen(text);
	if (len > ward_base64_size(WARD_DCAP_QUOTE_MAX_SIZE))
		return ward_err_set(err, -WARD_E_TOO_BIG, "$.tee-evidence.quote: over %u bytes",
				    WARD_DCAP_QUOTE_MAX_SIZE);
	if (strpbrk(text, "-_"))
		r = ward_base64url_decode(text, len, ret, ret_size, err);
	else
		r = ward_base64_decode(text, len, ret, ret_size, err);
	if (r < 0)
		return ward_err_prefix(err, "$.tee-evidence.quote");
	return 0;
}

/* The Intel claims the manifest's TCB rules and SGX signer rules read. */
static int dcap_claims(const struct ward_evidence *ev, const json_t *claims,
		       struct ward_coord_claims *c, struct ward_err *err)
{
	const json_t *tcb = json_object_get(claims, "tcb");
	const char *status = json_string_value(json_object_get(tcb, "status"));
	const json_t *ids = json_object_get(tcb, "advisory_ids"), *id;
	struct ward_dcap_quote q;
	size_t i;
	int r;

	r = ward_dcap_quote_parse(ev->quote, ev->quote_size, &q, err);
	if (r < 0)
		return r;
	if (!status || strlen(status) >= sizeof(c->tcb_status))
		return ward_err_set(err, -WARD_E_VERIFY, "attest claims: no TCB status");
	strcpy(c->tcb_status, status);
	c->has_tcb_status = true;
	if (json_array_size(ids) > WARD_COORD_ADVISORIES_MAX)
		return ward_err_set(err, -WARD_E_TOO_BIG, "attest claims: more than %d advisories",
				    WARD_COORD_ADVISORIES_MAX);
	json_array_foreach(ids, i, id)
	{
		const char *s = json_string_value(id);

		if (!s || strlen(s) >= sizeof(c->advisories[0]))
			return ward_err_set(err, -WARD_E_VERIFY,
					    "attest claims: advisory_ids[%zu] malformed", i);
		strcpy(c->advisories[c->advisory_count++], s);
	}
	if (ev->tee == WARD_TEE_TDX) {
		memcpy(c->measurement, q.td.mrtd, 48);
		c->measurement_size = 48;
		memcpy(c->report_data, q.td.report_data, 64);
	} else {
		memcpy(c->measurement, q.enclave.mrenclave, 32);
		c->measurement_size = 32;
		memcpy(c->report_data, q.enclave.report_data, 64);
		memcpy(c->mrsigner, q.enclave.mrsigner, 32);
		c->isv_prodid = q.enclave.isvprodid;
		c->isv_svn = q.enclave.isvsvn;
		c->has_sgx = true;
	}
	c->debug = ward_dcap_quote_is_debug(&q);
	return 0;
}

static int attest_verify(void *ctx, enum ward_tee_type tee, const json_t *evidence,
			 struct ward_coord_claims *ret, struct ward_err *err)
{
	struct attest_verifier *av = ctx;
	WARD_AUTOFREE uint8_t *report = NULL, *table = NULL;
	WARD_CLEANUP(ward_evidence_freep) struct ward_evidence *ev = NULL;
	WARD_AUTOJSON json_t *claims = NULL;
	struct ward_attest_opts opts = {.at = av->insecure_at ? (time_t)av->insecure_at
							       : time(NULL),
					.collateral_dir = av->collateral_dir,
					.sim_ark = av->sim_ark,
					.dcap = av->dcap};
	struct ward_coord_claims c = {.tee = tee};
	size_t report_size = 0, table_size = 0;
	json_t *tcb;
	bool b = false;
	int r;

	if (tee == WARD_TEE_TDX || tee == WARD_TEE_SGX) {
		r = dcap_quote(evidence, &report, &report_size, err);
		if (r >= 0)
			r = ward_evidence_parse(report, report_size, NULL, 0, tee, &ev, err);
		if (r >= 0 && ev->format != WARD_EVIDENCE_DCAP_QUOTE)
			r = ward_err_set(err, -WARD_E_MALFORMED,
					 "$.tee-evidence.quote: not a DCAP quote (%s)",
					 ward_evidence_format_name(ev->format));
		if (r >= 0)
			r = ward_evidence_verify(ev, &opts, &claims, err);
		if (r >= 0)
			r = dcap_claims(ev, claims, &c, err);
		if (r < 0)
			return r;
		*ret = c;
		return 0;
	}
	if (tee != WARD_TEE_SNP && !(tee == WARD_TEE_SIM && av->sim_ark))
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "no verifier for TEE \"%s\"",
				    ward_tee_name(tee));
	if (json_object_get(evidence, "attestation_report")) {
		/* Trustee's SNP evidence (CoCo attestation-agent). */
		report = malloc(WARD_SNP_REPORT_SIZE);
		if (!report)
			return ward_err_set(err, -ENOMEM, "out of memory");
		report_size = WARD_SNP_REPORT_SIZE;
		r = ward_coord_trustee_snp_convert(evidence, report, &table, &table_size, err);
	} else {
		r = ward_json_get_b64url(evidence, "$.tee-evidence", "report", true,
					 WARD_SNP_REPORT_SIZE, &report, &report_size, err);
		if (r >= 0)
			r = cert_table(av, evidence, &table, &table_size, err);
	}
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

int ward_coord_attest_verifier_new_opts(const struct ward_coord_attest_opts *o,
					struct ward_coord_verifier **ret, struct ward_err *err)
{
	struct attest_verifier *av = calloc(1, sizeof(*av));
	int r;

	if (!av)
		return ward_err_set(err, -ENOMEM, "verifier: out of memory");
	av->v.verify = attest_verify;
	av->v.ctx = av;
	/* The SNP path keeps its caches under locks; DCAP collateral is not
	 * shared that way, so TDX/SGX quotes are verified one at a time. */
	av->v.concurrent_tees = 1u << WARD_TEE_SNP | 1u << WARD_TEE_SIM;
	pthread_mutex_init(&av->table_lock, NULL);
	av->insecure_at = o->insecure_at;
	if (o->sim_ark)
		av->sim_ark = ward_x509_ref((struct ward_x509 *)o->sim_ark);
	if (o->collateral_dir && !(av->collateral_dir = strdup(o->collateral_dir))) {
		ward_coord_attest_verifier_free(&av->v);
		return ward_err_set(err, -ENOMEM, "verifier: out of memory");
	}
	if (o->dcap_collateral_file) {
		r = ward_dcap_collateral_load_qvl_json(o->dcap_collateral_file, &av->dcap, err);
		if (r < 0) {
			ward_coord_attest_verifier_free(&av->v);
			return ward_err_prefix(err, "DCAP collateral %s", o->dcap_collateral_file);
		}
	} else if (o->collateral_dir) {
		/* One directory-backed set for the verifier's life: collateral
		 * signatures are then checked once, not per quote. */
		r = ward_dcap_collateral_open_dir(o->collateral_dir, &av->dcap, err);
		if (r < 0) {
			ward_coord_attest_verifier_free(&av->v);
			return ward_err_prefix(err, "DCAP collateral directory %s",
					       o->collateral_dir);
		}
	}
	*ret = &av->v;
	return 0;
}

int ward_coord_attest_verifier_new(const struct ward_x509 *sim_ark, const char *collateral_dir,
				   struct ward_coord_verifier **ret, struct ward_err *err)
{
	struct ward_coord_attest_opts o = {.sim_ark = sim_ark, .collateral_dir = collateral_dir};

	return ward_coord_attest_verifier_new_opts(&o, ret, err);
}

struct ward_coord_verifier *ward_coord_attest_verifier_free(struct ward_coord_verifier *v)
{
	struct attest_verifier *av = (struct attest_verifier *)v;

	if (!av)
		return NULL;
	ward_x509_free(av->sim_ark);
	free(av->collateral_dir);
	ward_dcap_collateral_free(av->dcap);
	free(av->table);
	pthread_mutex_destroy(&av->table_lock);
	free(av);
	return NULL;
}
