/* SPDX-License-Identifier: Apache-2.0 */
/* Subcommands whose issues have not landed yet. Each says so plainly and
 * exits 1; none pretends to work. Each moves to its own cmd-<name>.c when
 * its issue lands. */
#include "cli.h"

#define PENDING(sym, cmdname, tag, summary_text, usage_text)                                       \
	static void help_##sym(FILE *out)                                                          \
	{                                                                                          \
		fprintf(out, "Usage: %s\n\n%s\n\nNot available in this build yet (issue %s).\n",  \
			usage_text, summary_text, tag);                                            \
	}                                                                                          \
	static int run_##sym(int argc, char **argv)                                                \
	{                                                                                          \
		(void)argc;                                                                        \
		(void)argv;                                                                        \
		fprintf(stderr, "ward %s: not available in this build yet (issue %s)\n", cmdname, \
			tag);                                                                      \
		return WARD_EXIT_FAILURE;                                                          \
	}                                                                                          \
	const struct ward_cmd cmd_##sym = {cmdname, summary_text, run_##sym, help_##sym};

PENDING(run, "run", "[run]", "run a confidential image (ward-init attests, decrypts, execs)",
	"ward run IMAGE [OPTIONS] [-- ARGS...]")
PENDING(coordinator, "coordinator", "[coordinator]",
	"serve the coordinator: manifest, attestation (KBS protocol), secrets, CA",
	"ward coordinator --state DIR --listen ADDR:PORT [--tee sim|snp|tdx|auto]")
PENDING(manifest, "manifest", "[coordinator]", "set, get, verify and log the coordinator manifest",
	"ward manifest set|get|verify|log ...")
PENDING(secret, "secret", "[coordinator]", "set, get and rotate user-defined secrets",
	"ward secret set|get|rotate ...")
PENDING(verify, "verify", "[coordinator]",
	"verify a coordinator's own attestation and pin its certificate",
	"ward verify --coordinator URL --reference FILE")
