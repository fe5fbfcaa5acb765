/* SPDX-License-Identifier: Apache-2.0 */
/* ward coordinator: the control plane (manifest, KBS attestation, secrets,
 * CA, audit log) as an HTTPS service. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "coord-tee.h"
#include "ward/cleanup.h"
#include "ward/file.h"
#include "ward/log.h"
#include "ward/util.h"

static void help(FILE *out)
{
	fprintf(out, "Usage: ward coordinator --state DIR --listen ADDR:PORT [--tee sim|snp|auto]\n"
		     "                        [--metrics ADDR:PORT] [--sim-state DIR]\n"
		     "                        [--sim-measurement HEX] [--snp-ark FILE]\n"
		     "                        [--token-ttl SECONDS] [--port-file FILE]\n"
		     "                        [--verifier attest|builtin] [--collateral DIR]\n"
		     "                        [--dcap-collateral FILE]\n"
		     "       ward coordinator recover --state DIR --key RECOVERY.pem [--tee ...]\n"
		     "\n"
		     "Serve the coordinator: manifest, attestation (the KBS protocol), secrets,\n"
		     "CA and the audit log, over HTTPS (TLS 1.3). State lives in DIR (SQLite);\n"
		     "secret material in it is encrypted under a data key sealed to the TEE.\n"
		     "\n"
		     "  --tee TEE            the TEE the coordinator runs in (default auto)\n"
		     "  --sim-state DIR      the sim TEE platform (ward sim init): seals the\n"
		     "                       coordinator's state and, INSECURELY, verifies sim\n"
		     "                       workload evidence for manifests that list \"sim\"\n"
		     "  --sim-measurement H  the sim launch measurement (default: SHA-384 of\n"
		     "                       this executable)\n"
		     "  --verifier V         attest (default): the full [attest] verifier, SNP\n"
		     "                       against AMD's built-in roots; builtin: a compact\n"
		     "                       SNP-format verifier pinned to one ARK (--snp-ark\n"
		     "                       or the sim ARK) with a cached VCEK chain\n"
		     "  --collateral DIR     offline collateral for the attest verifier: SNP\n"
		     "                       (CRLs, VCEKs) and Intel DCAP (DIR/dcap/...)\n"
		     "  --dcap-collateral F  Intel DCAP collateral for TDX/SGX quotes as one\n"
		     "                       dcap-qvl collateral.json (instead of DIR/dcap)\n"
		     "  --snp-ark FILE       the ARK (PEM) for --verifier builtin with SNP\n"
		     "  --metrics ADDR:PORT  Prometheus /metrics over plain HTTP\n"
		     "  --port-file FILE     write the bound port (for --listen ADDR:0)\n"
		     "\n"
		     "recover: after the sealing key changed (new TEE or measurement), unwrap\n"
		     "the data key with a manifest recovery key and reseal it.\n");
}

static int split_addr(const char *s, char *host, size_t size, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	uint32_t p;

	if (!colon || (size_t)(colon - s) >= size || colon == s)
		return -1;
	if (ward_parse_u32(colon + 1, &p) < 0 || p > 65535)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	*port = (uint16_t)p;
	return 0;
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"state", required_argument, NULL, 's'},
	    {"listen", required_argument, NULL, 'l'},
	    {"tee", required_argument, NULL, 't'},
	    {"metrics", required_argument, NULL, 'm'},
	    {"sim-state", required_argument, NULL, 'S'},
	    {"sim-measurement", required_argument, NULL, 'M'},
	    {"snp-ark", required_argument, NULL, 'a'},
	    {"token-ttl", required_argument, NULL, 'T'},
	    {"port-file", required_argument, NULL, 'p'},
	    {"key", required_argument, NULL, 'k'},
	    {"verifier", required_argument, NULL, 'v'},
	    {"collateral", required_argument, NULL, 'C'},
	    {"dcap-collateral", required_argument, NULL, 'D'},
	    {"insecure-at", required_argument, NULL, 'I'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct ward_err err = WARD_ERR_INIT;
	const char *state = NULL, *listen = NULL, *tee = "auto", *metrics = NULL, *sim_state = NULL,
		   *meas = NULL, *ark_path = NULL, *port_file = NULL, *key_path = NULL,
		   *collateral = NULL, *dcap_file = NULL;
	time_t insecure_at = 0;
	struct coord_tee_setup setup = {0};
	WARD_CLEANUP(ward_coord_freep) struct ward_coord *coord = NULL;
	struct ward_coord_verifier *verifier = NULL;
	struct ward_coord_opts o = {0};
	char host[256], mhost[256];
	bool recover = false, builtin = false;
	uint32_t ttl = 0;
	int c, r, rc = WARD_EXIT_FAILURE;

	if (argc >= 2 && strcmp(argv[1], "recover") == 0) {
		recover = true;
		argv++;
		argc--;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			state = optarg;
			break;
		case 'l':
			listen = optarg;
			break;
		case 't':
			tee = optarg;
			break;
		case 'm':
			metrics = optarg;
			break;
		case 'S':
			sim_state = optarg;
			break;
		case 'M':
			meas = optarg;
			break;
		case 'a':
			ark_path = optarg;
			break;
		case 'T':
			if (ward_parse_u32(optarg, &ttl) < 0 || ttl == 0)
				return cli_usage("coordinator", "bad --token-ttl '%s'", optarg);
			break;
		case 'p':
			port_file = optarg;
			break;
		case 'k':
			key_path = optarg;
			break;
		case 'v':
			if (strcmp(optarg, "builtin") != 0 && strcmp(optarg, "attest") != 0)
				return cli_usage("coordinator", "--verifier: attest or builtin");
			builtin = strcmp(optarg, "builtin") == 0;
			break;
		case 'C':
			collateral = optarg;
			break;
		case 'D':
			dcap_file = optarg;
			break;
		case 'I':
#if !WARD_INSECURE_TEST_SWITCHES
			/* A fixed verification time accepts expired collateral and
			 * revoked-since platforms: tests only. */
			return cli_usage("coordinator", "--insecure-at is not available in this build "
							"(distribution builds leave test switches out)");
