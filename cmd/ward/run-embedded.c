/* SPDX-License-Identifier: Apache-2.0 */
/* `ward run IMAGE` with no --coordinator: the embedded default coordinator
 * (INSECURE sim mode, for trying Ward on a machine without a TEE).
 *
 * A child `ward coordinator` process on the sim TEE listens on 127.0.0.1
 * (ephemeral port) with a temporary state directory; with a private
 * network it lives in its own network namespace, which the container then
 * joins, so ward-init reaches it on the container's loopback. This process
 * attests it (`ward verify`, which pins its certificate), converts the
 * plain image with a fresh image key and that pin measured into the ward
 * layer, sets a manifest for the converted image's sim measurement, uploads
 * the image key as the user secret ward-init fetches, and runs the
 * container against it. The child, the temporary directory and the
 * prepared rootfs are removed on every exit path; the child also dies with
 * this process (PR_SET_PDEATHSIG). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "run-embedded.h"
#include "ward/cleanup.h"
#include "ward/crypto.h"
#include "ward/file.h"
#include "ward/image.h"
#include "ward/json.h"
#include "ward/log.h"
#include "ward/runtime.h"
#include "ward/sim.h"
#include "ward/util.h"

#define EMB_WORKLOAD "app"
#define EMB_COORD_TAG "ward embedded coordinator"
#define TRACE(...) ward_trace("embedded", __VA_ARGS__)

struct emb {
	char dir[PATH_MAX];  /* the converted image and the prepared rootfs (ciphertext) */
	char sdir[PATH_MAX]; /* the coordinator's state, keys, logs: on tmpfs when there is one */
	pid_t coord;
	int host_netns; /* our own network namespace while inside the coordinator's */
	bool quiet;
};

/* A small file or the coordinator's state (secrets among them). */
static void emb_path(const struct emb *e, const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", e->sdir, name);
}

/* The converted image or the prepared-rootfs cache: large, encrypted. */
static void emb_bulk_path(const struct emb *e, const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", e->dir, name);
}

/* Whether path is a directory on tmpfs that only root can replace. */
static bool tmpfs_dir(const char *path)
{
	struct statfs fs;
	struct stat st;

	return statfs(path, &fs) == 0 && fs.f_type == TMPFS_MAGIC && lstat(path, &st) == 0 &&
	       S_ISDIR(st.st_mode) && st.st_uid == 0 && (st.st_mode & S_ISVTX);
}

/* Bring up lo in the current (new) network namespace. */
static int loopback_up(void)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		r = -errno;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (r == 0 && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* The child: its network namespace, then exec `ward coordinator`. */
static void coord_child(const struct emb *e, const struct ward_run_opts *o, pid_t parent,
			const char *sim_state, const char *meas)
{
	char state[PATH_MAX], port[PATH_MAX], log_path[PATH_MAX];
	sigset_t none;
	int fd;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	emb_path(e, "coordinator.log", log_path, sizeof(log_path));
	fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
		_exit(127);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || dup2(fd, STDIN_FILENO) < 0)
		_exit(127);
	if (o->network == WARD_NET_PRIVATE || o->network == WARD_NET_NONE) {
		if (unshare(CLONE_NEWNET) < 0 || loopback_up() < 0) {
			fprintf(stderr, "embedded coordinator: new network namespace: %s\n",
				strerror(errno));
			_exit(127);
		}
	} else if (o->network == WARD_NET_PATH) {
		int ns = open(o->netns_path, O_RDONLY | O_CLOEXEC);

		if (ns < 0 || setns(ns, CLONE_NEWNET) < 0) {
			fprintf(stderr, "embedded coordinator: join %s: %s\n", o->netns_path,
				strerror(errno));
			_exit(127);
		}
	}
	emb_path(e, "coordinator", state, sizeof(state));
	emb_path(e, "port", port, sizeof(port));
	execl("/proc/self/exe", "ward", "coordinator", "--state", state, "--listen",
	      "127.0.0.1:0", "--sim-state", sim_state, "--sim-measurement", meas, "--port-file",
	      port, (char *)NULL);
	fprintf(stderr, "embedded coordinator: exec: %s\n", strerror(errno));
	_exit(127);
}

