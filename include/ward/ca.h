/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The coordinator CA: a root (P-256, 10 years) that signs one intermediate
 * (P-256, 5 years), which issues leaf certificates for attested TEE keys
 * and for manifest-defined certificate secrets. The private keys leave
 * this module only through ward_ca_export(), whose output the coordinator
 * encrypts under its data key. */

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ward/compiler.h"
#include "ward/crypto.h"
#include "ward/error.h"

#define WARD_CA_SANS_MAX 32

struct ward_ca;

/* A fresh CA named name ("<name> Root CA", "<name> Intermediate CA"). */
WARD_PUBLIC int ward_ca_create(const char *name, time_t now, struct ward_ca **ret,
			       struct ward_err *err);
/* Serialise (JSON with PEM keys and certificates) into a secret. */
WARD_PUBLIC int ward_ca_export(const struct ward_ca *ca, struct ward_secret **ret,
			       struct ward_err *err);
/* Load what ward_ca_export() wrote; checks the intermediate is issued by
 * the root and each key matches its certificate. */
WARD_PUBLIC int ward_ca_import(const void *data, size_t size, struct ward_ca **ret,
			       struct ward_err *err);
WARD_PUBLIC struct ward_ca *ward_ca_free(struct ward_ca *ca);
static inline void ward_ca_freep(struct ward_ca **ca)
{
	ward_ca_free(*ca);
}

struct ward_ca_leaf {
	const char *subject;	/* "CN=...,O=..." */
	const char *const *dns; /* subjectAltName DNS names */
	size_t dns_count;
	const char *const *ips; /* subjectAltName IPs (text) */
	size_t ip_count;
	time_t not_before, not_after;
	bool client_auth; /* add clientAuth to the serverAuth EKU */
};
/* Issue a leaf for subject_key (its public part) signed by the
 * intermediate. The leaf never outlives the intermediate. */
WARD_PUBLIC int ward_ca_issue(const struct ward_ca *ca, const struct ward_pkey *subject_key,
			      const struct ward_ca_leaf *leaf, struct ward_x509 **ret,
			      struct ward_err *err);
/* "intermediate PEM + root PEM" (what a leaf's holder sends as its chain
 * and what peers trust). malloc'ed. */
WARD_PUBLIC int ward_ca_bundle_pem(const struct ward_ca *ca, char **ret, struct ward_err *err);
/* Borrowed certificates. */
WARD_PUBLIC const struct ward_x509 *ward_ca_root(const struct ward_ca *ca);
WARD_PUBLIC const struct ward_x509 *ward_ca_intermediate(const struct ward_ca *ca);
