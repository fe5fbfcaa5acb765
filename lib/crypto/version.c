/* SPDX-License-Identifier: Apache-2.0 */
#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#include "ward/crypto.h"

const char *ward_crypto_library_version(void)
{
	return OpenSSL_version(OPENSSL_VERSION);
}

const char *ward_crypto_build_version(void)
{
	return OPENSSL_VERSION_TEXT;
}