#endif
			if (ward_time_parse_rfc3339(optarg, &insecure_at, &err) < 0)
				return cli_usage("coordinator", "--insecure-at: %s", err.msg);
			break;
		case 'h':
			help(stdout);
			return WARD_EXIT_OK;
		default:
			return cli_usage("coordinator", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage("coordinator", "unexpected argument '%s'", argv[optind]);
	if (!state)
		return cli_usage("coordinator", "--state DIR is required");
	if (strcmp(tee, "auto") == 0 && sim_state)
		tee = "sim";

	if (coord_tee_setup(&setup, tee, sim_state, meas, &err) < 0) {
		coord_tee_cleanup(&setup);
		return cli_fail("coordinator", &err);
	}
	if (recover) {
		WARD_AUTOFREE uint8_t *pem = NULL;
		WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *key = NULL;
		size_t size;

		if (!key_path) {
			coord_tee_cleanup(&setup);
			return cli_usage("coordinator", "recover needs --key RECOVERY.pem");
		}
		r = ward_file_read(key_path, 1 << 16, &pem, &size, &err);
		if (r >= 0)
			r = ward_pkey_from_pem(pem, size, &key, &err);
		if (r >= 0)
			r = ward_coord_recover(state, &setup.tee, key, &err);
		coord_tee_cleanup(&setup);
		if (pem)
			ward_wipe(pem, size);
		if (r < 0)
			return cli_fail("coordinator recover", &err);
		fprintf(stderr, "ward coordinator: data key recovered and resealed in '%s'\n",
			state);
		return WARD_EXIT_OK;
	}
	if (!listen)
		return cli_usage("coordinator", "--listen ADDR:PORT is required");
	if (split_addr(listen, host, sizeof(host), &o.listen_port) < 0)
		return cli_usage("coordinator", "--listen: expected ADDR:PORT, got '%s'", listen);
	if (metrics && split_addr(metrics, mhost, sizeof(mhost), &o.metrics_port) < 0)
		return cli_usage("coordinator", "--metrics: expected ADDR:PORT, got '%s'", metrics);

	if (builtin && (dcap_file || insecure_at))
		return cli_usage("coordinator",
				 "--dcap-collateral and --insecure-at need --verifier attest");
	/* Workload evidence: [attest]'s verifier (SNP with AMD's roots; the
	 * sim ARK, INSECURE, only with --sim-state and only for manifests that
	 * list "sim"), or the built-in compact one pinned to one ARK. */
	if (!builtin) {
		struct ward_coord_attest_opts ao = {
		    .sim_ark = setup.sim ? ward_sim_ark(setup.sim) : NULL,
		    .collateral_dir = collateral,
		    .dcap_collateral_file = dcap_file,
		    .insecure_at = insecure_at,
		};

		char when[WARD_RFC3339_SIZE];

		ward_time_format_rfc3339(insecure_at, when);
		if (insecure_at)
			ward_warn("INSECURE: evidence is verified at the fixed time %s "
				  "(--insecure-at, for tests only)",
				  when);
		r = ward_coord_attest_verifier_new_opts(&ao, &verifier, &err);
	} else if (setup.sim) {
		r = ward_coord_snp_verifier_new(ward_sim_ark(setup.sim), true, &verifier, &err);
	} else if (ark_path) {
		WARD_AUTOFREE uint8_t *pem = NULL;
		WARD_CLEANUP(ward_x509_freep) struct ward_x509 *ark = NULL;
		size_t size;

		r = ward_file_read(ark_path, 1 << 16, &pem, &size, &err);
		if (r >= 0)
			r = ward_x509_from_pem(pem, size, &ark, &err);
		if (r >= 0)
			r = ward_coord_snp_verifier_new(ark, false, &verifier, &err);
	} else {
		r = ward_err_set(&err, -WARD_E_USAGE,
				 "--verifier builtin needs --sim-state (sim) or --snp-ark (SNP)");
	}
	if (r < 0)
		goto out;

	signal(SIGPIPE, SIG_IGN);
	o.state_dir = state;
	o.listen_addr = host;
	o.metrics_addr = metrics ? mhost : NULL;
	o.tee = &setup.tee;
	o.verifier = verifier;
	o.token_ttl = ttl;
	r = ward_coord_open(&o, &coord, &err);
	if (r < 0)
		goto out;
	if (port_file) {
		char buf[32];
		int n = snprintf(buf, sizeof(buf), "%u\n", ward_coord_port(coord));

		r = ward_file_write_atomic(port_file, buf, (size_t)n, 0644, &err);
		if (r < 0)
			goto out;
	}
	r = ward_coord_run(coord, &err);
	if (r >= 0)
		rc = WARD_EXIT_OK;
out:
	if (r < 0)
		cli_fail("coordinator", &err);
	coord = ward_coord_free(coord);
	if (builtin)
		ward_coord_snp_verifier_free(verifier);
	else
		ward_coord_attest_verifier_free(verifier);
	coord_tee_cleanup(&setup);
	return rc;
}

const struct ward_cmd cmd_coordinator = {
    "coordinator", "serve the coordinator: manifest, attestation (KBS protocol), secrets, CA", run,
    help};
