/* SPDX-License-Identifier: Apache-2.0 */
/* ward-init: the in-TEE agent, PID 1 of a confidential container.
 * Trusted computing base: keep it small. Its job (attest, fetch keys,
 * decrypt, verify, mount, inject, exec, reap) lands with the [run] issue;
 * until then it only identifies itself and refuses to run a workload. */
#include <stdio.h>
#include <string.h>

#include "ward/version.h"

int main(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("Usage: ward-init [--version]\n\n"
		       "The in-TEE agent of a Ward confidential container (PID 1).\n"
		       "Not started by hand: 'ward convert' makes it the image entrypoint.\n");
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("ward-init %s (%s)\n", WARD_VERSION, WARD_GIT_DESCRIBE);
		return 0;
	}
	fprintf(stderr, "ward-init: cannot run a workload yet (issue [run]); refusing\n");
	return 1;
}
