/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/* Protected volumes: encrypted, integrity-checked, rollback-protected files
 * served from inside the TEE over a backing directory on untrusted storage.
 * The on-disk format and the commit/freshness protocol are described in
 * docs/volumes.md.
 *
 * The engine does all I/O through struct ward_vol_io (backing-store ops) and
 * all cryptography through struct ward_vol_crypto, so it is unit-tested and
 * fuzzed without FUSE or a disk. ward_vol_io_posix() and
 * ward_vol_crypto_default() are the real implementations; the FUSE front end
 * (ward_vol_fuse_serve) drives the inode-level operations below.
 *
 * Filesystem operations return 0 (or a count) or a negative errno; an
 * integrity failure is -EIO and is reported once through the audit hook. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ward/compiler.h"
#include "ward/error.h"

#define WARD_VOL_KEY_SIZE 32
#define WARD_VOL_ID_SIZE 16
#define WARD_VOL_ROOT_SIZE 32  /* SHA-256 of the committed metadata file */
#define WARD_VOL_NONCE_SIZE 12 /* AES-256-GCM */
#define WARD_VOL_TAG_SIZE 16
#define WARD_VOL_ROOT_INO 1
#define WARD_VOL_NAME_MAX 255
#define WARD_VOL_SYMLINK_MAX 4095
#define WARD_VOL_BLOCK_MIN 4096
#define WARD_VOL_BLOCK_MAX (1u << 20)
#define WARD_VOL_BLOCK_DEFAULT 4096
#define WARD_VOL_META_MAX (512u << 20) /* largest metadata file accepted */
#define WARD_VOL_FILE_MAX (1ull << 40) /* largest file size (1 TiB) */
#define WARD_VOL_INODES_MAX (1u << 24)

/* Backing-file names used in the backing directory. */
#define WARD_VOL_HEADER_NAME "ward-volume"
#define WARD_VOL_META_NAME "meta"
#define WARD_VOL_META_TMP_NAME "meta.new"

/* ---- backing store ---------------------------------------------------- */

enum {
	WARD_VOL_IO_CREATE = 1, /* create the file if missing */
	WARD_VOL_IO_EXCL = 2,   /* with CREATE: fail with -EEXIST if present */
	WARD_VOL_IO_RDONLY = 4, /* reading only */
};

/* Backing-store operations on one flat directory. Names are plain file
 * names chosen by the engine. Handles are small non-negative integers.
 * Every op returns 0 (or the handle) or a negative errno. UNTRUSTED: the
 * contents returned by pread/list come from the host. */
struct ward_vol_io {
	void *ctx;
	int (*open)(void *ctx, const char *name, int flags);
	int (*close)(void *ctx, int h);
	/* Read up to size bytes at off; *ret_n < size only at end of file. */
	int (*pread)(void *ctx, int h, void *buf, size_t size, uint64_t off, size_t *ret_n);
	int (*pwrite)(void *ctx, int h, const void *buf, size_t size, uint64_t off);
	int (*truncate)(void *ctx, int h, uint64_t size);
	int (*fsize)(void *ctx, int h, uint64_t *ret_size);
	/* Make the file's data durable (fdatasync). */
	int (*sync)(void *ctx, int h);
	/* Atomically replace to with from. */
	int (*rename)(void *ctx, const char *from, const char *to);
	int (*unlink)(void *ctx, const char *name);
	/* Make the directory's names (creates, renames, unlinks) durable. */
	int (*sync_dir)(void *ctx);
	/* Optional (may be NULL): make every file's data durable at once
	 * (syncfs). Used when a commit has many files to sync. */
	int (*sync_all)(void *ctx);
	/* Call cb for each name in the directory ("." and ".." excluded); a
	 * non-zero return from cb stops the walk and is returned. */
	int (*list)(void *ctx, int (*cb)(void *cb_ctx, const char *name), void *cb_ctx);
};

/* POSIX backing store over the directory dir (opened O_DIRECTORY). *ret
 * is malloc'ed; free with ward_vol_io_posix_free(). */
