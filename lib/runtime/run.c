/* SPDX-License-Identifier: Apache-2.0 */
/* `ward run`: the untrusted host side. It prepares the bundle (only
 * encrypted blobs and ward-init), serves the sim TEE, starts the container
 * with runc or crun (`run --detach`, with this process as child
 * subreaper so the container's init is our child and its exit status is
 * ours to collect), publishes ports, turns SIGINT/SIGTERM into the image's
 * stop signal (then KILL after a timeout) and cleans up on every path. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime-internal.h"
#include "ward/agent.h"
#include "ward/cleanup.h"
#include "ward/crypto.h"
#include "ward/encoding.h"
#include "ward/file.h"
#include "ward/json.h"
#include "ward/log.h"
#include "ward/sim.h"
#include "ward/tee.h"
#include "ward/util.h"

int ward_port_parse(const char *s, struct ward_port *ret, struct ward_err *err)
{
	char buf[128], *parts[3], *slash;
	size_t n = 0;
	uint32_t hp, cp;
	struct ward_port p = {.host_ip = "127.0.0.1"};

	if (strlen(s) >= sizeof(buf))
		return ward_err_set(err, -WARD_E_USAGE, "port '%.40s...': too long", s);
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash) {
		if (strcmp(slash, "/tcp") != 0)
			return ward_err_set(err, -WARD_E_USAGE, "port '%s': only tcp is supported",
					    s);
		*slash = 0;
	}
	for (char *save = NULL, *t = strtok_r(buf, ":", &save); t; t = strtok_r(NULL, ":", &save)) {
		if (n == 3)
			return ward_err_set(err, -WARD_E_USAGE,
					    "port '%s': want [IP:]HOST:CONTAINER", s);
		parts[n++] = t;
	}
	if (n < 2)
		return ward_err_set(err, -WARD_E_USAGE, "port '%s': want [IP:]HOST:CONTAINER", s);
	if (n == 3) {
		if (strlen(parts[0]) >= sizeof(p.host_ip))
			return ward_err_set(err, -WARD_E_USAGE, "port '%s': bad address", s);
		strcpy(p.host_ip, parts[0]);
	}
	if (ward_parse_u32(parts[n - 2], &hp) < 0 || hp == 0 || hp > 65535 ||
	    ward_parse_u32(parts[n - 1], &cp) < 0 || cp == 0 || cp > 65535)
		return ward_err_set(err, -WARD_E_USAGE, "port '%s': ports are 1-65535", s);
	p.host_port = (uint16_t)hp;
	p.container_port = (uint16_t)cp;
	*ret = p;
	return 0;
}

int ward_network_parse(const char *s, enum ward_network *ret, const char **ret_path,
		       struct ward_err *err)
{
	*ret_path = NULL;
	if (strcmp(s, "host") == 0)
		*ret = WARD_NET_HOST;
	else if (strcmp(s, "none") == 0)
		*ret = WARD_NET_NONE;
	else if (strcmp(s, "private") == 0 || strcmp(s, "bridge") == 0)
		*ret = WARD_NET_PRIVATE;
	else if (strncmp(s, "ns:", 3) == 0 && s[3] == '/') {
		*ret = WARD_NET_PATH;
		*ret_path = s + 3;
	} else
		return ward_err_set(err, -WARD_E_USAGE,
				    "network '%s': want host, none, private or ns:/PATH", s);
	return 0;
}

bool ward_container_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > WARD_RUN_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool alnum =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return false;
	}
	return true;
}

/* ---- helpers ---- */

#define TRACE(...) ward_trace("ward-run", __VA_ARGS__)