/* Print the tail of a log file to stderr (what a failed step said). */
static void show_log(const char *path)
{
	WARD_AUTOFREE uint8_t *buf = NULL;
	struct ward_err err = WARD_ERR_INIT;
	size_t size, off = 0;

	if (ward_file_read(path, 1 << 20, &buf, &size, &err) < 0 || size == 0)
		return;
	if (size > 4000)
		off = size - 4000;
	fprintf(stderr, "--- %s ---\n%.*s", path, (int)(size - off), (const char *)buf + off);
}

static int coord_start(struct emb *e, const struct ward_run_opts *o, const char *sim_state,
		       const char *meas, uint16_t *ret_port, struct ward_err *err)
{
	char port_path[PATH_MAX], log_path[PATH_MAX];
	pid_t parent = getpid();
	int status;

	emb_path(e, "port", port_path, sizeof(port_path));
	emb_path(e, "coordinator.log", log_path, sizeof(log_path));
	fflush(NULL);
	e->coord = fork();
	if (e->coord < 0)
		return ward_err_errno(err, -errno, "fork");
	if (e->coord == 0)
		coord_child(e, o, parent, sim_state, meas);
	/* the sim platform is created on first use (RSA-4096: a few seconds);
	 * it usually listens within tens of ms: look every 2 ms, then 25 ms */
	for (int i = 0; i < 1300; i++) {
		WARD_AUTOFREE uint8_t *buf = NULL;
		struct ward_err ignored = WARD_ERR_INIT;
		size_t size;
		uint32_t port;
		char text[16];

		if (ward_file_read(port_path, 64, &buf, &size, &ignored) >= 0 && size > 1 &&
		    size < sizeof(text)) {
			memcpy(text, buf, size);
			text[size - 1] = '\0';
			if (ward_parse_u32(text, &port) < 0 || port == 0 || port > 65535)
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "embedded coordinator: bad port file");
			*ret_port = (uint16_t)port;
			return 0;
		}
		if (waitpid(e->coord, &status, WNOHANG) == e->coord) {
			e->coord = 0;
			show_log(log_path);
			return ward_err_set(err, -WARD_E_STATE,
					    "the embedded coordinator exited before listening");
		}
		nanosleep(&(struct timespec){0, (i < 100 ? 2 : 25) * 1000 * 1000}, NULL);
	}
	show_log(log_path);
	return ward_err_set(err, -ETIMEDOUT, "the embedded coordinator did not start in 30 s");
}

/* Enter (or leave, with fd host_netns) the coordinator's network namespace,
 * so that this process reaches it on 127.0.0.1. */
static int netns_enter(struct emb *e, const struct ward_run_opts *o, struct ward_err *err)
{
	char path[64];
	int fd;

	if (o->network == WARD_NET_HOST)
		return 0;
	e->host_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (e->host_netns < 0)
		return ward_err_errno(err, -errno, "open /proc/self/ns/net");
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)e->coord);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
		int r = -errno;

		if (fd >= 0)
			close(fd);
		return ward_err_errno(err, r, "join the embedded coordinator's network namespace");
	}
	close(fd);
	return 0;
}

static int netns_leave(struct emb *e, struct ward_err *err)
{
	int r = 0;

	if (e->host_netns < 0)
		return 0;
	if (setns(e->host_netns, CLONE_NEWNET) < 0)
		r = ward_err_errno(err, -errno, "return to the host network namespace");
	close(e->host_netns);
	e->host_netns = -1;
	return r;
}

/* Call a ward subcommand in this process with its output in a log file
 * (shown only if it fails). Options come before positional arguments:
 * glibc's getopt keeps the ordering mode of its first use ("+" in ward
 * run), so nothing is permuted. */
