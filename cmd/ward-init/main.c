/* SPDX-License-Identifier: Apache-2.0 */
/* ward-init: the in-TEE agent, PID 1 of a confidential container.
 * Trusted computing base: this file only sequences lib/agent. It reads the
 * wrapped image's /.ward/config.json, gets each layer key from the key
 * source, verifies + decrypts + unpacks the layers into a private tmpfs,
 * enters that root, and runs the original entrypoint as its child under
 * the image's user, Docker's default capabilities and a seccomp filter,
 * forwarding signals and reaping zombies until the app exits.
 * Statically linked: it never uses the image's libc. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ward/agent-volume.h"
#include "ward/agent.h"
#include "ward/cleanup.h"
#include "ward/crypto.h"
#include "ward/encoding.h"
#include "ward/file.h"
#include "ward/json.h"
#include "ward/log.h"
#include "ward/sim.h"
#include "ward/tee.h"
#include "ward/version.h"

#define EXIT_SETUP 125 /* ward-init itself failed (before the app ran) */
#define MAX_ENV 1024

static const char *arg_ward_dir = "/";
static const char *arg_root = "/.ward/root";
static const char *arg_etc = "/.ward/run/etc";
static const char *arg_sim_socket = WARD_SIM_SOCKET_DEFAULT;
static const char *arg_insecure_keys;
static const char *arg_coordinator;
static const char *arg_workload;
static const char *arg_key_resource;
static const char *arg_coordinator_cert;
static char *arg_env[MAX_ENV];
/* protected volumes: --volume NAME:/PATH (backing directory /.ward/vol/NAME) */
#define MAX_VOLUMES 8
#define VOLUME_BACKING_DIR "/.ward/vol"
static struct {
	const char *name, *path;
	struct ward_agent_volreg *reg;
	pid_t server;
} arg_volumes[MAX_VOLUMES];
static size_t arg_volume_count;
/* the coordinator connection, kept for the volume servers' registries */
static struct ward_kbs_transport g_transport;
static struct ward_kbs_evidence_source g_evidence;
static struct ward_tee_opts g_tee_opts;
static char g_sim_path[64];
static size_t arg_env_count;

