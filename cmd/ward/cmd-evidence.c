/* SPDX-License-Identifier: Apache-2.0 */
/* ward evidence show|verify: parse, verify and judge TEE attestation
 * evidence (SEV-SNP reports, configfs-tsm output, Azure HCL reports, Ward
 * evidence envelopes). Authenticity and policy are separate steps; exit 0
 * only when the evidence is authentic and the policy holds. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "ward/attest.h"
#include "ward/cleanup.h"
#include "ward/sim.h"
#include "ward/util.h"

#define WARN_DAYS_DEFAULT 30

static void help(FILE *out)
{
	fprintf(out,
		"Usage: ward evidence show FILE [--json]\n"
		"       ward evidence verify FILE [--tee snp|sim|auto] [--collateral DIR]\n"
		"                            [--vcek FILE]... [--at TIME] [--policy FILE]\n"
		"                            [--warn-days N] [--require-crl] [--sim-state DIR]\n"
		"                            [--json]\n"
		"\n"
		"Show or verify TEE attestation evidence. FILE is a raw SEV-SNP report\n"
		"(1184 bytes), an Azure HCL report, a Ward evidence envelope (JSON), or a\n"
		"configfs-tsm report directory holding outblob and auxblob.\n"
		"\n"
		"verify checks authenticity (signature, VCEK/VLEK chain to AMD's built-in\n"
		"roots, TCB and chip binding, CRLs) and then the policy. Without --policy a\n"
		"default policy applies: debug guests are refused.\n"
		"\n"
		"Options:\n"
		"  --tee TEE          snp, sim or auto (default auto)\n"
		"  --collateral DIR   offline collateral cache (see docs/attestation.md)\n"
		"  --vcek FILE        VCEK/VLEK (DER or PEM, may include ASK/ARK); repeatable\n"
		"  --at TIME          verification time, RFC 3339 (default: now)\n"
		"  --policy FILE      attestation policy (JSON)\n"
		"  --warn-days N      warn when collateral expires within N days (default %d)\n"
		"  --require-crl      fail when no AMD CRL is available\n"
		"  --sim-state DIR    INSECURE: accept sim TEE evidence chaining to the ARK in\n"
		"                     this sim state directory (the policy must list \"sim\")\n"
		"  --json             print a JSON object instead of text\n"
		"\n"
		"Exit status: 0 authentic and policy met, 1 otherwise, 2 usage error.\n",
		WARN_DAYS_DEFAULT);
}

static void print_json(const json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);

	if (s) {
		printf("%s\n", s);
		free(s);
	}
}

static void print_scalar(const json_t *v)
{
	if (json_is_string(v))
		printf("%s", json_string_value(v));
	else if (json_is_integer(v))
		printf("%lld", (long long)json_integer_value(v));
	else if (json_is_true(v))
		printf("true");
	else if (json_is_false(v))
		printf("false");
	else if (json_is_null(v))
		printf("null");
	else {
		char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

		printf("%s", s ? s : "?");
		free(s);
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Human output: one "key: value" line per claim; objects of scalars on one
 * line ("reported_tcb: bl=3 tee=0 snp=8 ucode=115"). */
static void print_claims(const json_t *claims)
{
	const char **keys;
	size_t n = json_object_size(claims), i = 0;
	const char *key;
	json_t *v;

	keys = calloc(n ? n : 1, sizeof(*keys));
	if (!keys)
		return;
	json_object_foreach((json_t *)claims, key, v) keys[i++] = key;
	qsort(keys, n, sizeof(*keys), cmp_str);
	for (i = 0; i < n; i++) {
		v = json_object_get(claims, keys[i]);
		printf("%-20s ", keys[i]);
		if (json_is_object(v)) {
			const char *k;
			json_t *sub;
			bool first = true;

			json_object_foreach(v, k, sub)
			{
				printf("%s%s=", first ? "" : " ", k);
				print_scalar(sub);
				first = false;
			}
		} else if (json_is_array(v) && strcmp(keys[i], "warnings") == 0) {
			size_t k;
			json_t *w;

			json_array_foreach(v, k, w)
			{
				printf("%s", k ? "; " : "");
				print_scalar(w);
			}
		} else {
			print_scalar(v);
		}
		printf("\n");
	}
	free(keys);
}

