/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The coordinator (docs/coordinator.md): manifest, secrets, CA, KBS
 * attestation protocol, audit log, sealing. lib/coord is built on
 * lib/store (state), lib/http (HTTPS), lib/ca and lib/jose; the TEE it runs
 * in and the evidence verifier are given as function tables, so the
 * service is tested with the sim TEE and plugs in [attest] verifiers. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ward/attest.h"
#include "ward/compiler.h"
#include "ward/crypto.h"
#include "ward/error.h"
#include "ward/manifest.h"
#include "ward/store.h"
#include "ward/tee.h"

/* ---- the TEE the coordinator itself runs in ---- */
struct ward_coord_tee {
	enum ward_tee_type type;
	/* Evidence binding report_data, as the JSON object sent in KBS
	 * "tee-evidence" (new reference). */
	int (*evidence)(void *ctx, const uint8_t report_data[WARD_REPORT_DATA_SIZE], json_t **ret,
			struct ward_err *err);
	/* The sealing key of this TEE instance (32 bytes). */
	int (*sealing_key)(void *ctx, uint8_t out[32], struct ward_err *err);
	void *ctx;
};

/* ---- evidence verification ---- */
#define WARD_COORD_ADVISORIES_MAX 32
struct ward_coord_claims {
	enum ward_tee_type tee;
	uint8_t report_data[WARD_REPORT_DATA_SIZE];
	uint8_t measurement[WARD_MANIFEST_MEASUREMENT_MAX];
	size_t measurement_size;
	bool debug;
	bool has_tcb;
	uint8_t tcb[4]; /* SNP reported TCB: bootloader, tee, snp, microcode */
	bool insecure;	/* the sim TEE: accepted only because the manifest lists "sim" */
	/* Intel TDX/SGX (DCAP): the matched TCB level's status and advisory
	 * IDs (NUL-terminated; overlong IDs are refused by the verifier). */
	bool has_tcb_status;
	char tcb_status[48];
	size_t advisory_count;
	char advisories[WARD_COORD_ADVISORIES_MAX][32];
	/* SGX: the enclave's signer and product. */
	bool has_sgx;
	uint8_t mrsigner[32];
	uint16_t isv_prodid, isv_svn;
};
struct ward_coord_verifier {
	/* Check that evidence is authentic for tee (signature, chain to the
	 * trusted root) and fill the claims; policy is the caller's. */
	int (*verify)(void *ctx, enum ward_tee_type tee, const json_t *evidence,
		      struct ward_coord_claims *ret, struct ward_err *err);
	void *ctx;
	/* Bit (1 << tee) set: verify() may run for that TEE on several threads
	 * at once (the coordinator then calls it outside its lock); others
	 * are called one at a time. */
	unsigned concurrent_tees;
};

/* The built-in SEV-SNP-format verifier: report signature by the VCEK of
 * the evidence's certificate table, VCEK <- ASK <- ark. With sim true it
 * answers only for WARD_TEE_SIM (and marks claims insecure). ark is
 * referenced. Evidence JSON: {"report": b64url, "cert_table": b64url}. */
WARD_PUBLIC int ward_coord_snp_verifier_new(const struct ward_x509 *ark, bool sim,
					    struct ward_coord_verifier **ret, struct ward_err *err);
WARD_PUBLIC struct ward_coord_verifier *ward_coord_snp_verifier_free(struct ward_coord_verifier *v);

/* The [attest] verifier (ward/attest.h): SEV-SNP against AMD's built-in
 * roots (collateral_dir, may be NULL, for CRLs and certificates), and the
 * sim TEE only when sim_ark is given (INSECURE). Same evidence JSON, plus
 * the forms of ward_coord_attest_verifier_new_opts() (TDX/SGX quotes with
 * the DCAP collateral of collateral_dir). */
WARD_PUBLIC int ward_coord_attest_verifier_new(const struct ward_x509 *sim_ark,
					       const char *collateral_dir,
					       struct ward_coord_verifier **ret,
					       struct ward_err *err);
WARD_PUBLIC struct ward_coord_verifier *
ward_coord_attest_verifier_free(struct ward_coord_verifier *v);

/* The [attest] verifier with every input (docs/coordinator.md, "Evidence"):
 * SEV-SNP (Ward's {"report","cert_table"} or Trustee's
 * {"attestation_report","cert_chain"}), TDX and SGX ({"quote": base64}
 * DCAP quotes, verified against dcap_collateral_file (a dcap-qvl
 * collateral.json) or else collateral_dir), and sim with sim_ark. Free
 * with ward_coord_attest_verifier_free(). */
struct ward_coord_attest_opts {
	const struct ward_x509 *sim_ark;  /* borrowed; NULL: sim refused */
	const char *collateral_dir;	  /* SNP and DCAP offline collateral, may be NULL */
	const char *dcap_collateral_file; /* dcap-qvl collateral.json, may be NULL */
	/* INSECURE, tests only: verify at this time instead of now (recorded
	 * quotes and their collateral are only valid at their check time).
	 * 0: now. The CLI offers it only in WARD_INSECURE_TEST_SWITCHES builds. */
	int64_t insecure_at;
};
WARD_PUBLIC int ward_coord_attest_verifier_new_opts(const struct ward_coord_attest_opts *opts,
						    struct ward_coord_verifier **ret,
						    struct ward_err *err);

/* Convert Trustee's SEV-SNP evidence ({"attestation_report": report fields
 * as JSON, "cert_chain": [{"cert_type", "data"}]}, as CoCo's
 * attestation-agent sends it) to the 1184-byte report and an SNP
 * certificate table (*ret_table malloc'ed, *ret_table_size may be 0). */
