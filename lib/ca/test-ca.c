/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include <time.h>

#include "ward-test.h"
#include "ward/ca.h"
#include "ward/cleanup.h"

WARD_TEST(issue_verify_export_import)
{
	WARD_CLEANUP(ward_ca_freep) struct ward_ca *ca = NULL, *ca2 = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *leaf_key = NULL, *got = NULL;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *leaf = NULL;
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *blob = NULL;
	WARD_AUTOFREE char *bundle = NULL, *cn = NULL;
	struct ward_err err = WARD_ERR_INIT;
	time_t now = time(NULL);
	struct ward_ca_leaf l = {.subject = "CN=web,O=Ward",
				 .dns = (const char *const[]){"web.local"},
				 .dns_count = 1,
				 .ips = (const char *const[]){"10.0.0.1"},
				 .ip_count = 1,
				 .not_before = now - 60,
				 .not_after = now + 86400};
	struct ward_x509_verify_opts opts = {.at = now};
	struct ward_x509 *inter, *root;

	CHECK_OK(ward_ca_create("Test", now, &ca, &err), &err);
	CHECK_OK(ward_pkey_generate(WARD_KEY_EC_P256, 0, &leaf_key, &err), &err);
	CHECK_OK(ward_ca_issue(ca, leaf_key, &l, &leaf, &err), &err);
	inter = (struct ward_x509 *)ward_ca_intermediate(ca);
	root = (struct ward_x509 *)ward_ca_root(ca);
	CHECK_OK(ward_x509_verify_chain(leaf, &inter, 1, &root, 1, &opts, NULL, NULL, &err), &err);
	CHECK_OK(ward_x509_pubkey(leaf, &got, &err), &err);
	CHECK(ward_pkey_public_eq(got, leaf_key));
	CHECK_OK(ward_x509_common_name(leaf, &cn, &err), &err);
	CHECK_STR(cn, "web");
	CHECK_OK(ward_ca_bundle_pem(ca, &bundle, &err), &err);
	CHECK(strstr(bundle, "BEGIN CERTIFICATE") != strstr(bundle + 30, "BEGIN CERTIFICATE"));

	CHECK_OK(ward_ca_export(ca, &blob, &err), &err);
	CHECK_OK(ward_ca_import(blob->data, blob->size, &ca2, &err), &err);
	/* A leaf from the re-imported CA chains to the same root. */
	ward_x509_free(leaf);
	leaf = NULL;
	CHECK_OK(ward_ca_issue(ca2, leaf_key, &l, &leaf, &err), &err);
	CHECK_OK(ward_x509_verify_chain(leaf, &inter, 1, &root, 1, &opts, NULL, NULL, &err), &err);
}

WARD_TEST(errors)
{
	WARD_CLEANUP(ward_ca_freep) struct ward_ca *ca = NULL, *other = NULL, *bad = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *k = NULL;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *leaf = NULL;
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *a = NULL, *b = NULL;
	struct ward_err err = WARD_ERR_INIT;
	time_t now = time(NULL);
	struct ward_ca_leaf l = {.subject = "CN=x", .not_before = now, .not_after = now};
	char mixed[16384];
	const char *p;

	CHECK_ERR(ward_ca_create("a,b", now, &ca, &err), -WARD_E_USAGE);
	CHECK_OK(ward_ca_create("A", now, &ca, &err), &err);
	CHECK_OK(ward_ca_create("B", now, &other, &err), &err);
	CHECK_OK(ward_pkey_generate(WARD_KEY_EC_P256, 0, &k, &err), &err);
	CHECK_ERR(ward_ca_issue(ca, k, &l, &leaf, &err), -WARD_E_USAGE);
	CHECK_ERR(ward_ca_import("{}", 2, &bad, &err), -WARD_E_MALFORMED);
	CHECK_ERR(ward_ca_import("nope", 4, &bad, &err), -WARD_E_MALFORMED);
	/* A's root with B's intermediate: refused. */
	CHECK_OK(ward_ca_export(ca, &a, &err), &err);
	CHECK_OK(ward_ca_export(other, &b, &err), &err);
	p = strstr((const char *)b->data, "\"intermediate_cert\"");
	CHECK(p != NULL);
	{
		const char *ai = strstr((const char *)a->data, "\"intermediate_cert\"");
		const char *ak = strstr((const char *)a->data, "\"intermediate_key\"");
		const char *bk = strstr((const char *)b->data, "\"intermediate_key\"");
		const char *bend = strstr((const char *)b->data, "\"root_cert\"");

		/* keys are sorted: intermediate_cert, intermediate_key, root_cert, root_key */
		CHECK(ai && ak && bk && bend);
		snprintf(mixed, sizeof(mixed), "{%.*s%s", (int)(bend - p), p,
			 strstr((const char *)a->data, "\"root_cert\""));
	}
	CHECK_ERR(ward_ca_import(mixed, strlen(mixed), &bad, &err), -WARD_E_VERIFY);
}

WARD_TEST_MAIN()
