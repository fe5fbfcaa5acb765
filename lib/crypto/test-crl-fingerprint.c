/* SPDX-License-Identifier: Apache-2.0 */
/* ward_crl_fingerprint(): SHA-256 of the DER of Intel's recorded root and
 * platform CRLs, distinct for distinct CRLs. */
#include <errno.h>
#include <stdio.h>

#include "ward-test.h"
#include "ward/cleanup.h"
#include "ward/crypto.h"
#include "ward/file.h"

static int load(const char *rel, struct ward_crl **ret, uint8_t hash[32], struct ward_err *err)
{
	const char *path = ward_test_vector(rel);
	WARD_AUTOFREE uint8_t *der = NULL;
	size_t size;
	int r;

	if (!path)
		return -ENOENT;
	r = ward_file_read(path, 1u << 20, &der, &size, err);
	if (r >= 0)
		r = ward_hash(WARD_HASH_SHA256, der, size, hash, err);
	if (r >= 0)
		r = ward_crl_from_der(der, size, ret, err);
	return r;
}

WARD_TEST(crl_fingerprint_is_sha256_of_der)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_crl_freep) struct ward_crl *root = NULL;
	WARD_CLEANUP(ward_crl_freep) struct ward_crl *pck = NULL;
	uint8_t want_root[32], want_pck[32], fp_root[32], fp_pck[32];

	CHECK_OK(load("tdx/v4-spr-gotdxguest/rootcrl.der", &root, want_root, &err), &err);
	CHECK_OK(load("tdx/v4-spr-gotdxguest/pckcrl-platform.der", &pck, want_pck, &err), &err);
	CHECK_OK(ward_crl_fingerprint(root, fp_root, &err), &err);
	CHECK_OK(ward_crl_fingerprint(pck, fp_pck, &err), &err);
	CHECK_MEM(fp_root, want_root, 32);
	CHECK_MEM(fp_pck, want_pck, 32);
	CHECK(memcmp(fp_root, fp_pck, 32) != 0);
}

WARD_TEST_MAIN()
