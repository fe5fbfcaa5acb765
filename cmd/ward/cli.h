/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The ward CLI: a thin layer of argv -> libward -> output. Each subcommand
 * lives in cmd-<name>.c and returns an exit code. */

#include <stdbool.h>
#include <stdio.h>

#include "ward/error.h"

enum {
	WARD_EXIT_OK = 0,
	WARD_EXIT_FAILURE = 1, /* failure, or verification refused */
	WARD_EXIT_USAGE = 2,
};

struct ward_cmd {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
	void (*help)(FILE *out);
};

/* Print "ward <cmd>: <err.msg>" once, return WARD_EXIT_FAILURE. */
int cli_fail(const char *cmd, const struct ward_err *err);
/* Print a usage error and a hint, return WARD_EXIT_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Is argv[i] "-h" or "--help"? */
bool cli_is_help(const char *arg);

extern const struct ward_cmd cmd_convert, cmd_run, cmd_coordinator, cmd_manifest, cmd_secret,
	cmd_verify, cmd_evidence, cmd_volume, cmd_sim, cmd_version;
