/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Private to lib/attest/dcap: the DER reader, PCK certificate extensions,
 * TCB info / QE identity models and TCB evaluation. Pure logic, no crypto,
 * so it is unit-tested and fuzzed on its own. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ward/cursor.h"
#include "ward/dcap.h"
#include "ward/error.h"

#include "../der.h"

/* ---- PCK certificate SGX extension (pck.c) ----------------------------- */

/* OID 1.2.840.113741.1.13.1 */
#define WARD_DCAP_SGX_EXT_OID "1.2.840.113741.1.13.1"

struct ward_dcap_pck_info {
	uint8_t comp_svn[16];
	uint16_t pcesvn;
	uint8_t cpusvn[16];
	uint8_t pceid[2];
	uint8_t fmspc[6];
	uint32_t sgx_type; /* 0 Standard, 1 Scalable, 2 Scalable with integrity */
};

/* Parse the DER value of the SGX extension (the content of extnValue).
 * Required: TCB (16 components, PCESVN, CPUSVN), PCE-ID, FMSPC, SGX type.
 * Returns 0 or -WARD_E_MALFORMED naming the missing or bad field. */
int ward_dcap_pck_ext_parse(const uint8_t *der, size_t size, struct ward_dcap_pck_info *ret,
			    struct ward_err *err);

/* ---- TCB info and QE identity (tcbinfo.c) ------------------------------- */

#define WARD_DCAP_MAX_TCB_LEVELS 256
#define WARD_DCAP_MAX_MODULES 32
#define WARD_DCAP_MAX_ADVISORIES 256

int ward_dcap_status_parse(const char *s, enum ward_dcap_tcb_status *ret);

struct ward_dcap_isv_level {
	uint16_t isvsvn;
	enum ward_dcap_tcb_status status;
	time_t tcb_date;
	json_t *advisories; /* owned array of strings (possibly empty) */
};

struct ward_dcap_tcb_level {
	uint8_t sgx_svn[16];
	uint16_t pcesvn;
	uint8_t tdx_svn[16];
	enum ward_dcap_tcb_status status;
	time_t tcb_date;
	json_t *advisories; /* owned */
};

struct ward_dcap_module_identity {
	char id[16]; /* "TDX_01" */
	uint8_t mrsigner[48];
	uint8_t attributes[8];
	uint8_t attributes_mask[8];
	struct ward_dcap_isv_level *levels; /* owned */
	size_t level_count;
};

struct ward_dcap_tcb_info {
	enum ward_dcap_tee tee; /* id "SGX" or "TDX" */
	int version;		/* 2 or 3 */
	time_t issue_date, next_update;
	uint8_t fmspc[6];
	uint8_t pceid[2];
	uint32_t tcb_type;
	uint32_t eval_number;
	bool has_tdx_module;
	uint8_t module_mrsigner[48];
	uint8_t module_attributes[8];
	uint8_t module_attributes_mask[8];
	struct ward_dcap_module_identity *modules; /* owned */
	size_t module_count;
	struct ward_dcap_tcb_level *levels; /* owned */
	size_t level_count;
};

enum ward_dcap_qe_id {
	WARD_DCAP_QE_SGX, /* "QE" */
	WARD_DCAP_QE_TD,  /* "TD_QE" */
	WARD_DCAP_QE_QVE, /* "QVE" (parsed, never used to verify quotes) */
};

struct ward_dcap_qe_identity {
	enum ward_dcap_qe_id id;
	int version;
	time_t issue_date, next_update;
	uint32_t eval_number;
	uint32_t miscselect, miscselect_mask;
	uint8_t attributes[16], attributes_mask[16];
	uint8_t mrsigner[32];
	uint16_t isvprodid;
	struct ward_dcap_isv_level *levels; /* owned */
	size_t level_count;
};

/* Parse the (already extracted, signed) inner object text of a TCB info /
 * QE identity. Structure checks only; times are not compared with now. */
int ward_dcap_tcb_info_parse(const char *text, size_t size, struct ward_dcap_tcb_info **ret,
			     struct ward_err *err);
struct ward_dcap_tcb_info *ward_dcap_tcb_info_free(struct ward_dcap_tcb_info *t);
int ward_dcap_qe_identity_parse(const char *text, size_t size, struct ward_dcap_qe_identity **ret,
				struct ward_err *err);
struct ward_dcap_qe_identity *ward_dcap_qe_identity_free(struct ward_dcap_qe_identity *q);

/* Split a PCS response body {"<key>":{...},"signature":"<hex>"}: the exact
 * byte range of the inner object (never re-serialised) and the signature
 * (64 bytes). Rejects duplicate keys and unknown top-level keys. */
