/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The in-TEE agent (ward-init) as a library: read the wrapped image's
 * /.ward/config.json, obtain each layer's key from a key source, verify and
 * decrypt the layers (ocicrypt's AES-256-CTR + HMAC-SHA256), unpack them
 * into memory (tmpfs) with OCI layer semantics, set up the app's root,
 * drop privileges (user, capabilities, seccomp) and supervise the app as
 * PID 1. See docs/running.md.
 *
 * Everything that comes from the wrapped image or the host is UNTRUSTED:
 * the config, the encrypted blobs (copied into private memory before they
 * are checked), and every tar header. A layer is released to the unpacker
 * only after its HMAC and its encrypted digest verify; its plaintext
 * digests (compressed blob and diff_id) are checked too. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ward/compiler.h"
#include "ward/crypto.h"
#include "ward/error.h"
#include "ward/tee.h"

#define WARD_AGENT_CONFIG_MAX_SIZE (4u << 20)
#define WARD_AGENT_MAX_LAYERS 256
#define WARD_AGENT_LAYER_MAX_SIZE (4ull << 30) /* one encrypted blob */
#define WARD_AGENT_TAR_MAX_SIZE (16ull << 30)  /* one uncompressed layer */
#define WARD_AGENT_MAX_ENTRIES (4u << 20)      /* tar entries per layer */
#define WARD_AGENT_PAX_MAX_SIZE (1u << 20)     /* one pax extended header */
#define WARD_AGENT_XATTR_MAX_SIZE (64u << 10)  /* one xattr value */
#define WARD_DIGEST_STR_SIZE 72		       /* "sha256:" + 64 hex + NUL */

/* ---- tar unpacking with OCI layer semantics ---------------------------- */

struct ward_unpack_opts {
	bool no_chown;	      /* keep the caller's ownership (unit tests as non-root) */
	bool no_devices;      /* skip character and block devices */
	bool no_xattrs;	      /* skip SCHILY.xattr.* records */
	uint64_t max_entries; /* 0: WARD_AGENT_MAX_ENTRIES */
};

struct ward_unpack_stats {
	uint64_t entries;   /* members applied (files, dirs, links, nodes) */
	uint64_t whiteouts; /* .wh.<name> and opaque markers applied */
	uint64_t bytes;	    /* regular file bytes written */
};

/* Apply one uncompressed layer tar (ustar, pax, GNU long names) held in
 * memory to the directory rootfd: regular files, directories, symlinks,
 * hardlinks, devices and FIFOs with mode, ownership, mtime and xattrs;
 * whiteouts ".wh.<name>" delete <name> from lower layers, ".wh..wh..opq"
 * empties its directory of lower-layer content. Paths are resolved with
 * openat2(RESOLVE_IN_ROOT): absolute symlinks and ".." stay inside rootfd.
 * Member names with ".." components or that are not valid are refused.
 * stats may be NULL. On error the tree is partially written: the caller
 * discards it (it is a private tmpfs). */
WARD_PUBLIC int ward_unpack_tar(int rootfd, const uint8_t *tar, size_t size,
				const struct ward_unpack_opts *opts,
				struct ward_unpack_stats *stats, struct ward_err *err);

/* openat2(dirfd, path, flags|O_CLOEXEC|O_NOFOLLOW..., RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS): path is interpreted as inside dirfd, which acts
 * as "/" for absolute symlinks and "..". Returns an fd or a negative errno
 * (no err: callers decide what ENOENT means). */
WARD_PUBLIC int ward_open_in_root(int dirfd, const char *path, int flags, mode_t mode);

/* ---- the wrapped image's config (/.ward/config.json) -------------------- */

struct ward_agent_layer {
	char blob[128]; /* ".ward/layers/<hex>" (relative to /) */
	char encrypted_digest[WARD_DIGEST_STR_SIZE];
	char plain_digest[WARD_DIGEST_STR_SIZE]; /* compressed plaintext blob */
	char diff_id[WARD_DIGEST_STR_SIZE];	 /* uncompressed tar */
	char media_type[128];			 /* plain type; a "+encrypted" suffix is allowed */
	const char *pubopts;			 /* borrowed from json: base64 ocicrypt pubopts */
	const char *keys_jwe; /* borrowed, may be NULL: base64 JWEs, comma-separated */
	uint64_t size;	      /* plaintext blob size (0 unknown) */
};

/* --rootfs volume images: the root filesystem is a read-only protected
 * volume (lib/vol) whose backing files are in the ward layer. --rootfs
 * ext4 images: it is a sealed ext4 image (include/ward/ext4img.h) in the
 * ward layer. Neither: the root is built from the layers. */
struct ward_agent_rootfs {
	bool volume;
	bool ext4;
	char dir[128]; /* relative to /: volume: backing directory (".ward/rootfs");
			  ext4: the image file (".ward/rootfs/root.ext4") */
	char root[WARD_DIGEST_STR_SIZE]; /* "sha256:<hex>": volume: the expected root
					    hash; ext4: the image header's digest */
	uint8_t volume_id[16];		 /* volume: the expected volume id */
	uint64_t size;			 /* ext4: the filesystem size in bytes */
	const char *keys_jwe;		 /* borrowed, may be NULL: the volume key as layer JWEs */
};

struct ward_agent_config {
	json_t *json;		  /* owned: the whole document */
	const json_t *entrypoint; /* borrowed arrays of strings, or NULL */
	const json_t *cmd;
	const json_t *env;
	const char *user;		 /* borrowed, may be NULL ("" = root) */
	const char *working_dir;	 /* may be NULL */
	const char *stop_signal;	 /* may be NULL (SIGTERM) */
	const char *config_digest;	 /* original image config digest, may be NULL */
	struct ward_agent_layer *layers; /* owned */
	size_t layer_count;
	struct ward_agent_rootfs rootfs; /* rootfs.volume: no layers, a volume */
};

/* Parse /.ward/config.json (the format written by `ward convert` in
 * wrapped mode; docs/images.md). *ret owned by the caller. */
WARD_PUBLIC int ward_agent_config_parse(const void *buf, size_t size,
					struct ward_agent_config **ret, struct ward_err *err);
WARD_PUBLIC struct ward_agent_config *ward_agent_config_free(struct ward_agent_config *c);
static inline void ward_agent_config_freep(struct ward_agent_config **c)
{
	ward_agent_config_free(*c);
}

/* ---- layer keys ------------------------------------------------------- */

struct ward_layer_key {
	uint8_t symkey[32];
	uint8_t nonce[16];
	char digest[WARD_DIGEST_STR_SIZE]; /* plaintext blob digest bound to the key */
};

/* Where layer keys come from. The production source is the coordinator
 * (KBS resources released after attestation); the only other one is the
 * insecure key file used for development without a coordinator. */
struct ward_agent_keysource {
	const char *name;
	int (*layer_key)(void *ctx, const struct ward_agent_layer *layer,
			 struct ward_layer_key *ret, struct ward_err *err);
	void *ctx;
};

/* INSECURE: keys from a JSON file written on the host (`ward convert
 * --export-keys` format: {"version":1,"layers":{"<encrypted digest>":
 * {"symkey":b64,"nonce":b64,"digest":"sha256:..."}}}). The host knows them,
 * so nothing is confidential. *ret_ctx is a json_t* (json_decref). */
WARD_PUBLIC int ward_agent_insecure_keyfile_load(const void *buf, size_t size, json_t **ret_ctx,
						 struct ward_err *err);
/* Key source callback over the json_t* from ward_agent_insecure_keyfile_load. */
WARD_PUBLIC int ward_agent_insecure_keyfile_key(void *ctx, const struct ward_agent_layer *layer,
						struct ward_layer_key *ret, struct ward_err *err);

/* The ocicrypt key source: each layer's keys_jwe (base64 of a flattened
 * JSON JWE, as in the org.opencontainers.image.enc.keys.jwe annotation) is
 * decrypted with the first private key that opens it; its payload is
 * ocicrypt's private options {"symkey","digest","cipheroptions":{"nonce"}}.
 * In production the private key is a coordinator resource released after
 * attestation; keys are borrowed. */
struct ward_agent_jwe_keys {
	struct ward_pkey *const *keys;
	size_t count;
};
WARD_PUBLIC int ward_agent_jwe_layer_key(void *ctx /* struct ward_agent_jwe_keys */,
					 const struct ward_agent_layer *layer,
					 struct ward_layer_key *ret, struct ward_err *err);
/* Parse ocicrypt private options (JSON) into a key. */
WARD_PUBLIC int ward_agent_privopts_parse(const void *buf, size_t size, struct ward_layer_key *ret,
					  struct ward_err *err);

/* ---- the KBS client (Confidential Containers KBS protocol v0) -------------
 * ward-init's side of attestation to the coordinator: POST /kbs/v0/auth ->
 * nonce (+ kbs-session-id cookie); a fresh EC P-256 key pair generated
 * here; evidence whose report data is SHA-384 of the canonical JSON
 * {"nonce","tee-pubkey"} (zero-padded to 64 bytes); POST /kbs/v0/attest ->
 * token; GET /kbs/v0/resource/<repo>/<type>/<tag> -> a JWE to our key.
 * HTTP(S) is a function table so the flow is tested without a network;
 * the transport must authenticate the coordinator (pinned TLS identity)
 * before the first request. */

struct ward_kbs_transport {
	/* One request. cookie: "name=value" to send, or NULL; auth: bearer
	 * token, or NULL. *ret_body malloc'ed; *ret_set_cookie (optional,
	 * malloc'ed or NULL) is the "name=value" part of a Set-Cookie. */
	int (*request)(void *ctx, const char *method, const char *path, const char *cookie,
		       const char *bearer, const void *body, size_t body_size, int *ret_status,
		       uint8_t **ret_body, size_t *ret_body_size, char **ret_set_cookie,
		       struct ward_err *err);
	void *ctx;
};

/* Evidence for the TEE: a JSON object as the coordinator's verifier wants
 * it (sim/SNP: {"report": b64url, "cert_table": b64url}). */
struct ward_kbs_evidence_source {
	enum ward_tee_type tee;
	int (*collect)(void *ctx, const uint8_t report_data[64], json_t **ret,
		       struct ward_err *err);
	void *ctx;
};

/* The sim/SNP evidence source over ward_tee_sim_collect (ctx: the socket
 * path) or ward_tee_collect (ctx: struct ward_tee_opts *). */
WARD_PUBLIC int ward_kbs_sim_evidence(void *ctx, const uint8_t report_data[64], json_t **ret,
				      struct ward_err *err);
WARD_PUBLIC int ward_kbs_tee_evidence(void *ctx, const uint8_t report_data[64], json_t **ret,
				      struct ward_err *err);

struct ward_kbs_session {
	struct ward_pkey *key; /* owned: the TEE key (private) */
	char *cookie;	       /* owned */
	char *token;	       /* owned */
};
WARD_PUBLIC void ward_kbs_session_clear(struct ward_kbs_session *s);

/* The report data binding nonce and the public JWK. */
WARD_PUBLIC int ward_kbs_runtime_data_hash(const char *nonce, const json_t *jwk, uint8_t out[64],
					   struct ward_err *err);

#define WARD_KBS_RETRIES 5	   /* attempts to reach the coordinator */
#define WARD_KBS_RETRY_BASE_MS 200 /* then 400, 800, 1600 ms: about 3 s in all */

/* auth + attest. On success *ret holds the session (key, cookie, token).
 * Transport failures of the first request are retried WARD_KBS_RETRIES
 * times with exponential backoff; refusals are not retried.
 * A refusal (HTTP 401/403) is -WARD_E_POLICY with the coordinator's
 * reason; a transport failure keeps its code. */
WARD_PUBLIC int ward_kbs_attest(const struct ward_kbs_transport *t,
				const struct ward_kbs_evidence_source *ev,
				struct ward_kbs_session *ret, struct ward_err *err);

/* Fetch and decrypt a resource ("<repo>/<type>/<tag>") released to the
 * session's key. *ret is a secret (wiped on free). */
WARD_PUBLIC int ward_kbs_resource(const struct ward_kbs_transport *t,
				  const struct ward_kbs_session *s, const char *path,
				  struct ward_secret **ret, struct ward_err *err);

/* The workload's TLS identity: the coordinator's answer to
 * ward/cert/<workload> ({"cert": PEM, "ca": PEM}, a leaf for the session's
 * attested key) plus that key, as a bundle (see ward_agent_bundle_apply)
 * writing WARD_TLS_DIR/tls.key, tls.crt and ca.crt. *ret is a secret. */
#define WARD_TLS_DIR "/run/secrets/ward"
WARD_PUBLIC int ward_kbs_tls_bundle(const struct ward_kbs_session *s, const void *cert_json,
				    size_t size, struct ward_secret **ret, struct ward_err *err);

/* The HTTPS transport (built when lib/http is in the tree; ward-init then
 * has WARD_HAVE_KBS_HTTP): TLS 1.3 to url with the coordinator's leaf
 * certificate pinned byte for byte (required). *ret uses *ret_state, which
 * the caller frees with ward_kbs_http_free after the last request. */
struct ward_kbs_http;
WARD_PUBLIC int ward_kbs_http_new(const char *url, const struct ward_x509 *pinned,
				  struct ward_kbs_transport *ret, struct ward_kbs_http **ret_state,
				  struct ward_err *err);
WARD_PUBLIC struct ward_kbs_http *ward_kbs_http_free(struct ward_kbs_http *h);

/* The workload bundle (resource ward/bundle/<workload>):
 * {"workload","argv":[..],"env":{..},"files":{"/path": b64},"manifest"}.
 * Files are written beneath rootfd (mode 0400, owned by uid:gid, parents
 * created 0755; "public_files", which ward-init uses for certificates,
 * get mode 0444); argv/env are returned as NULL-terminated malloc'ed
 * vectors ("K=V" for env). */
WARD_PUBLIC int ward_agent_bundle_apply(const void *bundle, size_t size, int rootfd, uid_t uid,
					gid_t gid, char ***ret_argv, size_t *ret_argc,
					char ***ret_env, size_t *ret_envc, struct ward_err *err);

/* ---- layer decryption ---------------------------------------------------- */

/* ocicrypt layer encryption (AES-256-CTR, HMAC-SHA256 over the ciphertext):
 * encrypt pt into ct (same size) and return the base64 pubopts JSON
 * ({"cipher":"AES_256_CTR_HMAC_SHA256","hmac":...,"cipheroptions":{}}).
 * Used by the host's development conversion and by tests. */
WARD_PUBLIC int ward_agent_layer_encrypt(const struct ward_layer_key *key, const uint8_t *pt,
					 size_t size, uint8_t *ct, char **ret_pubopts,
					 struct ward_err *err);

/* Verify and open one layer: ct is a PRIVATE copy of the encrypted blob.
 * Checks SHA-256(ct) against layer->encrypted_digest, the pubopts cipher
 * and HMAC (constant time) with key, then decrypts, checks the plaintext
 * digest (key->digest and layer->plain_digest), decompresses according to
 * the media type (tar, tar+gzip, tar+zstd) and checks diff_id. On success
 * *ret_tar is the uncompressed layer (malloc'ed). Nothing decrypted is
 * returned when a check fails. */
WARD_PUBLIC int ward_agent_layer_open(const struct ward_agent_layer *layer, const uint8_t *ct,
				      size_t ct_size, const struct ward_layer_key *key,
				      uint8_t **ret_tar, size_t *ret_tar_size,
				      struct ward_err *err);

/* Read the blob of layer beneath dirfd (the agent's "/"), verify, decrypt
 * and unpack it into rootfd. */
WARD_PUBLIC int ward_agent_layer_apply(int dirfd, const struct ward_agent_layer *layer,
				       const struct ward_agent_keysource *keys, int rootfd,
				       const struct ward_unpack_opts *opts,
				       struct ward_unpack_stats *stats, struct ward_err *err);

/* ---- the app's identity and process ------------------------------------ */

#define WARD_AGENT_MAX_GROUPS 64

struct ward_agent_ids {
	uid_t uid;
	gid_t gid;
	gid_t groups[WARD_AGENT_MAX_GROUPS]; /* supplementary groups */
	size_t group_count;
	char home[256];
};

/* Resolve an image USER ("", "name", "uid", "name:group", "uid:gid") using
 * etc/passwd and etc/group beneath rootfd (parsed here, not with the
 * image's libc). Missing files are fine for numeric ids. */
WARD_PUBLIC int ward_agent_user_resolve(int rootfd, const char *user, struct ward_agent_ids *ret,
					struct ward_err *err);

/* Build the app's argv and envp: entrypoint + cmd (cmd replaced by
 * args_override when args_count > 0), image env, then extra_env
 * ("K=V", overriding), PATH and HOME defaults. Both NULL-terminated arrays
 * and their strings are malloc'ed (free with ward_agent_strv_free). */
WARD_PUBLIC int ward_agent_build_exec(const struct ward_agent_config *cfg,
				      char *const *args_override, size_t args_count,
				      char *const *extra_env, size_t extra_count,
				      const struct ward_agent_ids *ids, char ***ret_argv,
				      char ***ret_envp, struct ward_err *err);
WARD_PUBLIC char **ward_agent_strv_free(char **v);

/* "SIGTERM", "TERM", "15" -> signal number; -WARD_E_MALFORMED otherwise. */
WARD_PUBLIC int ward_signal_parse(const char *s, int *ret);

/* ---- sandbox --------------------------------------------------------------- */

/* Docker's default capability set (CHOWN DAC_OVERRIDE FOWNER FSETID KILL
 * SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD
 * AUDIT_WRITE SETFCAP) as a bit mask. */
WARD_PUBLIC uint64_t ward_agent_default_caps(void);

/* Become ids: drop every capability outside caps from the bounding set,
 * setgroups/setgid/setuid, then set the permitted/effective/inheritable
 * sets (and ambient for non-root) to caps as the kernel allows, and
 * PR_SET_NO_NEW_PRIVS. */
WARD_PUBLIC int ward_agent_drop_privileges(const struct ward_agent_ids *ids, uint64_t caps,
					   struct ward_err *err);

/* Install the seccomp filter: an allow-list shaped like Docker's default
 * profile (unknown syscalls fail with EPERM/ENOSYS), with the kernel- and
 * namespace-administration calls (module loading, kexec, mount, bpf, ...)
 * killing the process. */
WARD_PUBLIC int ward_agent_seccomp_install(struct ward_err *err);

/* ---- root file system ------------------------------------------------------ */

/* Mount a private tmpfs at dir (mode 0755, nosuid): the app's root. */
WARD_PUBLIC int ward_agent_mount_root(const char *dir, struct ward_err *err);

/* Inside newroot: mount proc, sysfs (read-only), bind the current /dev,
 * mask sensitive /proc paths, copy hosts/hostname/resolv.conf from
 * etc_src (a directory; missing files are skipped), then pivot_root into
 * newroot, detach the old root and chdir to workdir ("/" if NULL). */
WARD_PUBLIC int ward_agent_enter_root(const char *newroot, const char *etc_src, const char *workdir,
				      struct ward_err *err);

/* ---- PID 1 --------------------------------------------------------------- */

/* Start argv/envp as a child (fork + execve), after running
 * before_exec(ctx) in the child (e.g. the privilege drop; its failure
 * ends the child with 127 and a message). Then, as PID 1: forward
 * SIGTERM/SIGINT/SIGHUP/SIGQUIT/SIGUSR1/SIGUSR2/SIGWINCH to the child,
 * reap every zombie, and return the child's wait status mapped to an exit
 * code (status, or 128 + signal). The caller's signal mask is used. */
WARD_PUBLIC int ward_agent_run_child(char *const *argv, char *const *envp,
				     int (*before_exec)(void *ctx, struct ward_err *err), void *ctx,
				     int *ret_exit_code, struct ward_err *err);
