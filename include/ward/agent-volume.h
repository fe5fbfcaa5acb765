/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* ward-init's protected volumes (docs/volumes.md): the freshness registry
 * over the coordinator's volume endpoint (GET/PUT
 * /ward/v1/volume/<workload>/<volume> under the attested KBS session),
 * and opening a volume with it (creating it when the backing directory is
 * empty, honouring a user-approved rollback acceptance, reporting a
 * refused rollback to the coordinator's audit log). */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ward/agent.h"
#include "ward/compiler.h"
#include "ward/error.h"
#include "ward/vol.h"

struct ward_agent_volreg;

/* A registry for workload/volume over transport t with the attested
 * session s (borrowed; both must outlive the registry). If ev is given, an
 * expired session is renewed by attesting again (the volume outlives the
 * 5-minute token). */
WARD_PUBLIC int ward_agent_volreg_new(const struct ward_kbs_transport *t,
				      const struct ward_kbs_evidence_source *ev,
				      struct ward_kbs_session *s, const char *workload,
				      const char *volume, struct ward_agent_volreg **ret,
				      struct ward_err *err);
WARD_PUBLIC struct ward_agent_volreg *ward_agent_volreg_free(struct ward_agent_volreg *r);
static inline void ward_agent_volreg_freep(struct ward_agent_volreg **r)
{
	ward_agent_volreg_free(*r);
}
/* The struct ward_vol_registry view (borrowed from r). */
WARD_PUBLIC const struct ward_vol_registry *ward_agent_volreg_registry(struct ward_agent_volreg *r);

/* Open the volume in backing_dir with key and registry reg: create it
 * (version 1, registered) if backing_dir is empty; if the on-disk state is
 * older than the registered one, open it only when the coordinator holds a
 * user's acceptance of exactly that (version, root hash) — the volume then
 * continues above the registered version — else offer the old state to the
 * coordinator (refused there and audited) and fail with -WARD_E_POLICY.
 * *ret_io must outlive *ret_vol (free the volume first). */
WARD_PUBLIC int ward_agent_volume_open(const char *backing_dir,
				       const uint8_t key[WARD_VOL_KEY_SIZE],
				       struct ward_agent_volreg *reg, uint32_t commit_interval_ms,
				       struct ward_vol **ret_vol, struct ward_vol_io **ret_io,
				       struct ward_err *err);

/* Fork a FUSE server process running child(ctx, ready_fd); the child
 * writes one NUL byte to ready_fd once its mount is live, or an error
 * message, and returns its exit status. Returns 0 with *ret_pid once the
 * mount is live; otherwise reaps the child and fails with code and the
 * child's message (or "the WHAT exited before the mount was live"). */
WARD_PUBLIC int ward_agent_server_spawn(const char *what, int (*child)(void *ctx, int ready_fd),
					void *ctx, int code, pid_t *ret_pid,
					struct ward_err *err);

/* Serve the volume in backing_dir at mountpoint (FUSE, allow_other) from a
 * child process of the caller (ward-init, PID 1), with the registry reg:
 * returns once the mount is live, or with the child's error (e.g. a
 * refused rollback). The child commits every commit_interval_ms, on fsync
 * and when unmounted or sent SIGTERM. *ret_pid is the server. */
WARD_PUBLIC int ward_agent_volume_serve(const char *backing_dir, const char *mountpoint,
					const uint8_t key[WARD_VOL_KEY_SIZE],
					struct ward_agent_volreg *reg, uint32_t commit_interval_ms,
					pid_t *ret_pid, struct ward_err *err);

/* After the app exited: unmount mountpoint (the path as the caller sees it
 * now; the server then commits and exits — if the mount is busy it is
 * detached and the server sent SIGTERM), and wait for it.
 * Fails if the server did not exit cleanly (its last commit failed). */
WARD_PUBLIC int ward_agent_volume_stop(const char *mountpoint, pid_t pid, struct ward_err *err);

/* ---- the app's root as a read-only protected volume -------------------
 * (ward convert --rootfs volume; docs/images.md). */

/* Mount the image's root volume for the app: get the volume key from keys
 * (the volume as a pseudo-layer whose encrypted and plaintext digests are
 * rf->root; the key's bound digest must equal rf->root), then in scratch
 * (an empty private tmpfs the caller mounted) serve the volume in
 * ward_dir/rf->dir read-only over FUSE at scratch/lower from a child
 * process — which opens it only if its volume id and root hash (SHA-256
 * of the metadata file as read, before it is decrypted) equal rf's — and
 * make scratch/root an overlay of it with a writable tmpfs upper layer
 * (scratch/upper), the app's root. *ret_root (size bytes) receives the
 * path of that root, *ret_pid the server. Returns 0 once the mount is
 * live, or the server's error (e.g. -WARD_E_VERIFY for a substituted
 * volume). */
WARD_PUBLIC int ward_agent_rootfs_volume_mount(const char *ward_dir,
					       const struct ward_agent_rootfs *rf,
					       const struct ward_agent_keysource *keys,
					       const char *scratch, char *ret_root, size_t size,
					       pid_t *ret_pid, struct ward_err *err);

/* The key of the image's root (volume or ext4 image) from the key source,
 * as for a layer: the pseudo-layer is named by rf->root, and a key bound
 * to any other root is refused (-WARD_E_VERIFY). */
WARD_PUBLIC int ward_agent_rootfs_key(const struct ward_agent_rootfs *rf,
				      const struct ward_agent_keysource *keys,
				      struct ward_layer_key *key, struct ward_err *err);

/* --rootfs ext4: decrypt the image ward_dir/rf->dir (UNTRUSTED host bytes;
 * header digest rf->root, every chunk's tag) into a private memory file
 * and mount it read-write as ext4 at dir through a loop device (detached
 * automatically when unmounted). Nothing is mounted unless every chunk
 * verified. Needs /dev/loop-control (and CAP_MKNOD for the loop node if
 * the runtime did not create it). */
WARD_PUBLIC int ward_agent_rootfs_ext4_mount(const char *ward_dir,
					     const struct ward_agent_rootfs *rf,
					     const struct ward_agent_keysource *keys,
					     const char *dir, struct ward_err *err);