static int call_cmd(const struct emb *e, const struct ward_cmd *cmd, const char *log_name,
		    const char *const *args, struct ward_err *err)
{
	char log_path[PATH_MAX], *argv[32];
	int argc = 0, out, save1, save2, rc;

	while (args[argc] && argc < 31) {
		argv[argc] = (char *)args[argc]; /* getopt does not write them */
		argc++;
	}
	argv[argc] = NULL;
	emb_path(e, log_name, log_path, sizeof(log_path));
	out = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0)
		return ward_err_errno(err, -errno, "open %s", log_path);
	fflush(NULL);
	save1 = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	save2 = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (save1 < 0 || save2 < 0 || dup2(out, STDOUT_FILENO) < 0 ||
	    dup2(out, STDERR_FILENO) < 0) {
		rc = -errno;
		close(out);
		if (save1 >= 0)
			close(save1);
		if (save2 >= 0)
			close(save2);
		return ward_err_errno(err, rc, "redirect output");
	}
	close(out);
	rc = cmd->run(argc, argv);
	fflush(NULL);
	dup2(save1, STDOUT_FILENO);
	dup2(save2, STDERR_FILENO);
	close(save1);
	close(save2);
	if (rc != 0) {
		show_log(log_path);
		return ward_err_set(err, -WARD_E_STATE, "embedded coordinator: 'ward %s %s' failed",
				    cmd->name, argv[1]);
	}
	return 0;
}

/* A fresh P-256 key: private PEM to name (0600), public PEM returned. */
static int make_key(const struct emb *e, const char *name, struct ward_pkey **ret_key,
		    char **ret_pub, struct ward_err *err)
{
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *k = NULL;
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *pem = NULL;
	char path[PATH_MAX];
	int r;

	emb_path(e, name, path, sizeof(path));
	r = ward_pkey_generate(WARD_KEY_EC_P256, 0, &k, err);
	if (r >= 0)
		r = ward_pkey_private_pem(k, &pem, err);
	if (r >= 0)
		r = ward_file_write_atomic(path, pem->data, pem->size, 0600, err);
	if (r >= 0 && ret_pub)
		r = ward_pkey_public_pem(k, ret_pub, err);
	if (r < 0)
		return ward_err_prefix(err, "key %s", name);
	if (ret_key)
		*ret_key = WARD_TAKE_PTR(k);
	return 0;
}

/* ward-init: $WARD_INIT, the option, or next to ward (build tree or install). */
static int find_ward_init(const struct ward_run_opts *o, char *buf, size_t size,
			  struct ward_err *err)
{
	char self[PATH_MAX], *slash;
	ssize_t n;