WARD_PUBLIC int ward_coord_trustee_snp_convert(const json_t *evidence,
					       uint8_t report[WARD_SNP_REPORT_SIZE],
					       uint8_t **ret_table, size_t *ret_table_size,
					       struct ward_err *err);

/* Policy: does pkg accept claims? On refusal err says why. */
WARD_PUBLIC int ward_coord_check_policy(const struct ward_manifest_package *pkg,
					const struct ward_coord_claims *claims,
					struct ward_err *err);

/* KBS runtime-data binding: SHA-384 of the canonical JSON
 * {"nonce": nonce, "tee-pubkey": jwk}, zero-padded to 64 bytes. */
WARD_PUBLIC int ward_kbs_report_data(const char *nonce, const json_t *tee_pubkey,
				     uint8_t out[WARD_REPORT_DATA_SIZE], struct ward_err *err);
/* The coordinator's evidence binding: SHA-512("ward-coordinator-v1" ||
 * nonce || SHA-256(TLS SPKI DER) || manifest hash || audit head). */
WARD_PUBLIC int ward_coord_evidence_report_data(const uint8_t *nonce, size_t nonce_size,
						const uint8_t spki_hash[32],
						const uint8_t manifest_hash[32],
						const uint8_t audit_head[32],
						uint8_t out[WARD_REPORT_DATA_SIZE],
						struct ward_err *err);

/* ---- audit log ---- */
/* Append one record in the caller's transaction: hash = SHA-256(prev_hash
 * || canonical JSON {"detail","kind","seq","subject","time"}). */
WARD_PUBLIC int ward_audit_append(struct ward_store *st, int64_t now, const char *kind,
				  const char *subject, const json_t *detail, uint8_t ret_head[32],
				  struct ward_err *err);
/* Verify a chain as served by GET/POST log (array of records with hex
 * prev_hash/hash, from seq 1). *ret_head gets the last hash. */
WARD_PUBLIC int ward_audit_verify(const json_t *entries, uint8_t ret_head[32], uint64_t *ret_count,
				  struct ward_err *err);
/* One record as JSON (new reference). */
WARD_PUBLIC int ward_audit_row_json(const struct ward_store_audit_row *row, json_t **ret,
				    struct ward_err *err);

/* ---- the service ---- */
struct ward_coord_opts {
	const char *state_dir;
	const char *listen_addr;
	uint16_t listen_port;	  /* 0: any (see ward_coord_port) */
	const char *metrics_addr; /* NULL: no metrics listener */
	uint16_t metrics_port;
	const struct ward_coord_tee *tee;	    /* borrowed */
	const struct ward_coord_verifier *verifier; /* borrowed */
	int64_t token_ttl;			    /* seconds, default 300 */
	int64_t session_ttl;			    /* seconds, default 300 */
	unsigned loops; /* HTTP event-loop threads; 0: $WARD_COORD_LOOPS, else one
			 * per online CPU up to 4 (at most WARD_HTTP_LOOPS_MAX) */
};

struct ward_coord;
/* Open the state (creating it at first start: data key, TLS identity, CA),
 * unseal the data key with the TEE's sealing key, and bind the listeners.
 * If the sealing key changed, fails with -WARD_E_VERIFY: use recovery. */
WARD_PUBLIC int ward_coord_open(const struct ward_coord_opts *opts, struct ward_coord **ret,
				struct ward_err *err);
/* Serve until SIGINT/SIGTERM or ward_coord_stop(). */
WARD_PUBLIC int ward_coord_run(struct ward_coord *c, struct ward_err *err);
WARD_PUBLIC void ward_coord_stop(struct ward_coord *c);
WARD_PUBLIC uint16_t ward_coord_port(const struct ward_coord *c);
WARD_PUBLIC uint16_t ward_coord_metrics_port(const struct ward_coord *c);
WARD_PUBLIC struct ward_coord *ward_coord_free(struct ward_coord *c);
static inline void ward_coord_freep(struct ward_coord **c)
{
	ward_coord_free(*c);
}

/* Offline recovery: unwrap the data key in state_dir with a recovery
 * private key (RSA, PEM) and reseal it under tee's current sealing key. */
WARD_PUBLIC int ward_coord_recover(const char *state_dir, const struct ward_coord_tee *tee,
				   const struct ward_pkey *recovery_key, struct ward_err *err);

/* ---- KBS request bodies ---- */
/* Parse a KBS Request {"version","tee","extra-params"}: version 0.x and a
 * known tee ("snp"/"amd-sev-snp", "tdx"/"intel-tdx", "sgx"/"intel-sgx",
 * "sim"). */
WARD_PUBLIC int ward_kbs_parse_request(const void *buf, size_t size, enum ward_tee_type *ret_tee,
				       struct ward_err *err);
/* A parsed KBS Attestation: {"tee-pubkey", "tee-evidence"} or the newer
 * {"runtime-data": {"nonce", "tee-pubkey"}, "tee-evidence"}; evidence given
 * as a JSON string is parsed. Pointers borrow from root. */
struct ward_kbs_attestation {
	json_t *root;		  /* owned */
	json_t *evidence_owned;	  /* owned when the evidence came as a string */
	const json_t *tee_pubkey; /* JWK object */
	const json_t *evidence;	  /* object */
	const char *nonce;	  /* runtime-data nonce, or NULL */
};
WARD_PUBLIC int ward_kbs_parse_attestation(const void *buf, size_t size,
					   struct ward_kbs_attestation *ret, struct ward_err *err);
WARD_PUBLIC void ward_kbs_attestation_clear(struct ward_kbs_attestation *a);
