/* SPDX-License-Identifier: Apache-2.0 */
/* State of detached containers: state_root/<name>/{state.json,log}. The
 * detached `ward run` supervisor owns the container; stop asks it (SIGTERM)
 * to run the same stop sequence as Ctrl-C in the foreground. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime-internal.h"
#include "ward/cleanup.h"
#include "ward/file.h"
#include "ward/json.h"

static const char *root_of(const char *state_root)
{
	return state_root ? state_root : WARD_RUN_STATE_ROOT;
}

int ward_state_get(const char *state_root, const char *name, struct ward_container_info *ret,
		   struct ward_err *err)
{
	WARD_AUTOJSON json_t *j = NULL;
	char path[PATH_MAX];
	const char *s = NULL;
	int64_t v;
	struct ward_container_info info = {0};
	int r;

	if (!ward_container_name_valid(name))
		return ward_err_set(err, -WARD_E_USAGE, "'%s' is not a container name", name);
	snprintf(path, sizeof(path), "%s/%s/state.json", root_of(state_root), name);
	r = ward_json_load_file(path, 1 << 20, &j, err);
	if (r == -ENOENT)
		return ward_err_set(err, -WARD_E_NOT_FOUND, "no container named '%s'", name);
	if (r < 0)
		return r;
	snprintf(info.name, sizeof(info.name), "%s", name);
	if (ward_json_get_string(j, "$", "image", false, &s, err) == 0 && s)
		snprintf(info.image, sizeof(info.image), "%s", s);
	s = NULL;
	if (ward_json_get_string(j, "$", "status", false, &s, err) == 0 && s)
		snprintf(info.status, sizeof(info.status), "%s", s);
	s = NULL;
	if (ward_json_get_string(j, "$", "created", false, &s, err) == 0 && s)
		snprintf(info.created, sizeof(info.created), "%s", s);
	s = NULL;
	if (ward_json_get_string(j, "$", "ports", false, &s, err) == 0 && s)
		snprintf(info.ports, sizeof(info.ports), "%s", s);
	v = 0;
	(void)ward_json_get_int(j, "$", "exit_code", false, 0, 255, &v, err);
	info.exit_code = (int)v;
	v = 0;
	(void)ward_json_get_int(j, "$", "supervisor", false, 0, INT32_MAX, &v, err);
	info.supervisor = (pid_t)v;
	/* a supervisor that died without writing its state */
	if (strcmp(info.status, "running") == 0 &&
	    (info.supervisor <= 0 || (kill(info.supervisor, 0) < 0 && errno == ESRCH))) {
		snprintf(info.status, sizeof(info.status), "dead");
		info.exit_code = -1;
	}
	ward_err_clear(err);
	*ret = info;
	return 0;
}

int ward_state_list(const char *state_root, struct ward_container_info **ret, size_t *ret_count,
		    struct ward_err *err)
{
	WARD_AUTOFREE struct ward_container_info *list = NULL;
	size_t n = 0;
	DIR *d = opendir(root_of(state_root));
	struct dirent *de;

	if (!d) {
		if (errno == ENOENT) {
			*ret = NULL;
			*ret_count = 0;
			return 0;
		}
		return ward_err_errno(err, -errno, "open %s", root_of(state_root));
	}
	while ((de = readdir(d))) {
		struct ward_container_info info;
		struct ward_err e2 = WARD_ERR_INIT;
		struct ward_container_info *nl;

		if (de->d_name[0] == '.' || !ward_container_name_valid(de->d_name))
			continue;
		if (ward_state_get(state_root, de->d_name, &info, &e2) < 0)
			continue;
		nl = reallocarray(list, n + 1, sizeof(*list));
		if (!nl) {
			closedir(d);
			return ward_err_set(err, -ENOMEM, "out of memory");
		}
		list = nl;
		list[n++] = info;
	}
	closedir(d);
	*ret = WARD_TAKE_PTR(list);
	*ret_count = n;
	return 0;
}

int ward_state_log_path(const char *state_root, const char *name, char *buf, size_t size,
			struct ward_err *err)
{
	struct ward_container_info info;
	int r = ward_state_get(state_root, name, &info, err);

	if (r < 0)
		return r;
	snprintf(buf, size, "%s/%s/log", root_of(state_root), name);
	if (access(buf, R_OK) < 0)
		return ward_err_set(err, -WARD_E_NOT_FOUND,
				    "container '%s' has no log (it runs in the foreground)", name);
	return 0;
}

int ward_state_stop(const char *state_root, const char *name, unsigned timeout,
		    struct ward_err *err)
{
	struct ward_container_info info;
	int r = ward_state_get(state_root, name, &info, err);

	if (r < 0)
		return r;
	if (strcmp(info.status, "running") != 0)
		return 0;
	if (kill(info.supervisor, SIGTERM) < 0 && errno != ESRCH)
		return ward_err_errno(err, -errno, "signal the supervisor of '%s'", name);
	/* the supervisor escalates to KILL after its own timeout; wait a bit more */
	for (unsigned i = 0; i < (timeout + 5) * 20; i++) {
		if (kill(info.supervisor, 0) < 0 && errno == ESRCH)
			return 0;
		if (i == timeout * 20)
			(void)kill(info.supervisor, SIGTERM); /* second request: KILL now */
		usleep(50 * 1000);
	}
	return ward_err_set(err, -WARD_E_STATE, "'%s' did not stop", name);
}

int ward_state_remove(const char *state_root, const char *name, bool force, struct ward_err *err)
{
	struct ward_container_info info;
	char path[PATH_MAX];
	int r = ward_state_get(state_root, name, &info, err);

	if (r < 0)
		return r;
	if (strcmp(info.status, "running") == 0) {
		if (!force)
			return ward_err_set(err, -WARD_E_STATE,
					    "'%s' is running: stop it first or use -f", name);
		r = ward_state_stop(state_root, name, 0, err);
		if (r < 0)
			return r;
	}
	snprintf(path, sizeof(path), "%s/%s", root_of(state_root), name);
	return ward_rm_rf(path, err);
}
