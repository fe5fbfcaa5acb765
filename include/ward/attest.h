/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Attestation evidence: parsing, verification (authenticity) and policy
 * (acceptability) as separate steps.
 *
 *   ward_evidence_load()/_parse()  file or bytes -> struct ward_evidence
 *                                  (format auto-detected, nothing trusted)
 *   ward_evidence_verify()         signature + certificate chain + collateral
 *                                  -> normalized claims (JSON object)
 *   ward_attest_policy_check()     claims + policy -> verdict naming every
 *                                  failed check
 *
 * SEV-SNP specifics (report layout, certificate table, Azure HCL wrapper,
 * built-in AMD roots) are exposed as ward_snp_* for tools and tests. The
 * formats and the collateral directory layout are documented in
 * docs/attestation.md. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ward/compiler.h"
#include "ward/crypto.h"
#include "ward/dcap.h"
#include "ward/error.h"
#include "ward/tee.h"

/* ---- SEV-SNP attestation report (AMD SEV-SNP ABI spec 56860) ---------- */

#define WARD_SNP_REPORT_SIZE 0x4A0     /* 1184 */
#define WARD_SNP_SIGNED_SIZE 0x2A0     /* the signature covers bytes 0x000..0x29F */
#define WARD_SNP_SIG_COMPONENT_SIZE 72 /* r and s fields, little-endian */
#define WARD_SNP_CHIP_ID_SIZE 64
#define WARD_SNP_TURIN_HWID_SIZE 8 /* Turin VCEKs carry the first 8 bytes of CHIP_ID */

/* ATTESTATION_REPORT field offsets (AMD SEV-SNP ABI spec 56860, table 22):
 * the one list the parser, the sim TEE and the coordinator's decoders use. */
enum ward_snp_offset {
	WARD_SNP_OFF_VERSION = 0x000,
	WARD_SNP_OFF_GUEST_SVN = 0x004,
	WARD_SNP_OFF_POLICY = 0x008,
	WARD_SNP_OFF_FAMILY_ID = 0x010,
	WARD_SNP_OFF_IMAGE_ID = 0x020,
	WARD_SNP_OFF_VMPL = 0x030,
	WARD_SNP_OFF_SIG_ALGO = 0x034,
	WARD_SNP_OFF_CURRENT_TCB = 0x038,
	WARD_SNP_OFF_PLATFORM_INFO = 0x040,
	WARD_SNP_OFF_KEY_INFO = 0x048,
	WARD_SNP_OFF_REPORT_DATA = 0x050,
	WARD_SNP_OFF_MEASUREMENT = 0x090,
	WARD_SNP_OFF_HOST_DATA = 0x0C0,
	WARD_SNP_OFF_ID_KEY_DIGEST = 0x0E0,
	WARD_SNP_OFF_AUTHOR_KEY_DIGEST = 0x110,
	WARD_SNP_OFF_REPORT_ID = 0x140,
	WARD_SNP_OFF_REPORT_ID_MA = 0x160,
	WARD_SNP_OFF_REPORTED_TCB = 0x180,
	WARD_SNP_OFF_CPUID_FAM = 0x188,
	WARD_SNP_OFF_CPUID_MOD = 0x189,
	WARD_SNP_OFF_CPUID_STEP = 0x18A,
	WARD_SNP_OFF_CHIP_ID = 0x1A0,
	WARD_SNP_OFF_COMMITTED_TCB = 0x1E0,
	WARD_SNP_OFF_CURRENT_BUILD = 0x1E8,
	WARD_SNP_OFF_COMMITTED_BUILD = 0x1EC,
	WARD_SNP_OFF_LAUNCH_TCB = 0x1F0,
	WARD_SNP_OFF_LAUNCH_MIT_VECTOR = 0x1F8,
	WARD_SNP_OFF_CURRENT_MIT_VECTOR = 0x200,
	WARD_SNP_OFF_SIG_R = 0x2A0, /* = WARD_SNP_SIGNED_SIZE */
	WARD_SNP_OFF_SIG_S = 0x2E8,
};

/* SIGNATURE_ALGO values */
#define WARD_SNP_SIG_ALGO_ECDSA_P384_SHA384 1

