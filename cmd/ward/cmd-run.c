/* SPDX-License-Identifier: Apache-2.0 */
/* ward run: run a confidential image (see ward/runtime.h). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "run-embedded.h"
#include "ward/runtime.h"
#include "ward/util.h"

#define MAX_ENV 1024

static void help(FILE *out)
{
	fprintf(out,
		"Usage: ward run [OPTIONS] IMAGE [-- ARGS...]\n"
		"\n"
		"Run a converted image confidentially: ward-init (PID 1 of the container,\n"
		"inside the TEE) attests, gets the layer keys, decrypts and verifies the\n"
		"layers into memory and execs the original entrypoint unmodified. The host\n"
		"side (this command) never sees a key. IMAGE is an OCI layout directory, an\n"
		"oci-archive or a docker-archive, optionally followed by :TAG.\n"
		"\n"
		"  --name NAME              container name (default: generated)\n"
		"  -e, --env K=V            plain setting for the app (secrets come from the\n"
		"                           manifest, never from the host)\n"
		"  -p, --publish [IP:]HOST:CONTAINER\n"
		"                           publish a TCP port (IP defaults to 127.0.0.1)\n"
		"  --network MODE           private (default), host, none or ns:/PATH\n"
		"  -v, --volume HOSTDIR:/PATH[:NAME]  protected volume NAME of the workload\n"
		"                           (default: PATH's last component) served at PATH;\n"
		"                           HOSTDIR holds only ciphertext (needs --coordinator)\n"
		"  -d, --detach             run in the background (see ward ps/logs/stop/rm)\n"
		"  --coordinator URL        attest to this coordinator for keys and secrets\n"
		"                           (without it and without --insecure-*: an embedded\n"
		"                           coordinator on the INSECURE sim TEE runs a plain\n"
		"                           IMAGE, with a demo secret in $WARD_DEMO_SECRET)\n"
		"  --workload NAME          the manifest's workload to run\n"
		"  --runtime runc|crun      OCI runtime (default runc)\n"
		"  --stop-timeout SEC       after the stop signal, KILL after SEC (default 10)\n"
		"  --insecure-host-keys     INSECURE development mode: a plain image is\n"
		"                           converted on the fly with keys made (and known) on\n"
		"                           this host; no coordinator, nothing confidential\n"
		"  --insecure-keys FILE     INSECURE: layer keys of a converted image from\n"
		"                           'ward convert --export-keys' instead of a coordinator\n"
		"  --ward-init PATH         the ward-init binary (default: next to ward)\n"
		"  -q, --quiet              no progress messages\n"
		"\n"
		"Environment: WARD_STATE_ROOT (default /run/ward), WARD_CACHE_ROOT (default\n"
		"/var/tmp/ward-cache: prepared read-only rootfs per image), WARD_SIM_STATE\n"
		"(default /var/lib/ward/sim), WARD_INIT (the ward-init binary), WARD_ROOTFS\n"
		"(layers, volume or ext4: the embedded coordinator's 'ward convert --rootfs'),\n"
		"WARD_TRACE=1 (timestamped 'ward-trace' lines on stderr for measuring the\n"
		"start path).\n"
		"\n"
		"The exit status is the app's. Ctrl-C or SIGTERM sends the image's stop\n"
		"signal, then KILL after the timeout. On a machine without a TEE the\n"
		"INSECURE sim TEE is used, and says so.\n");
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"name", required_argument, NULL, 'n'},
	    {"env", required_argument, NULL, 'e'},
	    {"publish", required_argument, NULL, 'p'},
	    {"network", required_argument, NULL, 'N'},
	    {"volume", required_argument, NULL, 'v'},
	    {"detach", no_argument, NULL, 'd'},
	    {"coordinator", required_argument, NULL, 'c'},
	    {"workload", required_argument, NULL, 'w'},
	    {"runtime", required_argument, NULL, 'r'},
	    {"stop-timeout", required_argument, NULL, 't'},
	    {"insecure-host-keys", no_argument, NULL, 'I'},
	    {"insecure-keys", required_argument, NULL, 'K'},
	    {"ward-init", required_argument, NULL, 'W'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	static char *env[MAX_ENV];
	static struct ward_port ports[WARD_RUN_MAX_PORTS];
	static struct ward_volume_mount volumes[WARD_RUN_MAX_VOLUMES];
	struct ward_run_opts o = {
	    .network = WARD_NET_PRIVATE, .env = env, .ports = ports, .volumes = volumes};
	struct ward_err err = WARD_ERR_INIT;
	int c, code = 1;
	uint32_t t;

	optind = 1;
	/* "+": options end at IMAGE; what follows is for the app */
	while ((c = getopt_long(argc, argv, "+n:e:p:v:dqh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			o.name = optarg;
			break;
		case 'e':
			if (o.env_count == MAX_ENV)
				return cli_usage("run", "too many -e");
			if (!strchr(optarg, '='))
				return cli_usage("run", "-e '%s': want K=V", optarg);
			env[o.env_count++] = optarg;
			break;
		case 'p':
			if (o.port_count == WARD_RUN_MAX_PORTS)
				return cli_usage("run", "too many -p");
			if (ward_port_parse(optarg, &ports[o.port_count], &err) < 0)
				return cli_usage("run", "%s", err.msg);
			o.port_count++;
			break;
		case 'N':
			if (ward_network_parse(optarg, &o.network, &o.netns_path, &err) < 0)
				return cli_usage("run", "%s", err.msg);
			break;
		case 'v':
			if (o.volume_count == WARD_RUN_MAX_VOLUMES)
				return cli_usage("run", "too many -v");
			if (ward_volume_mount_parse(optarg, &volumes[o.volume_count], &err) < 0)
				return cli_usage("run", "%s", err.msg);
			o.volume_count++;
			break;
		case 'd':
			o.detach = true;
			break;
		case 'c':
			o.coordinator = optarg;
			break;
		case 'w':
			o.workload = optarg;
			break;
		case 'r':
			if (strcmp(optarg, "runc") == 0)
				o.runtime = WARD_RUNTIME_RUNC;
			else if (strcmp(optarg, "crun") == 0)
				o.runtime = WARD_RUNTIME_CRUN;
			else
				return cli_usage("run", "--runtime '%s': want runc or crun",
						 optarg);
			break;
		case 't':
			if (ward_parse_u32(optarg, &t) < 0 || t > 3600)
				return cli_usage("run", "--stop-timeout '%s': want 0-3600", optarg);
			o.stop_timeout = t ? t : 1;
			break;
		case 'I':
		case 'K':
#if !WARD_INSECURE_TEST_SWITCHES
			return cli_usage("run",
					 "--insecure-host-keys and --insecure-keys are not "
					 "available in this build (distribution builds leave "
					 "test switches out)");
#endif
			if (c == 'I')
				o.insecure_host_keys = true;
			else
				o.insecure_keys_file = optarg;
			break;
		case 'W':
			o.ward_init = optarg;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'h':
			help(stdout);
			return WARD_EXIT_OK;
		default:
			return cli_usage("run", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage("run", "IMAGE is required");
	o.image = argv[optind++];
	o.state_root = getenv("WARD_STATE_ROOT"); /* NULL: /run/ward */
	o.cache_root = getenv("WARD_CACHE_ROOT"); /* NULL: /var/tmp/ward-cache */
	if (optind < argc && strcmp(argv[optind], "--") == 0)
		optind++;
	o.args = argv + optind;
	o.args_count = (size_t)(argc - optind);
	if (o.coordinator && !o.workload)
		return cli_usage("run",
				 "--coordinator needs --workload NAME (the manifest's workload)");
	if (!o.coordinator && (o.insecure_host_keys || o.insecure_keys_file))
		fprintf(stderr, "ward run: WARNING: INSECURE development mode: no coordinator, "
				"the layer keys are known to this host and nothing is attested\n");
	if (!o.coordinator && !o.insecure_host_keys && !o.insecure_keys_file) {
		if (o.detach)
			return cli_usage("run", "-d needs --coordinator URL: the embedded "
						"coordinator lives only as long as this ward run");
		if (o.network == WARD_NET_NONE && o.port_count > 0)
			return cli_usage("run", "--network none: -p is refused");
		if (ward_run_embedded(&o, &code, &err) < 0)
			return cli_fail("run", &err);
		return code;
	}
	if (ward_run(&o, &code, &err) < 0)
		return cli_fail("run", &err);
	return code;
}

const struct ward_cmd cmd_run = {
    "run", "run a confidential image (ward-init attests, decrypts, execs)", run, help};
