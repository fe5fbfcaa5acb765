/* SPDX-License-Identifier: Apache-2.0 */
/* ward-init's protected volumes: the coordinator registry and the mount
 * policy (see include/ward/agent-volume.h, docs/volumes.md). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ward/agent-volume.h"
#include "ward/cleanup.h"
#include "ward/crypto.h"
#include "ward/encoding.h"
#include "ward/file.h"
#include "ward/json.h"
#include "ward/log.h"

#define VOLREG_BODY_MAX 4096

struct ward_agent_volreg {
	struct ward_vol_registry reg; /* first: the callbacks get &reg */
	const struct ward_kbs_transport *t;
	const struct ward_kbs_evidence_source *ev;
	struct ward_kbs_session *s;
	char path[160]; /* /ward/v1/volume/<workload>/<volume> */
	pthread_mutex_t lock;
	/* from the last get: a user's pending acceptance of an older state */
	bool has_accept;
	uint64_t accept_version;
	uint8_t accept_root[WARD_VOL_ROOT_SIZE];
};

static void reason_of(const uint8_t *body, size_t size, char *out, size_t out_size)
{
	WARD_AUTOJSON json_t *j = NULL;
	const char *d;

	snprintf(out, out_size, "no reason given");
	if (!body || ward_json_parse(body, size, VOLREG_BODY_MAX, &j, NULL) < 0 ||
	    !json_is_object(j))
		return;
	d = json_string_value(json_object_get(j, "detail"));
	if (d)
		snprintf(out, out_size, "%.300s", d);
}

/* One request; renews the session once when it expired (401). Returns
 * the HTTP status; *ret_body malloc'ed. */
static int request(struct ward_agent_volreg *v, const char *method, const char *body,
		   uint8_t **ret_body, size_t *ret_size, struct ward_err *err)
{
	for (int attempt = 0;; attempt++) {
		int status = 0, r;

		*ret_body = NULL;
		*ret_size = 0;
		r = v->t->request(v->t->ctx, method, v->path, v->s->cookie, v->s->token, body,
				  body ? strlen(body) : 0, &status, ret_body, ret_size, NULL, err);
		if (r < 0)
			return ward_err_prefix(err, "coordinator %s %s", method, v->path);
		if (status != 401 || attempt > 0 || !v->ev)
			return status;
		free(*ret_body);
		*ret_body = NULL;
		{
			struct ward_kbs_session fresh = {0};

			r = ward_kbs_attest(v->t, v->ev, &fresh, err);
			if (r < 0)
				return ward_err_prefix(err, "renewing the attested session");
			ward_kbs_session_clear(v->s);
			*v->s = fresh;
		}
	}
}

static int reg_get(void *ctx, const uint8_t id[WARD_VOL_ID_SIZE], uint64_t *ret_version,
		   uint8_t ret_root[WARD_VOL_ROOT_SIZE], struct ward_err *err)
{
	struct ward_agent_volreg *v = ctx;
	WARD_AUTOFREE uint8_t *body = NULL;
	WARD_AUTOJSON json_t *j = NULL;
	json_t *acc = NULL;
	uint8_t reg_id[WARD_VOL_ID_SIZE];
	int64_t version = 0;
	size_t size;
	int status, r;

	pthread_mutex_lock(&v->lock);
	status = request(v, "GET", NULL, &body, &size, err);
	pthread_mutex_unlock(&v->lock);
	if (status < 0)
		return status;
	if (status == 404) {
		char reason[320];

		reason_of(body, size, reason, sizeof(reason));
		if (strcmp(reason, "volume never registered") == 0)
			return ward_err_set(err, -WARD_E_NOT_FOUND, "%s: never registered",
					    v->path);
		return ward_err_set(err, -WARD_E_POLICY, "%s: the coordinator answered 404: %s",
				    v->path, reason);
	}
	if (status != 200) {
		char reason[320];

		reason_of(body, size, reason, sizeof(reason));
		return ward_err_set(err, status == 401 || status == 403 ? -WARD_E_POLICY : -EPROTO,
				    "%s: the coordinator answered %d: %s", v->path, status, reason);
	}
	r = ward_json_parse(body, size, VOLREG_BODY_MAX, &j, err);
	if (r >= 0)
		r = ward_json_get_hex_fixed(j, "$", "id", true, reg_id, sizeof(reg_id), err);
	if (r >= 0)
		r = ward_json_get_int(j, "$", "version", true, 1, INT64_MAX, &version, err);
	if (r >= 0)
		r = ward_json_get_hex_fixed(j, "$", "root", true, ret_root, WARD_VOL_ROOT_SIZE,
					    err);
	if (r >= 0)
		r = ward_json_get_object(j, "$", "accept", false, &acc, err);
	if (r >= 0 && acc) {
		int64_t av = 0;

		r = ward_json_get_int(acc, "$.accept", "version", true, 1, INT64_MAX, &av, err);
		if (r >= 0)
			r = ward_json_get_hex_fixed(acc, "$.accept", "root", true, v->accept_root,
						    WARD_VOL_ROOT_SIZE, err);
		v->accept_version = (uint64_t)av;
	}
	if (r < 0)
		return ward_err_prefix(err, "%s: reply", v->path);
	v->has_accept = acc != NULL;
	if (memcmp(reg_id, id, WARD_VOL_ID_SIZE) != 0) {
		char a[33], b[33];

		ward_hex_encode(reg_id, sizeof(reg_id), a);
		ward_hex_encode(id, WARD_VOL_ID_SIZE, b);
		return ward_err_set(err, -WARD_E_POLICY,
				    "another volume (id %s) is registered for %s, the backing "
				    "directory holds volume %s: it was replaced",
				    a, v->path, b);
	}
	*ret_version = (uint64_t)version;
	return 0;
}

