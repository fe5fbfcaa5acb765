/* SPDX-License-Identifier: Apache-2.0 */
#include "ward/ca.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ward/cleanup.h"
#include "ward/json.h"

#define ROOT_LIFETIME (10 * 365 * 24 * 3600L)
#define INTERMEDIATE_LIFETIME (5 * 365 * 24 * 3600L)
#define CA_EXPORT_MAX (64u << 10)

struct ward_ca {
	struct ward_pkey *root_key, *int_key;  /* owned */
	struct ward_x509 *root, *intermediate; /* owned */
};

struct ward_ca *ward_ca_free(struct ward_ca *ca)
{
	if (!ca)
		return NULL;
	ward_pkey_free(ca->root_key);
	ward_pkey_free(ca->int_key);
	ward_x509_free(ca->root);
	ward_x509_free(ca->intermediate);
	free(ca);
	return NULL;
}

int ward_ca_create(const char *name, time_t now, struct ward_ca **ret, struct ward_err *err)
{
	WARD_CLEANUP(ward_ca_freep) struct ward_ca *ca = NULL;
	char root_subject[192], int_subject[192];
	struct ward_x509_template root = {.subject = root_subject,
					  .not_before = now - 3600,
					  .not_after = now + ROOT_LIFETIME,
					  .ca = true,
					  .path_len = 1,
					  .key_usage = WARD_KU_KEY_CERT_SIGN | WARD_KU_CRL_SIGN};
	struct ward_x509_template inter = root;
	int r;

	if (strchr(name, ',') || strchr(name, '=') || strlen(name) > 100)
		return ward_err_set(err, -WARD_E_USAGE, "ca: invalid name '%s'", name);
	snprintf(root_subject, sizeof(root_subject), "CN=%s Root CA,O=Ward", name);
	snprintf(int_subject, sizeof(int_subject), "CN=%s Intermediate CA,O=Ward", name);
	inter.subject = int_subject;
	inter.path_len = 0;
	inter.not_after = now + INTERMEDIATE_LIFETIME;

	ca = calloc(1, sizeof(*ca));
	if (!ca)
		return ward_err_set(err, -ENOMEM, "ca: out of memory");
	r = ward_pkey_generate(WARD_KEY_EC_P256, 0, &ca->root_key, err);
	if (r >= 0)
		r = ward_pkey_generate(WARD_KEY_EC_P256, 0, &ca->int_key, err);
	if (r >= 0)
		r = ward_x509_create(&root, ca->root_key, NULL, ca->root_key, WARD_SIG_ECDSA_SHA256,
				     &ca->root, err);
	if (r >= 0)
		r = ward_x509_create(&inter, ca->int_key, ca->root, ca->root_key,
				     WARD_SIG_ECDSA_SHA256, &ca->intermediate, err);
	if (r < 0)
		return ward_err_prefix(err, "ca: creating '%s'", name);
	*ret = WARD_TAKE_PTR(ca);
	return 0;
}

int ward_ca_export(const struct ward_ca *ca, struct ward_secret **ret, struct ward_err *err)
{
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *rk = NULL, *ik = NULL;
	WARD_AUTOFREE char *rc = NULL, *ic = NULL, *text = NULL;
	WARD_AUTOJSON json_t *j = NULL;
	struct ward_secret *s;
	int r;

	r = ward_pkey_private_pem(ca->root_key, &rk, err);
	if (r >= 0)
		r = ward_pkey_private_pem(ca->int_key, &ik, err);
	if (r >= 0)
		r = ward_x509_pem(ca->root, &rc, err);
	if (r >= 0)
		r = ward_x509_pem(ca->intermediate, &ic, err);
	if (r < 0)
		return ward_err_prefix(err, "ca: export");
	j = json_pack("{s:s, s:s, s:s, s:s}", "root_key", (const char *)rk->data, "root_cert", rc,
		      "intermediate_key", (const char *)ik->data, "intermediate_cert", ic);
	if (!j)
		return ward_err_set(err, -ENOMEM, "ca: export: out of memory");
	r = ward_json_dump(j, &text, err);
	if (r < 0)
		return r;
	s = ward_secret_dup(text, strlen(text));
	ward_wipe(text, strlen(text));
	/* The JSON object holds key text too; jansson frees it unwiped, which
	 * is why the PEM strings are only borrowed into it briefly. */
	if (!s)
		return ward_err_set(err, -ENOMEM, "ca: export: out of memory");
	*ret = s;
	return 0;
}

static int load_pair(const json_t *j, const char *key_name, const char *cert_name,
		     struct ward_pkey **ret_key, struct ward_x509 **ret_cert, struct ward_err *err)
{
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *key = NULL, *pub = NULL;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *cert = NULL;
	const char *k, *c;
	int r;

