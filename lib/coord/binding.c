/* SPDX-License-Identifier: Apache-2.0 */
/* What goes into report data: the KBS runtime-data hash and the
 * coordinator's own evidence binding. */
#include <errno.h>
#include <string.h>

#include "ward/cleanup.h"
#include "ward/coord.h"
#include "ward/json.h"

int ward_kbs_report_data(const char *nonce, const json_t *tee_pubkey,
			 uint8_t out[WARD_REPORT_DATA_SIZE], struct ward_err *err)
{
	WARD_AUTOJSON json_t *j = NULL;
	WARD_AUTOFREE char *text = NULL;
	int r;

	j = json_pack("{s:s, s:O}", "nonce", nonce, "tee-pubkey", tee_pubkey);
	if (!j)
		return ward_err_set(err, -ENOMEM, "runtime data: out of memory");
	r = ward_json_dump(j, &text, err);
	if (r < 0)
		return r;
	memset(out, 0, WARD_REPORT_DATA_SIZE);
	return ward_hash(WARD_HASH_SHA384, text, strlen(text), out, err);
}

int ward_coord_evidence_report_data(const uint8_t *nonce, size_t nonce_size,
				    const uint8_t spki_hash[32], const uint8_t manifest_hash[32],
				    const uint8_t audit_head[32],
				    uint8_t out[WARD_REPORT_DATA_SIZE], struct ward_err *err)
{
	static const char label[] = "ward-coordinator-v1";
	WARD_CLEANUP(ward_hash_freep) struct ward_hash *h = NULL;
	int r;

	r = ward_hash_new(WARD_HASH_SHA512, &h, err);
	if (r >= 0)
		r = ward_hash_update(h, label, sizeof(label) - 1, err);
	if (r >= 0)
		r = ward_hash_update(h, nonce, nonce_size, err);
	if (r >= 0)
		r = ward_hash_update(h, spki_hash, 32, err);
	if (r >= 0)
		r = ward_hash_update(h, manifest_hash, 32, err);
	if (r >= 0)
		r = ward_hash_update(h, audit_head, 32, err);
	if (r >= 0)
		r = ward_hash_final(h, out, err);
	return r;
}