static void help(void)
{
	printf("Usage: ward-init [OPTIONS] [-- ARGS...]\n\n"
	       "The in-TEE agent of a Ward confidential container (PID 1). Started by\n"
	       "'ward run' (or as the entrypoint of a converted image), not by hand.\n\n"
	       "  --coordinator URL           attest to this coordinator for the layer keys\n"
	       "  --workload NAME             workload of the manifest to run\n"
	       "  --coordinator-cert PATH     the coordinator's TLS certificate (pinned), a\n"
	       "                              file of the image under /.ward (default\n"
	       "                              /.ward/coordinator.pem)\n"
	       "  --key-resource PATH         KBS resource holding the image's private key\n"
	       "                              (default: default/image-key/WORKLOAD)\n"
	       "  --env K=V                   plain environment setting for the app (repeatable)\n"
	       "  --volume NAME:/PATH         serve the protected volume NAME (backing directory\n"
	       "                              /.ward/vol/NAME) at PATH (repeatable; needs\n"
	       "                              --coordinator)\n"
	       "  --insecure-host-keys FILE   INSECURE: layer keys from a host file (no\n"
	       "                              attestation; development only)\n"
	       "  --sim-socket PATH           sim TEE socket (default %s)\n"
	       "  --version, --help\n",
	       WARD_SIM_SOCKET_DEFAULT);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int fail(const char *what, const struct ward_err *err)
{
	fprintf(stderr, "ward-init: %s: %s\n", what, err->msg[0] ? err->msg : "failed");
	fprintf(stderr, "ward-init: refusing to start the workload\n");
	return EXIT_SETUP;
}

struct child_ctx {
	struct ward_agent_ids ids;
};

/* In the child, just before execve: filter, then become the image user. */
static int before_exec(void *p, struct ward_err *err)
{
	struct child_ctx *c = p;
	int r;

	r = ward_agent_seccomp_install(err);
	if (r < 0)
		return r;
	return ward_agent_drop_privileges(&c->ids, ward_agent_default_caps(), err);
}

/* Without a coordinator there is no verifier: collect sim evidence only to
 * show the TEE path works, and say plainly that nothing was verified. */
static void sim_evidence_note(void)
{
	WARD_CLEANUP(ward_tee_evidence_freep) struct ward_tee_evidence *ev = NULL;
	struct ward_err err = WARD_ERR_INIT;
	uint8_t rd[WARD_REPORT_DATA_SIZE] = {0};
	char hex[97];

	if (access(arg_sim_socket, F_OK) < 0)
		return;
	if (ward_tee_sim_collect(arg_sim_socket, rd, &ev, &err) < 0) {
		fprintf(stderr, "ward-init: sim TEE: %s\n", err.msg);
		return;
	}
	/* SNP report: measurement at offset 0x90, 48 bytes */
	if (ev->outblob_size >= 0x90 + 48) {
		ward_hex_encode(ev->outblob + 0x90, 48, hex);
		fprintf(stderr,
			"ward-init: sim TEE evidence collected (%zu bytes), measurement %.16s...\n",
			ev->outblob_size, hex);
	}
}

#ifdef WARD_HAVE_KBS_HTTP
static struct ward_kbs_http *g_kbs_http;

/* The HTTPS transport to the coordinator, its certificate pinned. The pin
 * must come with the measured image (under /.ward, never from the host's
 * /.ward/run): whoever controls it decides whom we attest to. */
static int coordinator_transport(const char *url, struct ward_kbs_transport *ret,
				 struct ward_err *err)
{
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *pin = NULL;
	WARD_AUTOFREE uint8_t *pem = NULL;
	size_t size;
	int r;

	if (!arg_coordinator_cert)
		arg_coordinator_cert = "/.ward/coordinator.pem";
	if (strncmp(arg_coordinator_cert, "/.ward/", 7) != 0 ||
	    strncmp(arg_coordinator_cert, "/.ward/run/", 11) == 0 ||
	    strstr(arg_coordinator_cert, ".."))
		return ward_err_set(err, -WARD_E_POLICY,
				    "--coordinator-cert must name a file of the image under /.ward "
				    "(not the host's /.ward/run)");
	r = ward_file_read(arg_coordinator_cert, 1 << 20, &pem, &size, err);
	if (r < 0 || (r = ward_x509_from_pem(pem, size, &pin, err)) < 0)
		return ward_err_prefix(err, "coordinator certificate");
	return ward_kbs_http_new(url, pin, ret, &g_kbs_http, err);
}
#else
/* This build has no lib/http: it cannot reach a coordinator, and says so. */
static int coordinator_transport(const char *url, struct ward_kbs_transport *ret,
				 struct ward_err *err)
{
	(void)ret;
	(void)arg_coordinator_cert;
	return ward_err_set(err, -WARD_E_UNSUPPORTED,
			    "coordinator %s: this build has no HTTPS client for the KBS protocol "
			    "yet (it lands with the [coordinator] issue)",
			    url);
}
#endif

/* Attest to the coordinator and fetch the image's private key (which opens
 * each layer's keys_jwe, or the root's): first, so that the root can be
 * opened while the rest is fetched (coordinator_bundle()). */
static int coordinator_attest(struct ward_kbs_session *kbs, struct ward_pkey **ret_image_key,
			      struct ward_err *err)
{
	struct ward_kbs_transport t = {0};
	struct ward_tee_opts topts = {0};
	struct ward_kbs_evidence_source ev = {0};
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *pem = NULL;
	char path[256];
	int r;

	if (!arg_workload)
		return ward_err_set(err, -WARD_E_USAGE, "--workload NAME is required");
	r = coordinator_transport(arg_coordinator, &t, err);
	if (r < 0)
		return r;
	if (access(arg_sim_socket, F_OK) == 0) {
		ev = (struct ward_kbs_evidence_source){WARD_TEE_SIM, ward_kbs_sim_evidence,
						       (void *)arg_sim_socket};
	} else {
		topts.tee = ward_tee_detect(NULL);
		if (topts.tee == WARD_TEE_NONE)
			return ward_err_set(err, -WARD_E_NOT_FOUND,
					    "no TEE here and no sim socket at %s", arg_sim_socket);
		topts.want_aux = true;
		ev = (struct ward_kbs_evidence_source){topts.tee, ward_kbs_tee_evidence, &topts};
	}
	r = ward_kbs_attest(&t, &ev, kbs, err);
	if (r < 0)
		return r;
	g_transport = t;
	g_evidence = ev;
	if (ev.ctx == &topts) {
		g_tee_opts = topts;
		g_evidence.ctx = &g_tee_opts;
	}
	fprintf(stderr, "ward-init: attested to %s (%s)\n", arg_coordinator, ward_tee_name(ev.tee));
	if (arg_key_resource)
		snprintf(path, sizeof(path), "%s", arg_key_resource);
	else
		snprintf(path, sizeof(path), "default/image-key/%s", arg_workload);
	r = ward_kbs_resource(&t, kbs, path, &pem, err);
	if (r < 0)
		return r;
	return ward_pkey_from_pem(pem->data, pem->size, ret_image_key, err);
}

/* The workload's bundle (files, argv, env) and the certificate the
 * coordinator issues for our attested key, after coordinator_attest(). */
static int coordinator_bundle(struct ward_kbs_session *kbs, struct ward_secret **ret_bundle,
			      struct ward_secret **ret_tls, struct ward_err *err)
{
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *cert = NULL;
	char path[256];
	int r;

	snprintf(path, sizeof(path), "ward/bundle/%s", arg_workload);
	r = ward_kbs_resource(&g_transport, kbs, path, ret_bundle, err);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "ward/cert/%s", arg_workload);
	r = ward_kbs_resource(&g_transport, kbs, path, &cert, err);
	if (r < 0)
		return r;
	return ward_kbs_tls_bundle(kbs, cert->data, cert->size, ret_tls, err);
}

