/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Intel DCAP quote verification: TDX quotes v4 and v5, SGX quotes v3, with
 * ECDSA-256 attestation keys, checked offline against Intel collateral (TCB
 * info, QE identity, CRLs) up to the built-in Intel SGX Root CA.
 *
 * Typical use:
 *
 *      struct ward_dcap_collateral *coll;   (keep it: it caches verified items)
 *      ward_dcap_collateral_open_dir("/var/lib/ward/collateral", &coll, &err);
 *      json_t *claims;
 *      r = ward_dcap_verify(quote, quote_size, coll, time(NULL), &claims, &err);
 *
 * ward_dcap_verify() returns 0 only when every signature, chain, CRL,
 * validity window and identity check passed and a TCB level matched; the
 * claims then carry the TCB status, which the caller's policy judges
 * (OutOfDate is authentic but may be unacceptable). See
 * docs/attestation-dcap.md for the claims layout and the directory layout. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ward/compiler.h"
#include "ward/error.h"

/* Hard limits on untrusted input. */
#define WARD_DCAP_QUOTE_MAX_SIZE (64u << 10)	 /* whole quote buffer */
#define WARD_DCAP_CERT_DATA_MAX_SIZE (32u << 10) /* certification data */
#define WARD_DCAP_QE_AUTH_MAX_SIZE 512		 /* QE authentication data */
#define WARD_DCAP_COLLATERAL_MAX_SIZE (1u << 20) /* one collateral file */

enum ward_dcap_tee {
	WARD_DCAP_TEE_SGX = 0x00,
	WARD_DCAP_TEE_TDX = 0x81,
};

/* TCB statuses: the first seven are Intel TCB level statuses; the last two
 * are final results only (TDX v5: the TD runs an older TDX module than the
 * platform now has, after a TD-preserving update; relaunching fixes it). */
enum ward_dcap_tcb_status {
	WARD_DCAP_TCB_UP_TO_DATE,
	WARD_DCAP_TCB_SW_HARDENING_NEEDED,
	WARD_DCAP_TCB_CONFIGURATION_NEEDED,
	WARD_DCAP_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
	WARD_DCAP_TCB_OUT_OF_DATE,
	WARD_DCAP_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
	WARD_DCAP_TCB_REVOKED,
	WARD_DCAP_TCB_TD_RELAUNCH_ADVISED,
	WARD_DCAP_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED,
};

/* "UpToDate", ..., "TDRelaunchAdvised", "TDRelaunchAdvisedConfigurationNeeded". */
WARD_PUBLIC const char *ward_dcap_tcb_status_name(enum ward_dcap_tcb_status s);

/* ---- quote parsing (no crypto) ----------------------------------------- */

#define WARD_DCAP_HEADER_SIZE 48
#define WARD_DCAP_SGX_REPORT_SIZE 384
#define WARD_DCAP_TD10_BODY_SIZE 584
#define WARD_DCAP_TD15_BODY_SIZE 648

/* An SGX enclave report body (also the QE report). Views into the quote. */
struct ward_dcap_sgx_report {
	const uint8_t *raw;    /* the 384 bytes */
	const uint8_t *cpusvn; /* 16 */
	uint32_t miscselect;
	const uint8_t *isvextprodid; /* 16 */
	const uint8_t *attributes;   /* 16; bit 1 of byte 0 = DEBUG */
	const uint8_t *mrenclave;    /* 32 */
	const uint8_t *mrsigner;     /* 32 */
	const uint8_t *configid;     /* 64 */
	uint16_t isvprodid;
	uint16_t isvsvn;
	uint16_t configsvn;
	const uint8_t *isvfamilyid; /* 16 */
	const uint8_t *report_data; /* 64 */
};

/* A TD report body (TDX 1.0, or 1.5 with the two extra fields). */
struct ward_dcap_td_report {
	const uint8_t *tee_tcb_svn;	/* 16 */
	const uint8_t *mrseam;		/* 48 */
	const uint8_t *mrsignerseam;	/* 48 */
	const uint8_t *seam_attributes; /* 8 */
	const uint8_t *td_attributes;	/* 8; bit 0 of byte 0 = DEBUG */
	const uint8_t *xfam;		/* 8 */
	const uint8_t *mrtd;		/* 48 */
	const uint8_t *mrconfigid;	/* 48 */
	const uint8_t *mrowner;		/* 48 */
	const uint8_t *mrownerconfig;	/* 48 */
	const uint8_t *rtmr[4];		/* 48 each */
	const uint8_t *report_data;	/* 64 */
	const uint8_t *tee_tcb_svn2;	/* 16; NULL for a TDX 1.0 body */
	const uint8_t *mrservicetd;	/* 48; NULL for a TDX 1.0 body */
};

