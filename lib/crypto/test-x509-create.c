/* SPDX-License-Identifier: Apache-2.0 */
#include <time.h>

#include "ward-test.h"
#include "ward/cleanup.h"
#include "ward/crypto.h"

WARD_TEST(ca_and_leaf_chain)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *ca_key = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *leaf_key = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *pub = NULL;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *ca = NULL;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *leaf = NULL;
	WARD_AUTOFREE char *cn = NULL;
	WARD_AUTOFREE char *serial = NULL;
	time_t now = time(NULL), nb, na;
	static const char *const dns[] = {"redis.ward.internal", "*.example.org"};
	static const char *const ips[] = {"127.0.0.1", "::1"};
	static const uint8_t sn[] = {0x01, 0x02};
	struct ward_x509_template ca_t = {
		.subject = "CN=Ward Test Root,O=Ward",
		.not_before = now - 60,
		.not_after = now + 3600,
		.ca = true,
		.path_len = 0,
		.key_usage = WARD_KU_KEY_CERT_SIGN | WARD_KU_CRL_SIGN,
	};
	struct ward_x509_template leaf_t = {
		.subject = "CN=redis",
		.serial = sn,
		.serial_size = sizeof(sn),
		.not_before = now - 60,
		.not_after = now + 600,
		.key_usage = WARD_KU_DIGITAL_SIGNATURE,
		.ext_key_usage = WARD_EKU_SERVER_AUTH | WARD_EKU_CLIENT_AUTH,
		.dns_names = dns,
		.dns_count = 2,
		.ip_addresses = ips,
		.ip_count = 2,
	};
	struct ward_x509_verify_opts vo = {.at = now};
	struct ward_x509 *roots[1];

	CHECK_OK(ward_pkey_generate(WARD_KEY_EC_P256, 0, &ca_key, &err), &err);
	CHECK_OK(ward_pkey_generate(WARD_KEY_EC_P384, 0, &leaf_key, &err), &err);
	CHECK_OK(ward_x509_create(&ca_t, ca_key, NULL, ca_key, WARD_SIG_ECDSA_SHA256, &ca, &err),
		 &err);
	CHECK_OK(ward_x509_create(&leaf_t, leaf_key, ca, ca_key, WARD_SIG_ECDSA_SHA256, &leaf, &err),
		 &err);
	roots[0] = ca;
	CHECK_OK(ward_x509_verify_chain(leaf, NULL, 0, roots, 1, &vo, NULL, NULL, &err), &err);
	CHECK_OK(ward_x509_common_name(leaf, &cn, &err), &err);
	CHECK_STR(cn, "redis");
	CHECK_OK(ward_x509_serial_hex(leaf, &serial, &err), &err);
	CHECK_STR(serial, "0102");
	CHECK_OK(ward_x509_validity(leaf, &nb, &na, &err), &err);
	CHECK_INT(na, ==, now + 600);
	CHECK_OK(ward_x509_pubkey(leaf, &pub, &err), &err);
	CHECK(ward_pkey_public_eq(pub, leaf_key));
	/* after the leaf expires the chain no longer verifies */
	vo.at = now + 601;
	CHECK_ERR(ward_x509_verify_chain(leaf, NULL, 0, roots, 1, &vo, NULL, NULL, &err),
		  -WARD_E_EXPIRED);
}