static int find_ward_init(const char *given, char *out, size_t size, struct ward_err *err)
{
	char exe[PATH_MAX], dir[PATH_MAX];
	const char *env = getenv("WARD_INIT");
	ssize_t n;

	if (given || env) {
		const char *p = given ? given : env;

		/* the runtime resolves bind sources itself: make the path absolute */
		if (!realpath(p, exe) || access(exe, X_OK) < 0)
			return ward_err_errno(err, -errno, "ward-init '%s'", p);
		snprintf(out, size, "%s", exe);
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return ward_err_errno(err, -errno, "readlink /proc/self/exe");
	exe[n] = 0;
	snprintf(dir, sizeof(dir), "%s", exe);
	*strrchr(dir, '/') = 0;
	static const char *const rel[] = {"ward-init", "../ward-init/ward-init",
					  "../libexec/ward/ward-init", "../lib/ward/ward-init"};
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(out, size, "%s/%s", dir, rel[i]);
		if (access(out, X_OK) == 0)
			return 0;
	}
	return ward_err_set(err, -WARD_E_NOT_FOUND,
			    "ward-init not found next to %s (set WARD_INIT or --ward-init)", exe);
}

static int write_text(const char *path, const char *text, mode_t mode, struct ward_err *err)
{
	return ward_file_write_volatile(path, text, strlen(text), mode, err);
}

static int copy_file(const char *from, const char *to, mode_t mode, struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *data = NULL;
	size_t size;
	int r = ward_file_read(from, 16 << 20, &data, &size, err);

	if (r < 0)
		return r;
	r = ward_file_write_volatile(to, data, size, mode, err);
	ward_wipe(data, size);
	return r;
}

/* Run argv (the OCI runtime), wait for it, return its exit status. */
static int spawn_wait(char *const *argv, bool crun_hybrid, bool quiet_errors, int *ret_status,
		      struct ward_err *err)
{
	sigset_t empty;
	pid_t pid;
	int st;

	sigemptyset(&empty);
	pid = fork();
	if (pid < 0)
		return ward_err_errno(err, -errno, "fork");
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);

		sigprocmask(SIG_SETMASK, &empty, NULL);
		if (nul >= 0)
			dup2(nul, STDIN_FILENO);
		if (quiet_errors && nul >= 0) {
			int nw = open("/dev/null", O_WRONLY | O_CLOEXEC);

			if (nw >= 0)
				dup2(nw, STDERR_FILENO);
		}
		if (crun_hybrid) {
			/* crun refuses hybrid cgroups: hide the cgroup2 mount from it in
			 * a private mount namespace (../shared/ENVIRONMENT.md §1) */
			if (unshare(CLONE_NEWNS) == 0 &&
			    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0)
				(void)umount2("/sys/fs/cgroup/unified", MNT_DETACH);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "ward run: cannot execute %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return ward_err_errno(err, -errno, "waitpid");
	*ret_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return 0;
}

struct runtime_cmd {
	const char *bin;
	char root[PATH_MAX];
	bool crun;
	bool hybrid;
};