/* An ext4 root is unsealed and mounted on a second thread while the main
 * one fetches the bundle and certificate: the two overlap. */
struct root_job {
	const struct ward_agent_rootfs *rf;
	const struct ward_agent_keysource *keys;
	int r;
	struct ward_err err;
};

static void *root_job_run(void *arg)
{
	struct root_job *j = arg;

	j->r = ward_agent_rootfs_ext4_mount(arg_ward_dir, j->rf, j->keys, arg_root, &j->err);
	return NULL;
}

/* For each --volume: fetch its key (a KBS resource released to the
 * attested key only), and serve it from a child process at PATH inside the
 * app's root. Runs before the app's root is entered. */
static int volumes_start(struct ward_kbs_session *kbs, struct ward_err *err)
{
	/* the sim socket stays reachable for session renewal after
	 * pivot_root through a directory descriptor */
	if (g_evidence.collect == ward_kbs_sim_evidence) {
		WARD_AUTOFREE char *dir = strdup(arg_sim_socket);
		char *slash = dir ? strrchr(dir, '/') : NULL;
		int dfd;

		if (slash) {
			*slash = '\0';
			dfd = open(dir[0] ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (dfd >= 0) {
				snprintf(g_sim_path, sizeof(g_sim_path), "/proc/self/fd/%d/%s", dfd,
					 slash + 1);
				g_evidence.ctx = g_sim_path;
			}
		}
	}
	for (size_t i = 0; i < arg_volume_count; i++) {
		WARD_CLEANUP(ward_secret_freep) struct ward_secret *key = NULL;
		char rpath[256], backing[256], mnt[4096];
		int r;

		snprintf(rpath, sizeof(rpath), "ward/volume/%s.%s", arg_workload, arg_volumes[i].name);
		r = ward_kbs_resource(&g_transport, kbs, rpath, &key, err);
		if (r < 0)
			return ward_err_prefix(err, "volume %s: key", arg_volumes[i].name);
		if (key->size != WARD_VOL_KEY_SIZE)
			return ward_err_set(err, -WARD_E_MALFORMED, "volume %s: key of %zu bytes",
					    arg_volumes[i].name, key->size);
		r = ward_agent_volreg_new(&g_transport, &g_evidence, kbs, arg_workload,
					  arg_volumes[i].name, &arg_volumes[i].reg, err);
		if (r < 0)
			return r;
		snprintf(backing, sizeof(backing), "%s/%s", VOLUME_BACKING_DIR, arg_volumes[i].name);
		snprintf(mnt, sizeof(mnt), "%s%s", arg_root, arg_volumes[i].path);
		/* the mount point: a directory of the app's root (made if absent) */
		for (char *p = mnt + strlen(arg_root) + 1;; p++) {
			if (*p == '/' || *p == '\0') {
				char c = *p;

				*p = '\0';
				if (mkdir(mnt, 0755) < 0 && errno != EEXIST)
					return ward_err_errno(err, -errno, "mkdir %s", mnt);
				*p = c;
				if (!c)
					break;
			}
		}
		r = ward_agent_volume_serve(backing, mnt, key->data, arg_volumes[i].reg, 1000,
					    &arg_volumes[i].server, err);
		if (r < 0)
			return ward_err_prefix(err, "volume %s", arg_volumes[i].name);
		fprintf(stderr, "ward-init: protected volume %s mounted at %s\n",
			arg_volumes[i].name, arg_volumes[i].path);
	}
	return 0;
}

/* After the app exited: unmount, commit, wait for each server. */
static int volumes_stop(void)
{
	int ret = 0;

	for (size_t i = 0; i < arg_volume_count; i++) {
		struct ward_err err = WARD_ERR_INIT;

		if (arg_volumes[i].server <= 0)
			continue;
		if (ward_agent_volume_stop(arg_volumes[i].path, arg_volumes[i].server, &err) < 0) {
			fprintf(stderr, "ward-init: volume %s: %s\n", arg_volumes[i].name, err.msg);
			ret = -1;
		} else {
			fprintf(stderr, "ward-init: protected volume %s committed and unmounted\n",
				arg_volumes[i].name);
		}
		arg_volumes[i].server = 0;
	}
	return ret;
}

int main(int argc, char **argv)
{
	WARD_CLEANUP(ward_agent_config_freep) struct ward_agent_config *cfg = NULL;
	WARD_AUTOJSON json_t *keyfile = NULL;
	WARD_AUTOFREE uint8_t *raw = NULL;
	WARD_AUTOCLOSE int wardfd = -1, rootfd = -1;
	struct ward_err err = WARD_ERR_INIT;
	struct ward_agent_keysource keys = {0};
	WARD_CLEANUP(ward_kbs_session_clear) struct ward_kbs_session kbs = {0};
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *bundle = NULL;
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *tls = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *image_key = NULL;
	struct ward_agent_jwe_keys jwe_keys = {0};
	struct root_job root_job = {0};
	pthread_t root_tid;
	bool root_thread = false;
	char **bundle_argv = NULL, **bundle_env = NULL;
	size_t bundle_argc = 0, bundle_envc = 0;
	struct ward_unpack_stats stats = {0};
	struct child_ctx child = {0};
	char **app_argv = NULL, **app_envp = NULL;
	char *const *args = NULL;
	size_t raw_size, args_count = 0;
	double t0 = now_ms();
	int i, r, code = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			help();
			return 0;
		} else if (strcmp(a, "--version") == 0) {
			printf("ward-init %s (%s)\n", WARD_VERSION, WARD_GIT_DESCRIBE);
			return 0;
		} else if (strcmp(a, "--") == 0) {
			args = argv + i + 1;
			args_count = (size_t)(argc - i - 1);
			break;
		} else if (i + 1 < argc && strcmp(a, "--env") == 0) {
			if (arg_env_count == MAX_ENV) {
				fprintf(stderr, "ward-init: too many --env\n");
				return EXIT_SETUP;
			}
			arg_env[arg_env_count++] = argv[++i];
		} else if (i + 1 < argc && strcmp(a, "--insecure-host-keys") == 0) {
#if !WARD_INSECURE_TEST_SWITCHES
			/* the trusted agent of a distribution build never takes keys
			 * from the host */
			fprintf(stderr, "ward-init: --insecure-host-keys is not available in this "
					"build; refusing\n");
			return EXIT_SETUP;
#endif
			arg_insecure_keys = argv[++i];
		} else if (i + 1 < argc && strcmp(a, "--volume") == 0) {
			char *v = argv[++i], *colon = strchr(v, ':');

			if (arg_volume_count == MAX_VOLUMES || !colon || colon == v ||
			    colon[1] != '/' || strstr(colon, "/..") || strchr(v, '/') < colon) {
				fprintf(stderr, "ward-init: --volume NAME:/PATH (at most %d)\n",
					MAX_VOLUMES);
				return EXIT_SETUP;
			}
			*colon = '\0';
			arg_volumes[arg_volume_count].name = v;
			arg_volumes[arg_volume_count++].path = colon + 1;
		} else if (i + 1 < argc && strcmp(a, "--coordinator") == 0) {
			arg_coordinator = argv[++i];
		} else if (i + 1 < argc && strcmp(a, "--workload") == 0) {
			arg_workload = argv[++i];
		} else if (i + 1 < argc && strcmp(a, "--key-resource") == 0) {
			arg_key_resource = argv[++i];
		} else if (i + 1 < argc && strcmp(a, "--coordinator-cert") == 0) {
			arg_coordinator_cert = argv[++i];
		} else if (i + 1 < argc && strcmp(a, "--sim-socket") == 0) {
			arg_sim_socket = argv[++i];
		} else if (i + 1 < argc && strcmp(a, "--ward-dir") == 0) {
			arg_ward_dir = argv[++i];
		} else if (i + 1 < argc && strcmp(a, "--root") == 0) {
			arg_root = argv[++i];
		} else if (i + 1 < argc && strcmp(a, "--etc") == 0) {
			arg_etc = argv[++i];
		} else {
			fprintf(stderr, "ward-init: unknown option '%s' (try --help)\n", a);
			return EXIT_SETUP;
		}
	}
	/* stop signals that arrive while we set up are kept for the app (PID 1
	 * would otherwise drop them: it has no handlers) */
	{
		sigset_t early;

		sigemptyset(&early);
		for (const int *s = (const int[]){SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1,
						  SIGUSR2, SIGWINCH, 0};
		     *s; s++)
			sigaddset(&early, *s);
		sigprocmask(SIG_BLOCK, &early, NULL);
	}
	/* we will hold keys and plaintext: no core dumps, no ptrace */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	ward_log_set_component("ward-init");

	wardfd = open(arg_ward_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (wardfd < 0) {
		ward_err_errno(&err, -errno, "open %s", arg_ward_dir);
		return fail("setup", &err);
	}
	{
		WARD_AUTOCLOSE int fd = ward_open_in_root(wardfd, ".ward/config.json", O_RDONLY, 0);

		if (fd < 0) {
			ward_err_errno(&err, fd, "/.ward/config.json");
			return fail("image config", &err);
		}
		r = ward_fd_read_all(fd, WARD_AGENT_CONFIG_MAX_SIZE, &raw, &raw_size, &err);
		if (r < 0)
			return fail("image config", &err);
	}
	r = ward_agent_config_parse(raw, raw_size, &cfg, &err);
	if (r < 0)
		return fail("image config", &err);

	if (arg_coordinator) {
		r = coordinator_attest(&kbs, &image_key, &err);
		if (r < 0)
			return fail("attestation", &err);
		jwe_keys = (struct ward_agent_jwe_keys){&image_key, 1};
		keys = (struct ward_agent_keysource){"coordinator", ward_agent_jwe_layer_key,
						     &jwe_keys};
	} else if (arg_insecure_keys) {
		WARD_AUTOFREE uint8_t *kraw = NULL;
		size_t ksize;

		fprintf(stderr,
			"ward-init: WARNING: INSECURE: layer keys come from the host (%s); nothing "
			"was attested and nothing is confidential\n",
			arg_insecure_keys);
		r = ward_file_read(arg_insecure_keys, WARD_AGENT_CONFIG_MAX_SIZE, &kraw, &ksize,
				   &err);
		if (r < 0 ||
		    (r = ward_agent_insecure_keyfile_load(kraw, ksize, &keyfile, &err)) < 0)
			return fail("insecure host keys", &err);
		ward_wipe(kraw, ksize);
		keys = (struct ward_agent_keysource){"insecure host key file",
						     ward_agent_insecure_keyfile_key, keyfile};
		sim_evidence_note();
	} else {
		ward_err_set(&err, -WARD_E_USAGE, "no coordinator given (--coordinator URL)");
		return fail("attestation", &err);
	}

	r = ward_agent_mount_root(arg_root, &err);
	if (r < 0)
		return fail("app root", &err);
	if (cfg->rootfs.ext4) {
		/* the root is an ext4 image: decrypted whole into memory, checked,
		 * mounted over the (empty) private tmpfs */
		root_job = (struct root_job){&cfg->rootfs, &keys, 0, WARD_ERR_INIT};
		if (arg_coordinator && pthread_create(&root_tid, NULL, root_job_run, &root_job) == 0)
			root_thread = true;
		else
			root_job_run(&root_job);
	}
	if (arg_coordinator) {
		r = coordinator_bundle(&kbs, &bundle, &tls, &err);
		if (root_thread)
			pthread_join(root_tid, NULL);
		if (r < 0)
			return fail("attestation", &err);
	}
	if (cfg->rootfs.ext4) {
		if (root_job.r < 0)
			return fail("root image", &root_job.err);
		fprintf(stderr,
			"ward-init: root image %.19s... (%llu MB ext4) verified and mounted "
			"(%.0f ms)\n",
			cfg->rootfs.root, (unsigned long long)(cfg->rootfs.size >> 20),
			now_ms() - t0);
	} else if (cfg->rootfs.volume) {
		/* the root is a read-only protected volume: served, not unpacked;
		 * arg_root (the private tmpfs) holds the server's mount point, the
		 * writable upper layer and the app's root */
		static char volume_root[WARD_PATH_MAX];
		pid_t server;

		r = ward_agent_rootfs_volume_mount(arg_ward_dir, &cfg->rootfs, &keys, arg_root,
						   volume_root, sizeof(volume_root), &server, &err);
		if (r < 0)
			return fail("root volume", &err);
		arg_root = volume_root;
		fprintf(stderr, "ward-init: root volume %.19s... verified and mounted (%.0f ms)\n",
			cfg->rootfs.root, now_ms() - t0);
	}
	rootfd = open(arg_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		ward_err_errno(&err, -errno, "open %s", arg_root);
		return fail("app root", &err);
	}
	for (size_t l = 0; l < cfg->layer_count; l++) {
		r = ward_agent_layer_apply(wardfd, &cfg->layers[l], &keys, rootfd, NULL, &stats,
					   &err);
		if (r < 0)
			return fail("layer", &err);
	}
	if (!cfg->rootfs.volume && !cfg->rootfs.ext4)
		fprintf(stderr,
			"ward-init: %zu layer(s) verified and unpacked in memory: %llu entries, "
			"%llu MB (%.0f ms)\n",
			cfg->layer_count, (unsigned long long)stats.entries,
			(unsigned long long)(stats.bytes >> 20), now_ms() - t0);
	/* keys are no longer needed */
	json_decref(WARD_TAKE_PTR(keyfile));
	image_key = ward_pkey_free(image_key);

	r = ward_agent_user_resolve(rootfd, cfg->user, &child.ids, &err);
	if (r < 0)
		return fail("user", &err);
	if (bundle) {
		/* the manifest's files, argv and env (its secrets) for this workload */
		r = ward_agent_bundle_apply(bundle->data, bundle->size, rootfd, child.ids.uid,
					    child.ids.gid, &bundle_argv, &bundle_argc, &bundle_env,
					    &bundle_envc, &err);
		if (r < 0)
			return fail("workload bundle", &err);
		if (bundle_argc) {
			args = bundle_argv;
			args_count = bundle_argc;
		}
		for (size_t e = 0; e < bundle_envc && arg_env_count < MAX_ENV; e++)
			arg_env[arg_env_count++] = bundle_env[e];
	}
	if (tls) {
		/* the TLS identity: the attested key and its certificate */
		char **no_argv = NULL, **no_env = NULL;
		size_t n1 = 0, n2 = 0;

		r = ward_agent_bundle_apply(tls->data, tls->size, rootfd, child.ids.uid,
					    child.ids.gid, &no_argv, &n1, &no_env, &n2, &err);
		ward_agent_strv_free(no_argv);
		ward_agent_strv_free(no_env);
		if (r < 0)
			return fail("workload certificate", &err);
	}
	r = ward_agent_build_exec(cfg, args, args_count, arg_env, arg_env_count, &child.ids,
				  &app_argv, &app_envp, &err);
	ward_agent_strv_free(bundle_argv);
	ward_agent_strv_free(bundle_env);
	if (r < 0)
		return fail("command", &err);
	if (arg_volume_count > 0) {
		if (!arg_coordinator) {
			ward_err_set(&err, -WARD_E_USAGE, "protected volumes need --coordinator");
			return fail("volume", &err);
		}
		r = volumes_start(&kbs, &err);
		if (r < 0)
			return fail("volume", &err);
	}
	r = ward_agent_enter_root(arg_root, arg_etc, cfg->working_dir, &err);
	if (r < 0)
		return fail("app root", &err);

	r = ward_agent_run_child(app_argv, app_envp, before_exec, &child, &code, &err);
	ward_agent_strv_free(app_argv);
	ward_agent_strv_free(app_envp);
	if (volumes_stop() < 0 && code == 0)
		code = EXIT_SETUP;
	if (r < 0)
		return fail("supervise", &err);
	return code;
}
