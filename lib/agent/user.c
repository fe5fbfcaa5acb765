/* SPDX-License-Identifier: Apache-2.0 */
/* The app's identity and command line: USER resolved with our own
 * /etc/passwd and /etc/group parser (the image's libc and NSS are never
 * used: the image may be musl, distroless or scratch), argv from
 * entrypoint + cmd, envp from the image's env plus overrides.
 * UNTRUSTED: the image's passwd/group files (size-capped, strict numbers). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ward/agent.h"
#include "ward/cleanup.h"
#include "ward/file.h"
#include "ward/util.h"

#define DB_MAX_SIZE (4u << 20)
#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Read etc/<name> beneath rootfd; *ret NULL when it does not exist. */
static int read_db(int rootfd, const char *name, char **ret, struct ward_err *err)
{
	WARD_AUTOCLOSE int fd = ward_open_in_root(rootfd, name, O_RDONLY, 0);
	uint8_t *buf = NULL;
	size_t size;
	int r;

	*ret = NULL;
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return ward_err_errno(err, fd, "open /%s", name);
	r = ward_fd_read_all(fd, DB_MAX_SIZE, &buf, &size, err);
	if (r < 0)
		return ward_err_prefix(err, "/%s", name);
	*ret = (char *)buf;
	return 0;
}

/* Split one line of a colon database into at most max fields (in place). */
static size_t fields(char *line, char **f, size_t max)
{
	size_t n = 0;

	f[n++] = line;
	for (char *p = line; *p && n < max; p++)
		if (*p == ':') {
			*p = 0;
			f[n++] = p + 1;
		}
	return n;
}

static bool is_numeric(const char *s)
{
	uint32_t v;

	return ward_parse_u32(s, &v) == 0;
}

int ward_agent_user_resolve(int rootfd, const char *user, struct ward_agent_ids *ret,
			    struct ward_err *err)
{
	WARD_AUTOFREE char *passwd = NULL, *group = NULL;
	char spec[256], uname[256] = "", *gpart;
	struct ward_agent_ids ids = {.uid = 0, .gid = 0};
	bool have_gid = false, found = false;
	int r;

	snprintf(ids.home, sizeof(ids.home), "/root");
	if (!user || !user[0])
		user = "0";
	if (strlen(user) >= sizeof(spec))
		return ward_err_set(err, -WARD_E_MALFORMED, "user '%.40s...': too long", user);
	strcpy(spec, user);
	gpart = strchr(spec, ':');
	if (gpart)
		*gpart++ = 0;

	r = read_db(rootfd, "etc/passwd", &passwd, err);
	if (r < 0)
		return r;
	r = read_db(rootfd, "etc/group", &group, err);
	if (r < 0)
		return r;

	if (passwd) {
		for (char *save = NULL, *line = strtok_r(passwd, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			char *f[7];
			uint32_t uid, gid;

			if (fields(line, f, 7) != 7 || ward_parse_u32(f[2], &uid) < 0 ||
			    ward_parse_u32(f[3], &gid) < 0)
				continue; /* comments and broken lines */
			if (is_numeric(spec) ? strcmp(f[2], spec) != 0 : strcmp(f[0], spec) != 0)
				continue;
			ids.uid = uid;
			ids.gid = gid;
			have_gid = true;
			snprintf(ids.home, sizeof(ids.home), "%s", f[5][0] ? f[5] : "/");
			snprintf(uname, sizeof(uname), "%s", f[0]);
			found = true;
			break;
		}
	}
	if (!found) {
		uint32_t uid;

		if (ward_parse_u32(spec, &uid) < 0)
			return ward_err_set(err, -WARD_E_NOT_FOUND,
					    "user '%s' not found in the image's /etc/passwd", spec);
		ids.uid = uid;
		snprintf(ids.home, sizeof(ids.home), "/");
		if (uid == 0)
			snprintf(ids.home, sizeof(ids.home), "/root");
	}
	if (gpart) {
		uint32_t gid;
		bool gfound = false;

		if (ward_parse_u32(gpart, &gid) == 0) {
			gfound = true;
		} else if (group) {
			WARD_AUTOFREE char *copy = strdup(group);

			if (!copy)
				return ward_err_set(err, -ENOMEM, "out of memory");
			for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line;
			     line = strtok_r(NULL, "\n", &save)) {
				char *f[4];

				if (fields(line, f, 4) == 4 && strcmp(f[0], gpart) == 0 &&
				    ward_parse_u32(f[2], &gid) == 0) {
					gfound = true;
					break;
				}
			}
		}
		if (!gfound)
			return ward_err_set(err, -WARD_E_NOT_FOUND,
					    "group '%s' not found in the image's /etc/group",
					    gpart);
		ids.gid = gid;
		have_gid = true;
	}
	if (!have_gid)
		ids.gid = 0;