int ward_dcap_pcs_body_split(const char *body, size_t size, const char *key, size_t *ret_offset,
			     size_t *ret_len, uint8_t sig[64], struct ward_err *err);

/* ---- TCB evaluation (eval.c) ------------------------------------------- */

struct ward_dcap_eval {
	enum ward_dcap_tcb_status status; /* final */
	enum ward_dcap_tcb_status platform_status;
	const struct ward_dcap_tcb_level *platform_level; /* borrowed from the TCB info */
	bool has_module;
	enum ward_dcap_tcb_status module_status;
	const struct ward_dcap_isv_level *module_level;
	enum ward_dcap_tcb_status qe_status;
	const struct ward_dcap_isv_level *qe_level;
	json_t *advisories; /* owned: union, in order platform, module, QE */
};
void ward_dcap_eval_clear(struct ward_dcap_eval *e);

/* Platform + TDX module TCB evaluation for one TEE_TCB_SVN (NULL for SGX).
 * mrsignerseam / seam_attributes are checked against the module identity.
 * -WARD_E_POLICY when no level matches; -WARD_E_VERIFY on module identity
 * mismatch; -WARD_E_MALFORMED when the TCB info does not fit the TEE. */
int ward_dcap_eval_platform(const struct ward_dcap_tcb_info *ti,
			    const struct ward_dcap_pck_info *pck, const uint8_t *tee_tcb_svn,
			    const uint8_t *mrsignerseam, const uint8_t *seam_attributes,
			    struct ward_dcap_eval *ret, struct ward_err *err);
/* QE identity check (MRSIGNER, ISVPRODID, masked MISCSELECT/ATTRIBUTES)
 * and its TCB level. */
int ward_dcap_eval_qe(const struct ward_dcap_qe_identity *qi, enum ward_dcap_qe_id want,
		      const struct ward_dcap_sgx_report *qe_report, struct ward_dcap_eval *e,
		      struct ward_err *err);
/* Everything for a parsed quote: platform, module, QE, convergence, and
 * the TD relaunch rule for TDX 1.5 bodies. */
int ward_dcap_evaluate(const struct ward_dcap_quote *q, const struct ward_dcap_pck_info *pck,
		       const struct ward_dcap_tcb_info *ti, const struct ward_dcap_qe_identity *qi,
		       struct ward_dcap_eval *ret, struct ward_err *err);
/* Intel's convergence of the platform status with a module or QE status. */
enum ward_dcap_tcb_status ward_dcap_status_converge(enum ward_dcap_tcb_status platform,
						    enum ward_dcap_tcb_status other);

/* ---- claims (claims.c) ------------------------------------------------- */

/* The normalized claims object for a quote that verified. */
int ward_dcap_claims_build(const struct ward_dcap_quote *q, const struct ward_dcap_pck_info *pck,
			   const struct ward_dcap_tcb_info *ti,
			   const struct ward_dcap_qe_identity *qi, const struct ward_dcap_eval *e,
			   time_t collateral_expires, json_t **ret, struct ward_err *err);

/* ---- trust anchor (root.c) --------------------------------------------- */

/* SHA-256 of the built-in Intel SGX Root CA's DER encoding. */
extern const uint8_t ward_dcap_intel_root_fingerprint[32];

/* ---- collateral checks (verify.c) --------------------------------------- */

/* Verify (or find verified in the cache) the TCB info of (tee, fmspc) or
 * the QE identity id at `at`: TCB signing chain to the root with the root
 * CRL, signature over the exact text, validity window. *ret is borrowed
 * from c. For tests and tooling; ward_dcap_verify() does this itself. */
int ward_dcap_collateral_check_tcb_info(struct ward_dcap_collateral *c, enum ward_dcap_tee tee,
					const uint8_t fmspc[6], time_t at,
					const struct ward_dcap_tcb_info **ret,
					struct ward_err *err);
int ward_dcap_collateral_check_qe_identity(struct ward_dcap_collateral *c, enum ward_dcap_qe_id id,
					   time_t at, const struct ward_dcap_qe_identity **ret,
					   struct ward_err *err);

struct ward_x509;
/* Tests only: a collateral set whose trust anchor is root instead of the
 * built-in Intel SGX Root CA (synthetic PKIs exercise revocation). Not in
 * the public header and not exported from the library. */
int ward_dcap_collateral_new_with_root_insecure(struct ward_x509 *root,
						struct ward_dcap_collateral **ret,
						struct ward_err *err);
