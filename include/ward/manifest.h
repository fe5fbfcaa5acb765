/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The coordinator manifest (docs/manifest.md): which packages (images,
 * TEEs, measurements, TCB, debug) may attest, what each workload receives
 * (argv/env/files with secret templates, volumes), which secrets exist,
 * who may change what (users, roles), the recovery keys and the
 * coordinator's own TLS names. Parsing validates everything and names the
 * JSON path of the first problem. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ward/compiler.h"
#include "ward/crypto.h"
#include "ward/error.h"
#include "ward/tee.h"

#define WARD_MANIFEST_MAX_SIZE (1u << 20)
#define WARD_MANIFEST_MAX_ITEMS 256 /* packages, workloads, secrets, users, ... each */
#define WARD_MANIFEST_NAME_MAX 64
#define WARD_MANIFEST_MEASUREMENT_MAX 48

enum ward_secret_type {
	WARD_SECRET_SYMMETRIC, /* random bytes ("size" bytes, default 32) */
	WARD_SECRET_EC_P256,
	WARD_SECRET_EC_P384,
	WARD_SECRET_RSA,      /* "size" bits, default 3072 */
	WARD_SECRET_CERT,     /* P-256 key + leaf from the coordinator CA */
	WARD_SECRET_PASSWORD, /* "size" random characters, default 24 */
	WARD_SECRET_USER,     /* uploaded later with `ward secret set` */
};
WARD_PUBLIC const char *ward_secret_type_name(enum ward_secret_type t);

/* Role permissions. */
enum {
	WARD_ROLE_UPDATE_MANIFEST = 1 << 0,
	WARD_ROLE_SET_SECRET = 1 << 1,
	WARD_ROLE_READ_SECRET = 1 << 2,
	WARD_ROLE_READ_LOG = 1 << 3,
};

struct ward_manifest_measurement {
	enum ward_tee_type tee;
	uint8_t value[WARD_MANIFEST_MEASUREMENT_MAX];
	size_t size;
};

struct ward_manifest_package {
	const char *name;
	unsigned tee_mask;				/* 1u << enum ward_tee_type */
	struct ward_manifest_measurement *measurements; /* owned */
	size_t measurement_count;
	bool has_min_tcb;
	uint8_t min_tcb[4];	     /* SNP: bootloader, tee, snp, microcode */
	bool debug;		     /* debug TEEs accepted (insecure) */
	const json_t *image_digests; /* array of "sha256:<hex>" (borrowed) */
	/* Intel TDX/SGX TCB rules (docs/manifest.md): accepted TCB statuses
	 * (bit per ward_manifest_tcb_status() index; 0: the default set),
	 * OutOfDate only with allow_outdated_tcb_insecure, and when
	 * accepted_advisories is given every advisory ID must be in it. */
	unsigned tcb_statuses;
	bool allow_outdated_tcb_insecure;
	const json_t *accepted_advisories; /* array of strings (borrowed), NULL: any */
	/* SGX signer rule ("sgx": {"mrsigner", "isv_prodid", "min_isv_svn"}). */
	bool has_sgx_signer;
	uint8_t sgx_mrsigner[32];
	bool has_sgx_isv_prodid;
	uint16_t sgx_isv_prodid;
	uint16_t sgx_min_isv_svn;
};

/* Intel TCB status names as the manifest and the DCAP verifier spell them:
 * index of name (0 UpToDate ... 7 OutOfDateConfigurationNeeded), or -1. */
#define WARD_MANIFEST_TCB_DEFAULT 0x3fu	 /* UpToDate .. TDRelaunchAdvisedConfigurationNeeded */
#define WARD_MANIFEST_TCB_OUTDATED 0xc0u /* OutOfDate, OutOfDateConfigurationNeeded */
WARD_PUBLIC int ward_manifest_tcb_status(const char *name);

struct ward_manifest_workload {
	const char *name;
	const struct ward_manifest_package *package; /* borrowed */
	const json_t *argv, *env, *files, *volumes;  /* borrowed; may be NULL */
	const json_t *dns, *ips;		     /* leaf certificate SANs */
	int64_t max_instances;			     /* 0: unlimited */
};

