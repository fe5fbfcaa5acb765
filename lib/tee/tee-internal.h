/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Private to lib/tee (and its tests and fuzz targets): the parsers of the
 * bytes the backends read back, split out so they can be fuzzed alone. */

#include "ward/tee.h"

/* Parse a sim TEE socket response (see ward/tee.h) into ev's outblob and
 * auxblob (newly allocated). UNTRUSTED input. */
int ward_tee_sim_parse_response(const uint8_t *buf, size_t size, struct ward_tee_evidence *ev,
				struct ward_err *err);

/* Unpack the MSG_REPORT_RSP of an SNP_GET_REPORT answer (status, size,
 * reserved, report) into ev->outblob. UNTRUSTED input. */
int ward_tee_snp_unpack_report(const uint8_t *data, size_t size, struct ward_tee_evidence *ev,
			       struct ward_err *err);
