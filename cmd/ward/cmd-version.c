/* SPDX-License-Identifier: Apache-2.0 */
#include <jansson.h>

#include "cli.h"
#include "ward/crypto.h"
#include "ward/version.h"

static void help(FILE *out)
{
	fprintf(out, "Usage: ward version\n\nPrint Ward's version and build information.\n");
}

static int run(int argc, char **argv)
{
	if (argc > 1)
		return cli_usage("version", "unexpected argument '%s'", argv[1]);
	printf("ward %s (%s)\n", WARD_VERSION, WARD_GIT_DESCRIBE);
	printf("build: %s, %s\n", WARD_BUILD_TYPE[0] ? WARD_BUILD_TYPE : "default", WARD_C_COMPILER);
	printf("libraries: %s (built with %s), jansson %s\n", ward_crypto_library_version(), ward_crypto_build_version(), JANSSON_VERSION);
	return WARD_EXIT_OK;
}

const struct ward_cmd cmd_version = {"version", "print version and build information", run, help};
