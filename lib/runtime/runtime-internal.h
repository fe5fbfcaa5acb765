/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "ward/error.h"
#include "ward/runtime.h"

/* A prepared image: a directory whose content becomes the read-only
 * container rootfs (only /.ward and empty mount points). */
struct rt_image {
	char rootfs[PATH_MAX];
	char config_digest[72];	  /* of the image that was run */
	char stop_signal[32];	  /* "SIGTERM" when the image has none */
	bool wrapped;		  /* converted by `ward convert` (ward-init from the image) */
	char keys_path[PATH_MAX]; /* dev conversion: the INSECURE host key file */
};

/* Resolve opts->image and prepare its rootfs (cached by config digest
 * under cache_root). Plain images are converted on the fly only when
 * opts->insecure_host_keys is set. */
int rt_image_prepare(const struct ward_run_opts *opts, const char *cache_root, struct rt_image *ret,
		     struct ward_err *err);


/* Write the OCI runtime config for the container to bundle/config.json. */
struct rt_bundle_opts {
	const char *bundle;
	const char *rootfs;
	const char *run_dir;   /* bind-mounted read-only at /.ward/run */
	const char *ward_init; /* bind-mounted at /.ward/init (dev conversion), or NULL */
	const char *hostname;
	char *const *init_args; /* ward-init arguments after /.ward/init */
	size_t init_arg_count;
	enum ward_network network;
	const char *netns_path;
	const struct ward_volume_mount *volumes; /* bind-mounted at /.ward/vol/NAME */
	size_t volume_count;
};
int rt_bundle_write(const struct rt_bundle_opts *b, struct ward_err *err);
/* bundle.c: give the container a device: the node at path with this mode
 * (path NULL: no node; ward-init makes it) and a cgroup rule allowing type
 * ('c' or 'b') major:minor (minor -1: any) "rwm". Idempotent per path and
 * rule. */
int rt_bundle_add_device(json_t *config, const char *path, char type, int major, int minor,
			 int mode, struct ward_err *err);
/* volume.c: the volumes' bind mounts, /dev/fuse and its cgroup rule. */
int rt_bundle_add_volumes(json_t *config, const struct ward_volume_mount *v, size_t count,
			  struct ward_err *err);
/* volume.c: ward-init's --volume arguments (2 per volume) into args. */
size_t rt_volume_init_args(const struct ward_volume_mount *v, size_t count, char **args,
			   char bufs[][340]);

/* Userspace TCP port publishing into the container's network namespace. */
struct rt_proxy;
int rt_proxy_start(const struct ward_port *ports, size_t count, pid_t container_pid,
		   struct rt_proxy **ret, struct ward_err *err);
void rt_proxy_stop(struct rt_proxy *p);
