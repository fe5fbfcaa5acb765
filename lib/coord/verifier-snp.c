/* SPDX-License-Identifier: Apache-2.0 */
/* A compact SEV-SNP-format evidence verifier for the coordinator, used for
 * the sim TEE (and SNP with an explicit ARK) until the full [attest]
 * verifier is plugged in through struct ward_coord_verifier. It checks:
 * report version and signature algorithm, the ECDSA P-384 signature over
 * bytes 0x000..0x29F by the VCEK from the certificate table, and the chain
 * VCEK <- ASK <- ARK, where the ARK must be exactly the trusted one. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ward/attest.h"
#include "ward/cleanup.h"
#include "ward/coord.h"
#include "ward/cursor.h"
#include "ward/encoding.h"
#include "ward/json.h"
#include "ward/log.h"

#define CERT_TABLE_MAX (64u << 10)
#define CERT_TABLE_ENTRIES_MAX 16
#define POLICY_DEBUG (1ull << 19)

static const uint8_t GUID_VCEK[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
				      0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
static const uint8_t GUID_ASK[16] = {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
				     0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};

struct snp_verifier {
	struct ward_coord_verifier v; /* first: the public table */
	struct ward_x509 *ark;	      /* owned reference */
	uint8_t ark_fp[32];
	bool sim;
	/* The last certificate table whose chain verified (most platforms
	 * send the same one every time): SHA-256 of the table -> VCEK key.
	 * Under cache_lock: verify() runs on several threads. */
	pthread_mutex_t cache_lock;
	uint8_t cached_table[32];
	struct ward_pkey *cached_vcek; /* owned, may be NULL */
	int64_t cached_until;
};

#define CHAIN_CACHE_SECONDS 600

/* Borrow the DER of the entry with guid from an SNP certificate table. */
static int table_find(const uint8_t *table, size_t size, const uint8_t guid[16],
		      const uint8_t **ret, size_t *ret_size, struct ward_err *err)
{
	struct ward_cur c = ward_cur_make(table, size);

	for (unsigned i = 0; i < CERT_TABLE_ENTRIES_MAX; i++) {
		const uint8_t *g;
		uint32_t off, len;
		static const uint8_t zero[16];

		if (ward_cur_take(&c, 16, &g) < 0 || ward_cur_u32le(&c, &off) < 0 ||
		    ward_cur_u32le(&c, &len) < 0)
			return ward_err_set(err, -WARD_E_MALFORMED, "certificate table truncated");
		if (memcmp(g, zero, 16) == 0)
			break;
		if (memcmp(g, guid, 16) != 0)
			continue;
		if (off > size || len > size - off || len == 0)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "certificate table entry %u out of bounds", i);
		*ret = table + off;
		*ret_size = len;
		return 0;
	}
	return ward_err_set(err, -WARD_E_NOT_FOUND, "certificate table lacks an entry");
}

static int snp_verify(void *ctx, enum ward_tee_type tee, const json_t *evidence,
		      struct ward_coord_claims *ret, struct ward_err *err)
{
	struct snp_verifier *sv = ctx;
	WARD_AUTOFREE uint8_t *report = NULL, *table = NULL;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *vcek = NULL, *ask = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *vcek_key = NULL;
	struct ward_coord_claims claims = {.tee = tee};
	struct ward_x509 *untrusted[1], *roots[1];
	struct ward_x509_verify_opts opts = {.at = time(NULL)};
	const uint8_t *der, *rs;
	size_t report_size, table_size, der_size;
	uint8_t sig[96], table_hash[32];
	const char *table_text;
	bool cache_hit;
	uint32_t version, algo;
	uint64_t policy, tcb;
	struct ward_cur c;
	int r;

