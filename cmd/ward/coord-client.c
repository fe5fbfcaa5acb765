/* SPDX-License-Identifier: Apache-2.0 */
#include "coord-client.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ward/cleanup.h"
#include "ward/file.h"
#include "ward/jose.h"
#include "ward/json.h"

int coord_pin_path(const char *url, const char *pin_file, char *buf, size_t size,
		   struct ward_err *err)
{
	const char *base = getenv("WARD_CONFIG_HOME"), *xdg = getenv("XDG_CONFIG_HOME"),
		   *home = getenv("HOME");
	const char *p = strstr(url, "://");
	char auth[256];
	size_t n = 0;

	if (pin_file) {
		snprintf(buf, size, "%s", pin_file);
		return 0;
	}
	for (p = p ? p + 3 : url; *p && *p != '/' && n + 1 < sizeof(auth); p++)
		auth[n++] = (*p == ':' || *p == '[' || *p == ']') ? '_' : *p;
	auth[n] = '\0';
	if (base)
		snprintf(buf, size, "%s/coordinators/%s.pem", base, auth);
	else if (xdg)
		snprintf(buf, size, "%s/ward/coordinators/%s.pem", xdg, auth);
	else if (home)
		snprintf(buf, size, "%s/.config/ward/coordinators/%s.pem", home, auth);
	else
		return ward_err_set(err, -WARD_E_USAGE, "no HOME: give --pin-file");
	return 0;
}

void coord_conn_clear(struct coord_conn *c)
{
	c->http = ward_http_client_free(c->http);
	c->tls = ward_tls_ctx_free(c->tls);
}

int coord_connect(const char *url, const char *pin_file, struct coord_conn *ret,
		  struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *pem = NULL;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *pin = NULL;
	size_t size;
	int r;

	*ret = (struct coord_conn){0};
	/* A server closing mid-write must be an error, not a SIGPIPE death. */
	signal(SIGPIPE, SIG_IGN);
	r = coord_pin_path(url, pin_file, ret->pin_path, sizeof(ret->pin_path), err);
	if (r < 0)
		return r;
	r = ward_file_read(ret->pin_path, 1 << 16, &pem, &size, err);
	if (r == -ENOENT)
		return ward_err_set(err, -WARD_E_STATE,
				    "no pinned certificate for %s ('%s'): run 'ward verify "
				    "--coordinator %s --reference FILE' first",
				    url, ret->pin_path, url);
	if (r >= 0)
		r = ward_x509_from_pem(pem, size, &pin, err);
	if (r >= 0)
		r = ward_tls_client_new(pin, &ret->tls, err);
	if (r >= 0)
		r = ward_http_client_new(url, ret->tls, &ret->http, err);
	if (r < 0)
		coord_conn_clear(ret);
	return r;
}

int coord_call(struct coord_conn *c, const char *method, const char *path, const void *body,
	       size_t size, json_t **ret_body, struct ward_err *err)
{
	struct ward_http_response resp = {0};
	json_t *j = NULL;
	int r;

	r = ward_http_request(c->http, method, path,
			      body ? (const char *const[]){"Content-Type", "application/json", NULL}
				   : NULL,
			      body, size, &resp, err);
	if (r < 0)
		return r;
	if (resp.body_size)
		(void)ward_json_parse(resp.body, resp.body_size, WARD_HTTP_BODY_MAX, &j, NULL);
	if (resp.status != 200) {
		const char *detail = j ? json_string_value(json_object_get(j, "detail")) : NULL;
		int code = resp.status == 401	? -WARD_E_VERIFY
			   : resp.status == 403 ? -WARD_E_POLICY
			   : resp.status == 404 ? -WARD_E_NOT_FOUND
			   : resp.status == 400 ? -WARD_E_MALFORMED
						: -WARD_E_STATE;

		r = ward_err_set(err, code, "%s %s: HTTP %d: %s", method, path, resp.status,
				 detail ? detail : "(no detail)");
		json_decref(j);
		ward_http_response_clear(&resp);
		return r;
	}
	ward_http_response_clear(&resp);
	if (ret_body)
		*ret_body = j;
	else
		json_decref(j);
	return 0;
}

int coord_admin(struct coord_conn *c, const char *user, const char *key_path, json_t *payload,
		json_t **ret_body, struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *pem = NULL;
	WARD_AUTOFREE char *text = NULL, *jws = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *key = NULL;
	WARD_AUTOJSON json_t *nonce = NULL, *hdr = NULL;
	size_t size;
	int r;

	r = ward_file_read(key_path, 1 << 16, &pem, &size, err);
	if (r >= 0)
		r = ward_pkey_from_pem(pem, size, &key, err);
	if (pem)
		ward_wipe(pem, size);
	if (r < 0)
		return ward_err_prefix(err, "user key '%s'", key_path);
	r = coord_call(c, "GET", "/ward/v1/nonce", NULL, 0, &nonce, err);
	if (r < 0)
		return r;
	if (json_object_set(payload, "nonce", json_object_get(nonce, "nonce")) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "no nonce from the coordinator");
	hdr = json_pack("{s:s}", "kid", user);
	if (!hdr)
		return ward_err_set(err, -ENOMEM, "out of memory");
	r = ward_json_dump(payload, &text, err);
	if (r >= 0)
		r = ward_jws_sign_compact(key, WARD_JWS_ES256, "JWT", hdr, text, strlen(text), &jws,
					  err);
	if (r < 0)
		return r;
	return coord_call(c, "POST", "/ward/v1/admin", jws, strlen(jws), ret_body, err);
}

#include <getopt.h>
#include <inttypes.h>

