/* SPDX-License-Identifier: Apache-2.0 */
/* ward sim: the INSECURE development TEE (see ward/sim.h). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ward/cleanup.h"
#include "ward/encoding.h"
#include "ward/log.h"
#include "ward/sim.h"

static void help(FILE *out)
{
	fprintf(out,
		"Usage: ward sim init --state DIR\n"
		"       ward sim ark --state DIR\n"
		"       ward sim serve --state DIR --socket PATH\n"
		"                      (--measurement HEX | --image-config DIGEST) [--host-data HEX]\n"
		"                      [--policy N]\n"
		"\n"
		"The sim TEE: an INSECURE stand-in for SEV-SNP on machines without a TEE.\n"
		"It keeps an AMD-shaped ARK/ASK/VCEK chain in DIR and signs SNP-format\n"
		"reports for whoever connects to its socket. Nothing it attests is secure:\n"
		"its keys live on the host.\n"
		"\n"
		"  init    create the platform in DIR (kept across restarts)\n"
		"  ark     print the platform's root certificate (the trust anchor a\n"
		"          verifier needs, given with --allow-sim-insecure)\n"
		"  serve   answer report requests on a unix socket until SIGINT/SIGTERM;\n"
		"          the launch measurement is given as 48 hex bytes or derived\n"
		"          from a converted image's config digest (sha256:...)\n");
}

static volatile int g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{"state", required_argument, NULL, 's'},
		{"socket", required_argument, NULL, 'S'},
		{"measurement", required_argument, NULL, 'm'},
		{"image-config", required_argument, NULL, 'i'},
		{"host-data", required_argument, NULL, 'H'},
		{"policy", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	struct ward_err err = WARD_ERR_INIT;
	const char *state = NULL, *sock = NULL, *meas = NULL, *image = NULL, *host = NULL;
	const char *verb;
	struct ward_sim_launch launch = {0};
	WARD_CLEANUP(ward_sim_freep) struct ward_sim *sim = NULL;
	int c, r;

	if (argc < 2)
		return cli_usage("sim", "missing subcommand (init, ark or serve)");
	verb = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			state = optarg;
			break;
		case 'S':
			sock = optarg;
			break;
		case 'm':
			meas = optarg;
			break;
		case 'i':
			image = optarg;
			break;
		case 'H':
			host = optarg;
			break;
		case 'p': {
			char *end;
			errno = 0;
			launch.policy = strtoull(optarg, &end, 0);
			if (errno || *end)
				return cli_usage("sim", "bad --policy '%s'", optarg);
			break;
		}
		case 'h':
			help(stdout);
			return WARD_EXIT_OK;
		default:
			return cli_usage("sim", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage("sim", "unexpected argument '%s'", argv[optind]);
	if (!state)
		return cli_usage("sim", "--state DIR is required");

	if (strcmp(verb, "init") == 0 || strcmp(verb, "ark") == 0) {
		if ((r = ward_sim_open(state, &sim, &err)) < 0)
			return cli_fail("sim", &err);
		if (strcmp(verb, "ark") == 0) {
			WARD_AUTOFREE char *pem = NULL;
			if (ward_x509_pem(ward_sim_ark(sim), &pem, &err) < 0)
				return cli_fail("sim", &err);
			fputs(pem, stdout);
		} else {
			fprintf(stderr, "ward sim: INSECURE sim TEE platform ready in '%s'\n", state);
		}
		return WARD_EXIT_OK;
	}
	if (strcmp(verb, "serve") != 0)
		return cli_usage("sim", "unknown subcommand '%s'", verb);
	if (!sock)
		return cli_usage("sim", "--socket PATH is required");
	if (!!meas == !!image)
		return cli_usage("sim", "give exactly one of --measurement and --image-config");
	if (meas && ward_hex_decode_fixed(meas, strlen(meas), launch.measurement, 48, &err) < 0)
		return cli_usage("sim", "--measurement: %s", err.msg);
	if (image && ward_sim_image_measurement(image, launch.measurement, &err) < 0)
		return cli_usage("sim", "--image-config: %s", err.msg);
	if (host && ward_hex_decode_fixed(host, strlen(host), launch.host_data, 32, &err) < 0)
		return cli_usage("sim", "--host-data: %s", err.msg);

	if ((r = ward_sim_open(state, &sim, &err)) < 0)
		return cli_fail("sim", &err);
	WARD_AUTOCLOSE int fd = -1;
	if (ward_sim_listen(sock, &fd, &err) < 0)
		return cli_fail("sim", &err);
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	ward_warn("sim TEE: INSECURE development TEE serving on '%s'", sock);
	r = ward_sim_serve(sim, &launch, fd, &g_stop, &err);
	(void)unlink(sock);
	if (r < 0)
		return cli_fail("sim", &err);
	return WARD_EXIT_OK;
}

const struct ward_cmd cmd_sim = {"sim", "the INSECURE development TEE (platform and socket)", run,
				 help};