	if (o->ward_init || getenv("WARD_INIT")) {
		snprintf(buf, size, "%s", o->ward_init ? o->ward_init : getenv("WARD_INIT"));
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return ward_err_errno(err, -errno, "readlink /proc/self/exe");
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	snprintf(buf, size, "%s/../ward-init/ward-init", self);
	if (access(buf, X_OK) == 0)
		return 0;
	snprintf(buf, size, "%s/ward-init", self);
	if (access(buf, X_OK) == 0)
		return 0;
	return ward_err_set(err, -ENOENT, "ward-init not found next to ward; use --ward-init");
}

/* Convert the plain image: wrapped mode, layer keys to the image key, the
 * coordinator's pin in the measured ward layer. */
static int convert(const struct emb *e, const struct ward_run_opts *o, struct ward_pkey *imgkey,
		   char meas[97], struct ward_err *err)
{
	WARD_CLEANUP(json_decrefp) json_t *ref = NULL;
	char input[PATH_MAX], out[PATH_MAX], pin[PATH_MAX], init[PATH_MAX];
	const char *tag = NULL, *m;
	struct ward_pkey *recipients[1] = {imgkey};
	struct ward_image_convert_opts co = {
	    .format = WARD_IMAGE_FORMAT_OCI_DIR,
	    .mode = WARD_IMAGE_MODE_WRAPPED,
	    .recipients = recipients,
	    .recipient_count = 1,
	    .source_date_epoch = -1,
	};
	struct stat st;
	int r;

	/* IMAGE[:TAG]: the whole string if it exists, else split at the last ':' */
	snprintf(input, sizeof(input), "%s", o->image);
	if (stat(input, &st) < 0) {
		char *colon = strrchr(input, ':');

		if (colon && !strchr(colon, '/')) {
			*colon = '\0';
			tag = colon + 1;
		}
	}
	r = find_ward_init(o, init, sizeof(init), err);
	if (r < 0)
		return r;
	emb_bulk_path(e, "image", out, sizeof(out));
	emb_path(e, "coordinator.pem", pin, sizeof(pin));
	co.input = input;
	co.tag = tag;
	co.output = out;
	co.output_tag = "embedded";
	co.ward_init = init;
	co.coordinator_pin = pin;
	/* WARD_ROOTFS=volume|ext4: the root filesystem as a read-only protected
	 * volume or a sealed ext4 image (ward convert --rootfs, docs/images.md) */
	m = getenv("WARD_ROOTFS");
	if (m && !strcmp(m, "volume"))
		co.rootfs = WARD_IMAGE_ROOTFS_VOLUME;
	else if (m && !strcmp(m, "ext4"))
		co.rootfs = WARD_IMAGE_ROOTFS_EXT4;
	else if (m && *m && strcmp(m, "layers") != 0)
		return ward_err_set(err, -WARD_E_USAGE, "WARD_ROOTFS='%s': layers, volume or ext4",
				    m);
	r = ward_image_convert(&co, &ref, err);
	if (r < 0) {
		if (r == -WARD_E_UNSUPPORTED && strstr(err->msg, "already"))
			ward_err_prefix(err, "'%s' (the embedded coordinator runs plain images; "
					     "a converted image needs --coordinator URL)",
					o->image);
		return ward_err_prefix(err, "convert");
	}
	m = json_string_value(json_object_get(json_object_get(ref, "measurements"), "sim"));
	if (!m || strlen(m) != 96)
		return ward_err_set(err, -WARD_E_MALFORMED, "convert: no sim measurement");
	memcpy(meas, m, 97);
	return 0;
}

static int write_json(const char *path, json_t *j, struct ward_err *err)
{
	WARD_AUTOFREE char *text = NULL;
	int r = ward_json_dump(j, &text, err);

	if (r >= 0)
		r = ward_file_write_atomic(path, text, strlen(text), 0600, err);
	return r;
}

/* The manifest: the converted image's package, a demo password as env
 * WARD_DEMO_SECRET, the image key as the user secret ward-init fetches, an
 * admin user (key in the temporary directory) to upload it. */
static int write_manifest(const struct emb *e, const struct ward_run_opts *o, const char *meas,
			  const char *admin_pub, struct ward_err *err)
{
	WARD_CLEANUP(json_decrefp) json_t *m = NULL;
	char path[PATH_MAX];
	json_t *wl;

	m = json_pack("{s:{s:{s:[s], s:{s:[s]}, s:b}},"
		      " s:{s:{s:s, s:i}, s:{s:s, s:s, s:[s]}},"
		      " s:{s:{s:s, s:{s:s}}},"
		      " s:{s:{s:s, s:[s]}},"
		      " s:{s:{s:[s,s,s,s], s:[s]}}}",
		      "packages", EMB_WORKLOAD, "tees", "sim", "measurements", "sim", meas, "debug",
		      0, "secrets", "demo.password", "type", "password", "size", 20, "image-key",
		      "type", "user", "resource", "default/image-key/" EMB_WORKLOAD, "packages",
		      EMB_WORKLOAD, "workloads", EMB_WORKLOAD, "package", EMB_WORKLOAD, "env",
		      "WARD_DEMO_SECRET", "{{ secret.demo.password }}", "users", "admin",
		      "public_key", admin_pub, "roles", "admin", "roles", "admin", "actions",
		      "update_manifest", "set_secret", "read_secret", "read_log", "secrets", "*");
	if (!m)
		return ward_err_set(err, -ENOMEM, "manifest");
	wl = json_object_get(json_object_get(m, "workloads"), EMB_WORKLOAD);
	if (o->args_count > 0) {
		json_t *argv = json_array();

		if (!argv || json_object_set_new(wl, "argv", argv) < 0)
			return ward_err_set(err, -ENOMEM, "manifest");
		for (size_t i = 0; i < o->args_count; i++)
			if (json_array_append_new(argv, json_string(o->args[i])) < 0)
				return ward_err_set(err, -WARD_E_USAGE,
						    "argument %zu is not valid UTF-8", i + 1);
	}
	emb_path(e, "manifest.json", path, sizeof(path));
	return write_json(path, m, err);
}

static void emb_cleanup(struct emb *e)
{
	struct ward_err err = WARD_ERR_INIT;

	(void)netns_leave(e, &err);
	if (e->coord > 0) {
		kill(e->coord, SIGTERM);
		for (int i = 0; i < 200; i++) {
			if (waitpid(e->coord, NULL, WNOHANG) == e->coord) {
				e->coord = 0;
				break;
			}
			nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
		}
		if (e->coord > 0) {
			kill(e->coord, SIGKILL);
			waitpid(e->coord, NULL, 0);
		}
		e->coord = 0;
	}
	if (e->sdir[0] && strcmp(e->sdir, e->dir) != 0 && ward_rm_rf(e->sdir, &err) < 0)
		ward_warn("embedded coordinator: %s", err.msg);
	if (e->dir[0] && ward_rm_rf(e->dir, &err) < 0)
		ward_warn("embedded coordinator: %s", err.msg);
}

static int embedded(struct emb *e, const struct ward_run_opts *o, int *ret_code,
		    struct ward_err *err)
{
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *imgkey = NULL;
	WARD_AUTOFREE char *admin_pub = NULL, *ark_pem = NULL;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *ark = NULL;
	WARD_CLEANUP(json_decrefp) json_t *ref = NULL;
	char cmeas[97], meas[97], url[64], path[PATH_MAX], pin[PATH_MAX], ref_path[PATH_MAX];
	char mpath[PATH_MAX], kpath[PATH_MAX], akey[PATH_MAX], cache[PATH_MAX], netns[64];
	const char *sim_state = o->sim_state ? o->sim_state : getenv("WARD_SIM_STATE");
	struct ward_run_opts ro = *o;
	uint8_t digest[48];
	uint16_t port = 0;
	int r;

