/* SPDX-License-Identifier: Apache-2.0 */
/* ward evidence show|verify: parse, verify and judge TEE attestation
 * evidence (SEV-SNP reports, configfs-tsm output, Azure HCL reports, Ward
 * evidence envelopes). Authenticity and policy are separate steps; exit 0
 * only when the evidence is authentic and the policy holds. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "ward/attest.h"
#include "ward/cleanup.h"
#include "ward/encoding.h"
#include "ward/file.h"
#include "ward/sim.h"
#include "ward/tee.h"
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
		"  --sim-state DIR    trust the INSECURE sim TEE whose state is in DIR\n"
		"  --json             print a JSON object instead of text\n"
		"  --report-data HEX  collect: 1 to 64 bytes (zero-padded to 64)\n"
		"  -o FILE            collect: where to write the evidence\n"
		"  --root DIR         collect: prefix for /sys and /dev (testing)\n"
		"  --socket PATH      collect: the sim TEE's socket (default " WARD_SIM_SOCKET_DEFAULT ")\n"
		"  --seconds N        bench: how long to loop (default 5)\n"
		"  --fresh-collateral bench: re-verify the Intel collateral on every call\n"
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
	OPT_JSON,
	OPT_QVL,
	OPT_SECONDS,
	OPT_FRESH,
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
    {"qvl-collateral", required_argument, NULL, OPT_QVL},
    {"seconds", required_argument, NULL, OPT_SECONDS},
    {"fresh-collateral", no_argument, NULL, OPT_FRESH},
    {"help", no_argument, NULL, 'h'},
    {0},
};

#define MAX_VCEK_FILES 8

struct args {
	bool verify;
	bool bench;
	const char *qvl;
	unsigned seconds;
	bool fresh;
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
			else if (ward_tee_parse(optarg, &a->tee) < 0)
				return cli_usage("evidence",
						 "unknown TEE '%s' (snp, tdx, sgx, sim or auto)", optarg);
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
		case OPT_QVL:
			a->qvl = optarg;
			break;
		case OPT_SECONDS: {
			uint32_t n;

			if (!a->bench || ward_parse_u32(optarg, &n) < 0 || n == 0 || n > 3600)
				return cli_usage("evidence", "--seconds: bench only, 1..3600");
			a->seconds = n;
			break;
		}
		case OPT_FRESH:
			if (!a->bench)
				return cli_usage("evidence", "--fresh-collateral is for bench");
			a->fresh = true;
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
	if (!a->verify && (a->collateral || a->vcek_count || a->policy || a->require_crl ||
			   a->sim_state || a->qvl))
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

/* Everything verify needs, loaded once (bench repeats only the verification). */
struct verifier {
	struct ward_attest_policy *policy;
	struct ward_x509 *sim_ark;
	struct ward_dcap_collateral *dcap;
	uint8_t *qvl; /* the dcap-qvl collateral file's bytes (bench --fresh-collateral) */
	size_t qvl_size;
	struct ward_evidence *ev;
	struct ward_attest_opts opts;
};

static void verifier_clear(struct verifier *v)
{
	ward_attest_policy_free(v->policy);
	ward_x509_free(v->sim_ark);
	ward_dcap_collateral_free(v->dcap);
	free(v->qvl);
	ward_evidence_free(v->ev);
}

static int prepare(const struct args *a, struct verifier *v, struct ward_err *err)
{
	int r;

	v->opts = (struct ward_attest_opts){
	    .at = a->at,
	    .collateral_dir = a->collateral,
	    .warn_days = a->warn_days,
	    .require_crl = a->require_crl,
	};
	/* Load the policy first: a broken policy is reported before any
	 * verification work. */
	r = a->policy ? ward_attest_policy_load(a->policy, &v->policy, err)
		      : ward_attest_policy_parse("{}", 2, &v->policy, err);
	if (r < 0)
		return r;
	if (a->sim_state) {
		if ((r = ward_sim_load_ark(a->sim_state, &v->sim_ark, err)) < 0)
			return r;
		v->opts.sim_ark = v->sim_ark;
	}
	if (a->qvl) {
		if ((r = ward_file_read(a->qvl, 1u << 20, &v->qvl, &v->qvl_size, err)) < 0 ||
		    (r = ward_dcap_collateral_new(&v->dcap, err)) < 0 ||
		    (r = ward_dcap_collateral_add_qvl_json(v->dcap, v->qvl, v->qvl_size, err)) < 0)
			return ward_err_prefix(err, "--qvl-collateral '%s'", a->qvl);
		v->opts.dcap = v->dcap;
	}
	r = ward_evidence_load(a->file, a->tee, &v->ev, err);
	for (size_t k = 0; r == 0 && k < a->vcek_count; k++)
		r = ward_evidence_add_certs_file(v->ev, a->vcek[k], err);
	return r;
}

