/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the attestation policy parser, and check the parsed policy against
 * a fixed claims object. */
#include "ward/attest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static json_t *claims;
	struct ward_attest_policy *p = NULL;

	if (!claims)
		claims = json_loads("{\"tee\":\"tdx\",\"verified\":true,\"insecure\":false,"
				    "\"debug\":false,\"measurement\":\"00\",\"tcb\":{\"status\":"
				    "\"UpToDate\",\"advisory_ids\":[\"INTEL-SA-1\"]}}",
				    0, NULL);
	if (ward_attest_policy_parse(data, size, &p, NULL) == 0) {
		(void)ward_attest_policy_check(p, claims, NULL, NULL);
		ward_attest_policy_free(p);
	}
	return 0;
}