static int runtime_call(const struct runtime_cmd *rt, const char *verb, const char *const *extra,
			bool quiet, int *ret_status, struct ward_err *err)
{
	const char *argv[24];
	size_t n = 0;

	argv[n++] = rt->bin;
	argv[n++] = "--root";
	argv[n++] = rt->root;
	if (rt->crun && strcmp(verb, "run") == 0)
		argv[n++] = "--cgroup-manager=disabled";
	argv[n++] = verb;
	for (; *extra && n < 23; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	return spawn_wait((char *const *)argv, rt->hybrid && strcmp(verb, "run") == 0, quiet,
			  ret_status, err);
}

/* ---- state ---- */

struct sim_server {
	struct ward_sim *sim;
	struct ward_sim_launch launch;
	char state[PATH_MAX];
	char sock[PATH_MAX];
	int fd;
	volatile int stop;
	pthread_t thread;
	bool started;
};

/* The sim thread loads the platform (RSA-4096 keys and a chain check,
 * tens of ms) while runc creates the container; ward-init's connection
 * waits in the listen backlog meanwhile. If the platform does not load,
 * the socket closes and ward-init fails closed ("sim evidence"). */
static void *sim_main(void *arg)
{
	struct sim_server *s = arg;
	struct ward_err err = WARD_ERR_INIT;

	if (ward_sim_open(s->state, &s->sim, &err) < 0) {
		ward_warn("sim TEE state '%s': %s", s->state, err.msg);
		(void)close(s->fd);
		s->fd = -1;
		return NULL;
	}
	ward_trace("ward-run", "sim TEE platform loaded");
	if (ward_sim_serve(s->sim, &s->launch, s->fd, &s->stop, &err) < 0)
		ward_warn("sim TEE socket: %s", err.msg);
	return NULL;
}

static int sim_start(const char *state, const char *config_digest, const char *sock,
		     struct sim_server *s, struct ward_err *err)
{
	int r;

	s->launch.policy = 0x30000;
	r = ward_sim_image_measurement(config_digest, s->launch.measurement, err);
	if (r < 0)
		return r;
	if (strlen(state) >= sizeof(s->state) || strlen(sock) >= sizeof(s->sock))
		return ward_err_set(err, -ENAMETOOLONG, "sim TEE state or socket path too long");
	strcpy(s->state, state);
	strcpy(s->sock, sock);
	r = ward_sim_listen(sock, &s->fd, err);
	if (r < 0)
		return r;
	if (pthread_create(&s->thread, NULL, sim_main, s) != 0)
		return ward_err_set(err, -EAGAIN, "cannot start the sim TEE thread");
	s->started = true;
	return 0;
}

static void sim_stop(struct sim_server *s)
{
	if (s->started) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_un sa = {.sun_family = AF_UNIX};

		s->stop = 1;
		/* wake its poll() now rather than at its next 200 ms timeout: the
		 * connection is accepted, reads EOF (closed before the join) and
		 * is dropped */
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s->sock);
		if (fd >= 0) {
			(void)connect(fd, (struct sockaddr *)&sa, sizeof(sa));
			(void)close(fd);
		}
		pthread_join(s->thread, NULL);
		s->started = false;
	}
	if (s->fd > 0)
		close(s->fd);
	s->fd = -1;
	s->sim = ward_sim_free(s->sim);
}

static int state_write(const char *dir, const struct ward_run_opts *o, const char *name,
		       const char *status, int exit_code, const char *ports, const char *created,
		       struct ward_err *err)
{
	WARD_AUTOJSON json_t *j =
	    json_pack("{s:s, s:s, s:s, s:i, s:i, s:s, s:s}", "name", name, "image", o->image,
		      "status", status, "exit_code", exit_code, "supervisor", (int)getpid(),
		      "created", created, "ports", ports);
	WARD_AUTOFREE char *txt = NULL;
	char path[PATH_MAX + 32];
	int r;

	if (!j)
		return ward_err_set(err, -ENOMEM, "out of memory");
	r = ward_json_dump(j, &txt, err);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/state.json", dir);
	return write_text(path, txt, 0600, err);
}

/* ---- the run ---- */

struct run {
	const struct ward_run_opts *o;
	char name[WARD_RUN_NAME_MAX + 1];
	char id[WARD_RUN_NAME_MAX + 8];
	char dir[PATH_MAX];
	char bundle[PATH_MAX + 16];
	char run_dir[PATH_MAX + 16];
	char ward_init[PATH_MAX];
	char ports[256];
	char created[WARD_RFC3339_SIZE];
	struct rt_image img;
	struct runtime_cmd rt;
	struct sim_server sim;
	struct rt_proxy *proxy;
	bool created_container;
	pid_t pid;
	int stop_sig;
	int ready_fd; /* detached: tell the parent that we are up (or why not) */
};

