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

PENDING(volume, "volume", "[volume]", "create, check and inspect protected volumes",
	"ward volume create|check|inspect ...")