/* A parsed quote: every pointer borrows from the buffer given to
 * ward_dcap_quote_parse(), which must outlive it. Nothing here is trusted
 * before ward_dcap_verify() succeeds. */
struct ward_dcap_quote {
	uint16_t version;      /* 3, 4 or 5 */
	uint16_t att_key_type; /* 2 = ECDSA-256-with-P-256 */
	uint32_t tee_type;     /* enum ward_dcap_tee */
	uint16_t qe_svn;
	uint16_t pce_svn;
	const uint8_t *qe_vendor_id; /* 16 */
	const uint8_t *user_data;    /* 20 */
	uint16_t body_type;	     /* 1 = SGX, 2 = TDX 1.0, 3 = TDX 1.5 */
	const uint8_t *signed_data;  /* header (+ v5 body descriptor) + body */
	size_t signed_size;
	struct ward_dcap_sgx_report enclave; /* SGX quotes */
	struct ward_dcap_td_report td;	     /* TDX quotes */
	const uint8_t *signature;	     /* 64: r || s, big-endian */
	const uint8_t *attest_key;	     /* 64: x || y, big-endian */
	struct ward_dcap_sgx_report qe_report;
	const uint8_t *qe_report_signature; /* 64 */
	const uint8_t *qe_auth_data;
	size_t qe_auth_size;
	const char *pck_chain_pem; /* certification data type 5 (not NUL-terminated) */
	size_t pck_chain_size;
	size_t quote_size; /* bytes parsed; any bytes after this were ignored */
};

/* Parse a quote from buf without verifying it. Bytes after the declared
 * signature data are ignored (real quotes arrive in larger zero-padded
 * buffers); everything inside it must parse exactly. Returns 0,
 * -WARD_E_MALFORMED (err names the field and offset), -WARD_E_UNSUPPORTED
 * (version, key type, TEE type or certification data type), or
 * -WARD_E_TOO_BIG. */
WARD_PUBLIC int ward_dcap_quote_parse(const void *buf, size_t size, struct ward_dcap_quote *ret,
				      struct ward_err *err);

/* Is the enclave / TD a debug one? */
WARD_PUBLIC bool ward_dcap_quote_is_debug(const struct ward_dcap_quote *q);

/* ---- collateral -------------------------------------------------------- */

/* Collateral: the raw items as received plus caches of what has been
 * verified (signatures, chains, CRLs), so that verifying many quotes
 * against the same collateral checks each collateral signature once. Not
 * thread-safe: use one per thread, or lock around ward_dcap_verify(). */
struct ward_dcap_collateral;

enum ward_dcap_item {
	WARD_DCAP_ROOT_CRL,		/* Intel SGX Root CA CRL: DER, PEM or hex text */
	WARD_DCAP_PCK_CRL,		/* Platform or Processor CA CRL (told apart by issuer) */
	WARD_DCAP_TCB_INFO,		/* PCS body {"tcbInfo":{...},"signature":"hex"} */
	WARD_DCAP_QE_IDENTITY,		/* PCS body {"enclaveIdentity":{...},"signature":"hex"} */
	WARD_DCAP_TCB_ISSUER_CHAIN,	/* PEM: Intel SGX TCB Signing, [Root CA] */
	WARD_DCAP_PCK_CRL_ISSUER_CHAIN, /* PEM: accepted, not needed (the quote carries the CA) */
};

/* An empty collateral set; add items with ward_dcap_collateral_add(). */
WARD_PUBLIC int ward_dcap_collateral_new(struct ward_dcap_collateral **ret, struct ward_err *err);
/* Add one item (copied). TCB infos are kept per (TEE, FMSPC); QE
 * identities per id (QE, TD_QE); a second item of the same kind and key
 * replaces the first. Checks the item's shape, not yet its signature.
 * Returns 0, -WARD_E_MALFORMED or -WARD_E_TOO_BIG. */
WARD_PUBLIC int ward_dcap_collateral_add(struct ward_dcap_collateral *c, enum ward_dcap_item item,
					 const void *data, size_t size, struct ward_err *err);
