/* SPDX-License-Identifier: Apache-2.0 */
/* A KBS-protocol client playing an attested workload against the
 * coordinator, for the integration tests (one flow, with deliberate
 * misbehaviour to provoke each refusal) and the benchmark (N threads of
 * complete auth + attest + resource flows over TLS with keep-alive).
 * Evidence comes from the INSECURE sim TEE, in process. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ward/cleanup.h"
#include "ward/coord.h"
#include "ward/encoding.h"
#include "ward/file.h"
#include "ward/http.h"
#include "ward/jose.h"
#include "ward/json.h"
#include "ward/sim.h"
#include "ward/util.h"

#define MAX_RESOURCES 16

static const char *arg_url, *arg_pin, *arg_sim_state, *arg_out, *arg_mode = "normal",
								*arg_tee = "sim";
static json_t *g_evidence; /* --evidence FILE: sent as is (recorded TDX/SGX/Trustee evidence) */
static const char *arg_resources[MAX_RESOURCES];
static size_t arg_resource_count;
static struct ward_sim_launch g_launch = {.policy = 0x30000};
static struct ward_sim *g_sim;
static struct ward_x509 *g_pin;
static bool arg_rsa;
static unsigned arg_clients = 0, arg_flows = 100;
static int arg_rss_pid;

struct client {
	struct ward_tls_ctx *tls;
	struct ward_http_client *http;
	char cookie[96];
	char *token;
};

static void client_clear(struct client *c)
{
	c->http = ward_http_client_free(c->http);
	c->tls = ward_tls_ctx_free(c->tls);
	free(c->token);
	c->token = NULL;
}

static int client_init(struct client *c, struct ward_err *err)
{
	int r;

	*c = (struct client){0};
	r = ward_tls_client_new(g_pin, &c->tls, err);
	if (r >= 0)
		r = ward_http_client_new(arg_url, c->tls, &c->http, err);
	return r;
}

static void remember_cookie(struct client *c, const struct ward_http_response *resp)
{
	if (resp->set_cookie) {
		size_t n = strcspn(resp->set_cookie, ";");

		if (n < sizeof(c->cookie)) {
			memcpy(c->cookie, resp->set_cookie, n);
			c->cookie[n] = '\0';
		}
	}
}

static const char *detail_of(const struct ward_http_response *resp)
{
	static __thread char buf[300];
	WARD_AUTOJSON json_t *j = NULL;
	const char *d;

	if (ward_json_parse(resp->body, resp->body_size, 1 << 20, &j, NULL) < 0)
		return "";
	d = json_string_value(json_object_get(j, "detail"));
	snprintf(buf, sizeof(buf), "%s", d ? d : "");
	return buf;
}

/* One request; the cookie (and bearer token with bearer) is sent. */
static int call(struct client *c, const char *method, const char *path, const char *body,
		bool bearer, struct ward_http_response *resp, struct ward_err *err)
{
	char auth[4096];
	const char *headers[7] = {NULL};
	size_t h = 0;

	if (c->cookie[0] && !bearer) {
		headers[h++] = "Cookie";
		headers[h++] = c->cookie;
	}
	if (bearer && c->token) {
		snprintf(auth, sizeof(auth), "Bearer %s", c->token);
		headers[h++] = "Authorization";
		headers[h++] = auth;
	}
	if (body) {
		headers[h++] = "Content-Type";
		headers[h++] = "application/json";
	}
	return ward_http_request(c->http, method, path, headers, body, body ? strlen(body) : 0,
				 resp, err);
}

struct flow_result {
	int auth, attest, extra; /* HTTP statuses (extra: replay etc.) */
	int resources[MAX_RESOURCES];
	char detail[300];
};

