/* SPDX-License-Identifier: Apache-2.0 */
/* ward ps / logs / stop / rm: detached containers (see ward/runtime.h). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ward/cleanup.h"
#include "ward/runtime.h"
#include "ward/util.h"

static const char *state_root(void)
{
	return getenv("WARD_STATE_ROOT"); /* NULL: /run/ward */
}

static void help_ps(FILE *out)
{
	fprintf(out, "Usage: ward ps [-a]\n\nList running containers (-a: also exited ones).\n");
}

static int run_ps(int argc, char **argv)
{
	WARD_AUTOFREE struct ward_container_info *list = NULL;
	struct ward_err err = WARD_ERR_INIT;
	bool all = argc > 1 && strcmp(argv[1], "-a") == 0;
	size_t n;

	if (argc > 2 || (argc == 2 && !all))
		return cli_usage("ps", "unexpected argument '%s'", argv[argc - 1]);
	if (ward_state_list(state_root(), &list, &n, &err) < 0)
		return cli_fail("ps", &err);
	printf("%-20s %-10s %-21s %-30s %s\n", "NAME", "STATUS", "CREATED", "PORTS", "IMAGE");
	for (size_t i = 0; i < n; i++) {
		char status[24];

		if (!all && strcmp(list[i].status, "running") != 0)
			continue;
		if (strcmp(list[i].status, "exited") == 0)
			snprintf(status, sizeof(status), "exited(%d)", list[i].exit_code);
		else
			snprintf(status, sizeof(status), "%s", list[i].status);
		printf("%-20s %-10s %-21s %-30s %s\n", list[i].name, status, list[i].created,
		       list[i].ports, list[i].image);
	}
	return WARD_EXIT_OK;
}

const struct ward_cmd cmd_ps = {"ps", "list containers started with ward run -d", run_ps, help_ps};

static void help_logs(FILE *out)
{
	fprintf(out, "Usage: ward logs [-f] NAME\n\nPrint a detached container's output "
		     "(-f: follow until it exits).\n");
}

static int run_logs(int argc, char **argv)
{
	struct ward_err err = WARD_ERR_INIT;
	bool follow = argc > 2 && strcmp(argv[1], "-f") == 0;
	const char *name = argv[argc - 1];
	char path[4096], buf[65536];
	WARD_AUTOCLOSE int fd = -1;

	if (argc != 2 + follow)
		return cli_usage("logs", "want [-f] NAME");
	if (ward_state_log_path(state_root(), name, path, sizeof(path), &err) < 0)
		return cli_fail("logs", &err);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ward_err_errno(&err, -errno, "open %s", path);
		return cli_fail("logs", &err);
	}
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n > 0) {
			if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
				return WARD_EXIT_FAILURE;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (!follow)
			break;
		struct ward_container_info info;
		fflush(stdout);
		if (ward_state_get(state_root(), name, &info, &err) < 0 ||
		    strcmp(info.status, "running") != 0) {
			/* drain what the last moments wrote */
			while ((n = read(fd, buf, sizeof(buf))) > 0)
				fwrite(buf, 1, (size_t)n, stdout);
			break;
		}
		usleep(200 * 1000);
	}
	return WARD_EXIT_OK;
}

const struct ward_cmd cmd_logs = {"logs", "print the output of a detached container", run_logs,
				  help_logs};

static void help_stop(FILE *out)
{
	fprintf(out, "Usage: ward stop [-t SEC] NAME...\n\nStop detached containers: the "
		     "image's stop signal, then KILL after SEC (default 10).\n");
}

static int run_stop(int argc, char **argv)
{
	struct ward_err err = WARD_ERR_INIT;
	uint32_t t = 10;
	int i = 1, rc = WARD_EXIT_OK;

	if (argc > 2 && strcmp(argv[1], "-t") == 0) {
		if (ward_parse_u32(argv[2], &t) < 0 || t > 3600)
			return cli_usage("stop", "-t '%s': want 0-3600", argv[2]);
		i = 3;
	}
	if (i >= argc)
		return cli_usage("stop", "NAME is required");
	for (; i < argc; i++) {
		if (ward_state_stop(state_root(), argv[i], t, &err) < 0)
			rc = cli_fail("stop", &err);
		else
			printf("%s\n", argv[i]);
	}
	return rc;
}

const struct ward_cmd cmd_stop = {"stop", "stop detached containers", run_stop, help_stop};

static void help_rm(FILE *out)
{
	fprintf(out, "Usage: ward rm [-f] NAME...\n\nRemove exited containers' state and logs "
		     "(-f: stop running ones first).\n");
}

static int run_rm(int argc, char **argv)
{
	struct ward_err err = WARD_ERR_INIT;
	bool force = argc > 1 && strcmp(argv[1], "-f") == 0;
	int rc = WARD_EXIT_OK;

	if (argc < 2 + force)
		return cli_usage("rm", "NAME is required");
	for (int i = 1 + force; i < argc; i++) {
		if (ward_state_remove(state_root(), argv[i], force, &err) < 0)
			rc = cli_fail("rm", &err);
		else
			printf("%s\n", argv[i]);
	}
	return rc;
}

const struct ward_cmd cmd_rm = {"rm", "remove detached containers", run_rm, help_rm};