static int run_verify(const struct args *a)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(verifier_clear) struct verifier v = {0};
	json_auto_t *claims = NULL;
	json_auto_t *verdict = NULL;
	json_t *warnings;
	size_t i;
	json_t *w;
	int r;

	r = prepare(a, &v, &err);
	if (r == 0)
		r = ward_evidence_verify(v.ev, &v.opts, &claims, &err);
	if (r < 0) {
		if (a->json)
			return fail_json("verify", &err);
		fprintf(stderr, "ward evidence: NOT VERIFIED: %s\n", err.msg);
		return WARD_EXIT_FAILURE;
	}

	warnings = json_object_get(claims, "warnings");
	json_array_foreach(warnings, i, w)
	    fprintf(stderr, "ward evidence: warning: %s\n", json_string_value(w));

	r = ward_attest_policy_check(v.policy, claims, &verdict, &err);
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
		const char *tee = json_string_value(json_object_get(claims, "tee"));

		if (json_object_get(claims, "quote_version"))
			printf("authentic: yes (%s, quote v%lld, TCB %s, %s)\n", tee,
			       (long long)json_integer_value(json_object_get(claims, "quote_version")),
			       json_string_value(
				   json_object_get(json_object_get(claims, "tcb"), "status")),
			       json_string_value(json_object_get(claims, "evidence_format")));
		else
			printf("authentic: yes (%s %s, report v%lld, signed by %s, %s)\n", tee,
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

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Verification + policy, repeated: one JSON line with the rate. With
 * --fresh-collateral every call starts from the collateral's bytes, so the
 * TCB info and QE identity signatures, chains and CRLs are checked again. */
static int run_bench(const struct args *a)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(verifier_clear) struct verifier v = {0};
	unsigned long iterations = 0;
	double start, elapsed, limit = a->seconds ? a->seconds : 5;
	int last = 0;
	json_auto_t *o = NULL;

	if (prepare(a, &v, &err) < 0)
		return cli_fail("evidence", &err);
	if (a->fresh && !v.qvl)
		return cli_usage("evidence", "--fresh-collateral needs --qvl-collateral");
	start = now_seconds();
	do {
		for (int k = 0; k < 16; k++, iterations++) {
			json_t *claims = NULL;

			if (a->fresh) {
				ward_dcap_collateral_free(v.dcap);
				v.dcap = NULL;
				if (ward_dcap_collateral_new(&v.dcap, &err) < 0 ||
				    ward_dcap_collateral_add_qvl_json(v.dcap, v.qvl, v.qvl_size,
								      &err) < 0)
					return cli_fail("evidence", &err);
				v.opts.dcap = v.dcap;
			}
			last = ward_evidence_verify(v.ev, &v.opts, &claims, &err);
			if (last == 0)
				last = ward_attest_policy_check(v.policy, claims, NULL, &err);
			json_decref(claims);
		}
		elapsed = now_seconds() - start;
	} while (elapsed < limit);
	o = json_pack("{s:s, s:s, s:s, s:f, s:I, s:f, s:s, s:s}", "kind", "throughput", "file",
		      a->file, "tee", ward_tee_name(v.ev->tee), "per_sec",
		      (double)iterations / elapsed, "iterations", (json_int_t)iterations, "seconds",
		      elapsed, "verdict", last == 0 ? "accept" : "reject", "collateral",
		      a->fresh ? "fresh" : "cached");
	if (o) {
		char *line = json_dumps(o, JSON_COMPACT);
		if (line)
			printf("%s\n", line);
		free(line);
	}
	if (last < 0)
		fprintf(stderr, "ward evidence: bench verdict: %s\n", err.msg);
	return WARD_EXIT_OK;
}

static const struct option collect_options[] = {
    {"tee", required_argument, NULL, 't'},
    {"report-data", required_argument, NULL, 'd'},
    {"output", required_argument, NULL, 'o'},
    {"source", required_argument, NULL, 's'},
    {"privlevel", required_argument, NULL, 'p'},
    {"root", required_argument, NULL, 'r'},
    {"socket", required_argument, NULL, 'S'},
    {"help", no_argument, NULL, 'h'},
    {0},
};

/* SNP and sim evidence as a Ward envelope (report + certificate table);
 * TDX/SGX quotes and TDREPORTs as they came. */
static int write_evidence(const char *path, const struct ward_tee_evidence *ev,
			  struct ward_err *err)
{
	WARD_AUTOFREE char *report = NULL;
	WARD_AUTOFREE char *table = NULL;
	WARD_AUTOFREE char *text = NULL;
	json_auto_t *o = NULL;