static int do_flow(struct client *c, struct flow_result *res, bool quiet, struct ward_err *err)
{
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *key = NULL, *other = NULL;
	WARD_AUTOJSON json_t *challenge = NULL, *jwk = NULL, *bind_jwk = NULL, *att = NULL,
			     *tok = NULL;
	WARD_AUTOFREE uint8_t *table = NULL;
	WARD_AUTOFREE char *rep64 = NULL, *tab64 = NULL, *body = NULL;
	struct ward_http_response resp = {0};
	uint8_t rd[64], report[WARD_SNP_REPORT_SIZE];
	const char *nonce;
	char req[128];
	size_t table_size;
	bool bearer = strcmp(arg_mode, "bearer") == 0 || strcmp(arg_mode, "tamper-token") == 0;
	int r;

	memset(res, 0, sizeof(*res));
	c->cookie[0] = '\0';
	snprintf(req, sizeof(req), "{\"version\":\"0.1.0\",\"tee\":\"%s\",\"extra-params\":\"\"}",
		 arg_tee);
	r = call(c, "POST", "/kbs/v0/auth", req, false, &resp, err);
	if (r < 0)
		return r;
	res->auth = resp.status;
	remember_cookie(c, &resp);
	if (resp.status != 200) {
		snprintf(res->detail, sizeof(res->detail), "%s", detail_of(&resp));
		ward_http_response_clear(&resp);
		return 0;
	}
	r = ward_json_parse(resp.body, resp.body_size, 1 << 16, &challenge, err);
	ward_http_response_clear(&resp);
	if (r < 0 || !(nonce = json_string_value(json_object_get(challenge, "nonce"))))
		return ward_err_set(err, -WARD_E_MALFORMED, "bad challenge");

	r = ward_pkey_generate(arg_rsa ? WARD_KEY_RSA : WARD_KEY_EC_P256, 2048, &key, err);
	if (r >= 0)
		r = ward_jwk_export_public(key, &jwk, err);
	if (r < 0)
		return r;
	if (strcmp(arg_mode, "bad-binding") == 0) {
		/* Evidence binds another key than the one sent. */
		r = ward_pkey_generate(WARD_KEY_EC_P256, 0, &other, err);
		if (r >= 0)
			r = ward_jwk_export_public(other, &bind_jwk, err);
		if (r < 0)
			return r;
	}
	r = ward_kbs_report_data(strcmp(arg_mode, "wrong-nonce") == 0 ? "AAAA" : nonce,
				 bind_jwk ? bind_jwk : jwk, rd, err);
	if (r >= 0)
		r = ward_sim_report(g_sim, &g_launch, rd, report, err);
	if (r >= 0)
		r = ward_sim_cert_table(g_sim, &table, &table_size, err);
	if (r < 0)
		return r;
	rep64 = ward_base64url_encode_alloc(report, sizeof(report));
	tab64 = ward_base64url_encode_alloc(table, table_size);
	if (g_evidence)
		att = json_pack("{s:O, s:O}", "tee-pubkey", jwk, "tee-evidence", g_evidence);
	else
		att = json_pack("{s:O, s:{s:s, s:s}}", "tee-pubkey", jwk, "tee-evidence", "report",
				rep64, "cert_table", tab64);
	if (!att || ward_json_dump(att, &body, err) < 0)
		return ward_err_set(err, -ENOMEM, "out of memory");
	r = call(c, "POST", "/kbs/v0/attest", body, false, &resp, err);
	if (r < 0)
		return r;
	res->attest = resp.status;
	remember_cookie(c, &resp);
	if (resp.status != 200) {
		snprintf(res->detail, sizeof(res->detail), "%s", detail_of(&resp));
		ward_http_response_clear(&resp);
		return 0;
	}
	if (ward_json_parse(resp.body, resp.body_size, 1 << 20, &tok, NULL) == 0) {
		free(c->token);
		c->token = strdup(json_string_value(json_object_get(tok, "token")) ?: "");
	}
	ward_http_response_clear(&resp);
	if (strcmp(arg_mode, "replay") == 0) {
		r = call(c, "POST", "/kbs/v0/attest", body, false, &resp, err);
		if (r < 0)
			return r;
		res->extra = resp.status;
		snprintf(res->detail, sizeof(res->detail), "%s", detail_of(&resp));
		ward_http_response_clear(&resp);
	}
	if (strcmp(arg_mode, "tamper-token") == 0 && c->token) {
		/* Flip a payload character: the signature must fail. */
		char *dot = strchr(c->token, '.');

		if (dot && dot[1])
			dot[1] = dot[1] == 'e' ? 'f' : 'e';
	}
	if (ward_startswith(arg_mode, "expired:"))
		sleep((unsigned)atoi(arg_mode + 8));
	for (size_t i = 0; i < arg_resource_count; i++) {
		char path[512];

		snprintf(path, sizeof(path), "/kbs/v0/resource/%s", arg_resources[i]);
		r = call(c, "GET", path, NULL, bearer, &resp, err);
		if (r < 0)
			return r;
		res->resources[i] = resp.status;
		if (resp.status != 200) {
			snprintf(res->detail, sizeof(res->detail), "%s", detail_of(&resp));
		} else {
			WARD_AUTOJSON json_t *jwe = NULL;
			WARD_CLEANUP(ward_secret_freep) struct ward_secret *plain = NULL;

			r = ward_json_parse(resp.body, resp.body_size, 1 << 22, &jwe, err);
			if (r >= 0)
				r = ward_jwe_decrypt(key, jwe, &plain, err);
			if (r < 0) {
				ward_http_response_clear(&resp);
				return ward_err_prefix(err, "resource %s", arg_resources[i]);
			}
			if (arg_out && !quiet) {
				char file[1024], name[512];

				snprintf(name, sizeof(name), "%s", arg_resources[i]);
				for (char *p = name; *p; p++)
					if (*p == '/')
						*p = '_';
				snprintf(file, sizeof(file), "%s/%s", arg_out, name);
				r = ward_file_write_atomic(file, plain->data, plain->size, 0600,
							   err);
				if (r < 0) {
					ward_http_response_clear(&resp);
					return r;
				}
			}
		}
		ward_http_response_clear(&resp);
	}
	if (arg_out && !quiet) {
		char file[1024];
		WARD_AUTOFREE char *pub = NULL;

		snprintf(file, sizeof(file), "%s/tee-pubkey.pem", arg_out);
		r = ward_pkey_public_pem(key, &pub, err);
		if (r >= 0)
			r = ward_file_write_atomic(file, pub, strlen(pub), 0644, err);
		if (r < 0)
			return r;
		if (c->token) {
			snprintf(file, sizeof(file), "%s/token", arg_out);
			r = ward_file_write_atomic(file, c->token, strlen(c->token), 0600, err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* ---- benchmark ---- */

struct worker {
	pthread_t thread;
	unsigned flows;
	double *lat;
	unsigned done, errors;
	char first_error[300];
};

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct client c;
	struct ward_err err = WARD_ERR_INIT;

	if (client_init(&c, &err) < 0) {
		w->errors = w->flows;
		snprintf(w->first_error, sizeof(w->first_error), "%s", err.msg);
		return NULL;
	}
	for (unsigned i = 0; i < w->flows; i++) {
		struct flow_result res;
		double t0 = now_mono();
		bool ok;
		int r = do_flow(&c, &res, true, &err);

		ok = r == 0 && res.auth == 200 && res.attest == 200;
		for (size_t k = 0; ok && k < arg_resource_count; k++)
			ok = res.resources[k] == 200;
		w->lat[w->done++] = now_mono() - t0;
		if (!ok) {
			if (!w->errors)
				snprintf(w->first_error, sizeof(w->first_error), "%s",
					 r < 0 ? err.msg : res.detail);
			w->errors++;
		}
	}
	client_clear(&c);
	return NULL;
}

static long rss_kb(int pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return kb;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int bench(void)
{
	struct worker *w = calloc(arg_clients, sizeof(*w));
	double *all, t0, dt;
	unsigned total = 0, errors = 0, n = 0;
	long rss0 = arg_rss_pid ? rss_kb(arg_rss_pid) : -1, rss1;

	if (!w)
		return 1;
	for (unsigned i = 0; i < arg_clients; i++) {
		w[i].flows = arg_flows / arg_clients + (i < arg_flows % arg_clients);
		w[i].lat = calloc(w[i].flows + 1, sizeof(double));
		if (!w[i].lat)
			return 1;
	}
	t0 = now_mono();
	for (unsigned i = 0; i < arg_clients; i++)
		pthread_create(&w[i].thread, NULL, worker_main, &w[i]);
	for (unsigned i = 0; i < arg_clients; i++)
		pthread_join(w[i].thread, NULL);
	dt = now_mono() - t0;
	rss1 = arg_rss_pid ? rss_kb(arg_rss_pid) : -1;
	for (unsigned i = 0; i < arg_clients; i++) {
		total += w[i].done;
		errors += w[i].errors;
	}
	all = calloc(total + 1, sizeof(double));
	for (unsigned i = 0; i < arg_clients; i++) {
		memcpy(all + n, w[i].lat, w[i].done * sizeof(double));
		n += w[i].done;
		if (w[i].errors)
			fprintf(stderr, "client %u: %u errors, first: %s\n", i, w[i].errors,
				w[i].first_error);
		free(w[i].lat);
	}
	qsort(all, n, sizeof(double), cmp_double);
	printf("{\"clients\": %u, \"flows\": %u, \"errors\": %u, \"seconds\": %.3f, "
	       "\"flows_per_second\": %.1f, \"p50_ms\": %.2f, \"p99_ms\": %.2f, \"max_ms\": %.2f, "
	       "\"resources_per_flow\": %zu, \"server_rss_kb_before\": %ld, "
	       "\"server_rss_kb_after\": %ld}\n",
	       arg_clients, total, errors, dt, total / dt, n ? all[n / 2] * 1e3 : 0,
	       n ? all[(size_t)(n * 0.99)] * 1e3 : 0, n ? all[n - 1] * 1e3 : 0, arg_resource_count,
	       rss0, rss1);
	free(all);
	free(w);
	return errors ? 1 : 0;
}

static void usage(void)
{
	fprintf(
	    stderr,
	    "Usage: ward-kbs-client --url URL --pin CERT.pem --sim-state DIR --measurement HEX\n"
	    "         [--policy N] [--rsa] [--tee NAME] [--resource PATH]... [--out DIR]\n"
	    "         [--evidence FILE (tee-evidence JSON sent instead of a sim report)]\n"
	    "         [--mode "
	    "normal|replay|bad-binding|wrong-nonce|bearer|tamper-token|expired:S]\n"
	    "         [--bench --clients N --flows M [--rss-pid PID]]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"url", required_argument, NULL, 'u'},
	    {"pin", required_argument, NULL, 'p'},
	    {"sim-state", required_argument, NULL, 's'},
	    {"measurement", required_argument, NULL, 'm'},
	    {"policy", required_argument, NULL, 'P'},
	    {"rsa", no_argument, NULL, 'R'},
	    {"tee", required_argument, NULL, 't'},
	    {"resource", required_argument, NULL, 'r'},
	    {"out", required_argument, NULL, 'o'},
	    {"mode", required_argument, NULL, 'M'},
	    {"bench", no_argument, NULL, 'b'},
	    {"clients", required_argument, NULL, 'c'},
	    {"flows", required_argument, NULL, 'f'},
	    {"rss-pid", required_argument, NULL, 'x'},
	    {"evidence", required_argument, NULL, 'e'},
	    {},
	};
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOFREE uint8_t *pem = NULL;
	const char *meas = NULL;
	bool do_bench = false;
	size_t size;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			arg_url = optarg;
			break;
		case 'p':
			arg_pin = optarg;
			break;
		case 's':
			arg_sim_state = optarg;
			break;
		case 'm':
			meas = optarg;
			break;
		case 'P':
			g_launch.policy = strtoull(optarg, NULL, 0);
			break;
		case 'R':
			arg_rsa = true;
			break;
		case 't':
			arg_tee = optarg;
			break;
		case 'r':
			if (arg_resource_count < MAX_RESOURCES)
				arg_resources[arg_resource_count++] = optarg;
			break;
		case 'o':
			arg_out = optarg;
			break;
		case 'M':
			arg_mode = optarg;
			break;
		case 'b':
			do_bench = true;
			break;
		case 'c':
			arg_clients = (unsigned)atoi(optarg);
			break;
		case 'f':
			arg_flows = (unsigned)atoi(optarg);
			break;
		case 'x':
			arg_rss_pid = atoi(optarg);
			break;
		case 'e':
			if (ward_json_load_file(optarg, 1 << 20, &g_evidence, &err) < 0) {
				fprintf(stderr, "ward-kbs-client: %s\n", err.msg);
				return 1;
			}
			break;
		default:
			usage();
			return 2;
		}
	}
	if (!arg_url || !arg_pin || !arg_sim_state || !meas) {
		usage();
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (ward_hex_decode_fixed(meas, strlen(meas), g_launch.measurement, 48, &err) < 0 ||
	    ward_file_read(arg_pin, 1 << 16, &pem, &size, &err) < 0 ||
	    ward_x509_from_pem(pem, size, &g_pin, &err) < 0 ||
	    ward_sim_open(arg_sim_state, &g_sim, &err) < 0) {
		fprintf(stderr, "ward-kbs-client: %s\n", err.msg);
		return 1;
	}
	if (do_bench) {
		if (arg_clients == 0)
			arg_clients = 4;
		r = bench();
	} else {
		struct client cl;
		struct flow_result res;

		r = client_init(&cl, &err);
		if (r >= 0)
			r = do_flow(&cl, &res, false, &err);
		client_clear(&cl);
		if (r < 0) {
			fprintf(stderr, "ward-kbs-client: %s\n", err.msg);
			r = 1;
		} else {
			bool ok = res.auth == 200 && res.attest == 200;

			printf("auth %d\n", res.auth);
			if (res.auth == 200)
				printf("attest %d\n", res.attest);
			if (strcmp(arg_mode, "replay") == 0 && res.attest == 200) {
				printf("replay %d\n", res.extra);
				ok = ok && res.extra == 200;
			}
			for (size_t i = 0; res.attest == 200 && i < arg_resource_count; i++) {
				printf("resource %s %d\n", arg_resources[i], res.resources[i]);
				ok = ok && res.resources[i] == 200;
			}
			if (res.detail[0])
				printf("detail %s\n", res.detail);
			r = ok ? 0 : 1;
		}
	}
	ward_x509_free(g_pin);
	ward_sim_free(g_sim);
	return r;
}