enum ward_snp_product {
	WARD_SNP_PRODUCT_UNKNOWN = 0,
	WARD_SNP_PRODUCT_MILAN,
	WARD_SNP_PRODUCT_GENOA,
	WARD_SNP_PRODUCT_TURIN,
};

/* KEY_INFO.SIGNING_KEY (bits 4:2) */
enum ward_snp_signing_key {
	WARD_SNP_SIGNING_KEY_VCEK = 0,
	WARD_SNP_SIGNING_KEY_VLEK = 1,
	WARD_SNP_SIGNING_KEY_NONE = 7,
};

/* A TCB_VERSION decoded with a product's layout. Milan/Genoa: byte 0 BL,
 * 1 TEE, 6 SNP, 7 UCODE. Turin: byte 0 FMC, 1 BL, 2 TEE, 3 SNP, 7 UCODE. */
struct ward_snp_tcb {
	uint64_t raw;
	uint8_t bl, tee, snp, ucode, fmc;
	bool has_fmc; /* Turin layout */
};

/* Guest policy bits (POLICY field). */
#define WARD_SNP_POLICY_SMT (UINT64_C(1) << 16)
#define WARD_SNP_POLICY_RESERVED1 (UINT64_C(1) << 17) /* must be one */
#define WARD_SNP_POLICY_MIGRATE_MA (UINT64_C(1) << 18)
#define WARD_SNP_POLICY_DEBUG (UINT64_C(1) << 19)
#define WARD_SNP_POLICY_SINGLE_SOCKET (UINT64_C(1) << 20)

/* A parsed report. Pointer members are views into the buffer given to
 * ward_snp_report_parse() (borrowed: the buffer must outlive the struct). */
struct ward_snp_report {
	const uint8_t *raw; /* the whole 1184-byte report */
	uint32_t version;   /* 2, 3 or 5 */
	uint32_t guest_svn;
	uint64_t policy;
	const uint8_t *family_id; /* 16 */
	const uint8_t *image_id;  /* 16 */
	uint32_t vmpl;
	uint32_t signature_algo;
	uint64_t current_tcb;
	uint64_t platform_info;
	bool author_key_en;
	bool mask_chip_key;
	enum ward_snp_signing_key signing_key;
	const uint8_t *report_data;	  /* 64 */
	const uint8_t *measurement;	  /* 48 */
	const uint8_t *host_data;	  /* 32 */
	const uint8_t *id_key_digest;	  /* 48 */
	const uint8_t *author_key_digest; /* 48 */
	const uint8_t *report_id;	  /* 32 */
	const uint8_t *report_id_ma;	  /* 32 */
	uint64_t reported_tcb;
	uint8_t cpuid_fam_id, cpuid_mod_id, cpuid_step; /* v3+, zero in v2 */
	const uint8_t *chip_id;				/* 64 */
	uint64_t committed_tcb;
	uint8_t current_build, current_minor, current_major;
	uint8_t committed_build, committed_minor, committed_major;
	uint64_t launch_tcb;
	uint64_t launch_mit_vector, current_mit_vector; /* v5, zero before */
	const uint8_t *sig_r;				/* 72, little-endian */
	const uint8_t *sig_s;				/* 72, little-endian */
};

/* Parse the 1184-byte report in buf without verifying it: size must be
 * exactly WARD_SNP_REPORT_SIZE, version in {2, 3, 5}, SIGNATURE_ALGO 1,
 * reserved fields zero, the upper 24 bytes of r and s zero. On success *ret
 * holds views into buf. Returns 0, -WARD_E_MALFORMED or -WARD_E_UNSUPPORTED
 * (version / algorithm), with err naming the field and offset. */
WARD_PUBLIC int ward_snp_report_parse(const void *buf, size_t size, struct ward_snp_report *ret,
				      struct ward_err *err);

/* The product from the report's CPUID fields (v3+): family 0x19 models
 * 0x00-0x0F Milan, 0x10-0x1F and 0xA0-0xAF Genoa; family 0x1A Turin.
 * WARD_SNP_PRODUCT_UNKNOWN for v2 reports and unknown CPUs. */