/* As ward_dcap_collateral_add() with data read from path. */
WARD_PUBLIC int ward_dcap_collateral_add_file(struct ward_dcap_collateral *c,
					      enum ward_dcap_item item, const char *path,
					      struct ward_err *err);
/* Add a TCB info or QE identity given as the exact signed JSON text plus a
 * separate signature (64 bytes r || s), as in dcap-qvl's collateral.json. */
WARD_PUBLIC int ward_dcap_collateral_add_signed(struct ward_dcap_collateral *c,
						enum ward_dcap_item item, const char *text,
						size_t text_size, const uint8_t *sig,
						size_t sig_size, struct ward_err *err);
/* Add the items of a dcap-qvl collateral.json (keys pck_crl_issuer_chain,
 * root_ca_crl (hex DER), pck_crl (hex DER), tcb_info_issuer_chain, tcb_info
 * (exact signed text), tcb_info_signature (hex r || s),
 * qe_identity_issuer_chain, qe_identity, qe_identity_signature) to c.
 * ward_dcap_collateral_load_qvl_json() reads such a file into a new set. */
WARD_PUBLIC int ward_dcap_collateral_add_qvl_json(struct ward_dcap_collateral *c, const void *buf,
						  size_t size, struct ward_err *err);
WARD_PUBLIC int ward_dcap_collateral_load_qvl_json(const char *path,
						   struct ward_dcap_collateral **ret,
						   struct ward_err *err);
/* A collateral set backed by an offline directory (layout in
 * docs/attestation-dcap.md): files are read on first need (the TCB info
 * of each FMSPC when a quote from that platform arrives) and cached. */
WARD_PUBLIC int ward_dcap_collateral_open_dir(const char *dir, struct ward_dcap_collateral **ret,
					      struct ward_err *err);
WARD_PUBLIC struct ward_dcap_collateral *ward_dcap_collateral_free(struct ward_dcap_collateral *c);
static inline void ward_dcap_collateral_freep(struct ward_dcap_collateral **c)
{
	ward_dcap_collateral_free(*c);
}

/* ---- verification ------------------------------------------------------ */

/* Verify a quote (raw bytes, trailing bytes ignored) against collateral
 * at time `at` (injectable "now"): attestation-key signature over the
 * header and body, QE report signature by the PCK key, QE report data =
 * SHA-256(attestation key || QE auth data), PCK chain to the built-in Intel
 * SGX Root CA with the root and PCK CRLs, TCB info and QE identity
 * signatures and validity, QE identity, TCB level matching.
 *
 * On success *ret_claims (new reference) is the normalized claims object
 * (docs/attestation-dcap.md). Errors: -WARD_E_MALFORMED/-WARD_E_UNSUPPORTED
 * (quote or collateral does not parse), -WARD_E_VERIFY (a signature,
 * chain, binding or identity check failed, or a certificate is revoked),
 * -WARD_E_EXPIRED (a certificate, CRL, TCB info or QE identity is outside
 * its validity at `at`; err names it), -WARD_E_NOT_FOUND (a collateral
 * item is missing; err names it and, for a directory, the file),
 * -WARD_E_POLICY (authentic but no TCB level matches, or the matching level
 * is Revoked). */
WARD_PUBLIC int ward_dcap_verify(const void *quote, size_t quote_size,
				 struct ward_dcap_collateral *coll, time_t at, json_t **ret_claims,
				 struct ward_err *err);

/* Verify only what needs no collateral: both signatures, the QE binding
 * and the PCK chain to the built-in root at `at` (no CRLs). For tooling
 * and tests; a verifier must use ward_dcap_verify(). */
WARD_PUBLIC int ward_dcap_verify_quote_only(const void *quote, size_t quote_size, time_t at,
					    struct ward_err *err);

/* Claims of a parsed, NOT verified quote (for display): tee,
 * quote_version, debug, report_data, measurement, measurements, and
 * "verified": false. *ret is a new reference. */
WARD_PUBLIC int ward_dcap_quote_claims(const struct ward_dcap_quote *q, json_t **ret,
				       struct ward_err *err);

/* The built-in Intel SGX Root CA as PEM text (static, NUL-terminated).
 * Its DER SHA-256 is pinned and checked before first use. */
WARD_PUBLIC const char *ward_dcap_intel_root_pem(void);