	if (!sim_state)
		sim_state = WARD_RUN_SIM_STATE;
	(void)mkdir("/var/lib/ward", 0700);
	snprintf(e->dir, sizeof(e->dir), "/tmp/ward-embedded.XXXXXX");
	r = ward_mkdtemp(e->dir, err);
	if (r < 0) {
		e->dir[0] = '\0';
		return r;
	}
	/* The coordinator's database (CA key, secrets, the image key) and the
	 * keys made here go to tmpfs when there is one: they never reach a
	 * disk, where deleted blocks outlive the run, and SQLite's fsyncs cost
	 * nothing there (tens of ms per start on a disk). */
	r = -1;
	if (tmpfs_dir("/dev/shm")) {
		snprintf(e->sdir, sizeof(e->sdir), "/dev/shm/ward-embedded.XXXXXX");
		r = ward_mkdtemp(e->sdir, err);
	}
	if (r < 0)
		snprintf(e->sdir, sizeof(e->sdir), "%s", e->dir);
	/* the coordinator's own (sim) launch measurement: a fixed label */
	r = ward_hash(WARD_HASH_SHA384, EMB_COORD_TAG, strlen(EMB_COORD_TAG), digest, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < sizeof(digest); i++)
		snprintf(cmeas + 2 * i, 3, "%02x", digest[i]);
	/* the sim platform exists before the coordinator reads it (loading
	 * an existing one here would only repeat what the coordinator and
	 * ward_run do: tens of ms) */
	snprintf(path, sizeof(path), "%s/ark.pem", sim_state);
	if (access(path, F_OK) < 0) {
		struct ward_sim *sim = NULL;

		r = ward_sim_open(sim_state, &sim, err);
		ward_sim_free(sim);
		if (r < 0)
			return ward_err_prefix(err, "sim platform '%s'", sim_state);
	}
	TRACE("begin");
	r = coord_start(e, o, sim_state, cmeas, &port, err);
	if (r < 0)
		return r;
	TRACE("coordinator listening");
	snprintf(url, sizeof(url), "https://127.0.0.1:%u", (unsigned)port);
	if (!o->quiet)
		fprintf(stderr, "ward run: embedded coordinator (sim) at %s, state %s, image %s\n",
			url, e->sdir, e->dir);