	if (ev->tee != WARD_TEE_SNP && ev->tee != WARD_TEE_SIM)
		return ward_file_write_atomic(path, ev->outblob, ev->outblob_size, 0644, err);
	report = ward_base64_encode_alloc(ev->outblob, ev->outblob_size);
	if (!report)
		return ward_err_set(err, -ENOMEM, "out of memory");
	o = json_pack("{s:s, s:s}", "tee", ward_tee_name(ev->tee), "report", report);
	if (o && ev->auxblob_size) {
		table = ward_base64_encode_alloc(ev->auxblob, ev->auxblob_size);
		if (!table || json_object_set_new(o, "cert_table", json_string(table)) < 0)
			return ward_err_set(err, -ENOMEM, "out of memory");
	}
	if (!o || !(text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)))
		return ward_err_set(err, -ENOMEM, "out of memory");
	return ward_file_write_atomic(path, text, strlen(text), 0644, err);
}

static int run_collect(int argc, char **argv)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_tee_opts o = {0};
	WARD_CLEANUP(ward_tee_evidence_freep) struct ward_tee_evidence *ev = NULL;
	const char *out = NULL, *hex = NULL, *sock = NULL;
	uint8_t rd[WARD_REPORT_DATA_SIZE] = {0};
	bool have_tee = false;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "ho:", collect_options, NULL)) != -1) {
		switch (c) {
		case 't':
			if (ward_tee_parse(optarg, &o.tee) < 0)
				return cli_usage("evidence", "unknown TEE '%s'", optarg);
			have_tee = true;
			break;
		case 'd':
			hex = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 's':
			if (strcmp(optarg, "configfs-tsm") == 0)
				o.source = WARD_TEE_SOURCE_CONFIGFS_TSM;
			else if (strcmp(optarg, "sev-guest") == 0)
				o.source = WARD_TEE_SOURCE_SEV_GUEST;
			else if (strcmp(optarg, "tdx-guest") == 0)
				o.source = WARD_TEE_SOURCE_TDX_GUEST;
			else if (strcmp(optarg, "gramine") == 0)
				o.source = WARD_TEE_SOURCE_GRAMINE;
			else
				return cli_usage("evidence", "unknown source '%s'", optarg);
			break;
		case 'p': {
			uint32_t n;

			if (ward_parse_u32(optarg, &n) < 0 || n > 3)
				return cli_usage("evidence", "--privlevel: 0..3");
			o.privlevel = n;
			break;
		}
		case 'r':
			o.root = optarg;
			break;
		case 'S':
			sock = optarg;
			break;
		case 'h':
			help(stdout);
			return WARD_EXIT_OK;
		default:
			return cli_usage("evidence", "unknown or incomplete option '%s'",
					 argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage("evidence", "unexpected argument '%s'", argv[optind]);
	if (!have_tee || !hex || !out)
		return cli_usage("evidence", "collect needs --tee, --report-data and -o");
	{
		WARD_AUTOFREE uint8_t *raw = NULL;
		size_t n;

		if (ward_hex_decode(hex, strlen(hex), &raw, &n, &err) < 0 || n == 0 || n > 64)
			return cli_usage("evidence", "--report-data: 1 to 64 bytes of hex");
		memcpy(rd, raw, n);
	}
	o.want_aux = true;
	if (o.tee == WARD_TEE_SIM) {
		if (ward_tee_sim_collect(sock, rd, &ev, &err) < 0)
			return cli_fail("evidence", &err);
		fprintf(stderr, "ward evidence: warning: INSECURE sim TEE evidence "
				"(signed by keys on the host)\n");
	} else if (ward_tee_collect(&o, rd, &ev, &err) < 0) {
		return cli_fail("evidence", &err);
	}
	if (write_evidence(out, ev, &err) < 0)
		return cli_fail("evidence", &err);
	fprintf(stderr, "ward evidence: %s evidence (%zu bytes%s) from %s written to %s\n",
		ward_tee_name(ev->tee), ev->outblob_size, ev->auxblob_size ? " + certificates" : "",
		ev->tee == WARD_TEE_SIM ? "the sim socket" : ward_tee_source_name(ev->source), out);
	return WARD_EXIT_OK;
}

static int run(int argc, char **argv)
{
	struct args a = {0};
	int r;

	if (argc < 2)
		return cli_usage("evidence", "missing subcommand (show, verify, collect or bench)");
	if (strcmp(argv[1], "collect") == 0)
		return run_collect(argc - 1, argv + 1);
	if (strcmp(argv[1], "verify") == 0)
		a.verify = true;
	else if (strcmp(argv[1], "bench") == 0)
		a.verify = a.bench = true;
	else if (strcmp(argv[1], "show") != 0)
		return cli_usage("evidence",
				 "unknown subcommand '%s' (show, verify, collect or bench)", argv[1]);
	r = parse_args(argc - 1, argv + 1, &a);
	if (r >= 0)
		return r;
	if (a.bench)
		return run_bench(&a);
	return a.verify ? run_verify(&a) : run_show(&a);
}

const struct ward_cmd cmd_evidence = {"evidence", "collect, show and verify TEE attestation evidence", run,
				      help};
