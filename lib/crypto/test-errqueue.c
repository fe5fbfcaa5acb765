/* SPDX-License-Identifier: Apache-2.0 */
/* Failures must not leave entries on OpenSSL's per-thread error queue,
 * where they would surface in unrelated later calls. This test (part of
 * lib/crypto) looks at the queue directly. */
#include <openssl/err.h>

#include "ward-test.h"
#include "ward/cleanup.h"
#include "ward/crypto.h"

#define CHECK_QUEUE_EMPTY()                                                                        \
	do {                                                                                       \
		unsigned long _e = ERR_peek_error();                                               \
		if (_e != 0) {                                                                     \
			char _b[160];                                                              \
			ERR_error_string_n(_e, _b, sizeof(_b));                                    \
			ERR_clear_error();                                                         \
			WARD_FAIL_("OpenSSL error queue not empty: %s", _b);                       \
		}                                                                                  \
	} while (0)

WARD_TEST(error_queue_cleared_after_failures)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_pkey *none = NULL;
	struct ward_x509 *cert = NULL;
	struct ward_x509 **list = NULL;
	struct ward_crl *crl = NULL;
	struct ward_secret *secret = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *ec = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *x = NULL;
	uint8_t key[32] = {0}, iv[12] = {0}, buf[64] = {0}, tag[16] = {0}, sig[64] = {1};
	static const char bad_pem[] =
	    "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
	size_t count;

	ERR_clear_error();
	CHECK_ERR(ward_pkey_from_pem(bad_pem, strlen(bad_pem), &none, &err), -WARD_E_MALFORMED);
	CHECK_QUEUE_EMPTY();
	CHECK_ERR(ward_pkey_from_pem("nothing", 7, &none, &err), -WARD_E_MALFORMED);
	CHECK_QUEUE_EMPTY();
	CHECK_ERR(ward_pkey_from_der(buf, 10, &none, &err), -WARD_E_MALFORMED);
	CHECK_QUEUE_EMPTY();
	CHECK_ERR(ward_x509_from_der(buf, 10, &cert, &err), -WARD_E_MALFORMED);
	CHECK_QUEUE_EMPTY();
	CHECK_ERR(ward_x509_from_pem("x", 1, &cert, &err), -WARD_E_MALFORMED);
	CHECK_QUEUE_EMPTY();
	CHECK_ERR(ward_x509_list_from_pem("x", 1, 4, &list, &count, &err), -WARD_E_MALFORMED);
	CHECK_QUEUE_EMPTY();
	CHECK_ERR(ward_crl_from_der(buf, 10, &crl, &err), -WARD_E_MALFORMED);
	CHECK_QUEUE_EMPTY();
	CHECK_ERR(ward_aes256gcm_open(key, iv, 12, NULL, 0, buf, 16, tag, buf, &err),
		  -WARD_E_VERIFY);
	CHECK_QUEUE_EMPTY();
	CHECK_ERR(ward_aes256kw_unwrap(key, buf, 40, buf, &err), -WARD_E_VERIFY);
	CHECK_QUEUE_EMPTY();

	CHECK_OK(ward_pkey_generate(WARD_KEY_EC_P256, 0, &ec, &err), &err);
	CHECK_ERR(ward_verify(ec, WARD_SIG_ECDSA_SHA256, WARD_SIG_RAW_BE, "m", 1, sig, 64, &err),
		  -WARD_E_VERIFY);
	CHECK_QUEUE_EMPTY();
	CHECK_ERR(ward_verify(ec, WARD_SIG_ECDSA_SHA256, WARD_SIG_DER, "m", 1, sig, 8, &err),
		  -WARD_E_VERIFY);
	CHECK_QUEUE_EMPTY();
	CHECK_ERR(ward_pkey_ec_private(ec, &secret, &err) == 0 ? 0 : -1, 0);
	secret = ward_secret_free(secret);
	CHECK(ward_pkey_is_private(ec));
	CHECK_QUEUE_EMPTY();
	uint8_t xx[32], yy[32] = {0};
	memset(xx, 0x11, sizeof(xx));
	CHECK_ERR(ward_pkey_from_ec_xy(WARD_KEY_EC_P256, xx, 32, yy, 32, &none, &err),
		  -WARD_E_MALFORMED);
	CHECK_QUEUE_EMPTY();
	CHECK_OK(ward_pkey_generate(WARD_KEY_X25519, 0, &x, &err), &err);
	CHECK(!ward_pkey_public_eq(ec, x));
	CHECK_QUEUE_EMPTY();
	CHECK_ERR(ward_ecdh(x, ec, &secret, &err), -WARD_E_MALFORMED);
	CHECK_QUEUE_EMPTY();
	CHECK(none == NULL && cert == NULL && list == NULL && crl == NULL && secret == NULL);
}

WARD_TEST_MAIN()