WARD_PUBLIC int ward_vol_io_posix(const char *dir, struct ward_vol_io **ret, struct ward_err *err);
/* Close the directory and free; accepts NULL; returns NULL. */
WARD_PUBLIC struct ward_vol_io *ward_vol_io_posix_free(struct ward_vol_io *io);
static inline void ward_vol_io_posix_freep(struct ward_vol_io **io)
{
	ward_vol_io_posix_free(*io);
}

/* ---- cryptography ----------------------------------------------------- */

/* The primitives the engine needs. Returns 0 or a negative code; open
 * returns -WARD_E_VERIFY when the tag does not verify (pt is then
 * unspecified and must not be used). */
struct ward_vol_crypto {
	void *ctx;
	/* AES-256-GCM with a 12-byte nonce and a 16-byte tag. */
	int (*seal)(void *ctx, const uint8_t key[32], const uint8_t nonce[12], const void *aad,
		    size_t aad_size, const void *pt, size_t size, uint8_t *ct, uint8_t tag[16]);
	int (*open)(void *ctx, const uint8_t key[32], const uint8_t nonce[12], const void *aad,
		    size_t aad_size, const void *ct, size_t size, const uint8_t tag[16],
		    uint8_t *pt);
	/* HKDF-SHA-256(ikm = key, salt = none, info = label || info) -> 32 bytes. */
	int (*kdf)(void *ctx, const uint8_t key[32], const char *label, const void *info,
		   size_t info_size, uint8_t out[32]);
	/* SHA-256. */
	int (*hash)(void *ctx, const void *data, size_t size, uint8_t out[32]);
	/* CSPRNG. */
	int (*random)(void *ctx, void *buf, size_t size);
};

/* The real primitives (lib/crypto: OpenSSL). Static table. */
WARD_PUBLIC const struct ward_vol_crypto *ward_vol_crypto_default(void);

/* ---- freshness registry ----------------------------------------------- */

/* Where a volume's latest committed (version, root hash) is registered.
 * The coordinator's authenticated endpoint implements it in production;
 * ward_vol_registry_file() is a development stand-in. */
struct ward_vol_registry {
	void *ctx;
	/* -WARD_E_NOT_FOUND if the volume was never registered. */
	int (*get)(void *ctx, const uint8_t id[WARD_VOL_ID_SIZE], uint64_t *ret_version,
		   uint8_t ret_root[WARD_VOL_ROOT_SIZE], struct ward_err *err);
	int (*put)(void *ctx, const uint8_t id[WARD_VOL_ID_SIZE], uint64_t version,
		   const uint8_t root[WARD_VOL_ROOT_SIZE], struct ward_err *err);
};

/* DEVELOPMENT STAND-IN: a registry kept in the file path (which must lie
 * outside the backing directory), replaced atomically on each put. A host
 * that rolls this file back together with the volume defeats it; only the
 * coordinator endpoint gives real freshness. *ret is malloc'ed; free with
 * ward_vol_registry_file_free(). */
WARD_PUBLIC int ward_vol_registry_file(const char *path, struct ward_vol_registry **ret,
				       struct ward_err *err);
WARD_PUBLIC struct ward_vol_registry *ward_vol_registry_file_free(struct ward_vol_registry *r);
static inline void ward_vol_registry_file_freep(struct ward_vol_registry **r)
{
	ward_vol_registry_file_free(*r);
}

/* Registry file format (one line per volume, "<32 hex id> <version>
 * <64 hex root>\n"). Parse: on success *ret_found says whether id is
 * listed and the version/root are filled. Exposed for the fuzz target. */
WARD_PUBLIC int ward_vol_registry_parse(const uint8_t *buf, size_t size,
					const uint8_t id[WARD_VOL_ID_SIZE], bool *ret_found,
					uint64_t *ret_version, uint8_t ret_root[WARD_VOL_ROOT_SIZE],
					struct ward_err *err);

