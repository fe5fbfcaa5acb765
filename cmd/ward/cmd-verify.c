/* SPDX-License-Identifier: Apache-2.0 */
/* ward verify: check the coordinator's own attestation (evidence binding
 * its TLS key, the manifest hash, the audit head and our nonce) against a
 * reference, then pin its certificate for later commands. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "coord-client.h"
#include "ward/cleanup.h"
#include "ward/coord.h"
#include "ward/encoding.h"
#include "ward/file.h"
#include "ward/json.h"
#include "ward/manifest.h"

static void help(FILE *out)
{
	fprintf(
	    out,
	    "Usage: ward verify --coordinator URL --reference FILE [--pin-file FILE]\n"
	    "\n"
	    "Ask the coordinator for evidence binding a fresh nonce, its TLS public key,\n"
	    "its manifest hash and its audit-log head; verify it against the reference\n"
	    "(TEE, accepted measurements, minimum TCB, debug); on success pin its\n"
	    "certificate for later commands and print the manifest hash. Any mismatch\n"
	    "is refused loudly (exit 1) and nothing is pinned.\n"
	    "\n"
	    "The reference is a JSON package policy as in the manifest, plus the\n"
	    "trust anchor: {\"tees\": [\"sim\"], \"measurements\": {\"sim\": [HEX]},\n"
	    "\"debug\": false, \"min_tcb\": {...}, \"sim_ark\": \"ark.pem\"}. Without sim_ark SNP\n"
	    "evidence is checked against AMD's built-in roots; \"snp_ark\" pins one ARK.\n"
	    "Paths in it are relative to the reference file.\n");
}

static int mkdir_parents(const char *path)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, 0700) < 0 && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	return 0;
}

static int load_reference(const char *path, struct ward_manifest **ret_pkg_manifest,
			  struct ward_x509 **ret_ark, bool *ret_sim, struct ward_err *err)
{
	WARD_AUTOJSON json_t *ref = NULL, *wrapped = NULL;
	WARD_AUTOFREE char *text = NULL, *dir = NULL;
	WARD_AUTOFREE uint8_t *pem = NULL;
	const char *ark = NULL, *sim_ark = NULL, *snp_ark = NULL;
	char ark_path[4096];
	size_t size;
	int r;

	r = ward_json_load_file(path, 1 << 20, &ref, err);
	if (r < 0)
		return r;
	r = ward_json_get_string(ref, "$", "sim_ark", false, &sim_ark, err);
	if (r >= 0)
		r = ward_json_get_string(ref, "$", "snp_ark", false, &snp_ark, err);
	if (r < 0)
		return ward_err_prefix(err, "reference '%s'", path);
	if (sim_ark && snp_ark)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "reference '%s': give at most one of sim_ark and snp_ark",
				    path);
	ark = sim_ark ? sim_ark : snp_ark;
	*ret_sim = sim_ark != NULL;
	*ret_ark = NULL;
	if (!ark)
		goto policy; /* SNP against AMD's built-in roots ([attest]) */
	dir = strdup(path);
	if (!dir)
		return -ENOMEM;
	if (strrchr(dir, '/'))
		*strrchr(dir, '/') = '\0';
	else
		strcpy(dir, ".");
	if (ark[0] == '/')
		snprintf(ark_path, sizeof(ark_path), "%s", ark);
	else
		snprintf(ark_path, sizeof(ark_path), "%s/%s", dir, ark);
	r = ward_file_read(ark_path, 1 << 16, &pem, &size, err);
	if (r >= 0)
		r = ward_x509_from_pem(pem, size, ret_ark, err);
	if (r < 0)
		return ward_err_prefix(err, "reference ARK");
policy:
	json_object_del(ref, "sim_ark");
	json_object_del(ref, "snp_ark");
	wrapped = json_pack("{s:{s:O}}", "packages", "coordinator", ref);
	if (!wrapped)
		return -ENOMEM;
	r = ward_json_dump(wrapped, &text, err);
	if (r >= 0)
		r = ward_manifest_parse(text, strlen(text), ret_pkg_manifest, err);
	if (r < 0)
		return ward_err_prefix(err, "reference '%s'", path);
	return 0;
}

