/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The host side of `ward run`: prepare a bundle whose rootfs holds only
 * /.ward (ward-init, its config and the ENCRYPTED layer blobs, read-only),
 * run it with runc or crun, serve the sim TEE socket, publish ports, and
 * keep container state for ward ps/logs/stop/rm. The host never decrypts
 * anything: plaintext exists only inside ward-init's tmpfs.
 *
 * Development conversion: a plain (unconverted) OCI image is encrypted on
 * the fly with fresh random layer keys; the keys are then known to this
 * host, so that mode is INSECURE and only runs with insecure_host_keys. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ward/compiler.h"
#include "ward/error.h"

#define WARD_RUN_STATE_ROOT "/run/ward"
#define WARD_RUN_CACHE_ROOT "/var/tmp/ward-cache"
#define WARD_RUN_SIM_STATE "/var/lib/ward/sim"
#define WARD_RUN_MAX_PORTS 64
#define WARD_RUN_NAME_MAX 64

struct ward_port {
	char host_ip[64]; /* default 127.0.0.1 */
	uint16_t host_port;
	uint16_t container_port;
};

/* "[IP:]HOST:CONTAINER[/tcp]" -> port. */
WARD_PUBLIC int ward_port_parse(const char *s, struct ward_port *ret, struct ward_err *err);

enum ward_network {
	WARD_NET_PRIVATE, /* a new network namespace with loopback (default) */
	WARD_NET_HOST,	  /* the host's network namespace */
	WARD_NET_NONE,	  /* a new namespace; -p is refused */
	WARD_NET_PATH,	  /* join the namespace at netns_path */
};

/* "host", "none", "private", "ns:PATH". */
WARD_PUBLIC int ward_network_parse(const char *s, enum ward_network *ret, const char **ret_path,
				   struct ward_err *err);

/* A protected volume (-v HOSTDIR:/PATH[:NAME]): HOSTDIR (the backing
 * directory on untrusted storage) is bind-mounted at /.ward/vol/NAME and
 * ward-init serves the volume NAME of the manifest's workload at PATH.
 * NAME defaults to PATH's last component. */
#define WARD_RUN_MAX_VOLUMES 8
struct ward_volume_mount {
	char host_dir[4096]; /* absolute, resolved */
	char path[256];
	char name[65];
};
/* Parse "HOSTDIR:/PATH[:NAME]" (HOSTDIR must be an existing directory). */
WARD_PUBLIC int ward_volume_mount_parse(const char *s, struct ward_volume_mount *ret,
					struct ward_err *err);

enum ward_oci_runtime {
	WARD_RUNTIME_RUNC,
	WARD_RUNTIME_CRUN,
};

/* Is name a valid container name ([A-Za-z0-9][A-Za-z0-9_.-]{0,63})? */
WARD_PUBLIC bool ward_container_name_valid(const char *name);

struct ward_run_opts {
	const char *image; /* OCI layout dir[:tag], oci-archive[:tag] */
	const char *name;  /* NULL: generated */
	char *const *env;  /* plain "K=V" settings for the app */
	size_t env_count;
	char *const *args; /* replace the image's cmd when args_count > 0 */
	size_t args_count;
	const struct ward_port *ports;
	size_t port_count;
	enum ward_network network;
	const char *netns_path;
	bool detach;
	const char *coordinator; /* URL, or NULL */
	const char *workload;
	enum ward_oci_runtime runtime;
	bool insecure_host_keys;	/* allow keys known to the host (dev mode) */
	const char *insecure_keys_file; /* converted image: `ward convert --export-keys` file */
	const char *ward_init;		/* the ward-init binary (NULL: found next to ward) */
	const char *state_root;		/* NULL: WARD_RUN_STATE_ROOT */
	const char *cache_root;		/* NULL: WARD_RUN_CACHE_ROOT */
	const char *sim_state;		/* NULL: $WARD_SIM_STATE or WARD_RUN_SIM_STATE */
	unsigned stop_timeout;		/* seconds before KILL (0: 10) */
	bool quiet;			/* no progress lines */
	const struct ward_volume_mount *volumes; /* protected volumes (need coordinator) */
	size_t volume_count;
};

/* Run a confidential container. In the foreground: streams the app's
 * stdout/stderr, forwards SIGINT/SIGTERM as the image's stop signal (then
 * KILL after the timeout), returns the app's exit code in *ret_exit_code
 * and removes bundle and state. Detached: returns once the container is
 * started, with a supervisor process keeping state under
 * state_root/<name> (logs in state_root/<name>/log) until `ward rm`.
 * SIGINT/SIGTERM/SIGHUP/SIGCHLD are blocked during the call and the ones
 * it consumed are not delivered afterwards; a stop request that arrives
 * while the image is being prepared ends the run before the container
 * starts (-EINTR). */
WARD_PUBLIC int ward_run(const struct ward_run_opts *opts, int *ret_exit_code,
			 struct ward_err *err);


/* ---- state of detached containers (ward ps/logs/stop/rm) ---- */

struct ward_container_info {
	char name[WARD_RUN_NAME_MAX + 1];
	char image[512];
	char status[16];  /* "running" or "exited" */
	int exit_code;	  /* when exited */
	pid_t supervisor; /* the detached `ward run` process */
	char created[32];
	char ports[256];
};

/* List containers under state_root (NULL: default). *ret malloc'ed. */
WARD_PUBLIC int ward_state_list(const char *state_root, struct ward_container_info **ret,
				size_t *ret_count, struct ward_err *err);
WARD_PUBLIC int ward_state_get(const char *state_root, const char *name,
			       struct ward_container_info *ret, struct ward_err *err);
/* Path of the log file of name (in buf). */
WARD_PUBLIC int ward_state_log_path(const char *state_root, const char *name, char *buf,
				    size_t size, struct ward_err *err);
/* Ask the supervisor to stop the container (stop signal, then KILL after
 * timeout seconds) and wait for it. */
WARD_PUBLIC int ward_state_stop(const char *state_root, const char *name, unsigned timeout,
				struct ward_err *err);
/* Remove an exited container's state (force: stop it first). */
WARD_PUBLIC int ward_state_remove(const char *state_root, const char *name, bool force,
				  struct ward_err *err);