/* ---- volume lifecycle ------------------------------------------------- */

/* Audit hook: event is a short static name ("integrity", "rollback",
 * "foreign-file", "commit", "rollback-accepted"...), detail a human text. */
typedef void (*ward_vol_audit_fn)(void *ctx, const char *event, const char *detail);

struct ward_vol_opts {
	const struct ward_vol_io *io;             /* borrowed, required */
	const struct ward_vol_crypto *crypto;     /* borrowed, required */
	const struct ward_vol_registry *registry; /* borrowed; NULL: no freshness check */
	/* Commit dirty state at most this long after a change (0: only on
	 * ward_vol_commit / fsync). A background thread does it. */
	uint32_t commit_interval_ms;
	/* Accept an on-disk state older than the registered one and register
	 * it (rollback). Audit-logged. */
	bool accept_rollback_insecure;
	bool read_only; /* check: never write or clean up */
	ward_vol_audit_fn audit;  /* NULL: log a warning through ward_log */
	void *audit_ctx;
};

struct ward_vol; /* an open volume */

/* Create an empty volume (version 1) in the empty backing store io with
 * the given key and block size (a power of two within
 * WARD_VOL_BLOCK_MIN..MAX). If registry is given, registers version 1.
 * ret_id (optional) receives the new volume id. */
WARD_PUBLIC int ward_vol_create(const struct ward_vol_io *io, const struct ward_vol_crypto *crypto,
				const struct ward_vol_registry *registry,
				const uint8_t key[WARD_VOL_KEY_SIZE], uint32_t block_size,
				uint8_t ret_id[WARD_VOL_ID_SIZE], struct ward_err *err);

/* Open a volume: verify the header and key, decrypt and verify the
 * metadata, check freshness against opts->registry (older than registered:
 * -WARD_E_POLICY "rollback detected"; newer: accepted and registered), and
 * remove leftovers of an interrupted commit (unless read_only). *ret owned
 * by the caller: ward_vol_close() or ward_vol_free(). */
WARD_PUBLIC int ward_vol_open(const struct ward_vol_opts *opts, const uint8_t key[WARD_VOL_KEY_SIZE],
			      struct ward_vol **ret, struct ward_err *err);

/* Commit: make every change so far durable, as one atomic step, and
 * register the new (version, root). No-op when nothing changed. */
WARD_PUBLIC int ward_vol_commit(struct ward_vol *vol, struct ward_err *err);

/* Commit (if writable), stop the commit thread and free. */
WARD_PUBLIC int ward_vol_close(struct ward_vol *vol, struct ward_err *err);

/* Free without committing (what a crash leaves). Accepts NULL; returns NULL. */
WARD_PUBLIC struct ward_vol *ward_vol_free(struct ward_vol *vol);
static inline void ward_vol_freep(struct ward_vol **v)
{
	ward_vol_free(*v);
}

/* Committed version and root hash, and the volume id. */
WARD_PUBLIC void ward_vol_state(struct ward_vol *vol, uint8_t ret_id[WARD_VOL_ID_SIZE],
				uint64_t *ret_version, uint8_t ret_root[WARD_VOL_ROOT_SIZE]);

struct ward_vol_check_result {
	uint64_t files, dirs, symlinks, blocks, bytes;
	uint64_t version;
	uint8_t id[WARD_VOL_ID_SIZE];
	uint8_t root[WARD_VOL_ROOT_SIZE];
};

/* Verify the whole volume offline: header, key, metadata, freshness
 * against opts->registry (if any), every block of every file, and that the
 * backing directory holds nothing unreferenced. Read-only. Returns 0, or
 * the first failure with err naming the file and block. */
WARD_PUBLIC int ward_vol_check(const struct ward_vol_opts *opts,
			       const uint8_t key[WARD_VOL_KEY_SIZE],
			       struct ward_vol_check_result *ret, struct ward_err *err);

