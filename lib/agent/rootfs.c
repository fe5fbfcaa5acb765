/* SPDX-License-Identifier: Apache-2.0 */
/* The app's root: a private tmpfs (nothing decrypted touches host-visible
 * storage), proc/sys/dev inside it, the runtime's hosts/hostname/
 * resolv.conf, then pivot_root and a detached old root, so the app sees
 * neither /.ward nor the encrypted blobs. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ward/agent.h"
#include "ward/cleanup.h"
#include "ward/file.h"
#include "ward/log.h"

int ward_agent_mount_root(const char *dir, struct ward_err *err)
{
	/* our mounts must not propagate back to the (untrusted) host */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return ward_err_errno(err, -errno, "make / private");
	if (mount("ward-root", dir, "tmpfs", MS_NODEV, "mode=0755") < 0)
		return ward_err_errno(err, -errno, "mount tmpfs on %s", dir);
	return 0;
}

static int mkdir_in(int rootfd, const char *rel, mode_t mode, struct ward_err *err)
{
	int fd = ward_open_in_root(rootfd, rel, O_PATH | O_DIRECTORY, 0);

	if (fd >= 0) {
		(void)close(fd);
		return 0;
	}
	if (fd != -ENOENT)
		return ward_err_errno(err, fd, "/%s exists and is not a directory", rel);
	return ward_mkdirat_beneath(rootfd, rel, mode, err);
}

/* Replace etc/<name> in the root with the runtime's copy of src. */
static int put_etc(int rootfd, const char *src_dir, const char *name, struct ward_err *err)
{
	char src[512], rel[64];
	WARD_AUTOFREE uint8_t *data = NULL;
	WARD_AUTOCLOSE int efd = -1, fd = -1;
	size_t size;
	int r;

	snprintf(src, sizeof(src), "%s/%s", src_dir, name);
	if (access(src, F_OK) < 0)
		return 0;
	r = ward_file_read(src, 1 << 20, &data, &size, err);
	if (r < 0)
		return r;
	r = mkdir_in(rootfd, "etc", 0755, err);
	if (r < 0)
		return r;
	efd = ward_open_in_root(rootfd, "etc", O_PATH | O_DIRECTORY, 0);
	if (efd < 0)
		return ward_err_errno(err, efd, "open /etc");
	snprintf(rel, sizeof(rel), "%s", name);
	if (unlinkat(efd, rel, 0) < 0 && errno != ENOENT)
		return ward_err_errno(err, -errno, "replace /etc/%s", name);
	fd = openat(efd, rel, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return ward_err_errno(err, -errno, "create /etc/%s", name);
	r = ward_fd_write_all(fd, data, size, err);
	if (r < 0)
		return ward_err_prefix(err, "/etc/%s", name);
	if (fchmod(fd, 0644) < 0)
		return ward_err_errno(err, -errno, "chmod /etc/%s", name);
	return 0;
}

static const char *const masked_files[] = {
    "proc/kcore",	"proc/keys",	    "proc/latency_stats", "proc/timer_list",
    "proc/timer_stats", "proc/sched_debug", "proc/scsi",	  "proc/acpi",
};
static const char *const readonly_paths[] = {
    "proc/bus", "proc/fs", "proc/irq", "proc/sys", "proc/sysrq-trigger",
};

int ward_agent_enter_root(const char *newroot, const char *etc_src, const char *workdir,
			  struct ward_err *err)
{
	WARD_AUTOCLOSE int rootfd = open(newroot, O_PATH | O_DIRECTORY | O_CLOEXEC);
	char path[WARD_PATH_MAX + 64];
	int r;

	if (rootfd < 0)
		return ward_err_errno(err, -errno, "open %s", newroot);
	for (const char *const *d = (const char *const[]){"proc", "sys", "dev", "tmp", NULL}; *d;
	     d++) {
		struct stat st;

		/* Mount points must be real directories of the new root: mount(2)
		 * follows symlinks against our current root, so an image's
		 * "proc -> /somewhere" is replaced, never followed. */
		if (*d[0] != 't' && fstatat(rootfd, *d, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    !S_ISDIR(st.st_mode) && unlinkat(rootfd, *d, 0) < 0)
			return ward_err_errno(err, -errno, "app root: replace /%s", *d);
		r = mkdir_in(rootfd, *d, *d[0] == 't' ? 01777 : 0755, err);
		if (r < 0)
			return ward_err_prefix(err, "app root");
	}
	snprintf(path, sizeof(path), "%s/proc", newroot);
	if (mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return ward_err_errno(err, -errno, "mount proc");
	snprintf(path, sizeof(path), "%s/dev", newroot);
	if (mount("/dev", path, NULL, MS_BIND | MS_REC, NULL) < 0)
		return ward_err_errno(err, -errno, "bind /dev");
	snprintf(path, sizeof(path), "%s/sys", newroot);
	if (mount("sysfs", path, "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		/* a shared network namespace may refuse a new sysfs: bind, read-only */
		if (mount("/sys", path, NULL, MS_BIND | MS_REC, NULL) < 0 ||
		    mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
			return ward_err_errno(err, -errno, "mount sysfs");
	}
	for (size_t i = 0; i < sizeof(masked_files) / sizeof(masked_files[0]); i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", newroot, masked_files[i]);
		if (stat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			r = mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=0");
		else
			r = mount("/dev/null", path, NULL, MS_BIND, NULL);
		if (r < 0)
			return ward_err_errno(err, -errno, "mask /%s", masked_files[i]);
	}
	for (size_t i = 0; i < sizeof(readonly_paths) / sizeof(readonly_paths[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", newroot, readonly_paths[i]);
		if (access(path, F_OK) < 0)
			continue;
		if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0 ||
		    mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
			return ward_err_errno(err, -errno, "read-only /%s", readonly_paths[i]);
	}
	if (etc_src)
		for (const char *const *f =
			 (const char *const[]){"hosts", "hostname", "resolv.conf", NULL};
		     *f; f++) {
			r = put_etc(rootfd, etc_src, *f, err);
			if (r < 0)
				return ward_err_prefix(err, "app root");
		}
	if (workdir && workdir[0] && strcmp(workdir, "/") != 0) {
		const char *rel = workdir;

		while (*rel == '/')
			rel++;
		if (*rel && ward_path_is_safe_relative(rel)) {
			r = mkdir_in(rootfd, rel, 0755, err);
			if (r < 0)
				return ward_err_prefix(err, "working directory");
		}
	}

	if (chdir(newroot) < 0)
		return ward_err_errno(err, -errno, "chdir %s", newroot);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return ward_err_errno(err, -errno, "pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		return ward_err_errno(err, -errno, "detach the old root");
	if (chdir("/") < 0)
		return ward_err_errno(err, -errno, "chdir /");
	if (workdir && workdir[0] && chdir(workdir) < 0)
		return ward_err_errno(err, -errno, "chdir to the working directory '%s'", workdir);
	return 0;
}
