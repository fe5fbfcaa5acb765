/* SPDX-License-Identifier: Apache-2.0 */
/* Trustee's SNP evidence JSON -> report + certificate table, and the
 * table back through the shared parser. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ward/attest.h"
#include "ward/coord.h"
#include "ward/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ward_err err = WARD_ERR_INIT;
	uint8_t report[WARD_SNP_REPORT_SIZE];
	struct ward_snp_certtable ct;
	struct ward_snp_report rep;
	uint8_t *table = NULL;
	size_t table_size = 0;
	json_t *j = NULL;

	if (ward_json_parse(data, size, 1 << 20, &j, &err) < 0)
		return 0;
	if (json_is_object(j) &&
	    ward_coord_trustee_snp_convert(j, report, &table, &table_size, &err) == 0) {
		(void)ward_snp_report_parse(report, sizeof(report), &rep, &err);
		if (table)
			(void)ward_snp_certtable_parse(table, table_size, &ct, &err);
		free(table);
	}
	json_decref(j);
	return 0;
}