	/* supplementary groups: every group listing the user's name */
	if (group && found && !gpart) {
		for (char *save = NULL, *line = strtok_r(group, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			char *f[4];
			uint32_t gid;

			if (fields(line, f, 4) != 4 || ward_parse_u32(f[2], &gid) < 0)
				continue;
			for (char *s2 = NULL, *m = strtok_r(f[3], ",", &s2); m;
			     m = strtok_r(NULL, ",", &s2)) {
				/* members are names: match the passwd entry's name */
				if (strcmp(m, uname) == 0 && gid != ids.gid &&
				    ids.group_count < WARD_AGENT_MAX_GROUPS)
					ids.groups[ids.group_count++] = gid;
			}
		}
	}
	*ret = ids;
	return 0;
}

char **ward_agent_strv_free(char **v)
{
	if (!v)
		return NULL;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
	return NULL;
}

static void strv_freep(char ***v)
{
	ward_agent_strv_free(*v);
}

static int strv_push(char ***v, size_t *n, const char *s)
{
	char **nv = reallocarray(*v, *n + 2, sizeof(char *));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[*n] = strdup(s);
	if (!nv[*n])
		return -ENOMEM;
	nv[++*n] = NULL;
	return 0;
}

/* Set "K=V" in v, replacing an existing K. */
static int env_set(char ***v, size_t *n, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);

	for (size_t i = 0; i < *n; i++)
		if (strncmp((*v)[i], kv, klen) == 0 && (*v)[i][klen] == '=') {
			char *s = strdup(kv);

			if (!s)
				return -ENOMEM;
			free((*v)[i]);
			(*v)[i] = s;
			return 0;
		}
	return strv_push(v, n, kv);
}

static bool env_has(char **v, size_t n, const char *key)
{
	size_t klen = strlen(key);

	for (size_t i = 0; i < n; i++)
		if (strncmp(v[i], key, klen) == 0 && v[i][klen] == '=')
			return true;
	return false;
}

int ward_agent_build_exec(const struct ward_agent_config *cfg, char *const *args_override,
			  size_t args_count, char *const *extra_env, size_t extra_count,
			  const struct ward_agent_ids *ids, char ***ret_argv, char ***ret_envp,
			  struct ward_err *err)
{
	WARD_CLEANUP(strv_freep) char **argv = NULL, **envp = NULL;
	size_t an = 0, en = 0, i;
	json_t *v;
	char home[300];

	if (cfg->entrypoint)
		json_array_foreach(cfg->entrypoint, i,
				   v) if (strv_push(&argv, &an, json_string_value(v)) <
					  0) return ward_err_set(err, -ENOMEM, "out of memory");
	if (args_count > 0) {
		for (i = 0; i < args_count; i++)
			if (strv_push(&argv, &an, args_override[i]) < 0)
				return ward_err_set(err, -ENOMEM, "out of memory");
	} else if (cfg->cmd) {
		json_array_foreach(cfg->cmd, i, v) if (strv_push(&argv, &an, json_string_value(v)) <
						       0) return ward_err_set(err, -ENOMEM,
									      "out of memory");
	}
	if (an == 0)
		return ward_err_set(
		    err, -WARD_E_USAGE,
		    "the image has no entrypoint or cmd and no arguments were given");

	if (cfg->env)
		json_array_foreach(cfg->env, i, v)
		{
			if (!strchr(json_string_value(v), '='))
				continue;
			if (env_set(&envp, &en, json_string_value(v)) < 0)
				return ward_err_set(err, -ENOMEM, "out of memory");
		}
	for (i = 0; i < extra_count; i++) {
		if (!strchr(extra_env[i], '='))
			return ward_err_set(err, -WARD_E_USAGE, "environment '%.40s': no '='",
					    extra_env[i]);
		if (env_set(&envp, &en, extra_env[i]) < 0)
			return ward_err_set(err, -ENOMEM, "out of memory");
	}
	if (!env_has(envp, en, "PATH") && strv_push(&envp, &en, DEFAULT_PATH) < 0)
		return ward_err_set(err, -ENOMEM, "out of memory");
	snprintf(home, sizeof(home), "HOME=%s", ids ? ids->home : "/");
	if (!env_has(envp, en, "HOME") && strv_push(&envp, &en, home) < 0)
		return ward_err_set(err, -ENOMEM, "out of memory");
	if (!envp) {
		envp = calloc(1, sizeof(char *));
		if (!envp)
			return ward_err_set(err, -ENOMEM, "out of memory");
	}
	*ret_argv = WARD_TAKE_PTR(argv);
	*ret_envp = WARD_TAKE_PTR(envp);
	return 0;
}

int ward_signal_parse(const char *s, int *ret)
{
	static const struct {
		const char *name;
		int sig;
	} sigs[] = {
	    {"HUP", SIGHUP},   {"INT", SIGINT},	  {"QUIT", SIGQUIT}, {"KILL", SIGKILL},
	    {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"TERM", SIGTERM}, {"WINCH", SIGWINCH},
	    {"PWR", SIGPWR},   {"STOP", SIGSTOP}, {"CONT", SIGCONT}, {"ALRM", SIGALRM},
	};
	uint32_t n;

	if (!s)
		return -WARD_E_MALFORMED;
	if (ward_parse_u32(s, &n) == 0) {
		if (n == 0 || n > 64)
			return -WARD_E_MALFORMED;
		*ret = (int)n;
		return 0;
	}
	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (strcmp(s, sigs[i].name) == 0) {
			*ret = sigs[i].sig;
			return 0;
		}
	return -WARD_E_MALFORMED;
}
