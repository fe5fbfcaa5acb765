/* SPDX-License-Identifier: Apache-2.0 */
/* The app's root as an ext4 filesystem in memory (ward convert --rootfs
 * ext4). The image's stored chunks are decrypted and checked into a
 * private memory file, which a loop device turns into a block device for
 * the kernel's ext4: the app gets a writable disk filesystem (negative
 * dentries cached, unlike tmpfs; no overlay, no FUSE in its file path) at
 * the cost of one decryption pass at start, with no gunzip and no unpack.
 *
 * Trust: the image file comes from the host (UNTRUSTED); its header must
 * hash to the digest in the measured /.ward/config.json and every stored
 * chunk's AES-256-GCM tag (AAD: image id, chunk index) must verify before
 * anything is mounted; the key comes from the key source bound to that
 * digest. The memory file and the loop device live in the TEE's kernel
 * (sim: the host's, which sees everything anyway). See docs/images.md. */
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ward/agent-volume.h"
#include "ward/agent.h"
#include "ward/cleanup.h"
#include "ward/crypto.h"
#include "ward/ext4img.h"
#include "ward/file.h"
#include "ward/log.h"

/* The device number of loop n: from sysfs when it is there (a kernel with
 * max_part > 0 spaces the minors), else major 7, minor n. */
static dev_t loop_devnum(int n)
{
	char path[64], buf[32];
	unsigned maj, min;
	ssize_t got;
	int fd;

	snprintf(path, sizeof(path), "/sys/devices/virtual/block/loop%d/dev", n);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		got = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (got > 0) {
			buf[got] = 0;
			if (sscanf(buf, "%u:%u", &maj, &min) == 2)
				return makedev(maj, min);
		}
	}
	return makedev(7, (unsigned)n);
}

/* Attach backing_fd to a free loop device (auto-cleared on its last
 * close or unmount); *ret_fd is the open device, path its node (made here,
 * and *made set, when the runtime's /dev lacks it). */
static int loop_attach(int backing_fd, char *path, size_t size, bool *made, int *ret_fd,
		       struct ward_err *err)
{
	WARD_AUTOCLOSE int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	struct loop_config lc = {.fd = (uint32_t)backing_fd, .block_size = 4096};
	int r = 0;

	if (ctl < 0)
		return ward_err_errno(err, -errno,
				      "open /dev/loop-control (the ext4 root needs a loop device: "
				      "the runtime must provide c 10:237 and allow b 7:*)");
	lc.info.lo_flags = LO_FLAGS_AUTOCLEAR;
	snprintf((char *)lc.info.lo_file_name, sizeof(lc.info.lo_file_name), "ward-root");
	for (int attempt = 0; attempt < 16; attempt++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);
		int fd;

		if (n < 0)
			return ward_err_errno(err, -errno, "no free loop device");
		snprintf(path, size, "/dev/loop%d", n);
		*made = false;
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT) {
			if (mknod(path, S_IFBLK | 0600, loop_devnum(n)) < 0)
				return ward_err_errno(err, -errno, "mknod %s", path);
			*made = true;
			fd = open(path, O_RDWR | O_CLOEXEC);
		}
		if (fd < 0) {
			r = ward_err_errno(err, -errno, "open %s", path);
			if (*made)
				(void)unlink(path);
			return r;
		}
		if (ioctl(fd, LOOP_CONFIGURE, &lc) == 0) {
			*ret_fd = fd;
			return 0;
		}
		r = -errno;
		close(fd);
		if (*made)
			(void)unlink(path);
		if (r != -EBUSY) /* EBUSY: another process took it first; try the next */
			break;
	}
	return ward_err_errno(err, r, "attach the root image to a loop device");
}

int ward_agent_rootfs_ext4_mount(const char *ward_dir, const struct ward_agent_rootfs *rf,
				 const struct ward_agent_keysource *keys, const char *dir,
				 struct ward_err *err)
{
	struct ward_layer_key key;
	WARD_AUTOCLOSE int img = -1, mem = -1, loop = -1;
	char path[WARD_PATH_MAX], dev[64];
	uint64_t fs_size = 0;
	bool made = false;
	int r;

	WARD_CLEANUP_ERASE(key);
	if (!rf->ext4)
		return ward_err_set(err, -WARD_E_USAGE, "the image has no ext4 root");
	r = ward_agent_rootfs_key(rf, keys, &key, err);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/%s", strcmp(ward_dir, "/") ? ward_dir : "", rf->dir);
	img = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (img < 0)
		return ward_err_errno(err, -errno, "root image %s", path);
	mem = memfd_create("ward-root", MFD_CLOEXEC);
	if (mem < 0)
		return ward_err_errno(err, -errno, "root image: memory file");
	ward_trace("ward-init", "root image: unseal start");
	r = ward_ext4img_unseal(img, rf->root, key.symkey, mem, 2, &fs_size, err);
	ward_trace("ward-init", "root image: unsealed");
	ward_wipe(&key, sizeof(key));
	if (r < 0)
		return ward_err_prefix(err, "root image %s", rf->dir);
	if (fs_size != rf->size)
		return ward_err_set(err, -WARD_E_VERIFY,
				    "root image: filesystem of %llu bytes, the image says %llu",
				    (unsigned long long)fs_size, (unsigned long long)rf->size);
	r = loop_attach(mem, dev, sizeof(dev), &made, &loop, err);
	if (r < 0)
		return r;
	/* discard: blocks the app frees go back to memory (the loop device
	 * punches holes in the memory file); noinit_itable: never write the
	 * unused inode tables (they read as zeros already) */
	ward_trace("ward-init", "root image: loop attached");
	if (mount(dev, dir, "ext4", MS_NODEV, "noinit_itable,discard") < 0)
		r = ward_err_errno(err, -errno, "mount the root image (ext4 on %s) at %s", dev, dir);
	ward_trace("ward-init", "root image: mounted");
	if (made)
		(void)unlink(dev);
	/* the app gets this /dev: no loop control for it (its filter also
	 * refuses block device nodes) */
	(void)unlink("/dev/loop-control");
	return r;
}
