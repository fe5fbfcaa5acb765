/* SPDX-License-Identifier: Apache-2.0 */
/* The app's root as a read-only protected volume (ward convert --rootfs
 * volume). Instead of decrypting and unpacking every layer at every start,
 * ward-init serves the image's volume over FUSE from a child process and
 * puts a writable tmpfs over it (overlayfs): only the blocks the app reads
 * are decrypted and checked, so the start no longer scales with the image.
 *
 * Trust: the backing files come from the host (UNTRUSTED). The volume key
 * comes from the key source (the coordinator after attestation), bound to
 * the expected root hash; the server opens the volume only if its volume
 * id and root hash (SHA-256 of the metadata file as read, which also
 * authenticates under the key) equal the ones in the measured
 * /.ward/config.json, and every block it serves is checked against the
 * metadata (a changed block reads as EIO). See docs/images.md. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ward/agent-volume.h"
#include "ward/agent.h"
#include "ward/cleanup.h"
#include "ward/crypto.h"
#include "ward/encoding.h"
#include "ward/file.h"
#include "ward/log.h"
#include "ward/vol.h"

struct ready_ctx {
	int fd;
};

/* The mount is live: serving needs no privilege (the FUSE device and the
 * backing directory are open; its files are readable by root without
 * capabilities), so before the first request the server takes the app's
 * seccomp filter (while it still holds CAP_SYS_ADMIN, which lets it install
 * one without no_new_privs) and drops every capability. A bug reachable
 * through FUSE requests then gains the app nothing it did not have. */
static void serve_ready(void *ctx)
{
	struct ready_ctx *rc = ctx;
	struct ward_agent_ids root = {0};
	struct ward_err err = WARD_ERR_INIT;

	if (ward_agent_seccomp_install(&err) < 0 || ward_agent_drop_privileges(&root, 0, &err) < 0) {
		if (rc->fd >= 0)
			(void)!write(rc->fd, err.msg, strlen(err.msg));
		_exit(1);
	}
	if (rc->fd >= 0) {
		(void)!write(rc->fd, "", 1); /* one NUL byte: live */
		close(rc->fd);
		rc->fd = -1;
	}
}

/* Open the volume read-only and refuse it unless it is the expected one. */
static int open_expected(const char *backing, const struct ward_agent_rootfs *rf,
			 const uint8_t key[WARD_VOL_KEY_SIZE], struct ward_vol_io **ret_io,
			 struct ward_vol **ret_vol, struct ward_err *err)
{
	WARD_CLEANUP(ward_vol_io_posix_freep) struct ward_vol_io *io = NULL;
	WARD_CLEANUP(ward_vol_freep) struct ward_vol *vol = NULL;
	struct ward_vol_opts vo = {0};
	uint8_t id[WARD_VOL_ID_SIZE], root[WARD_VOL_ROOT_SIZE];
	char hex[2 * WARD_VOL_ROOT_SIZE + 1], got[80];
	uint64_t version;
	int r;

	r = ward_vol_io_posix(backing, &io, err);
	if (r < 0)
		return ward_err_prefix(err, "root volume");
	vo.io = io;
	vo.crypto = ward_vol_crypto_default();
	vo.read_only = true;
	r = ward_vol_open(&vo, key, &vol, err);
	if (r < 0)
		return ward_err_prefix(err, "root volume");
	ward_vol_state(vol, id, &version, root);
	if (!ward_ct_eq(id, rf->volume_id, sizeof(id)))
		return ward_err_set(err, -WARD_E_VERIFY,
				    "root volume: volume id differs from the image's: another "
				    "volume was substituted");
	ward_hex_encode(root, sizeof(root), hex);
	snprintf(got, sizeof(got), "sha256:%s", hex);
	if (!ward_ct_eq(got, rf->root, strlen(got) + 1))
		return ward_err_set(err, -WARD_E_VERIFY,
				    "root volume: root hash %s differs from the image's %s: another "
				    "volume state was substituted",
				    got, rf->root);
	*ret_io = WARD_TAKE_PTR(io);
	*ret_vol = WARD_TAKE_PTR(vol);
	return 0;
}