static int reg_put(void *ctx, const uint8_t id[WARD_VOL_ID_SIZE], uint64_t version,
		   const uint8_t root[WARD_VOL_ROOT_SIZE], struct ward_err *err)
{
	struct ward_agent_volreg *v = ctx;
	WARD_AUTOFREE uint8_t *body = NULL;
	char text[256], id_hex[33], root_hex[65];
	size_t size;
	int status;

	if (version > INT64_MAX)
		return ward_err_set(err, -WARD_E_TOO_BIG, "volume version out of range");
	ward_hex_encode(id, WARD_VOL_ID_SIZE, id_hex);
	ward_hex_encode(root, WARD_VOL_ROOT_SIZE, root_hex);
	snprintf(text, sizeof(text), "{\"id\":\"%s\",\"version\":%" PRIu64 ",\"root\":\"%s\"}",
		 id_hex, version, root_hex);
	pthread_mutex_lock(&v->lock);
	status = request(v, "PUT", text, &body, &size, err);
	pthread_mutex_unlock(&v->lock);
	if (status < 0)
		return status;
	if (status != 200) {
		char reason[320];

		reason_of(body, size, reason, sizeof(reason));
		return ward_err_set(err, status == 409 || status == 403 ? -WARD_E_POLICY : -EPROTO,
				    "%s: registration of version %" PRIu64
				    " refused by the coordinator (%d): %s",
				    v->path, version, status, reason);
	}
	return 0;
}

int ward_agent_volreg_new(const struct ward_kbs_transport *t,
			  const struct ward_kbs_evidence_source *ev, struct ward_kbs_session *s,
			  const char *workload, const char *volume, struct ward_agent_volreg **ret,
			  struct ward_err *err)
{
	struct ward_agent_volreg *v;

	if (!t || !s || !workload || !volume || !workload[0] || !volume[0] ||
	    strlen(workload) > 64 || strlen(volume) > 64 || strchr(workload, '/') ||
	    strchr(volume, '/'))
		return ward_err_set(err, -WARD_E_USAGE, "volume registry: bad arguments");
	v = calloc(1, sizeof(*v));
	if (!v)
		return ward_err_set(err, -ENOMEM, "out of memory");
	v->reg = (struct ward_vol_registry){.ctx = v, .get = reg_get, .put = reg_put};
	v->t = t;
	v->ev = ev;
	v->s = s;
	snprintf(v->path, sizeof(v->path), "/ward/v1/volume/%s/%s", workload, volume);
	pthread_mutex_init(&v->lock, NULL);
	*ret = v;
	return 0;
}

struct ward_agent_volreg *ward_agent_volreg_free(struct ward_agent_volreg *v)
{
	if (!v)
		return NULL;
	pthread_mutex_destroy(&v->lock);
	free(v);
	return NULL;
}

const struct ward_vol_registry *ward_agent_volreg_registry(struct ward_agent_volreg *v)
{
	return &v->reg;
}

static int note_name(void *ctx, const char *name)
{
	(void)name;
	*(bool *)ctx = true;
	return 1;
}

static void audit_log(void *ctx, const char *event, const char *detail)
{
	(void)ctx;
	ward_logkv(WARD_LOG_WARN, "volume",
		   (const char *const[]){"event", event, "detail", detail, NULL});
}

/* The on-disk (id, version, root) without the key (unauthenticated: only
 * compared with what the coordinator holds). */