	if (tee != (sv->sim ? WARD_TEE_SIM : WARD_TEE_SNP))
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "no verifier for TEE \"%s\"",
				    ward_tee_name(tee));
	r = ward_json_get_b64url(evidence, "$.tee-evidence", "report", true, WARD_SNP_REPORT_SIZE,
				 &report, &report_size, err);
	if (r >= 0)
		r = ward_json_get_string(evidence, "$.tee-evidence", "cert_table", true,
					 &table_text, err);
	if (r < 0)
		return r;
	/* The cache key is the hash of the encoded table: a hit skips decoding. */
	r = ward_hash(WARD_HASH_SHA256, table_text, strlen(table_text), table_hash, err);
	if (r < 0)
		return r;
	pthread_mutex_lock(&sv->cache_lock);
	cache_hit = sv->cached_vcek && sv->cached_until > (int64_t)opts.at &&
		    ward_ct_eq(table_hash, sv->cached_table, 32);
	if (cache_hit)
		vcek_key = ward_pkey_ref(sv->cached_vcek);
	pthread_mutex_unlock(&sv->cache_lock);
	if (!cache_hit) {
		r = ward_json_get_b64url(evidence, "$.tee-evidence", "cert_table", true,
					 CERT_TABLE_MAX, &table, &table_size, err);
		if (r < 0)
			return r;
	}
	if (report_size != WARD_SNP_REPORT_SIZE)
		return ward_err_set(err, -WARD_E_MALFORMED, "SNP report is %zu bytes, expected %d",
				    report_size, WARD_SNP_REPORT_SIZE);

	c = ward_cur_make(report, report_size);
	if (ward_cur_u32le(&c, &version) < 0 || ward_cur_skip(&c, 4) < 0 ||
	    ward_cur_u64le(&c, &policy) < 0 ||
	    ward_cur_skip(&c, WARD_SNP_OFF_SIG_ALGO - WARD_SNP_OFF_FAMILY_ID) < 0 ||
	    ward_cur_u32le(&c, &algo) < 0 ||
	    ward_cur_skip(&c, WARD_SNP_OFF_REPORT_DATA - WARD_SNP_OFF_CURRENT_TCB) < 0 ||
	    ward_cur_copy(&c, claims.report_data, 64) < 0 ||
	    ward_cur_copy(&c, claims.measurement, 48) < 0 ||
	    ward_cur_skip(&c, WARD_SNP_OFF_REPORTED_TCB - WARD_SNP_OFF_HOST_DATA) < 0 ||
	    ward_cur_u64le(&c, &tcb) < 0 ||
	    ward_cur_skip(&c, WARD_SNP_OFF_SIG_R - WARD_SNP_OFF_CPUID_FAM) < 0 ||
	    ward_cur_take(&c, 144, &rs) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "SNP report malformed");
	if (version < 2 || version > 5)
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "SNP report version %u", version);
	if (algo != 1)
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "SNP signature algorithm %u", algo);
	/* r and s are 72-byte little-endian fields; P-384 uses the low 48. */
	for (size_t i = 48; i < 72; i++)
		if (rs[i] || rs[72 + i])
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "SNP signature padding not zero");
	memcpy(sig, rs, 48);
	memcpy(sig + 48, rs + 72, 48);

	if (cache_hit) {
		if (!vcek_key)
			return ward_err_set(err, -ENOMEM, "out of memory");
		goto verify_report;
	}
	r = table_find(table, table_size, GUID_VCEK, &der, &der_size, err);
	if (r >= 0)
		r = ward_x509_from_der(der, der_size, &vcek, err);
	if (r < 0)
		return ward_err_prefix(err, "VCEK");
	r = table_find(table, table_size, GUID_ASK, &der, &der_size, err);
	if (r >= 0)
		r = ward_x509_from_der(der, der_size, &ask, err);
	if (r < 0)
		return ward_err_prefix(err, "ASK");
	untrusted[0] = ask;
	roots[0] = sv->ark;
	r = ward_x509_verify_chain(vcek, untrusted, 1, roots, 1, &opts, NULL, NULL, err);
	if (r < 0)
		return ward_err_prefix(err, "VCEK chain to the %s ARK",
				       sv->sim ? "sim" : "trusted");
	r = ward_x509_pubkey(vcek, &vcek_key, err);
	if (r >= 0 && ward_pkey_type(vcek_key) != WARD_KEY_EC_P384)
		r = ward_err_set(err, -WARD_E_UNSUPPORTED, "VCEK is not an EC P-384 key");
	if (r < 0)
		return ward_err_prefix(err, "VCEK");
	pthread_mutex_lock(&sv->cache_lock);
	ward_pkey_free(sv->cached_vcek);
	sv->cached_vcek = ward_pkey_ref(vcek_key);
	memcpy(sv->cached_table, table_hash, 32);
	sv->cached_until = (int64_t)opts.at + CHAIN_CACHE_SECONDS;
	pthread_mutex_unlock(&sv->cache_lock);