	/* attest it and pin its certificate */
	r = ward_sim_load_ark(sim_state, &ark, err);
	if (r >= 0)
		r = ward_x509_pem(ark, &ark_pem, err);
	emb_path(e, "ark.pem", path, sizeof(path));
	if (r >= 0)
		r = ward_file_write_atomic(path, ark_pem, strlen(ark_pem), 0600, err);
	if (r < 0)
		return ward_err_prefix(err, "sim ARK");
	ref = json_pack("{s:[s], s:{s:[s]}, s:b, s:s}", "tees", "sim", "measurements", "sim",
			cmeas, "debug", 0, "sim_ark", "ark.pem");
	emb_path(e, "reference.json", ref_path, sizeof(ref_path));
	emb_path(e, "coordinator.pem", pin, sizeof(pin));
	r = ref ? write_json(ref_path, ref, err) : ward_err_set(err, -ENOMEM, "reference");
	if (r >= 0)
		r = netns_enter(e, o, err);
	if (r >= 0)
		r = call_cmd(e, &cmd_verify, "verify.log",
			     (const char *const[]){"verify", "--coordinator", url, "--reference", ref_path,
					"--pin-file", pin, NULL},
			     err);
	if (r < 0)
		return r;
	TRACE("coordinator attested");
	if (!o->quiet)
		fprintf(stderr, "ward run: embedded coordinator attested (sim), certificate pinned\n");

	/* the image: converted with the pin measured in */
	r = make_key(e, "image-key.pem", &imgkey, NULL, err);
	if (r >= 0)
		r = make_key(e, "admin-key.pem", NULL, &admin_pub, err);
	if (r < 0)
		return r;
	if (!o->quiet)
		fprintf(stderr, "ward run: converting %s (wrapped, coordinator pin embedded)\n",
			o->image);
	TRACE("keys made");
	r = convert(e, o, imgkey, meas, err);
	if (r < 0)
		return r;
	TRACE("image converted");

	/* the manifest and the image key */
	emb_path(e, "manifest.json", mpath, sizeof(mpath));
	emb_path(e, "image-key.pem", kpath, sizeof(kpath));
	emb_path(e, "admin-key.pem", akey, sizeof(akey));
	r = write_manifest(e, o, meas, admin_pub, err);
	if (r >= 0)
		r = call_cmd(e, &cmd_manifest, "manifest.log",
			     (const char *const[]){"manifest", "set", "--coordinator", url, "--pin-file",
					pin, mpath, NULL},
			     err);
	TRACE("manifest set");
	if (r >= 0)
		r = call_cmd(e, &cmd_secret, "secret.log",
			     (const char *const[]){"secret", "set", "image-key", "--value-file", kpath,
					"--coordinator", url, "--pin-file", pin, "--user", "admin",
					"--key", akey, NULL},
			     err);
	if (r >= 0)
		r = netns_leave(e, err);
	if (r < 0)
		return r;
	TRACE("image key uploaded");
	if (!o->quiet)
		fprintf(stderr,
			"ward run: manifest set: package '%s' (sim measurement %.16s...), secret "
			"demo.password as $WARD_DEMO_SECRET\n",
			EMB_WORKLOAD, meas);

	emb_bulk_path(e, "image", path, sizeof(path));
	emb_bulk_path(e, "cache", cache, sizeof(cache));
	ro.image = path;
	ro.coordinator = url;
	ro.workload = EMB_WORKLOAD;
	ro.cache_root = cache;
	ro.args = NULL;
	ro.args_count = 0;
	ro.sim_state = sim_state;
	if (o->network == WARD_NET_PRIVATE || o->network == WARD_NET_NONE) {
		snprintf(netns, sizeof(netns), "/proc/%d/ns/net", (int)e->coord);
		ro.network = WARD_NET_PATH;
		ro.netns_path = netns;
	}
	return ward_run(&ro, ret_code, err);
}

int ward_run_embedded(const struct ward_run_opts *o, int *ret_code, struct ward_err *err)
{
	struct emb e = {.host_netns = -1, .quiet = o->quiet};
	sigset_t stop, old;
	int r;

	fprintf(stderr,
		"ward run: WARNING: INSECURE sim mode: no --coordinator, so an embedded "
		"coordinator on the simulated TEE runs this image; nothing is protected by "
		"hardware (for trying Ward only)\n");
	/* a stop request during the setup ends the run in ward_run (-EINTR),
	 * never skipping the cleanup below */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	sigprocmask(SIG_BLOCK, &stop, &old);
	r = embedded(&e, o, ret_code, err);
	emb_cleanup(&e);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}