static int disk_state(const char *dir, struct ward_vol_io *io, uint8_t id[WARD_VOL_ID_SIZE],
		      uint64_t *ret_version, uint8_t root[WARD_VOL_ROOT_SIZE],
		      struct ward_err *err)
{
	struct ward_vol_info info;
	WARD_AUTOFREE uint8_t *meta = NULL;
	WARD_AUTOFREE char *path = NULL;
	size_t size;
	int r;

	r = ward_vol_inspect(io, &info, err);
	if (r < 0)
		return r;
	if (asprintf(&path, "%s/meta", dir) < 0) {
		path = NULL;
		return ward_err_set(err, -ENOMEM, "out of memory");
	}
	r = ward_file_read(path, (size_t)1 << 30, &meta, &size, err);
	if (r >= 0)
		r = ward_hash(WARD_HASH_SHA256, meta, size, root, err);
	if (r < 0)
		return r;
	memcpy(id, info.id, WARD_VOL_ID_SIZE);
	*ret_version = info.version;
	return 0;
}

int ward_agent_volume_open(const char *backing_dir, const uint8_t key[WARD_VOL_KEY_SIZE],
			   struct ward_agent_volreg *reg, uint32_t commit_interval_ms,
			   struct ward_vol **ret_vol, struct ward_vol_io **ret_io,
			   struct ward_err *err)
{
	WARD_CLEANUP(ward_vol_io_posix_freep) struct ward_vol_io *io = NULL;
	const struct ward_vol_registry *registry = ward_agent_volreg_registry(reg);
	struct ward_vol_opts opts = {.crypto = ward_vol_crypto_default(),
				     .registry = registry,
				     .commit_interval_ms = commit_interval_ms,
				     .audit = audit_log};
	struct ward_vol *vol = NULL;
	bool any = false;
	int r;

	r = ward_vol_io_posix(backing_dir, &io, err);
	if (r < 0)
		return ward_err_prefix(err, "volume %s", backing_dir);
	opts.io = io;
	r = io->list(io->ctx, note_name, &any);
	if (r < 0)
		return ward_err_set(err, r, "volume %s: cannot list the backing directory",
				    backing_dir);
	if (!any) {
		uint8_t id[WARD_VOL_ID_SIZE];

		r = ward_vol_create(io, opts.crypto, registry, key, 4096, id, err);
		if (r < 0)
			return ward_err_prefix(err, "creating volume in empty %s", backing_dir);
		ward_info("created protected volume in %s", backing_dir);
	}
	r = ward_vol_open(&opts, key, &vol, err);
	if (r == -WARD_E_POLICY && reg->has_accept) {
		uint8_t id[WARD_VOL_ID_SIZE], root[WARD_VOL_ROOT_SIZE];
		uint64_t version = 0;
		struct ward_err err2 = WARD_ERR_INIT;

		if (disk_state(backing_dir, io, id, &version, root, &err2) >= 0 &&
		    version == reg->accept_version &&
		    ward_ct_eq(root, reg->accept_root, sizeof(root))) {
			ward_err_clear(err);
			ward_warn("volume %s: opening the older state (version %" PRIu64
				  ") a user accepted at the coordinator",
				  backing_dir, version);
			opts.accept_rollback_insecure = true;
			r = ward_vol_open(&opts, key, &vol, err);
		}
	}
	if (r == -WARD_E_POLICY) {
		/* Offer the state we found: the coordinator refuses it and
		 * records the refusal in its audit log. */
		uint8_t id[WARD_VOL_ID_SIZE], root[WARD_VOL_ROOT_SIZE];
		uint64_t version = 0;
		struct ward_err err2 = WARD_ERR_INIT;

		if (disk_state(backing_dir, io, id, &version, root, &err2) >= 0 && version > 0)
			(void)registry->put(registry->ctx, id, version, root, &err2);
		return ward_err_prefix(err, "volume %s", backing_dir);
	}
	if (r < 0)
		return ward_err_prefix(err, "volume %s", backing_dir);
	*ret_vol = vol;
	*ret_io = WARD_TAKE_PTR(io);
	return 0;
}

struct ready_ctx {
	int fd;
};

static void serve_ready(void *ctx)
{
	struct ready_ctx *rc = ctx;

	if (rc->fd >= 0) {
		(void)!write(rc->fd, "", 1); /* one NUL byte: live */
		close(rc->fd);
		rc->fd = -1;
	}
}

