/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Shared between the SNP sources of lib/attest. */

#include <jansson.h>
#include <stdint.h>

#include "ward/attest.h"

/* Lowercase hex string of size bytes as a new JSON string (NULL on ENOMEM). */
json_t *ward_snp_json_hex(const uint8_t *p, size_t size);
/* TCB object {"raw","bl","tee","snp","ucode"[,"fmc"]} (NULL on ENOMEM). */
json_t *ward_snp_json_tcb(uint64_t raw, enum ward_snp_product product);
/* Set obj[key] = value, taking the reference; -ENOMEM if value is NULL or
 * the set fails. */
int ward_snp_json_set(json_t *obj, const char *key, json_t *value);

/* Product from a VCEK/VLEK issuer CN ("SEV-Milan", "SEV-VLEK-Genoa"...). */
enum ward_snp_product ward_snp_product_from_issuer_cn(const char *cn);