WARD_PUBLIC enum ward_snp_product ward_snp_report_product(const struct ward_snp_report *r);

/* Decode a TCB_VERSION value with product's layout (Turin differs; every
 * other product, including UNKNOWN, uses the Milan/Genoa layout). */
WARD_PUBLIC void ward_snp_tcb_decode(uint64_t raw, enum ward_snp_product product,
				     struct ward_snp_tcb *ret);

/* "Milan", "Genoa", "Turin" (the KDS spelling), or "unknown". */
WARD_PUBLIC const char *ward_snp_product_name(enum ward_snp_product product);
/* Parse a product name, case-insensitively. -WARD_E_MALFORMED if unknown. */
WARD_PUBLIC int ward_snp_product_parse(const char *name, enum ward_snp_product *ret,
				       struct ward_err *err);

/* Claims of a parsed report, not verified (for `ward evidence show`):
 * the same object ward_snp_verify() returns, without the collateral part
 * and with "verified": false. product may be UNKNOWN. *ret is a new
 * reference. */
WARD_PUBLIC int ward_snp_report_claims(const struct ward_snp_report *r,
				       enum ward_snp_product product, json_t **ret,
				       struct ward_err *err);

/* ---- SNP certificate table (extended report / configfs-tsm auxblob) ---- */

enum ward_snp_cert_kind {
	WARD_SNP_CERT_OTHER = 0,
	WARD_SNP_CERT_ARK,
	WARD_SNP_CERT_ASK,
	WARD_SNP_CERT_VCEK,
	WARD_SNP_CERT_VLEK,
	WARD_SNP_CERT_CRL,
};

#define WARD_SNP_CERTTABLE_MAX_SIZE (64u * 1024)
#define WARD_SNP_CERTTABLE_MAX_ENTRIES 16

struct ward_snp_cert_entry {
	enum ward_snp_cert_kind kind;
	uint8_t guid[16];    /* as stored (the byte order of the text form) */
	const uint8_t *data; /* borrowed view into the table buffer */
	size_t size;
};

struct ward_snp_certtable {
	size_t count;
	struct ward_snp_cert_entry entries[WARD_SNP_CERTTABLE_MAX_ENTRIES];
};

/* Parse a certificate table: 24-byte entries (GUID, u32le offset, u32le
 * length) ending with an all-zero entry, each offset/length inside buf and
 * past the table. Zero entries are allowed (an empty table). Duplicate
 * GUIDs are rejected. Views point into buf. Returns 0 or -WARD_E_MALFORMED
 * / -WARD_E_TOO_BIG. */
WARD_PUBLIC int ward_snp_certtable_parse(const void *buf, size_t size,
					 struct ward_snp_certtable *ret, struct ward_err *err);

/* ---- Azure HCL report (vTPM NV index 0x01400001) ----------------------- */

#define WARD_SNP_HCL_REPORT_OFFSET 0x20
#define WARD_SNP_HCL_MAX_SIZE (16u * 1024)

struct ward_snp_hcl {
	uint32_t version;
	const uint8_t *report;	     /* 1184 bytes at offset 0x20 (borrowed) */
	uint32_t hash_type;	     /* 1 SHA-256, 2 SHA-384, 3 SHA-512 */
	const uint8_t *runtime_data; /* variable data (runtime claims JSON), borrowed */
	size_t runtime_data_size;
};

/* Parse an Azure "HCLA" report wrapper. Bytes after the size the header
 * declares must be zero padding. Returns 0 or -WARD_E_MALFORMED /
 * -WARD_E_UNSUPPORTED (not an SNP report, unknown hash type). */
WARD_PUBLIC int ward_snp_hcl_parse(const void *buf, size_t size, struct ward_snp_hcl *ret,
				   struct ward_err *err);

/* ---- SNP verification --------------------------------------------------- */

/* Built-in AMD roots: the ARK and the ASK (VCEK chain) or ASVK (VLEK
 * chain) of a product, new references. The ARK's SHA-256 fingerprint is
 * pinned and checked when loaded. */
WARD_PUBLIC int ward_snp_builtin_ark(enum ward_snp_product product, struct ward_x509 **ret,
				     struct ward_err *err);