static void say(const struct run *r, const char *fmt, ...) WARD_PRINTF(2, 3);
static void say(const struct run *r, const char *fmt, ...)
{
	va_list ap;

	if (r->o->quiet)
		return;
	va_start(ap, fmt);
	fputs("ward run: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int prepare(struct run *r, struct ward_err *err)
{
	const struct ward_run_opts *o = r->o;
	char path[PATH_MAX + 64], hosts[512];
	const char *sim_state;
	int ret;

	ret = find_ward_init(o->ward_init, r->ward_init, sizeof(r->ward_init), err);
	if (ret < 0)
		return ret;
	ret =
	    rt_image_prepare(o, o->cache_root ? o->cache_root : WARD_RUN_CACHE_ROOT, &r->img, err);
	if (ret < 0)
		return ret;
	TRACE("image prepared (%s)", r->img.wrapped ? "converted" : "dev conversion");
	if (ward_signal_parse(r->img.stop_signal, &r->stop_sig) < 0)
		r->stop_sig = SIGTERM;
	snprintf(r->run_dir, sizeof(r->run_dir), "%s/run", r->dir);
	snprintf(path, sizeof(path), "%s/etc", r->run_dir);
	if (mkdir(r->run_dir, 0755) < 0 || mkdir(path, 0755) < 0)
		return ward_err_errno(err, -errno, "run directory %s", r->run_dir);
	snprintf(hosts, sizeof(hosts),
		 "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
		 "127.0.1.1\t%s\n",
		 r->name);
	snprintf(path, sizeof(path), "%s/etc/hosts", r->run_dir);
	if ((ret = write_text(path, hosts, 0644, err)) < 0)
		return ret;
	snprintf(path, sizeof(path), "%s/etc/hostname", r->run_dir);
	snprintf(hosts, sizeof(hosts), "%s\n", r->name);
	if ((ret = write_text(path, hosts, 0644, err)) < 0)
		return ret;
	snprintf(path, sizeof(path), "%s/etc/resolv.conf", r->run_dir);
	if (o->network == WARD_NET_HOST && access("/etc/resolv.conf", R_OK) == 0)
		ret = copy_file("/etc/resolv.conf", path, 0644, err);
	else
		ret = write_text(path, "", 0644, err);
	if (ret < 0)
		return ret;

	/* where the layer keys come from */
	if (o->coordinator) {
		/* ward-init attests to it (and says so if this build cannot) */
	} else if (o->insecure_host_keys || o->insecure_keys_file) {
		const char *keys = r->img.wrapped ? o->insecure_keys_file : r->img.keys_path;

		if (!keys || !keys[0])
			return ward_err_set(
			    err, -WARD_E_USAGE,
			    "converted image without a coordinator: give "
			    "--insecure-keys FILE (from 'ward convert --export-keys') "
			    "or --coordinator URL");
		snprintf(path, sizeof(path), "%s/insecure-layer-keys.json", r->run_dir);
		ret = copy_file(keys, path, 0600, err);
		if (ret < 0)
			return ward_err_prefix(err, "insecure keys");
	} else {
		return ward_err_set(err, -WARD_E_USAGE,
				    "no coordinator: give --coordinator URL (the ward CLI "
				    "starts an embedded one for plain images), or "
				    "--insecure-host-keys for INSECURE development runs");
	}

	/* the sim TEE, unless the machine has a real one */
	if (ward_tee_detect(NULL) == WARD_TEE_NONE) {
		sim_state = o->sim_state ? o->sim_state : getenv("WARD_SIM_STATE");
		if (!sim_state)
			sim_state = WARD_RUN_SIM_STATE;
		(void)mkdir("/var/lib/ward", 0700);
		snprintf(path, sizeof(path), "%s/sim.sock", r->run_dir);
		ret = sim_start(sim_state, r->img.config_digest, path, &r->sim, err);
		if (ret < 0)
			return ward_err_prefix(err, "sim TEE");
		TRACE("sim TEE serving");
		say(r, "INSECURE: sim TEE (no hardware protection), platform state in %s",
		    sim_state);
	}

	/* the bundle */
	snprintf(r->bundle, sizeof(r->bundle), "%s/bundle", r->dir);
	if (mkdir(r->bundle, 0700) < 0)
		return ward_err_errno(err, -errno, "mkdir %s", r->bundle);
	{
		char *init_args[2 * 1024 + 16];
		size_t n = 0;

		if (o->env_count > 1024 || o->args_count > 1024)
			return ward_err_set(err, -WARD_E_TOO_BIG, "too many -e or arguments");
		if (o->coordinator) {
			init_args[n++] = (char *)"--coordinator";
			init_args[n++] = (char *)o->coordinator;
			if (o->workload) {
				init_args[n++] = (char *)"--workload";
				init_args[n++] = (char *)o->workload;
			}
		} else {
			init_args[n++] = (char *)"--insecure-host-keys";
			init_args[n++] = (char *)"/.ward/run/insecure-layer-keys.json";
		}
		static char volbufs[WARD_RUN_MAX_VOLUMES][340];

		if (o->volume_count > WARD_RUN_MAX_VOLUMES)
			return ward_err_set(err, -WARD_E_TOO_BIG, "too many -v");
		if (o->volume_count > 0 && !o->coordinator)
			return ward_err_set(err, -WARD_E_USAGE,
					    "protected volumes (-v) need --coordinator: the volume "
					    "key and its freshness come from the coordinator");
		n += rt_volume_init_args(o->volumes, o->volume_count, init_args + n, volbufs);
		for (size_t i = 0; i < o->env_count; i++) {
			init_args[n++] = (char *)"--env";
			init_args[n++] = o->env[i];
		}
		if (o->args_count) {
			init_args[n++] = (char *)"--";
			for (size_t i = 0; i < o->args_count; i++)
				init_args[n++] = o->args[i];
		}
		struct rt_bundle_opts b = {
		    .bundle = r->bundle,
		    .rootfs = r->img.rootfs,
		    .run_dir = r->run_dir,
		    .ward_init = r->img.wrapped ? NULL : r->ward_init,
		    .hostname = r->name,
		    .init_args = init_args,
		    .init_arg_count = n,
		    .network = o->network,
		    .netns_path = o->netns_path,
		    .volumes = o->volumes,
		    .volume_count = o->volume_count,
		};
		ret = rt_bundle_write(&b, err);
		if (ret < 0)
			return ward_err_prefix(err, "bundle");
		TRACE("bundle written");
	}
	return 0;
}

static int start(struct run *r, struct ward_err *err)
{
	char pidfile[PATH_MAX + 32];
	WARD_AUTOFREE uint8_t *pidtxt = NULL;
	size_t size;
	uint32_t pid;
	int st, ret;

	snprintf(pidfile, sizeof(pidfile), "%s/pid", r->dir);
	/* `run --detach` is create + start in one runtime process: one Go (or
	 * crun) start-up less on the path than create, then start. Whatever
	 * happens, cleanup deletes the container (quietly if there is none). */
	r->created_container = true;
	ret = runtime_call(&r->rt, "run",
			   (const char *const[]){"--detach", "--bundle", r->bundle, "--pid-file",
						 pidfile, r->id, NULL},
			   false, &st, err);
	if (ret < 0)
		return ret;
	if (st != 0)
		return ward_err_set(err, -WARD_E_STATE, "%s run failed (exit %d)", r->rt.bin, st);
	TRACE("%s run --detach done", r->rt.bin);
	ret = ward_file_read(pidfile, 64, &pidtxt, &size, err);
	if (ret < 0)
		return ward_err_prefix(err, "container pid");
	while (size > 0 && (pidtxt[size - 1] == '\n' || pidtxt[size - 1] == ' '))
		pidtxt[--size] = 0;
	if (ward_parse_u32((char *)pidtxt, &pid) < 0 || pid < 2)
		return ward_err_set(err, -WARD_E_MALFORMED, "container pid file: '%.20s'",
				    (char *)pidtxt);
	r->pid = (pid_t)pid;
	/* the app cannot listen before ward-init has attested and unpacked:
	 * the relay is up long before, though it starts after the container */
	if (r->o->port_count &&
	    (r->o->network == WARD_NET_PRIVATE || r->o->network == WARD_NET_PATH)) {
		ret = rt_proxy_start(r->o->ports, r->o->port_count, r->pid, &r->proxy, err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wait for the container's init (our child via the subreaper), turning
 * stop requests into the stop signal and, after the timeout, KILL. */
static int supervise(struct run *r, int *ret_code, struct ward_err *err)
{
	sigset_t set;
	unsigned timeout = r->o->stop_timeout ? r->o->stop_timeout : 10;
	double kill_at = 0;
	int sent = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	for (;;) {
		struct timespec ts = {0, 200 * 1000 * 1000};
		siginfo_t si;
		int sig = sigtimedwait(&set, &si, &ts);

		if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
			if (sent == 0) {
				say(r, "stopping %s (%s, KILL after %us)", r->name,
				    sigabbrev_np(r->stop_sig) ? sigabbrev_np(r->stop_sig) : "?",
				    timeout);
				(void)kill(r->pid, r->stop_sig);
				kill_at = mono() + timeout;
				sent = 1;
			} else if (sent == 1) {
				(void)kill(r->pid, SIGKILL); /* asked twice: no more waiting */
				sent = 2;
			}
		}
		if (sent == 1 && mono() >= kill_at) {
			say(r, "%s did not stop in %us: KILL", r->name, timeout);
			(void)kill(r->pid, SIGKILL);
			sent = 2;
		}
		for (;;) {
			int st;
			pid_t p = waitpid(-1, &st, WNOHANG);

			if (p < 0 && errno == ECHILD) {
				/* lost our child (should not happen): report failure */
				return ward_err_set(err, -WARD_E_STATE,
						    "container process vanished");
			}
			if (p <= 0)
				break;
			if (p == r->pid) {
				TRACE("container init exited");
				*ret_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
				return 0;
			}
		}
	}
}

static void cleanup(struct run *r, bool keep_state)
{
	struct ward_err e = WARD_ERR_INIT;
	int st;

	if (r->proxy) {
		rt_proxy_stop(r->proxy);
		r->proxy = NULL;
	}
	if (r->created_container) {
		if (r->pid > 0)
			(void)kill(r->pid, SIGKILL);
		(void)runtime_call(&r->rt, "delete", (const char *const[]){"--force", r->id, NULL},
				   true, &st, &e);
		r->created_container = false;
	}
	sim_stop(&r->sim);
	if (r->bundle[0])
		(void)ward_rm_rf(r->bundle, &e);
	if (r->run_dir[0])
		(void)ward_rm_rf(r->run_dir, &e);
	if (!keep_state && r->dir[0])
		(void)ward_rm_rf(r->dir, &e);
}

static void ready(struct run *r, const char *msg)
{
	if (r->ready_fd >= 0) {
		if (write(r->ready_fd, msg, strlen(msg)) < 0) {
			/* the caller went away: nothing to tell */
		}
		close(r->ready_fd);
		r->ready_fd = -1;
	}
}

static int run_blocked(const struct ward_run_opts *o, int *ret_exit_code, struct ward_err *err)
{
	struct run r = {.o = o, .ready_fd = -1, .sim = {.fd = -1}};
	const char *root = o->state_root ? o->state_root : WARD_RUN_STATE_ROOT;
	int ret, code = 1;

	TRACE("begin");
	if (o->network == WARD_NET_NONE && o->port_count)
		return ward_err_set(err, -WARD_E_USAGE, "-p cannot publish with --network none");
	if (o->name) {
		if (!ward_container_name_valid(o->name))
			return ward_err_set(err, -WARD_E_USAGE, "container name '%s' is not valid",
					    o->name);
		snprintf(r.name, sizeof(r.name), "%s", o->name);
	} else {
		uint8_t rnd[4];
		char hex[9];

		ret = ward_random(rnd, sizeof(rnd), err);
		if (ret < 0)
			return ret;
		ward_hex_encode(rnd, sizeof(rnd), hex);
		snprintf(r.name, sizeof(r.name), "ward-%s", hex);
	}
	snprintf(r.id, sizeof(r.id), "ward-%s", r.name);
	r.rt.crun = o->runtime == WARD_RUNTIME_CRUN;
	r.rt.bin = r.rt.crun ? "crun" : "runc";
	r.rt.hybrid = r.rt.crun && access("/sys/fs/cgroup/unified/cgroup.controllers", F_OK) == 0;
	snprintf(r.rt.root, sizeof(r.rt.root), "%s/.%s", root, r.rt.bin);
	for (size_t i = 0, n = 0; i < o->port_count; i++)
		n += (size_t)snprintf(r.ports + n, n < sizeof(r.ports) ? sizeof(r.ports) - n : 0,
				      "%s%s:%u->%u", i ? "," : "", o->ports[i].host_ip,
				      o->ports[i].host_port, o->ports[i].container_port);
	ward_time_format_rfc3339(time(NULL), r.created);

	if (mkdir(root, 0700) < 0 && errno != EEXIST)
		return ward_err_errno(err, -errno, "state directory %s", root);
	snprintf(r.dir, sizeof(r.dir), "%s/%s", root, r.name);
	if (mkdir(r.dir, 0700) < 0) {
		if (errno == EEXIST)
			return ward_err_set(err, -WARD_E_STATE,
					    "a container named '%s' exists (ward rm %s)", r.name,
					    r.name);
		return ward_err_errno(err, -errno, "state directory %s", r.dir);
	}

	if (o->detach) {
		int p[2];
		pid_t pid;
		char buf[WARD_ERR_MSG_MAX + 8];
		ssize_t n;

		if (pipe2(p, O_CLOEXEC) < 0) {
			ret = ward_err_errno(err, -errno, "pipe");
			cleanup(&r, false);
			return ret;
		}
		pid = fork();
		if (pid < 0) {
			ret = ward_err_errno(err, -errno, "fork");
			cleanup(&r, false);
			return ret;
		}
		if (pid > 0) {
			/* the caller's side: wait until the supervisor is up */
			close(p[1]);
			n = read(p[0], buf, sizeof(buf) - 1);
			close(p[0]);
			buf[n > 0 ? n : 0] = 0;
			if (strcmp(buf, "ok") == 0) {
				printf("%s\n", r.name);
				*ret_exit_code = 0;
				return 0;
			}
			return ward_err_set(err, -WARD_E_STATE, "%s",
					    buf[0] ? buf : "the supervisor died while starting");
		}
		/* the supervisor: own session, output to the log */
		close(p[0]);
		r.ready_fd = p[1];
		(void)setsid();
		{
			char logp[PATH_MAX + 16];
			int nul = open("/dev/null", O_RDWR | O_CLOEXEC), lfd;

			snprintf(logp, sizeof(logp), "%s/log", r.dir);
			lfd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
			if (nul >= 0)
				dup2(nul, STDIN_FILENO);
			if (lfd >= 0) {
				dup2(lfd, STDOUT_FILENO);
				dup2(lfd, STDERR_FILENO);
				close(lfd);
			}
			if (nul >= 0)
				close(nul);
		}
	}

	(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

	ret = prepare(&r, err);
	if (ret >= 0) {
		sigset_t pending;

		/* stopped while preparing (a long conversion): do not start at all */
		if (sigpending(&pending) == 0 &&
		    (sigismember(&pending, SIGINT) == 1 || sigismember(&pending, SIGTERM) == 1 ||
		     sigismember(&pending, SIGHUP) == 1))
			ret = ward_err_set(err, -EINTR, "interrupted before the container started");
	}
	if (ret >= 0) {
		ret = state_write(r.dir, o, r.name, "running", 0, r.ports, r.created, err);
		if (ret >= 0)
			ret = start(&r, err);
	}
	if (ret < 0) {
		ready(&r, err->msg);
		cleanup(&r, false);
		if (o->detach)
			_exit(1);
		return ret;
	}
	if (!o->detach)
		say(&r, "started %s (%s, %s)", r.name, r.rt.bin,
		    r.img.wrapped ? "converted image" : "INSECURE dev conversion");
	ready(&r, "ok");

	ret = supervise(&r, &code, err);
	if (o->detach) {
		struct ward_err e2 = WARD_ERR_INIT;

		cleanup(&r, true);
		(void)state_write(r.dir, o, r.name, "exited", ret < 0 ? 1 : code, r.ports,
				  r.created, &e2);
		_exit(0);
	}
	cleanup(&r, false);
	TRACE("cleaned up");
	if (ret < 0)
		return ret;
	*ret_exit_code = code;
	return 0;
}

int ward_run(const struct ward_run_opts *o, int *ret_exit_code, struct ward_err *err)
{
	sigset_t set, old;
	int r;

	/* Signals are handled synchronously for the whole run (a stop request
	 * while preparing is seen before the container starts); threads
	 * started inside inherit the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &old);
	r = run_blocked(o, ret_exit_code, err);
	/* the stop requests this run already acted on must not kill the caller
	 * once unblocked: consume them */
	for (;;) {
		struct timespec zero = {0, 0};

		if (sigtimedwait(&set, NULL, &zero) < 0)
			break;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}