struct ward_vol_info {
	uint32_t format;
	uint32_t block_size;
	uint8_t id[WARD_VOL_ID_SIZE];
	uint64_t created; /* seconds since the epoch (as claimed by the header) */
	uint64_t version; /* from the unauthenticated metadata header */
	uint64_t meta_size;
	uint64_t blobs;       /* data files in the backing directory */
	uint64_t blob_bytes;  /* their total size */
	uint64_t other_files; /* names that are not part of the format */
};

/* Describe a volume without the key (nothing here is authenticated). */
WARD_PUBLIC int ward_vol_inspect(const struct ward_vol_io *io, struct ward_vol_info *ret,
				 struct ward_err *err);

/* ---- on-disk parsers (exposed for fuzzing) ---------------------------- */

struct ward_vol_header {
	uint32_t format;
	uint32_t block_size;
	uint8_t id[WARD_VOL_ID_SIZE];
	uint64_t created;
	uint8_t key_check[32];
};
#define WARD_VOL_HEADER_SIZE 72

WARD_PUBLIC int ward_vol_header_parse(const uint8_t *buf, size_t size,
				      struct ward_vol_header *ret, struct ward_err *err);

struct ward_vol_meta_header {
	uint32_t format;
	uint32_t block_size;
	uint8_t id[WARD_VOL_ID_SIZE];
	uint64_t version;
	uint64_t plain_size;
	uint8_t nonce[WARD_VOL_NONCE_SIZE];
};
#define WARD_VOL_META_HEADER_SIZE 60

/* The plaintext envelope of the metadata file: header, then ciphertext of
 * plain_size bytes, then the tag. *ret_ct / *ret_tag point into buf. */
WARD_PUBLIC int ward_vol_meta_header_parse(const uint8_t *buf, size_t size,
					   struct ward_vol_meta_header *ret, const uint8_t **ret_ct,
					   const uint8_t **ret_tag, struct ward_err *err);

/* Parse and validate decrypted namespace bytes (inode table and
 * directories) for a volume with block_size; on success returns 0 and
 * frees everything (validation only; the engine keeps its own copy). */
WARD_PUBLIC int ward_vol_namespace_validate(const uint8_t *buf, size_t size, uint32_t block_size,
					    struct ward_err *err);

/* ---- inode-level filesystem operations -------------------------------- */

struct ward_vol_stat {
	uint64_t ino;
	uint32_t mode; /* S_IFREG/S_IFDIR/S_IFLNK | permission bits */
	uint32_t nlink;
	uint32_t uid, gid;
	uint64_t size;
	uint64_t blocks; /* 512-byte units */
	int64_t atime_ns, mtime_ns, ctime_ns;
};

enum {
	WARD_VOL_SET_MODE = 1,
	WARD_VOL_SET_UID = 2,
	WARD_VOL_SET_GID = 4,
	WARD_VOL_SET_SIZE = 8,
	WARD_VOL_SET_ATIME = 16,
	WARD_VOL_SET_MTIME = 32,
};

struct ward_vol_setattr {
	unsigned mask;
	uint32_t mode, uid, gid;
	uint64_t size;
	int64_t atime_ns, mtime_ns;
};

WARD_PUBLIC int ward_vol_getattr(struct ward_vol *vol, uint64_t ino, struct ward_vol_stat *ret);
WARD_PUBLIC int ward_vol_setattr(struct ward_vol *vol, uint64_t ino,
				 const struct ward_vol_setattr *sa, struct ward_vol_stat *ret);
WARD_PUBLIC int ward_vol_lookup(struct ward_vol *vol, uint64_t dir, const char *name,
				struct ward_vol_stat *ret);
/* Create a regular file (S_ISREG(mode)), directory or symlink. */
WARD_PUBLIC int ward_vol_create_file(struct ward_vol *vol, uint64_t dir, const char *name,
				     uint32_t mode, uint32_t uid, uint32_t gid,
				     struct ward_vol_stat *ret);