WARD_TEST(rsa_pss_self_signed_with_custom_extension)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *k = NULL;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *c = NULL;
	static const uint8_t der_int[] = {0x02, 0x01, 0x2a};
	struct ward_x509_ext ext = {"1.3.6.1.4.1.3704.1.3.1", der_int, sizeof(der_int), false};
	struct ward_x509_template t = {
		.subject = "CN=ARK-Test",
		.not_before = 0,
		.not_after = 4000000000,
		.ca = true,
		.path_len = -1,
		.exts = &ext,
		.ext_count = 1,
		.no_key_ids = true,
	};
	const uint8_t *v;
	size_t vs;

	CHECK_OK(ward_pkey_generate(WARD_KEY_RSA, 2048, &k, &err), &err);
	CHECK_OK(ward_x509_create(&t, k, NULL, k, WARD_SIG_RSA_PSS_SHA384, &c, &err), &err);
	CHECK_STR(ward_x509_sig_alg_name(c), "RSASSA-PSS");
	CHECK_OK(ward_x509_check_issued_by(c, c, &err), &err);
	CHECK_OK(ward_x509_extension(c, ext.oid, &v, &vs, &err), &err);
	CHECK_INT(vs, ==, 3);
	CHECK(v[2] == 0x2a);
	CHECK_ERR(ward_x509_extension(c, "2.5.29.35", &v, &vs, &err), -WARD_E_NOT_FOUND);
}

WARD_TEST(bad_templates)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *k = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *other = NULL;
	struct ward_x509 *c = NULL;
	static const uint8_t long_serial[21] = {1};
	static const char *const bad_ip[] = {"300.1.1.1"};
	struct ward_x509_template t = {.subject = "CN=x", .not_before = 10, .not_after = 20};
	struct ward_x509_template bad;
	struct ward_x509_ext bad_ext = {"not-an-oid", (const uint8_t *)"\x05\x00", 2, false};

	CHECK_OK(ward_pkey_generate(WARD_KEY_EC_P256, 0, &k, &err), &err);
	CHECK_OK(ward_pkey_generate(WARD_KEY_EC_P256, 0, &other, &err), &err);
	CHECK_ERR(ward_x509_create(NULL, k, NULL, k, WARD_SIG_ECDSA_SHA256, &c, &err), -WARD_E_USAGE);
	bad = t, bad.subject = "";
	CHECK_ERR(ward_x509_create(&bad, k, NULL, k, WARD_SIG_ECDSA_SHA256, &c, &err), -WARD_E_USAGE);
	CHECK_MSG(&err, "empty");
	bad = t, bad.subject = "CN";
	CHECK_ERR(ward_x509_create(&bad, k, NULL, k, WARD_SIG_ECDSA_SHA256, &c, &err), -WARD_E_USAGE);
	CHECK_MSG(&err, "KEY=VALUE");
	bad = t, bad.subject = "NOPE=x";
	CHECK_ERR(ward_x509_create(&bad, k, NULL, k, WARD_SIG_ECDSA_SHA256, &c, &err), -WARD_E_USAGE);
	bad = t, bad.not_after = 5;
	CHECK_ERR(ward_x509_create(&bad, k, NULL, k, WARD_SIG_ECDSA_SHA256, &c, &err), -WARD_E_USAGE);
	bad = t, bad.serial = long_serial, bad.serial_size = sizeof(long_serial);
	CHECK_ERR(ward_x509_create(&bad, k, NULL, k, WARD_SIG_ECDSA_SHA256, &c, &err), -WARD_E_USAGE);
	bad = t, bad.ip_addresses = bad_ip, bad.ip_count = 1;
	CHECK_ERR(ward_x509_create(&bad, k, NULL, k, WARD_SIG_ECDSA_SHA256, &c, &err), -WARD_E_USAGE);
	CHECK_MSG(&err, "300.1.1.1");
	bad = t, bad.exts = &bad_ext, bad.ext_count = 1;
	CHECK_ERR(ward_x509_create(&bad, k, NULL, k, WARD_SIG_ECDSA_SHA256, &c, &err), -WARD_E_USAGE);
	/* self-signed with somebody else's key */
	CHECK_ERR(ward_x509_create(&t, k, NULL, other, WARD_SIG_ECDSA_SHA256, &c, &err), -WARD_E_USAGE);
	/* an EC key cannot make an RSA signature */
	CHECK_ERR(ward_x509_create(&t, k, NULL, k, WARD_SIG_RSA_PSS_SHA256, &c, &err), -WARD_E_USAGE);
	CHECK(c == NULL);
}

WARD_TEST_MAIN()