WARD_PUBLIC int ward_snp_builtin_ask(enum ward_snp_product product, bool vlek,
				     struct ward_x509 **ret, struct ward_err *err);

struct ward_snp_verify_opts {
	time_t at;			/* verification time */
	const char *collateral_dir;	/* offline cache (may be NULL) */
	struct ward_x509 *const *certs; /* borrowed: VCEK/VLEK/ASK from the evidence */
	size_t cert_count;
	struct ward_crl *const *crls; /* borrowed: CRLs from the evidence (may be NULL) */
	size_t crl_count;
	enum ward_snp_product product; /* UNKNOWN: from CPUID (v3+) or the VCEK issuer */
	unsigned warn_days; /* add a warning when collateral expires within this many days */
	bool require_crl;   /* fail when no CRL is available for the product */
	/* INSECURE: chain to this ARK (borrowed; the sim TEE's) instead of
	 * AMD's built-in roots; the claims then say "insecure": true. */
	struct ward_x509 *insecure_ark;
};

/* Verify the report: find the VCEK/VLEK (opts->certs, else the collateral
 * directory), chain it to the built-in ARK of the product at opts->at
 * (RSA-PSS), check HWID = CHIP_ID (VCEK) and the TCB extensions = the
 * REPORTED_TCB, check CRLs when present, then the ECDSA P-384 signature
 * over bytes 0x000..0x29F. On success *ret_claims (new reference) is the
 * normalized claims object with "verified": true. Returns 0 or
 * -WARD_E_VERIFY (signature, chain, HWID, TCB), -WARD_E_EXPIRED,
 * -WARD_E_NOT_FOUND (collateral missing: err names the file), ... */
WARD_PUBLIC int ward_snp_verify(const struct ward_snp_report *r,
				const struct ward_snp_verify_opts *opts, json_t **ret_claims,
				struct ward_err *err);

/* ---- evidence container (format detection) ------------------------------ */

#define WARD_EVIDENCE_MAX_SIZE (1u << 20)
#define WARD_EVIDENCE_MAX_CERTS 8

enum ward_evidence_format {
	WARD_EVIDENCE_SNP_REPORT,    /* raw 1184-byte report */
	WARD_EVIDENCE_SNP_TSM,	     /* configfs-tsm outblob (+ auxblob) */
	WARD_EVIDENCE_SNP_HCL,	     /* Azure HCL report */
	WARD_EVIDENCE_WARD_ENVELOPE, /* {"tee":"snp","report":...} */
	WARD_EVIDENCE_DCAP_QUOTE,    /* TDX quote v4/v5 or SGX quote v3 */
	WARD_EVIDENCE_RATLS_CERT,    /* Gramine RA-TLS certificate (DER or PEM) */
};

WARD_PUBLIC const char *ward_evidence_format_name(enum ward_evidence_format f);

struct ward_evidence {
	enum ward_tee_type tee; /* WARD_TEE_SNP, _SIM, _TDX or _SGX */
	enum ward_evidence_format format;
	uint8_t report_buf[WARD_SNP_REPORT_SIZE]; /* private copy of the report */
	struct ward_snp_report snp;		  /* views into report_buf */
	struct ward_x509 **certs;		  /* owned, cert_count entries */
	size_t cert_count;
	struct ward_crl **crls; /* owned */
	size_t crl_count;
	uint8_t *runtime_data; /* owned: HCL variable data (NULL otherwise) */
	size_t runtime_data_size;
	uint32_t runtime_hash_type; /* HCL hash type */
	uint8_t *quote; /* owned: DCAP quote (TDX/SGX), NULL for SNP */
	size_t quote_size;
	struct ward_x509 *ratls_cert; /* owned: RA-TLS certificate, or NULL */
};

/* Parse evidence bytes, detecting the format: "HCLA" magic -> Azure HCL;
 * '{' -> Ward envelope; exactly 1184 bytes -> raw report. aux (may be
 * NULL) is a certificate table (configfs-tsm auxblob) whose certificates
 * are added. tee WARD_TEE_NONE auto-detects (SNP, or sim for an envelope
 * saying so); WARD_TEE_SNP / WARD_TEE_SIM say what the evidence is (the
 * sim TEE produces SNP-format reports); other TEEs are
 * -WARD_E_UNSUPPORTED here. Everything is copied: *ret owns its data. */