struct ward_manifest_secret {
	const char *name;
	enum ward_secret_type type;
	int64_t size;
	const char *resource;	  /* KBS path "<repo>/<type>/<tag>" or NULL */
	const json_t *packages;	  /* who may fetch it as a KBS resource (array) */
	const char *cert_subject; /* CERT */
	const json_t *cert_dns, *cert_ips;
	int64_t cert_validity_days;
};

struct ward_manifest_user {
	const char *name;
	struct ward_pkey *key; /* owned: public key */
	unsigned actions;      /* union of the user's roles */
	const json_t *roles;   /* borrowed */
};

struct ward_manifest_recovery_key {
	const char *name;
	struct ward_pkey *key; /* owned: RSA public key (>= 2048 bits) */
};

struct ward_manifest {
	json_t *root;	  /* owned: the manifest JSON everything else borrows from */
	uint8_t hash[32]; /* SHA-256 of the canonical JSON */
	char hash_hex[65];
	struct ward_manifest_package *packages;
	size_t package_count;
	struct ward_manifest_workload *workloads;
	size_t workload_count;
	struct ward_manifest_secret *secrets;
	size_t secret_count;
	struct ward_manifest_user *users;
	size_t user_count;
	struct ward_manifest_recovery_key *recovery_keys;
	size_t recovery_key_count;
	const json_t *coord_dns, *coord_ips; /* the coordinator's TLS names */
};

/* Parse and validate a manifest. *ret owned by the caller. */
WARD_PUBLIC int ward_manifest_parse(const void *buf, size_t size, struct ward_manifest **ret,
				    struct ward_err *err);
WARD_PUBLIC struct ward_manifest *ward_manifest_free(struct ward_manifest *m);
static inline void ward_manifest_freep(struct ward_manifest **m)
{
	ward_manifest_free(*m);
}
/* Canonical JSON text (sorted keys, compact): what is hashed and stored. */
WARD_PUBLIC int ward_manifest_canonical(const struct ward_manifest *m, char **ret,
					struct ward_err *err);

WARD_PUBLIC const struct ward_manifest_package *ward_manifest_package(const struct ward_manifest *m,
								      const char *name);
WARD_PUBLIC const struct ward_manifest_workload *
ward_manifest_workload(const struct ward_manifest *m, const char *name);
WARD_PUBLIC const struct ward_manifest_secret *ward_manifest_secret(const struct ward_manifest *m,
								    const char *name);
WARD_PUBLIC const struct ward_manifest_user *ward_manifest_user(const struct ward_manifest *m,
								const char *name);
/* The secret a KBS resource path names, or NULL. */
WARD_PUBLIC const struct ward_manifest_secret *
ward_manifest_secret_by_resource(const struct ward_manifest *m, const char *path);
/* Does the user's role set allow action (and, for secret actions, the
 * secret name; NULL otherwise)? */
WARD_PUBLIC bool ward_manifest_user_allows(const struct ward_manifest *m,
					   const struct ward_manifest_user *u, unsigned action,
					   const char *secret);
/* Is measurement accepted for tee by pkg? */
WARD_PUBLIC bool ward_manifest_package_accepts(const struct ward_manifest_package *pkg,
					       enum ward_tee_type tee, const uint8_t *measurement,
					       size_t size);

/* ---- templates ----
 * "{{ [FORM] secret.NAME[.PART] }}" with FORM one of raw, hex, base64, pem
 * and PART one of private, public, cert (key pairs and certificates). The
 * resolver returns the bytes of (name, part) and whether they are PEM. */
typedef int (*ward_template_resolve_fn)(void *ud, const struct ward_manifest_secret *s,
					const char *part, uint8_t **ret, size_t *ret_size,
					struct ward_err *err);
/* Check a template string against the manifest's secrets (used at parse). */
WARD_PUBLIC int ward_template_check(const struct ward_manifest *m, const char *tmpl,
				    const char *path, struct ward_err *err);
/* Render tmpl into a secret (NUL-terminated, size excludes it). */
WARD_PUBLIC int ward_template_render(const struct ward_manifest *m, const char *tmpl,
				     ward_template_resolve_fn fn, void *ud,
				     struct ward_secret **ret, struct ward_err *err);