/* The server process: serve until unmounted or killed (nothing to commit). */
static int serve_child(const char *backing, const struct ward_agent_rootfs *rf,
		       const uint8_t key[WARD_VOL_KEY_SIZE], const char *mountpoint, int fd)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_vol *vol = NULL;
	struct ward_vol_io *io = NULL;
	struct ready_ctx rc = {fd};
	struct ward_vol_fuse_opts fo = {.allow_other = true,
					.ready = serve_ready,
					.ready_ctx = &rc,
					.read_only = true};
	sigset_t all;
	int r;

	sigemptyset(&all);
	sigaddset(&all, SIGTERM);
	sigaddset(&all, SIGINT);
	sigaddset(&all, SIGHUP);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
	(void)prctl(PR_SET_NAME, "ward-rootfs", 0, 0, 0);
	r = open_expected(backing, rf, key, &io, &vol, &err);
	if (r >= 0) {
		r = ward_vol_fuse_serve(vol, mountpoint, &fo, &err);
		ward_vol_free(vol);
		ward_vol_io_posix_free(io);
	}
	if (r < 0) {
		if (rc.fd >= 0) {
			(void)!write(rc.fd, err.msg, strlen(err.msg));
			close(rc.fd);
		} else {
			ward_error("root volume: %s", err.msg);
		}
		return 1;
	}
	return 0;
}

struct serve_args {
	const char *backing;
	const struct ward_agent_rootfs *rf;
	const uint8_t *key;
	const char *mountpoint;
};

static int serve_trampoline(void *ctx, int ready_fd)
{
	struct serve_args *a = ctx;

	return serve_child(a->backing, a->rf, a->key, a->mountpoint, ready_fd);
}

static int serve(const char *backing, const struct ward_agent_rootfs *rf,
		 const uint8_t key[WARD_VOL_KEY_SIZE], const char *mountpoint, pid_t *ret_pid,
		 struct ward_err *err)
{
	struct serve_args a = {backing, rf, key, mountpoint};

	return ward_agent_server_spawn("root volume server", serve_trampoline, &a, -WARD_E_VERIFY,
				       ret_pid, err);
}

int ward_agent_rootfs_key(const struct ward_agent_rootfs *rf,
			  const struct ward_agent_keysource *keys, struct ward_layer_key *key,
			  struct ward_err *err)
{
	struct ward_agent_layer pseudo = {0};
	const char *what = rf->ext4 ? "root image" : "root volume";
	int r;

	snprintf(pseudo.blob, sizeof(pseudo.blob), "%s", rf->dir);
	snprintf(pseudo.encrypted_digest, sizeof(pseudo.encrypted_digest), "%s", rf->root);
	snprintf(pseudo.plain_digest, sizeof(pseudo.plain_digest), "%s", rf->root);
	pseudo.keys_jwe = rf->keys_jwe;
	r = keys->layer_key(keys->ctx, &pseudo, key, err);
	if (r < 0)
		return ward_err_prefix(err, "%s key (%s)", what, keys->name);
	if (strcmp(key->digest, rf->root) != 0)
		return ward_err_set(err, -WARD_E_VERIFY, "%s key is bound to %s, not to the image's root %s",
				    what, key->digest, rf->root);
	return 0;
}

int ward_agent_rootfs_volume_mount(const char *ward_dir, const struct ward_agent_rootfs *rf,
				   const struct ward_agent_keysource *keys, const char *scratch,
				   char *ret_root, size_t size, pid_t *ret_pid,
				   struct ward_err *err)
{
	struct ward_layer_key key;
	char backing[WARD_PATH_MAX], lower[WARD_PATH_MAX], upper[WARD_PATH_MAX],
		work[WARD_PATH_MAX], root[WARD_PATH_MAX], opts[4 * WARD_PATH_MAX];
	pid_t pid = 0;
	int r;

	WARD_CLEANUP_ERASE(key);
	if (!rf->volume)
		return ward_err_set(err, -WARD_E_USAGE, "the image has no root volume");
	r = ward_agent_rootfs_key(rf, keys, &key, err);
	if (r < 0)
		return r;

	snprintf(backing, sizeof(backing), "%s/%s", strcmp(ward_dir, "/") ? ward_dir : "",
		 rf->dir);
	snprintf(lower, sizeof(lower), "%s/lower", scratch);
	snprintf(upper, sizeof(upper), "%s/upper", scratch);
	snprintf(work, sizeof(work), "%s/work", scratch);
	snprintf(root, sizeof(root), "%s/root", scratch);
	if (strlen(root) >= size)
		return ward_err_set(err, -ENAMETOOLONG, "root path too long");
	for (const char *const *d = (const char *const[]){lower, upper, work, root, NULL}; *d;
	     d++)
		if (mkdir(*d, 0755) < 0)
			return ward_err_errno(err, -errno, "mkdir %s", *d);
	r = serve(backing, rf, key.symkey, lower, &pid, err);
	if (r < 0)
		return r;
	/* the app writes into memory above the read-only image, as into the
	 * unpacked tmpfs of the layered layout */
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
	if (mount("ward-root", root, "overlay", MS_NODEV, opts) < 0) {
		r = ward_err_errno(err, -errno, "overlay over the root volume at %s", root);
		(void)umount2(lower, MNT_DETACH);
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		return r;
	}
	snprintf(ret_root, size, "%s", root);
	*ret_pid = pid;
	return 0;
}