verify_report:
	if (r >= 0)
		r = ward_verify_fast(vcek_key, WARD_SIG_ECDSA_SHA384, WARD_SIG_RAW_LE, report,
				     WARD_SNP_SIGNED_SIZE, sig, sizeof(sig), err);
	if (r < 0)
		return ward_err_prefix(err, "SNP report signature");
	claims.measurement_size = 48;
	claims.debug = (policy & POLICY_DEBUG) != 0;
	claims.has_tcb = true;
	claims.tcb[0] = (uint8_t)tcb;
	claims.tcb[1] = (uint8_t)(tcb >> 8);
	claims.tcb[2] = (uint8_t)(tcb >> 48);
	claims.tcb[3] = (uint8_t)(tcb >> 56);
	claims.insecure = sv->sim;
	*ret = claims;
	return 0;
}

int ward_coord_snp_verifier_new(const struct ward_x509 *ark, bool sim,
				struct ward_coord_verifier **ret, struct ward_err *err)
{
	struct snp_verifier *sv = calloc(1, sizeof(*sv));
	int r;

	if (!sv)
		return ward_err_set(err, -ENOMEM, "verifier: out of memory");
	pthread_mutex_init(&sv->cache_lock, NULL);
	sv->ark = ward_x509_ref((struct ward_x509 *)ark);
	r = ward_x509_fingerprint(ark, sv->ark_fp, err);
	if (r < 0) {
		ward_coord_snp_verifier_free(&sv->v);
		return r;
	}
	sv->sim = sim;
	sv->v.verify = snp_verify;
	sv->v.ctx = sv;
	sv->v.concurrent_tees = 1u << (sim ? WARD_TEE_SIM : WARD_TEE_SNP);
	*ret = &sv->v;
	return 0;
}

struct ward_coord_verifier *ward_coord_snp_verifier_free(struct ward_coord_verifier *v)
{
	struct snp_verifier *sv = (struct snp_verifier *)v;

	if (!sv)
		return NULL;
	ward_x509_free(sv->ark);
	ward_pkey_free(sv->cached_vcek);
	pthread_mutex_destroy(&sv->cache_lock);
	free(sv);
	return NULL;
}

/* Intel TCB status and advisories (the attest policy's tcb_statuses,
 * allow_outdated_tcb_insecure, accepted_advisories). */
static int check_intel_tcb(const struct ward_manifest_package *pkg,
			   const struct ward_coord_claims *claims, struct ward_err *err)
{
	unsigned accepted = pkg->tcb_statuses ? pkg->tcb_statuses : WARD_MANIFEST_TCB_DEFAULT;
	int k;

	if (!claims->has_tcb_status)
		return ward_err_set(err, -WARD_E_POLICY, "evidence carries no Intel TCB status");
	if (pkg->allow_outdated_tcb_insecure)
		accepted |= WARD_MANIFEST_TCB_OUTDATED;
	else
		accepted &= ~WARD_MANIFEST_TCB_OUTDATED;
	k = ward_manifest_tcb_status(claims->tcb_status);
	if (k < 0 || !(accepted & (1u << k)))
		return ward_err_set(err, -WARD_E_POLICY,
				    "TCB status %s is not accepted by package %s%s",
				    claims->tcb_status, pkg->name,
				    k >= 0 && (WARD_MANIFEST_TCB_OUTDATED & (1u << k))
					? " (an out-of-date TCB needs allow_outdated_tcb_insecure)"
					: "");
	for (size_t i = 0; pkg->accepted_advisories && i < claims->advisory_count; i++) {
		bool ok = false;
		size_t j;
		json_t *a;

		json_array_foreach(pkg->accepted_advisories, j, a)
			ok |= strcmp(json_string_value(a), claims->advisories[i]) == 0;
		if (!ok)
			return ward_err_set(err, -WARD_E_POLICY,
					    "advisory %s is not accepted by package %s",
					    claims->advisories[i], pkg->name);
	}
	return 0;
}

