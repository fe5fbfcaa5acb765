/* SPDX-License-Identifier: Apache-2.0 */
/* State of detached containers: state_root/<name>/{state.json,log}. The
 * detached `ward run` supervisor owns the container; stop asks it (SIGTERM)
 * to run the same stop sequence as Ctrl-C in the foreground. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime-internal.h"
#include "ward/cleanup.h"
#include "ward/file.h"
#include "ward/json.h"

/* Is pid a live process (not gone, not a zombie awaiting its reaper)? */
static bool alive(pid_t pid)
{
	char path[64], buf[256];
	FILE *f;
	bool zombie = false;

	if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (f) {
		if (fgets(buf, sizeof(buf), f)) {
			const char *rp = strrchr(buf, ')');

			zombie = rp && rp[1] == ' ' && rp[2] == 'Z';
		}
		fclose(f);
	}
	return !zombie;
}

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
	if (strcmp(info.status, "running") == 0 && !alive(info.supervisor)) {
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
		if (!alive(info.supervisor))
			return 0;
		if (i == timeout * 20)
			(void)kill(info.supervisor, SIGTERM); /* second request: KILL now */
		usleep(50 * 1000);
	}
	return ward_err_set(err, -WARD_E_STATE, "'%s' did not stop", name);
}

/* A supervisor killed with SIGKILL leaves its runtime container behind:
 * delete it from both runtimes' state (errors ignored: usually gone). */
static void runtime_delete(const char *root, const char *name)
{
	static const char *const bins[] = {"runc", "crun"};

	for (size_t i = 0; i < 2; i++) {
		char rroot[PATH_MAX], id[WARD_RUN_NAME_MAX + 8];
		const char *argv[] = {bins[i], "--root", rroot, "delete", "--force", id, NULL};
		pid_t pid;
		int st;

		snprintf(rroot, sizeof(rroot), "%s/.%s", root, bins[i]);
		snprintf(id, sizeof(id), "ward-%s", name);
		if (access(rroot, F_OK) < 0)
			continue;
		pid = fork();
		if (pid == 0) {
			int nul = open("/dev/null", O_RDWR | O_CLOEXEC);

			if (nul >= 0) {
				dup2(nul, STDOUT_FILENO);
				dup2(nul, STDERR_FILENO);
			}
			execvp(argv[0], (char *const *)argv);
			_exit(127);
		}
		if (pid > 0)
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
	}
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
	if (strcmp(info.status, "dead") == 0)
		runtime_delete(root_of(state_root), name);
	snprintf(path, sizeof(path), "%s/%s", root_of(state_root), name);
	return ward_rm_rf(path, err);
}
