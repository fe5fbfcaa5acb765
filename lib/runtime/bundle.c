/* SPDX-License-Identifier: Apache-2.0 */
/* The OCI runtime config (config.json) of a Ward container, written from
 * scratch: ward-init as the process with the capabilities it needs to
 * build the app's root (Docker's default set plus SYS_ADMIN, which it
 * drops before exec), a read-only rootfs holding /.ward, the run directory
 * bind-mounted read-only at /.ward/run, Docker's masked and read-only
 * /proc paths, and rlimits within this machine's hard limits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "runtime-internal.h"
#include "ward/cleanup.h"
#include "ward/file.h"
#include "ward/json.h"

static json_t *caps_array(void)
{
	static const char *const caps[] = {
	    "CAP_CHOWN",       "CAP_DAC_OVERRIDE", "CAP_FOWNER",
	    "CAP_FSETID",      "CAP_KILL",	   "CAP_SETGID",
	    "CAP_SETUID",      "CAP_SETPCAP",	   "CAP_NET_BIND_SERVICE",
	    "CAP_NET_RAW",     "CAP_SYS_CHROOT",   "CAP_MKNOD",
	    "CAP_AUDIT_WRITE", "CAP_SETFCAP",	   "CAP_SYS_ADMIN",
	};
	json_t *a = json_array();

	for (size_t i = 0; a && i < sizeof(caps) / sizeof(caps[0]); i++)
		json_array_append_new(a, json_string(caps[i]));
	return a;
}

static json_t *mount_obj(const char *dst, const char *type, const char *src,
			 const char *const *opts)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:[]}", "destination", dst, "type", type, "source",
			      src, "options");
	json_t *a = json_object_get(o, "options");

	for (; a && *opts; opts++)
		json_array_append_new(a, json_string(*opts));
	return o;
}

static const char *const masked[] = {
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
    "/proc/interrupts",
    NULL,
};
static const char *const readonly[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

static bool has_device(json_t *list, const char *key, const char *value, json_t *rule)
{
	size_t i;
	json_t *d;

	json_array_foreach(list, i, d)
	{
		const char *v = key ? json_string_value(json_object_get(d, key)) : NULL;

		if (value && v && strcmp(v, value) == 0)
			return true;
		if (rule && json_equal(d, rule))
			return true;
	}
	return false;
}

int rt_bundle_add_device(json_t *config, const char *path, char type, int major, int minor,
			 int mode, struct ward_err *err)
{
	json_t *linux_ = json_object_get(config, "linux"), *res, *devs, *rules;
	char t[2] = {type, 0};
	WARD_AUTOJSON json_t *rule = NULL;

	if (!json_is_object(linux_))
		return ward_err_set(err, -WARD_E_USAGE, "bundle config has no linux object");
	res = json_object_get(linux_, "resources");
	if (!res && json_object_set_new(linux_, "resources", res = json_object()) < 0)
		return ward_err_set(err, -ENOMEM, "out of memory");
	rules = json_object_get(res, "devices");
	if (!rules && json_object_set_new(res, "devices", rules = json_array()) < 0)
		return ward_err_set(err, -ENOMEM, "out of memory");
	devs = json_object_get(linux_, "devices");
	if (path && !devs && json_object_set_new(linux_, "devices", devs = json_array()) < 0)
		return ward_err_set(err, -ENOMEM, "out of memory");
	rule = minor < 0 ? json_pack("{s:b, s:s, s:i, s:s}", "allow", 1, "type", t, "major", major,
				     "access", "rwm")
			 : json_pack("{s:b, s:s, s:i, s:i, s:s}", "allow", 1, "type", t, "major",
				     major, "minor", minor, "access", "rwm");
	if (!rule)
		return ward_err_set(err, -ENOMEM, "out of memory");
	if (path && !has_device(devs, "path", path, NULL) &&
	    json_array_append_new(devs, json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:i}", "path",
						  path, "type", t, "major", major, "minor", minor,
						  "fileMode", mode, "uid", 0, "gid", 0)) < 0)
		return ward_err_set(err, -ENOMEM, "out of memory");
	if (!has_device(rules, NULL, NULL, rule) && json_array_append(rules, rule) < 0)
		return ward_err_set(err, -ENOMEM, "out of memory");
	return 0;
}

int rt_bundle_write(const struct rt_bundle_opts *b, struct ward_err *err)
{
	WARD_AUTOJSON json_t *j = NULL;
	WARD_AUTOFREE char *txt = NULL;
	json_t *args, *mounts, *ns, *caps;
	bool ext4;
	struct rlimit nofile = {1024, 1024};
	char path[PATH_MAX + 32];
	int r;

	if (getrlimit(RLIMIT_NOFILE, &nofile) < 0)
		nofile.rlim_max = 1024;
	/* never ask for more than we may have (no CAP_SYS_RESOURCE here) */
	if (nofile.rlim_max > 1048576)
		nofile.rlim_max = 1048576;

	caps = caps_array();
	j = json_pack("{s:s, s:{s:b, s:{s:i, s:i}, s:[s], s:[s], s:s, s:{s:O, s:O, s:O, s:O}, "
		      "s:[{s:s, s:I, s:I}], s:b}, s:{s:s, s:b}, s:s, s:[], s:{s:[], s:[], s:[]}}",
		      "ociVersion", "1.0.2", "process", "terminal", 0, "user", "uid", 0, "gid", 0,
		      "args", "/.ward/init", "env", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "cwd",
		      "/", "capabilities", "bounding", caps, "effective", caps, "permitted", caps,
		      "inheritable", caps, "rlimits", "type", "RLIMIT_NOFILE", "hard",
		      (json_int_t)nofile.rlim_max, "soft", (json_int_t)nofile.rlim_max,
		      "noNewPrivileges", 0, "root", "path", b->rootfs, "readonly", 1, "hostname",
		      b->hostname, "mounts", "linux", "namespaces", "maskedPaths", "readonlyPaths");
	json_decref(caps);
	if (!j)
		return ward_err_set(err, -ENOMEM, "out of memory");
	for (const char *const *p = masked; *p; p++)
		json_array_append_new(json_object_get(json_object_get(j, "linux"), "maskedPaths"),
				      json_string(*p));
	for (const char *const *p = readonly; *p; p++)
		json_array_append_new(json_object_get(json_object_get(j, "linux"), "readonlyPaths"),
				      json_string(*p));

	/* timing lines only (ward_trace): nothing the host could not see anyway */
	if (getenv("WARD_TRACE") && strcmp(getenv("WARD_TRACE"), "1") == 0)
		json_array_append_new(json_object_get(json_object_get(j, "process"), "env"),
				      json_string("WARD_TRACE=1"));
	args = json_object_get(json_object_get(j, "process"), "args");
	for (size_t i = 0; i < b->init_arg_count; i++)
		json_array_append_new(args, json_string(b->init_args[i]));

	mounts = json_object_get(j, "mounts");
	json_array_append_new(mounts,
			      mount_obj("/proc", "proc", "proc",
					(const char *const[]){"nosuid", "noexec", "nodev", NULL}));
	json_array_append_new(mounts,
			      mount_obj("/dev", "tmpfs", "tmpfs",
					(const char *const[]){"nosuid", "strictatime", "mode=755",
							      "size=65536k", NULL}));
	json_array_append_new(
	    mounts, mount_obj("/dev/pts", "devpts", "devpts",
			      (const char *const[]){"nosuid", "noexec", "newinstance",
						    "ptmxmode=0666", "mode=0620", "gid=5", NULL}));
	json_array_append_new(mounts,
			      mount_obj("/dev/shm", "tmpfs", "shm",
					(const char *const[]){"nosuid", "noexec", "nodev",
							      "mode=1777", "size=65536k", NULL}));
	json_array_append_new(mounts,
			      mount_obj("/dev/mqueue", "mqueue", "mqueue",
					(const char *const[]){"nosuid", "noexec", "nodev", NULL}));
	json_array_append_new(
	    mounts, mount_obj("/sys", "sysfs", "sysfs",
			      (const char *const[]){"nosuid", "noexec", "nodev", "ro", NULL}));
	json_array_append_new(
	    mounts, mount_obj("/.ward/run", "bind", b->run_dir,
			      (const char *const[]){"rbind", "ro", "nosuid", "nodev", NULL}));
	if (b->ward_init)
		json_array_append_new(
		    mounts,
		    mount_obj("/.ward/init", "bind", b->ward_init,
			      (const char *const[]){"bind", "ro", "nosuid", "nodev", NULL}));

	/* an image whose root is an ext4 image (ward convert --rootfs ext4)
	 * needs a loop device: ward-init makes the node of the free one it is
	 * given; one whose root is a protected volume (--rootfs volume) needs
	 * /dev/fuse too: ward-init serves its root with FUSE */
	snprintf(path, sizeof(path), "%s/.ward/rootfs/root.ext4", b->rootfs);
	ext4 = access(path, F_OK) == 0;
	if (ext4) {
		r = rt_bundle_add_device(j, "/dev/loop-control", 'c', 10, 237, 0600, err);
		if (r == 0)
			r = rt_bundle_add_device(j, NULL, 'b', 7, -1, 0, err);
		if (r < 0)
			return r;
	}
	snprintf(path, sizeof(path), "%s/.ward/rootfs", b->rootfs);
	if (b->volume_count > 0 || (!ext4 && access(path, F_OK) == 0)) {
		r = rt_bundle_add_volumes(j, b->volumes, b->volume_count, err);
		if (r < 0)
			return r;
	}

	ns = json_object_get(json_object_get(j, "linux"), "namespaces");
	for (const char *const *t = (const char *const[]){"pid", "ipc", "uts", "mount", NULL}; *t;
	     t++)
		json_array_append_new(ns, json_pack("{s:s}", "type", *t));
	if (b->network == WARD_NET_PRIVATE || b->network == WARD_NET_NONE)
		json_array_append_new(ns, json_pack("{s:s}", "type", "network"));
	else if (b->network == WARD_NET_PATH)
		json_array_append_new(
		    ns, json_pack("{s:s, s:s}", "type", "network", "path", b->netns_path));

	r = ward_json_dump_pretty(j, &txt, err);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/config.json", b->bundle);
	return ward_file_write_volatile(path, txt, strlen(txt), 0600, err);
}