static int refuse(const char *what, const struct ward_err *err)
{
	fprintf(stderr,
		"ward verify: REFUSED: %s%s%s\n"
		"ward verify: the coordinator was NOT verified and NOT pinned.\n",
		what, err ? ": " : "", err ? err->msg : "");
	return WARD_EXIT_FAILURE;
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"coordinator", required_argument, NULL, 'c'},
	    {"reference", required_argument, NULL, 'r'},
	    {"pin-file", required_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct ward_err err = WARD_ERR_INIT;
	const char *url = getenv(COORD_URL_ENV), *ref_path = NULL, *pin_file = NULL;
	WARD_CLEANUP(ward_manifest_freep) struct ward_manifest *ref = NULL;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *ark = NULL, *peer = NULL, *claimed = NULL;
	WARD_CLEANUP(ward_tls_ctx_freep) struct ward_tls_ctx *tls = NULL;
	WARD_CLEANUP(ward_http_client_freep) struct ward_http_client *http = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *peer_key = NULL;
	struct ward_coord_verifier *verifier = NULL;
	struct ward_http_response resp = {0};
	WARD_AUTOJSON json_t *j = NULL;
	WARD_AUTOFREE uint8_t *spki = NULL;
	WARD_AUTOFREE char *peer_pem = NULL;
	uint8_t nonce[32], spki_hash[32], mhash[32] = {0}, head[32], rd[64], fp1[32], fp2[32];
	char nonce_hex[65], path[128], pin_path[4096];
	struct ward_coord_claims claims;
	const char *tee_name, *cert_pem, *mh = NULL, *head_hex;
	enum ward_tee_type tee;
	int64_t mseq = 0, aseq = 0;
	size_t spki_size;
	bool sim = false;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			url = optarg;
			break;
		case 'r':
			ref_path = optarg;
			break;
		case 'p':
			pin_file = optarg;
			break;
		case 'h':
			help(stdout);
			return WARD_EXIT_OK;
		default:
			return cli_usage("verify", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage("verify", "unexpected argument '%s'", argv[optind]);
	if (!url || !ref_path)
		return cli_usage("verify", "--coordinator URL and --reference FILE are required");
	signal(SIGPIPE, SIG_IGN);
	if (load_reference(ref_path, &ref, &ark, &sim, &err) < 0)
		return cli_fail("verify", &err);

	/* Trust nothing yet: accept any certificate, then check it is the one
	 * the evidence binds. */
	r = ward_tls_client_new(NULL, &tls, &err);
	if (r >= 0)
		r = ward_http_client_new(url, tls, &http, &err);
	if (r >= 0)
		r = ward_http_client_peer_cert(http, &peer, &err);
	if (r >= 0)
		r = ward_random(nonce, sizeof(nonce), &err);
	if (r < 0)
		return cli_fail("verify", &err);
	ward_hex_encode(nonce, sizeof(nonce), nonce_hex);
	snprintf(path, sizeof(path), "/ward/v1/evidence?nonce=%s", nonce_hex);
	r = ward_http_request(http, "GET", path, NULL, NULL, 0, &resp, &err);
	if (r < 0)
		return cli_fail("verify", &err);
	if (resp.status != 200) {
		fprintf(stderr, "ward verify: evidence request failed: HTTP %d\n", resp.status);
		ward_http_response_clear(&resp);
		return refuse("no evidence", NULL);
	}
	r = ward_json_parse(resp.body, resp.body_size, WARD_HTTP_BODY_MAX, &j, &err);
	ward_http_response_clear(&resp);
	if (r >= 0)
		r = ward_json_get_string(j, "$", "tee", true, &tee_name, &err);
	if (r >= 0)
		r = ward_json_get_string(j, "$", "cert", true, &cert_pem, &err);
	if (r >= 0)
		mh = json_string_value(json_object_get(j, "manifest_hash")); /* null: none yet */
	if (r >= 0)
		r = ward_json_get_int(j, "$", "manifest_seq", true, 0, INT64_MAX, &mseq, &err);
	if (r >= 0)
		r = ward_json_get_int(j, "$", "audit_seq", true, 0, INT64_MAX, &aseq, &err);
	if (r >= 0)
		r = ward_json_get_hex_fixed(j, "$", "audit_head", true, head, 32, &err);
	if (r >= 0)
		r = ward_json_get_string(j, "$", "audit_head", true, &head_hex, &err);
	if (r >= 0 && mh)
		r = ward_hex_decode_fixed(mh, strlen(mh), mhash, 32, &err);
	if (r < 0)
		return refuse("malformed evidence response", &err);
	if (ward_tee_parse(tee_name, &tee) < 0)
		return refuse("unknown TEE in the evidence", NULL);
	/* The certificate we talk to must be the one in the response... */
	r = ward_x509_from_pem(cert_pem, strlen(cert_pem), &claimed, &err);
	if (r >= 0)
		r = ward_x509_fingerprint(claimed, fp1, &err);
	if (r >= 0)
		r = ward_x509_fingerprint(peer, fp2, &err);
	if (r < 0)
		return refuse("certificate", &err);
	if (!ward_ct_eq(fp1, fp2, 32))
		return refuse("the TLS certificate differs from the one the coordinator reports",
			      NULL);
	/* ...and its key is what the evidence binds. */
	r = ward_x509_pubkey(peer, &peer_key, &err);
	if (r >= 0)
		r = ward_pkey_public_der(peer_key, &spki, &spki_size, &err);
	if (r >= 0)
		r = ward_hash(WARD_HASH_SHA256, spki, spki_size, spki_hash, &err);
	if (r >= 0)
		r = ward_coord_evidence_report_data(nonce, sizeof(nonce), spki_hash, mhash, head,
						    rd, &err);
	/* [attest]'s verifier (the sim ARK, or AMD's roots); an explicit
	 * snp_ark pins one ARK with the compact verifier. */
	if (r >= 0)
		r = ark && !sim ? ward_coord_snp_verifier_new(ark, false, &verifier, &err)
				: ward_coord_attest_verifier_new(ark, NULL, &verifier, &err);
	if (r < 0)
		return cli_fail("verify", &err);
	r = verifier->verify(verifier->ctx, tee, json_object_get(j, "evidence"), &claims, &err);
	if (ark && !sim)
		ward_coord_snp_verifier_free(verifier);
	else
		ward_coord_attest_verifier_free(verifier);
	if (r < 0)
		return refuse("evidence does not verify", &err);
	if (!ward_ct_eq(claims.report_data, rd, 64))
		return refuse("the evidence does not bind our nonce, the TLS key, the manifest "
			      "hash and the audit head",
			      NULL);
	r = ward_coord_check_policy(&ref->packages[0], &claims, &err);
	if (r < 0)
		return refuse("policy", &err);
	/* Pin. */
	r = coord_pin_path(url, pin_file, pin_path, sizeof(pin_path), &err);
	if (r >= 0 && mkdir_parents(pin_path) < 0)
		r = ward_err_errno(&err, -errno, "creating the directory of '%s'", pin_path);
	if (r >= 0)
		r = ward_x509_pem(peer, &peer_pem, &err);
	if (r >= 0)
		r = ward_file_write_atomic(pin_path, peer_pem, strlen(peer_pem), 0644, &err);
	if (r >= 0) {
		/* The attested audit head, for `ward log` to check the chain against. */
		WARD_AUTOJSON json_t *h =
		    json_pack("{s:I, s:s}", "audit_seq", (json_int_t)aseq, "audit_head", head_hex);
		WARD_AUTOFREE char *text = NULL;
		char head_path[4200];

		snprintf(head_path, sizeof(head_path), "%s.head", pin_path);
		r = h ? ward_json_dump(h, &text, &err) : -ENOMEM;
		if (r >= 0)
			r = ward_file_write_atomic(head_path, text, strlen(text), 0644, &err);
	}
	if (r < 0)
		return cli_fail("verify", &err);
	if (claims.insecure)
		fprintf(stderr,
			"ward verify: WARNING: the coordinator runs on the INSECURE sim TEE\n");
	printf("coordinator %s verified (tee %s)\n", url, tee_name);
	printf("manifest: %s (seq %lld)\n", mh ? mh : "none", (long long)mseq);
	printf("audit head: %s (seq %lld)\n", head_hex, (long long)aseq);
	printf("pinned certificate: %s\n", pin_path);
	return WARD_EXIT_OK;
}

const struct ward_cmd cmd_verify = {
    "verify", "verify a coordinator's own attestation and pin its certificate", run, help};