#include "cli.h"
#include "ward/coord.h"
#include "ward/encoding.h"
#include "ward/util.h"

int coord_cli_parse(const char *cmd, int argc, char **argv, struct coord_cli *o,
		    void (*help)(FILE *out), bool *ret_exit, int *ret_code)
{
	static const struct option opts[] = {
	    {"coordinator", required_argument, NULL, 'c'},
	    {"pin-file", required_argument, NULL, 'p'},
	    {"user", required_argument, NULL, 'u'},
	    {"key", required_argument, NULL, 'k'},
	    {"json", no_argument, NULL, 'j'},
	    {"out", required_argument, NULL, 'o'},
	    {"value", required_argument, NULL, 'v'},
	    {"value-file", required_argument, NULL, 'f'},
	    {"seq", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	int c;

	*ret_exit = false;
	if (!o->url)
		o->url = getenv(COORD_URL_ENV);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->url = optarg;
			break;
		case 'p':
			o->pin_file = optarg;
			break;
		case 'u':
			o->user = optarg;
			break;
		case 'k':
			o->key = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'o':
			o->out = optarg;
			break;
		case 'v':
			o->value = optarg;
			break;
		case 'f':
			o->value_file = optarg;
			break;
		case 's':
			if (ward_parse_u64(optarg, &o->seq) < 0) {
				*ret_exit = true;
				*ret_code = cli_usage(cmd, "bad --seq '%s'", optarg);
				return 0;
			}
			break;
		case 'h':
			help(stdout);
			*ret_exit = true;
			*ret_code = WARD_EXIT_OK;
			return 0;
		default:
			*ret_exit = true;
			*ret_code = cli_usage(cmd, "unknown option");
			return 0;
		}
	}
	return 0;
}

int coord_cli_log(const char *cmd, const struct coord_cli *o)
{
	struct ward_err err = WARD_ERR_INIT;
	struct coord_conn conn = {0};
	WARD_AUTOJSON json_t *p = NULL, *body = NULL;
	json_t *entries, *e;
	uint8_t head[32];
	char head_hex[65];
	uint64_t count;
	size_t i;
	int r;

	if (!o->url || !o->user || !o->key)
		return cli_usage(cmd, "--coordinator URL, --user NAME and --key FILE are required");
	p = json_pack("{s:s, s:i}", "op", "log.read", "from", 1);
	r = coord_connect(o->url, o->pin_file, &conn, &err);
	if (r >= 0)
		r = coord_admin(&conn, o->user, o->key, p, &body, &err);
	coord_conn_clear(&conn);
	if (r < 0)
		return cli_fail(cmd, &err);
	entries = json_object_get(body, "entries");
	r = ward_audit_verify(entries, head, &count, &err);
	if (r < 0) {
		fprintf(stderr, "ward %s: REFUSED: the audit log does not verify: %s\n", cmd,
			err.msg);
		return WARD_EXIT_FAILURE;
	}
	ward_hex_encode(head, 32, head_hex);
	{
		/* The head `ward verify` saw in attested evidence must be in the
		 * chain: otherwise the log was rewritten or rolled back. */
		WARD_AUTOJSON json_t *pinned = NULL;
		char pin_path[4096], head_path[4200];
		const char *want = NULL;
		int64_t want_seq = 0;

		if (coord_pin_path(o->url, o->pin_file, pin_path, sizeof(pin_path), &err) >= 0) {
			snprintf(head_path, sizeof(head_path), "%s.head", pin_path);
			if (ward_json_load_file(head_path, 4096, &pinned, NULL) >= 0) {
				(void)ward_json_get_int(pinned, "$", "audit_seq", true, 0,
							INT64_MAX, &want_seq, NULL);
				(void)ward_json_get_string(pinned, "$", "audit_head", true, &want,
							   NULL);
			}
		}
		if (want && want_seq > 0) {
			json_t *rec = (uint64_t)want_seq <= count
					  ? json_array_get(entries, (size_t)want_seq - 1)
					  : NULL;
			const char *h =
			    rec ? json_string_value(json_object_get(rec, "hash")) : NULL;

			if (!h || strcmp(h, want) != 0) {
				fprintf(
				    stderr,
				    "ward %s: REFUSED: record %lld is not the head attested at "
				    "'ward verify' (%s): the log was rewritten or rolled back\n",
				    cmd, (long long)want_seq, want);
				return WARD_EXIT_FAILURE;
			}
			fprintf(stderr, "ward %s: contains the attested head (seq %lld)\n", cmd,
				(long long)want_seq);
		}
	}
	if (o->json) {
		WARD_AUTOFREE char *text = NULL;

		if (ward_json_dump_pretty(body, &text, &err) < 0)
			return cli_fail(cmd, &err);
		fputs(text, stdout);
	} else {
		json_array_foreach(entries, i, e)
		{
			WARD_AUTOFREE char *detail = NULL;
			char ts[WARD_RFC3339_SIZE];

			ward_time_format_rfc3339(
			    (time_t)json_integer_value(json_object_get(e, "time")), ts);
			(void)ward_json_dump(json_object_get(e, "detail"), &detail, NULL);
			printf("%6" PRId64 " %s %-18s %-22s %s\n",
			       (int64_t)json_integer_value(json_object_get(e, "seq")), ts,
			       json_string_value(json_object_get(e, "kind")),
			       json_string_value(json_object_get(e, "subject")),
			       detail ? detail : "");
		}
	}
	fprintf(stderr, "ward %s: chain of %" PRIu64 " records verified, head %s\n", cmd, count,
		head_hex);
	return WARD_EXIT_OK;
}