/* The server process: open, serve until unmounted or SIGTERM, commit. */
static int serve_child(const char *backing_dir, const char *mountpoint,
		       const uint8_t key[WARD_VOL_KEY_SIZE], struct ward_agent_volreg *reg,
		       uint32_t commit_interval_ms, int fd)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_vol *vol = NULL;
	struct ward_vol_io *io = NULL;
	struct ready_ctx rc = {fd};
	struct ward_vol_fuse_opts fo = {
	    .writeback_cache = true, .allow_other = true, .ready = serve_ready, .ready_ctx = &rc};
	sigset_t all;
	int r;

	/* PID 1 blocks the stop signals; this process wants SIGTERM for
	 * libfuse's handlers (commit and exit) */
	sigemptyset(&all);
	sigaddset(&all, SIGTERM);
	sigaddset(&all, SIGINT);
	sigaddset(&all, SIGHUP);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
	(void)prctl(PR_SET_NAME, "ward-volume", 0, 0, 0);
	r = ward_agent_volume_open(backing_dir, key, reg, commit_interval_ms, &vol, &io, &err);
	if (r >= 0) {
		r = ward_vol_fuse_serve(vol, mountpoint, &fo, &err);
		if (r < 0)
			ward_vol_free(vol);
		else
			r = ward_vol_close(vol, &err);
		vol = NULL;
		ward_vol_io_posix_free(io);
	}
	if (r < 0) {
		if (rc.fd >= 0) {
			(void)!write(rc.fd, err.msg, strlen(err.msg));
			close(rc.fd);
		} else {
			ward_error("volume %s: %s", mountpoint, err.msg);
		}
		return 1;
	}
	return 0;
}

int ward_agent_server_spawn(const char *what, int (*child)(void *ctx, int ready_fd), void *ctx,
			    int code, pid_t *ret_pid, struct ward_err *err)
{
	int p[2];
	char msg[512];
	ssize_t n, got = 0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return ward_err_errno(err, -errno, "pipe");
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return ward_err_errno(err, -errno, "fork the %s", what);
	}
	if (pid == 0) {
		close(p[0]);
		_exit(child(ctx, p[1]));
	}
	close(p[1]);
	while (got < (ssize_t)sizeof(msg) - 1 &&
	       (n = read(p[0], msg + got, sizeof(msg) - 1 - (size_t)got)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		got += n;
		if (msg[0] == '\0')
			break; /* live */
	}
	close(p[0]);
	msg[got] = '\0';
	if (got == 1 && msg[0] == '\0') {
		*ret_pid = pid;
		return 0;
	}
	(void)waitpid(pid, NULL, 0);
	if (got > 0)
		return ward_err_set(err, code, "%s", msg);
	return ward_err_set(err, code, "the %s exited before the mount was live", what);
}

struct serve_args {
	const char *backing_dir, *mountpoint;
	const uint8_t *key;
	struct ward_agent_volreg *reg;
	uint32_t commit_interval_ms;
};

static int serve_trampoline(void *ctx, int ready_fd)
{
	struct serve_args *a = ctx;

	return serve_child(a->backing_dir, a->mountpoint, a->key, a->reg, a->commit_interval_ms,
			   ready_fd);
}

int ward_agent_volume_serve(const char *backing_dir, const char *mountpoint,
			    const uint8_t key[WARD_VOL_KEY_SIZE], struct ward_agent_volreg *reg,
			    uint32_t commit_interval_ms, pid_t *ret_pid, struct ward_err *err)
{
	struct serve_args a = {backing_dir, mountpoint, key, reg, commit_interval_ms};

	return ward_agent_server_spawn("volume server", serve_trampoline, &a, -WARD_E_POLICY,
				       ret_pid, err);
}

int ward_agent_volume_stop(const char *mountpoint, pid_t pid, struct ward_err *err)
{
	int status = 0;

	/* A clean unmount ends the server's loop by itself; only when the
	 * mount is still busy (processes the app left behind) is it detached
	 * and the server told to stop with SIGTERM (libfuse's handler). No
	 * SIGTERM otherwise: once the loop has ended it would kill the server
	 * during its final commit. */
	if (umount2(mountpoint, 0) < 0 && errno == EBUSY) {
		if (umount2(mountpoint, MNT_DETACH) < 0)
			ward_warn("unmount %s: %s", mountpoint, strerror(errno));
		(void)kill(pid, SIGTERM);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == ECHILD) /* reaped by the PID 1 loop: status unknown */
			return ward_err_set(err, -ECHILD,
					    "volume %s: the server was reaped early (crashed?)",
					    mountpoint);
		return ward_err_errno(err, -errno, "wait for the volume server");
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return ward_err_set(err, -EIO,
				    "volume %s: the server failed (status %#x): the last changes "
				    "may not be committed",
				    mountpoint, (unsigned)status);
	return 0;
}
