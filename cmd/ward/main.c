/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ward/log.h"

static const struct ward_cmd *const commands[] = {
	&cmd_convert, &cmd_run,      &cmd_coordinator, &cmd_manifest, &cmd_secret,
	&cmd_verify,  &cmd_evidence, &cmd_volume,      &cmd_sim,      &cmd_version,
};

int cli_fail(const char *cmd, const struct ward_err *err)
{
	fprintf(stderr, "ward %s: %s\n", cmd, err->msg[0] ? err->msg : ward_err_code_name(err->code));
	return WARD_EXIT_FAILURE;
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ward %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'ward %s --help'.\n", cmd);
	return WARD_EXIT_USAGE;
}

bool cli_is_help(const char *arg)
{
	return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

static void help(FILE *out)
{
	fprintf(out, "Usage: ward [--log-format human|json] [--log-level LEVEL] COMMAND [ARGS...]\n"
		     "\n"
		     "Run unmodified container images confidentially in a TEE.\n"
		     "\n"
		     "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-12s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(out, "\n"
		     "Global options:\n"
		     "  --log-format FMT   human (default) or json (one JSON object per line)\n"
		     "  --log-level LEVEL  debug, info (default), warn, error\n"
		     "  -h, --help         this help; 'ward COMMAND --help' for a command\n"
		     "  --version          same as 'ward version'\n"
		     "\n"
		     "Exit status: 0 success, 1 failure or verification refused, 2 usage error.\n");
}

int main(int argc, char **argv)
{
	enum ward_log_format format = WARD_LOG_FORMAT_AUTO;
	enum ward_log_level level = WARD_LOG_INFO;
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (cli_is_help(a)) {
			help(stdout);
			return WARD_EXIT_OK;
		} else if (strcmp(a, "--version") == 0) {
			return cmd_version.run(1, (char *[]){(char *)"version", NULL});
		} else if (strcmp(a, "--log-format") == 0 && i + 1 < argc) {
			if (ward_log_format_parse(argv[++i], &format) < 0)
				return cli_usage("", "unknown log format '%s'", argv[i]);
		} else if (strncmp(a, "--log-format=", 13) == 0) {
			if (ward_log_format_parse(a + 13, &format) < 0)
				return cli_usage("", "unknown log format '%s'", a + 13);
		} else if (strcmp(a, "--log-level") == 0 && i + 1 < argc) {
			if (ward_log_level_parse(argv[++i], &level) < 0)
				return cli_usage("", "unknown log level '%s'", argv[i]);
		} else if (strncmp(a, "--log-level=", 12) == 0) {
			if (ward_log_level_parse(a + 12, &level) < 0)
				return cli_usage("", "unknown log level '%s'", a + 12);
		} else {
			fprintf(stderr, "ward: unknown option '%s'\nTry 'ward --help'.\n", a);
			return WARD_EXIT_USAGE;
		}
	}
	ward_log_setup(level, format, STDERR_FILENO);
	ward_log_set_component("ward");

	if (i >= argc) {
		help(stderr);
		return WARD_EXIT_USAGE;
	}
	if (strcmp(argv[i], "help") == 0) {
		if (i + 1 < argc)
			for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
				if (strcmp(commands[c]->name, argv[i + 1]) == 0) {
					commands[c]->help(stdout);
					return WARD_EXIT_OK;
				}
		help(stdout);
		return WARD_EXIT_OK;
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		if (strcmp(commands[c]->name, argv[i]) != 0)
			continue;
		if (argc - i >= 2 && cli_is_help(argv[i + 1])) {
			commands[c]->help(stdout);
			return WARD_EXIT_OK;
		}
		return commands[c]->run(argc - i, argv + i);
	}
	fprintf(stderr, "ward: unknown command '%s'\nTry 'ward --help'.\n", argv[i]);
	return WARD_EXIT_USAGE;
}
