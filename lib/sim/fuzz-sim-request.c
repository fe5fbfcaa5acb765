/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the sim TEE server's request parser (bytes from the container). */
#include "ward/sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t rd[64];

	(void)ward_sim_parse_request(data, size, rd);
	return 0;
}
