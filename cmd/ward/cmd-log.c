/* SPDX-License-Identifier: Apache-2.0 */
/* ward log: fetch the coordinator's audit log and verify its hash chain. */
#include <getopt.h>

#include "cli.h"
#include "coord-client.h"

static void help(FILE *out)
{
	fprintf(out, "Usage: ward log --coordinator URL --user NAME --key FILE [--json]\n"
		     "\n"
		     "Fetch the coordinator's audit log (signed request; the user's role must\n"
		     "allow read_log), verify the hash chain from the first record and print\n"
		     "it. The head hash is what `ward verify` reports from attested evidence.\n");
}

static int run(int argc, char **argv)
{
	struct coord_cli o = {0};
	bool done;
	int code = 0;

	optind = 1;
	coord_cli_parse("log", argc, argv, &o, help, &done, &code);
	if (done)
		return code;
	if (optind < argc)
		return cli_usage("log", "unexpected argument '%s'", argv[optind]);
	return coord_cli_log("log", &o);
}

const struct ward_cmd cmd_log = {"log", "fetch and verify the coordinator's audit log", run, help};