WARD_PUBLIC int ward_vol_mkdir(struct ward_vol *vol, uint64_t dir, const char *name, uint32_t mode,
			       uint32_t uid, uint32_t gid, struct ward_vol_stat *ret);
WARD_PUBLIC int ward_vol_symlink(struct ward_vol *vol, uint64_t dir, const char *name,
				 const char *target, uint32_t uid, uint32_t gid,
				 struct ward_vol_stat *ret);
/* Copy the symlink target (NUL-terminated) into buf; returns its length. */
WARD_PUBLIC int ward_vol_readlink(struct ward_vol *vol, uint64_t ino, char *buf, size_t size);
WARD_PUBLIC int ward_vol_link(struct ward_vol *vol, uint64_t ino, uint64_t dir, const char *name,
			      struct ward_vol_stat *ret);
WARD_PUBLIC int ward_vol_unlink(struct ward_vol *vol, uint64_t dir, const char *name);
WARD_PUBLIC int ward_vol_rmdir(struct ward_vol *vol, uint64_t dir, const char *name);
/* flags: 0 or RENAME_NOREPLACE (RENAME_EXCHANGE: -EINVAL). */
WARD_PUBLIC int ward_vol_rename(struct ward_vol *vol, uint64_t dir, const char *name,
				uint64_t newdir, const char *newname, unsigned flags);
/* Returns the number of bytes read (short only at end of file). */
WARD_PUBLIC ssize_t ward_vol_read(struct ward_vol *vol, uint64_t ino, void *buf, size_t size,
				  uint64_t off);
/* Returns size, or a negative errno (nothing partial is reported). */
WARD_PUBLIC ssize_t ward_vol_write(struct ward_vol *vol, uint64_t ino, const void *buf,
				   size_t size, uint64_t off);
/* Open/close accounting: an unlinked file stays readable while open. */
WARD_PUBLIC int ward_vol_open_ino(struct ward_vol *vol, uint64_t ino);
WARD_PUBLIC void ward_vol_release_ino(struct ward_vol *vol, uint64_t ino);

/* Directory listing from offset off (0 = start; the entries "." and ".."
 * are not produced). cb gets each entry and the offset of the next; a
 * non-zero return stops the walk. */
typedef int (*ward_vol_dirent_fn)(void *ctx, const char *name, uint64_t ino, uint32_t mode,
				  uint64_t next_off);
WARD_PUBLIC int ward_vol_readdir(struct ward_vol *vol, uint64_t dir, uint64_t off,
				 ward_vol_dirent_fn cb, void *ctx);

/* Parent directory inode of dir (root is its own parent). */
WARD_PUBLIC int ward_vol_parent(struct ward_vol *vol, uint64_t dir, uint64_t *ret);

/* Resolve a '/'-separated path from the root (no symlinks followed). */
WARD_PUBLIC int ward_vol_resolve(struct ward_vol *vol, const char *path, uint64_t *ret_ino);

struct ward_vol_statfs {
	uint64_t files;
	uint64_t bytes;
	uint32_t block_size;
};
WARD_PUBLIC void ward_vol_statfs(struct ward_vol *vol, struct ward_vol_statfs *ret);

/* ---- FUSE front end --------------------------------------------------- */

struct ward_vol_fuse_opts {
	bool writeback_cache; /* kernel write-back caching (default on) */
	bool allow_other;     /* let other users in (the workload runs as any uid) */
	bool debug;
	unsigned max_threads; /* 0: libfuse default */
	/* Called once the mount is live (e.g. to print "ready"). */
	void (*ready)(void *ctx);
	void *ready_ctx;
	bool read_only; /* mount read-only ("ro"; for a volume opened read_only) */
};

/* Serve vol at mountpoint with libfuse3 until unmounted (fusermount3 -u)
 * or SIGINT/SIGTERM/SIGHUP, then commit. Returns 0 or a negative code. */
WARD_PUBLIC int ward_vol_fuse_serve(struct ward_vol *vol, const char *mountpoint,
				    const struct ward_vol_fuse_opts *opts, struct ward_err *err);