enum {
	OPT_TEE = 0x100,
	OPT_COLLATERAL,
	OPT_VCEK,
	OPT_AT,
	OPT_POLICY,
	OPT_WARN_DAYS,
	OPT_REQUIRE_CRL,
	OPT_SIM_STATE,
	OPT_JSON
};

static const struct option options[] = {
    {"tee", required_argument, NULL, OPT_TEE},
    {"collateral", required_argument, NULL, OPT_COLLATERAL},
    {"vcek", required_argument, NULL, OPT_VCEK},
    {"at", required_argument, NULL, OPT_AT},
    {"policy", required_argument, NULL, OPT_POLICY},
    {"warn-days", required_argument, NULL, OPT_WARN_DAYS},
    {"require-crl", no_argument, NULL, OPT_REQUIRE_CRL},
    {"sim-state", required_argument, NULL, OPT_SIM_STATE},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, 'h'},
    {0},
};

#define MAX_VCEK_FILES 8

struct args {
	bool verify;
	const char *file;
	enum ward_tee_type tee;
	const char *collateral;
	const char *vcek[MAX_VCEK_FILES];
	size_t vcek_count;
	time_t at;
	const char *policy;
	unsigned warn_days;
	bool require_crl;
	const char *sim_state;
	bool json;
};

/* Returns -1 to continue, or an exit code. */
static int parse_args(int argc, char **argv, struct args *a)
{
	struct ward_err err = WARD_ERR_INIT;
	int c;

	a->at = time(NULL);
	a->warn_days = WARN_DAYS_DEFAULT;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			help(stdout);
			return WARD_EXIT_OK;
		case OPT_TEE:
			if (strcmp(optarg, "auto") == 0)
				a->tee = WARD_TEE_NONE;
			else if (ward_tee_parse(optarg, &a->tee) < 0 ||
				 (a->tee != WARD_TEE_SNP && a->tee != WARD_TEE_SIM))
				return cli_usage("evidence", "unknown TEE '%s' (snp, sim or auto)",
						 optarg);
			break;
		case OPT_COLLATERAL:
			a->collateral = optarg;
			break;
		case OPT_VCEK:
			if (a->vcek_count == MAX_VCEK_FILES)
				return cli_usage("evidence", "at most %d --vcek options",
						 MAX_VCEK_FILES);
			a->vcek[a->vcek_count++] = optarg;
			break;
		case OPT_AT:
			if (ward_time_parse_rfc3339(optarg, &a->at, &err) < 0)
				return cli_usage("evidence", "--at '%s': %s", optarg, err.msg);
			break;
		case OPT_POLICY:
			a->policy = optarg;
			break;
		case OPT_WARN_DAYS: {
			uint32_t d;

			if (ward_parse_u32(optarg, &d) < 0 || d > 36500)
				return cli_usage("evidence", "--warn-days '%s': expected 0..36500",
						 optarg);
			a->warn_days = d;
			break;
		}
		case OPT_REQUIRE_CRL:
			a->require_crl = true;
			break;
		case OPT_SIM_STATE:
			a->sim_state = optarg;
			break;
		case OPT_JSON:
			a->json = true;
			break;
		default:
			return cli_usage("evidence", "unknown or incomplete option '%s'",
					 argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage("evidence", "missing FILE");
	a->file = argv[optind++];
	if (optind < argc)
		return cli_usage("evidence", "unexpected argument '%s'", argv[optind]);
	if (!a->verify &&
	    (a->collateral || a->vcek_count || a->policy || a->require_crl || a->sim_state))
		return cli_usage("evidence", "show takes only FILE, --tee and --json");
	if (a->verify && a->tee == WARD_TEE_SIM && !a->sim_state)
		return cli_usage("evidence", "--tee sim needs --sim-state DIR (the sim root)");
	return -1;
}

static int run_show(const struct args *a)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_evidence_freep) struct ward_evidence *ev = NULL;
	json_auto_t *claims = NULL;

	if (ward_evidence_load(a->file, a->tee, &ev, &err) < 0 ||
	    ward_evidence_claims(ev, &claims, &err) < 0)
		return cli_fail("evidence", &err);
	if (a->json) {
		print_json(claims);
	} else {
		printf("NOT VERIFIED: parsed fields only ('ward evidence verify' checks them)\n");
		print_claims(claims);
	}
	return WARD_EXIT_OK;
}