static int check_sgx_signer(const struct ward_manifest_package *pkg,
			    const struct ward_coord_claims *claims, struct ward_err *err)
{
	if (!claims->has_sgx || !ward_ct_eq(claims->mrsigner, pkg->sgx_mrsigner, 32))
		return ward_err_set(err, -WARD_E_POLICY,
				    "SGX MRSIGNER is not the one package %s accepts", pkg->name);
	if (pkg->has_sgx_isv_prodid && claims->isv_prodid != pkg->sgx_isv_prodid)
		return ward_err_set(err, -WARD_E_POLICY,
				    "SGX ISVPRODID %u is not %u (package %s)", claims->isv_prodid,
				    pkg->sgx_isv_prodid, pkg->name);
	if (claims->isv_svn < pkg->sgx_min_isv_svn)
		return ward_err_set(err, -WARD_E_POLICY,
				    "SGX ISVSVN %u below the minimum %u (package %s)",
				    claims->isv_svn, pkg->sgx_min_isv_svn, pkg->name);
	return 0;
}

int ward_coord_check_policy(const struct ward_manifest_package *pkg,
			    const struct ward_coord_claims *claims, struct ward_err *err)
{
	char hex[WARD_MANIFEST_MEASUREMENT_MAX * 2 + 1];
	static const char *const tcb_names[4] = {"bootloader", "tee", "snp", "microcode"};
	int r;

	if (!(pkg->tee_mask & (1u << claims->tee)))
		return ward_err_set(err, -WARD_E_POLICY, "TEE \"%s\" is not accepted by package %s",
				    ward_tee_name(claims->tee), pkg->name);
	if (claims->debug && !pkg->debug)
		return ward_err_set(err, -WARD_E_POLICY,
				    "debug TEE refused (package %s does not allow debug)",
				    pkg->name);
	if (claims->tee == WARD_TEE_SGX && pkg->has_sgx_signer) {
		/* By signer: the MRENCLAVE list (if any) is an alternative. */
		r = check_sgx_signer(pkg, claims, err);
		if (r < 0 && !ward_manifest_package_accepts(pkg, claims->tee, claims->measurement,
							    claims->measurement_size))
			return r;
	} else if (!ward_manifest_package_accepts(pkg, claims->tee, claims->measurement,
						  claims->measurement_size)) {
		ward_hex_encode(claims->measurement, claims->measurement_size, hex);
		return ward_err_set(err, -WARD_E_POLICY,
				    "measurement %.16s... is not accepted by package %s", hex,
				    pkg->name);
	}
	if (claims->tee == WARD_TEE_TDX || claims->tee == WARD_TEE_SGX) {
		r = check_intel_tcb(pkg, claims, err);
		if (r < 0)
			return r;
	}
	if (pkg->has_min_tcb) {
		if (!claims->has_tcb)
			return ward_err_set(err, -WARD_E_POLICY, "evidence carries no TCB");
		for (int i = 0; i < 4; i++)
			if (claims->tcb[i] < pkg->min_tcb[i])
				return ward_err_set(err, -WARD_E_POLICY,
						    "TCB %s %u below the minimum %u", tcb_names[i],
						    claims->tcb[i], pkg->min_tcb[i]);
	}
	return 0;
}