	r = ward_json_get_string(j, "$", key_name, true, &k, err);
	if (r >= 0)
		r = ward_json_get_string(j, "$", cert_name, true, &c, err);
	if (r >= 0)
		r = ward_pkey_from_pem(k, strlen(k), &key, err);
	if (r >= 0)
		r = ward_x509_from_pem(c, strlen(c), &cert, err);
	if (r >= 0)
		r = ward_x509_pubkey(cert, &pub, err);
	if (r < 0)
		return r;
	if (!ward_pkey_is_private(key) || !ward_pkey_public_eq(key, pub))
		return ward_err_set(err, -WARD_E_VERIFY, "%s does not match %s", key_name,
				    cert_name);
	*ret_key = WARD_TAKE_PTR(key);
	*ret_cert = WARD_TAKE_PTR(cert);
	return 0;
}

int ward_ca_import(const void *data, size_t size, struct ward_ca **ret, struct ward_err *err)
{
	WARD_CLEANUP(ward_ca_freep) struct ward_ca *ca = NULL;
	WARD_AUTOJSON json_t *j = NULL;
	int r;

	r = ward_json_parse(data, size, CA_EXPORT_MAX, &j, err);
	if (r < 0)
		return ward_err_prefix(err, "ca: import");
	ca = calloc(1, sizeof(*ca));
	if (!ca)
		return ward_err_set(err, -ENOMEM, "ca: out of memory");
	r = load_pair(j, "root_key", "root_cert", &ca->root_key, &ca->root, err);
	if (r >= 0)
		r = load_pair(j, "intermediate_key", "intermediate_cert", &ca->int_key,
			      &ca->intermediate, err);
	if (r >= 0)
		r = ward_x509_check_issued_by(ca->intermediate, ca->root, err);
	if (r < 0)
		return ward_err_prefix(err, "ca: import");
	*ret = WARD_TAKE_PTR(ca);
	return 0;
}

int ward_ca_issue(const struct ward_ca *ca, const struct ward_pkey *subject_key,
		  const struct ward_ca_leaf *leaf, struct ward_x509 **ret, struct ward_err *err)
{
	time_t int_nb, int_na;
	struct ward_x509_template t = {
	    .subject = leaf->subject,
	    .not_before = leaf->not_before,
	    .not_after = leaf->not_after,
	    .path_len = -1,
	    .key_usage = WARD_KU_DIGITAL_SIGNATURE |
			 (ward_pkey_type(subject_key) == WARD_KEY_RSA ? WARD_KU_KEY_ENCIPHERMENT
								      : WARD_KU_KEY_AGREEMENT),
	    .ext_key_usage = WARD_EKU_SERVER_AUTH | (leaf->client_auth ? WARD_EKU_CLIENT_AUTH : 0),
	    .dns_names = leaf->dns,
	    .dns_count = leaf->dns_count,
	    .ip_addresses = leaf->ips,
	    .ip_count = leaf->ip_count,
	};
	int r;

	if (leaf->dns_count + leaf->ip_count > WARD_CA_SANS_MAX)
		return ward_err_set(err, -WARD_E_TOO_BIG, "ca: more than %d SANs",
				    WARD_CA_SANS_MAX);
	if (leaf->not_after <= leaf->not_before)
		return ward_err_set(err, -WARD_E_USAGE, "ca: leaf validity is empty");
	r = ward_x509_validity(ca->intermediate, &int_nb, &int_na, err);
	if (r < 0)
		return r;
	if (t.not_after > int_na)
		t.not_after = int_na;
	r = ward_x509_create(&t, subject_key, ca->intermediate, ca->int_key, WARD_SIG_ECDSA_SHA256,
			     ret, err);
	if (r < 0)
		return ward_err_prefix(err, "ca: issuing '%s'", leaf->subject);
	return 0;
}

int ward_ca_bundle_pem(const struct ward_ca *ca, char **ret, struct ward_err *err)
{
	WARD_AUTOFREE char *a = NULL, *b = NULL;
	char *out;
	int r;

	r = ward_x509_pem(ca->intermediate, &a, err);
	if (r >= 0)
		r = ward_x509_pem(ca->root, &b, err);
	if (r < 0)
		return r;
	if (asprintf(&out, "%s%s", a, b) < 0)
		return ward_err_set(err, -ENOMEM, "ca: out of memory");
	*ret = out;
	return 0;
}

const struct ward_x509 *ward_ca_root(const struct ward_ca *ca)
{
	return ca->root;
}

const struct ward_x509 *ward_ca_intermediate(const struct ward_ca *ca)
{
	return ca->intermediate;
}