WARD_PUBLIC int ward_evidence_parse(const void *buf, size_t size, const void *aux, size_t aux_size,
				    enum ward_tee_type tee, struct ward_evidence **ret,
				    struct ward_err *err);
/* Load evidence from path: a file (see ward_evidence_parse), or a
 * configfs-tsm report directory holding "outblob" and optionally "auxblob"
 * (and "provider", which must be "sev_guest" when present). */
WARD_PUBLIC int ward_evidence_load(const char *path, enum ward_tee_type tee,
				   struct ward_evidence **ret, struct ward_err *err);
/* Add certificates (PEM bundle or one DER certificate) from a file, e.g.
 * a VCEK given on the command line. */
WARD_PUBLIC int ward_evidence_add_certs_file(struct ward_evidence *ev, const char *path,
					     struct ward_err *err);
WARD_PUBLIC struct ward_evidence *ward_evidence_free(struct ward_evidence *ev);
static inline void ward_evidence_freep(struct ward_evidence **ev)
{
	ward_evidence_free(*ev);
}

/* Unverified claims (see ward_snp_report_claims), for display. */
WARD_PUBLIC int ward_evidence_claims(const struct ward_evidence *ev, json_t **ret,
				     struct ward_err *err);

struct ward_attest_opts {
	time_t at;		    /* verification time */
	const char *collateral_dir; /* may be NULL */
	unsigned warn_days;	    /* expiry warning horizon */
	bool require_crl;
	/* INSECURE: the sim TEE's ARK (borrowed). Only evidence parsed as sim
	 * (tee WARD_TEE_SIM, or an envelope saying "sim") is checked against
	 * it; SNP evidence always chains to AMD's roots. NULL: sim evidence
	 * is refused. */
	struct ward_x509 *sim_ark;
	/* DCAP collateral for TDX/SGX quotes and RA-TLS (borrowed). NULL: a
	 * collateral_dir is opened for the call, else the quote is refused
	 * naming the missing collateral. */
	struct ward_dcap_collateral *dcap;
};

/* Verify evidence (authenticity only, no policy). Sim evidence is verified
 * with the SNP code path against opts->sim_ark and yields "tee": "sim",
 * "insecure": true and a warning in the claims. For HCL evidence also
 * check report_data[0:32] = hash(runtime data) and report_data[32:64] = 0
 * and add the runtime claims. *ret_claims (new reference) on success. */
WARD_PUBLIC int ward_evidence_verify(const struct ward_evidence *ev,
				     const struct ward_attest_opts *opts, json_t **ret_claims,
				     struct ward_err *err);

/* ---- policy -------------------------------------------------------------- */

#define WARD_ATTEST_POLICY_MAX_SIZE (256u * 1024)
#define WARD_ATTEST_POLICY_MAX_MEASUREMENTS 256

struct ward_attest_policy; /* opaque */

/* Parse a policy JSON object (keys documented in docs/attestation.md;
 * unknown keys are an error). */
WARD_PUBLIC int ward_attest_policy_parse(const void *buf, size_t size,
					 struct ward_attest_policy **ret, struct ward_err *err);
WARD_PUBLIC int ward_attest_policy_load(const char *path, struct ward_attest_policy **ret,
					struct ward_err *err);
WARD_PUBLIC struct ward_attest_policy *ward_attest_policy_free(struct ward_attest_policy *p);
static inline void ward_attest_policy_freep(struct ward_attest_policy **p)
{
	ward_attest_policy_free(*p);
}

/* Evaluate every check of the policy against verified claims. Returns 0
 * when all hold; -WARD_E_POLICY when any fails, with err listing every
 * failed check by name. In both cases *ret_verdict (optional, new
 * reference) is {"ok": bool, "failed": [{"check": name, "reason": text}]};
 * on other errors it is untouched. Claims that are not marked
 * "verified": true always fail (check "verified"). */
WARD_PUBLIC int ward_attest_policy_check(const struct ward_attest_policy *p, const json_t *claims,
					 json_t **ret_verdict, struct ward_err *err);