static int fail_json(const char *stage, const struct ward_err *err)
{
	json_auto_t *o =
	    json_pack("{s:b, s:s, s:{s:s, s:s}}", "authentic", 0, "stage", stage, "error", "code",
		      ward_err_code_name(err->code), "message", err->msg);

	if (o)
		print_json(o);
	return WARD_EXIT_FAILURE;
}

static int run_verify(const struct args *a)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_evidence_freep) struct ward_evidence *ev = NULL;
	WARD_CLEANUP(ward_attest_policy_freep) struct ward_attest_policy *policy = NULL;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *sim_ark = NULL;
	json_auto_t *claims = NULL;
	json_auto_t *verdict = NULL;
	struct ward_attest_opts opts = {
	    .at = a->at,
	    .collateral_dir = a->collateral,
	    .warn_days = a->warn_days,
	    .require_crl = a->require_crl,
	};
	json_t *warnings;
	size_t i;
	json_t *w;
	int r;

	/* Load the policy first: a broken policy is reported before any
	 * verification work. */
	r = a->policy ? ward_attest_policy_load(a->policy, &policy, &err)
		      : ward_attest_policy_parse("{}", 2, &policy, &err);
	if (r < 0)
		return cli_fail("evidence", &err);
	if (a->sim_state) {
		if (ward_sim_load_ark(a->sim_state, &sim_ark, &err) < 0)
			return cli_fail("evidence", &err);
		opts.sim_ark = sim_ark;
	}

	r = ward_evidence_load(a->file, a->tee, &ev, &err);
	for (size_t k = 0; r == 0 && k < a->vcek_count; k++)
		r = ward_evidence_add_certs_file(ev, a->vcek[k], &err);
	if (r == 0)
		r = ward_evidence_verify(ev, &opts, &claims, &err);
	if (r < 0) {
		if (a->json)
			return fail_json("verify", &err);
		fprintf(stderr, "ward evidence: NOT VERIFIED: %s\n", err.msg);
		return WARD_EXIT_FAILURE;
	}

	warnings = json_object_get(claims, "warnings");
	json_array_foreach(warnings, i, w)
	    fprintf(stderr, "ward evidence: warning: %s\n", json_string_value(w));

	r = ward_attest_policy_check(policy, claims, &verdict, &err);
	if (r < 0 && r != -WARD_E_POLICY)
		return cli_fail("evidence", &err);

	if (a->json) {
		json_auto_t *o = json_pack("{s:b, s:O, s:O}", "authentic", 1, "claims", claims,
					   "verdict", verdict);

		if (o)
			print_json(o);
	} else {
		json_t *failed = json_object_get(verdict, "failed");
		json_t *f;

		printf("authentic: yes (%s %s, report v%lld, signed by %s, %s)\n",
		       json_string_value(json_object_get(claims, "tee")),
		       json_string_value(json_object_get(claims, "product")),
		       (long long)json_integer_value(json_object_get(claims, "version")),
		       json_string_value(json_object_get(claims, "signing_key")),
		       json_string_value(json_object_get(claims, "evidence_format")));
		print_claims(claims);
		printf("policy: %s\n", r == 0 ? "met" : "NOT MET");
		json_array_foreach(failed, i, f)
		    printf("  - %s: %s\n", json_string_value(json_object_get(f, "check")),
			   json_string_value(json_object_get(f, "reason")));
	}
	if (r < 0) {
		fprintf(stderr, "ward evidence: %s\n", err.msg);
		return WARD_EXIT_FAILURE;
	}
	return WARD_EXIT_OK;
}

static int run(int argc, char **argv)
{
	struct args a = {0};
	int r;

	if (argc < 2)
		return cli_usage("evidence", "missing subcommand (show or verify)");
	if (strcmp(argv[1], "verify") == 0)
		a.verify = true;
	else if (strcmp(argv[1], "show") != 0)
		return cli_usage("evidence", "unknown subcommand '%s' (show or verify)", argv[1]);
	r = parse_args(argc - 1, argv + 1, &a);
	if (r >= 0)
		return r;
	return a.verify ? run_verify(&a) : run_show(&a);
}

const struct ward_cmd cmd_evidence = {"evidence", "show and verify TEE attestation evidence", run,
				      help};
