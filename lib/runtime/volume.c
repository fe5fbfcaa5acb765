/* SPDX-License-Identifier: Apache-2.0 */
/* ward run -v: protected volumes on the host side. The host only provides
 * the backing directory (ciphertext) and /dev/fuse; ward-init, inside the
 * TEE, holds the key and serves the files (docs/volumes.md). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime-internal.h"
#include "ward/cleanup.h"
#include "ward/util.h"

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return false;
	return true;
}

int ward_volume_mount_parse(const char *s, struct ward_volume_mount *ret, struct ward_err *err)
{
	WARD_AUTOFREE char *copy = strdup(s);
	char *path, *name, *last;
	struct stat st;

	if (!copy)
		return ward_err_set(err, -ENOMEM, "out of memory");
	*ret = (struct ward_volume_mount){0};
	path = strchr(copy, ':');
	if (!path || path == copy || path[1] != '/')
		return ward_err_set(err, -WARD_E_USAGE, "-v '%s': want HOSTDIR:/PATH[:NAME]", s);
	*path++ = '\0';
	name = strchr(path, ':');
	if (name)
		*name++ = '\0';
	if (strlen(path) >= sizeof(ret->path) || strstr(path, "/../") ||
	    strcmp(path + strlen(path) - (strlen(path) >= 3 ? 3 : 0), "/..") == 0 ||
	    strcmp(path, "/") == 0 || ward_startswith(path, "/.ward") ||
	    ward_startswith(path, "/proc") || ward_startswith(path, "/dev") ||
	    ward_startswith(path, "/sys"))
		return ward_err_set(err, -WARD_E_USAGE,
				    "-v '%s': PATH must be an absolute path in the app's root "
				    "(not /, /.ward, /proc, /dev or /sys)",
				    s);
	while (strlen(path) > 1 && path[strlen(path) - 1] == '/')
		path[strlen(path) - 1] = '\0';
	last = strrchr(path, '/') + 1;
	if (!name)
		name = last;
	if (!name_ok(name))
		return ward_err_set(err, -WARD_E_USAGE,
				    "-v '%s': volume name '%s' must be 1-64 characters A-Z a-z "
				    "0-9 _ - (give :NAME)",
				    s, name);
	if (!realpath(copy, ret->host_dir))
		return ward_err_errno(err, -errno, "-v '%s': host directory %s", s, copy);
	if (stat(ret->host_dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return ward_err_set(err, -WARD_E_USAGE, "-v '%s': %s is not a directory", s,
				    ret->host_dir);
	snprintf(ret->path, sizeof(ret->path), "%s", path);
	snprintf(ret->name, sizeof(ret->name), "%s", name);
	return 0;
}

size_t rt_volume_init_args(const struct ward_volume_mount *v, size_t count, char **args,
			   char bufs[][340])
{
	size_t n = 0;

	for (size_t i = 0; i < count; i++) {
		snprintf(bufs[i], 340, "%s:%s", v[i].name, v[i].path);
		args[n++] = (char *)"--volume";
		args[n++] = bufs[i];
	}
	return n;
}

int rt_bundle_add_volumes(json_t *config, const struct ward_volume_mount *v, size_t count,
			  struct ward_err *err)
{
	json_t *mounts = json_object_get(config, "mounts");

	for (size_t i = 0; i < count; i++) {
		char dst[128];

		for (size_t k = 0; k < i; k++)
			if (strcmp(v[k].name, v[i].name) == 0)
				return ward_err_set(err, -WARD_E_USAGE,
						    "volume '%s' given twice", v[i].name);
		snprintf(dst, sizeof(dst), "/.ward/vol/%s", v[i].name);
		if (json_array_append_new(
			mounts, json_pack("{s:s, s:s, s:s, s:[s,s,s,s]}", "destination", dst,
					  "type", "bind", "source", v[i].host_dir, "options",
					  "rbind", "rw", "nosuid", "nodev")) < 0)
			return ward_err_set(err, -ENOMEM, "out of memory");
	}
	/* ward-init (CAP_SYS_ADMIN until it drops it for the app) mounts FUSE */
	return rt_bundle_add_device(config, "/dev/fuse", 'c', 10, 229, 0666, err);
}
